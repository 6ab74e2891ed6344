//! Test harness for the real OpenID provider (`oidc-provider`, Node) in `tests/oidc/`.
//!
//! Installs it from the lockfile when `node_modules` is missing (under a file lock, so
//! parallel test binaries do not race), starts `node provider.js` on 127.0.0.1 with a
//! free port, reads the issuer from its first stdout line, and kills it on drop. The
//! provider also exits by itself when its stdin closes, so even a crashed test leaves no
//! process behind. [`confirm_user_code`] does what the approver's phone would do, over
//! plain HTTP with a cookie jar.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub fn oidc_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Runs `npm ci` once when the provider is not installed yet.
pub fn ensure_installed() {
    let dir = oidc_dir();
    // Written by this harness once `npm ci` has finished: npm creates package files long
    // before the install is complete, so they cannot tell a finished install.
    let marker = dir.join("node_modules/.signoff-ready");
    if marker.exists() {
        return;
    }
    // A lock directory (mkdir is atomic): one test binary installs, the others wait for
    // the marker file to appear.
    let lock = std::env::temp_dir().join("signoff-oidc-npm.lock.d");
    // Some(true): this binary holds the lock; Some(false): another finished the install.
    let locked =
        signoff::testkit::eventually(Duration::from_secs(300), || {
            match std::fs::create_dir(&lock) {
                Ok(()) => Some(true),
                Err(_) if marker.exists() => Some(false),
                Err(_) => None,
            }
        })
        .expect("the npm install lock is released within 300 s");
    if !locked {
        return;
    }
    if marker.exists() {
        let _ = std::fs::remove_dir(&lock);
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .status();
    let _ = std::fs::remove_dir(&lock);
    let status = status.expect("npm is required to install the test OpenID provider");
    assert!(status.success(), "npm ci --prefix tests/oidc failed");
    std::fs::write(&marker, b"").expect("install marker");
}

/// A running provider; killed on drop.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

/// Provider options.
#[derive(Default, Clone, Copy)]
pub struct Options {
    pub access_ttl_secs: Option<u64>,
    pub device_ttl_secs: Option<u64>,
}

impl Provider {
    pub fn start(opts: Options) -> Provider {
        ensure_installed();
        let mut cmd = Command::new("node");
        cmd.arg(oidc_dir().join("provider.js"))
            .args(["--port", "0"]);
        if let Some(t) = opts.access_ttl_secs {
            cmd.args(["--access-ttl", &t.to_string()]);
        }
        if let Some(t) = opts.device_ttl_secs {
            cmd.args(["--device-ttl", &t.to_string()]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node is required to run the test OpenID provider");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(l)) = lines.next() {
                let _ = tx.send(l);
            }
            // Keep draining so the provider never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) => l,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                panic!("the OpenID provider did not start ({e}; exit {status:?})");
            }
        };
        let v: serde_json::Value = serde_json::from_str(&line).expect("provider start line");
        let issuer = v["issuer"].as_str().expect("issuer").to_string();
        Provider { child, issuer }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal cookie jar: enough for the provider's session and interaction cookies.
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, resp: &reqwest::Response) {
        for h in resp.headers().get_all("set-cookie") {
            let Ok(s) = h.to_str() else { continue };
            let Some((name, rest)) = s.split_once('=') else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default();
            self.0.insert(name.to_string(), value.to_string());
        }
    }
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn xsrf(html: &str) -> String {
    let start = html.find(r#"name="xsrf" value=""#).expect("xsrf field") + 19;
    html[start..]
        .split('"')
        .next()
        .expect("xsrf value")
        .to_string()
}

fn absolute(issuer: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_string()
    } else {
        format!("{issuer}{location}")
    }
}

/// Confirms (or, with `abort`, declines) a user code as `login`, like a phone would.
pub async fn confirm_user_code(issuer: &str, user_code: &str, login: &str, abort: bool) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut jar = Jar::default();
    let r = http
        .get(format!("{issuer}/device?user_code={user_code}"))
        .send()
        .await
        .expect("device page");
    jar.take(&r);
    let token = xsrf(&r.text().await.expect("device page body"));
    let decision = if abort { "abort" } else { "confirm" };
    let r = http
        .post(format!("{issuer}/device"))
        .header("cookie", jar.header())
        .form(&[
            ("xsrf", token.as_str()),
            ("user_code", user_code),
            (decision, "yes"),
        ])
        .send()
        .await
        .expect("confirm");
    jar.take(&r);
    if abort {
        assert!(r.status().is_success(), "abort answered {}", r.status());
        return;
    }
    // Follow redirects, answering the login prompt on the way.
    let mut next = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap_or_default().to_string());
    for _ in 0..10 {
        let Some(loc) = next.take() else { break };
        let url = absolute(issuer, &loc);
        let r = if url.contains("/interaction/") && !url.ends_with("/abort") {
            // GET it first (sets the interaction cookie), then submit the login.
            let g = http
                .get(&url)
                .header("cookie", jar.header())
                .send()
                .await
                .expect("interaction");
            jar.take(&g);
            let r = http
                .post(&url)
                .header("cookie", jar.header())
                .form(&[("prompt", "login"), ("login", login), ("password", "any")])
                .send()
                .await
                .expect("login");
            jar.take(&r);
            r
        } else {
            let r = http
                .get(&url)
                .header("cookie", jar.header())
                .send()
                .await
                .expect("follow");
            jar.take(&r);
            r
        };
        next = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap_or_default().to_string());
        if next.is_none() {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            assert!(
                status.is_success(),
                "confirmation ended with {status}: {body}"
            );
            assert!(
                body.contains("Sign-in Success") || body.contains("success"),
                "{body}"
            );
        }
    }
}
