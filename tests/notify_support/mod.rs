//! Local HTTP receivers standing in for Slack, Teams, PagerDuty and a webhook consumer,
//! and the Standard Webhooks reference library (npm `standardwebhooks`, run by node) to
//! verify signatures with.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// How a receiver answers the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The sink's success answer.
    Ok,
    /// 500.
    Fail,
    /// Never answer (the broker's timeout must fire).
    Hang,
}

/// What the receiver pretends to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Slack,
    Teams,
    PagerDuty,
    Webhook,
}

struct Inner {
    role: Role,
    got: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Answer>>,
    /// Answer once the script is used up.
    then: Mutex<Answer>,
    changed: Notify,
    ts: Mutex<u64>,
}

/// A receiver on 127.0.0.1:0; stops when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let r = Received {
        path: uri.path().to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let answer = {
        let next = inner.script.lock().unwrap().pop_front();
        next.unwrap_or(*inner.then.lock().unwrap())
    };
    inner.got.lock().unwrap().push(r.clone());
    inner.changed.notify_waiters();
    match answer {
        Answer::Hang => {
            std::future::pending::<()>().await;
            StatusCode::OK.into_response()
        }
        Answer::Fail => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Answer::Ok => match inner.role {
            Role::Slack => {
                let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                let channel = v["channel"].as_str().unwrap_or("C0").to_string();
                let ts = match v["ts"].as_str() {
                    Some(ts) => ts.to_string(),
                    None => {
                        let mut n = inner.ts.lock().unwrap();
                        *n += 1;
                        format!("1700000000.{:06}", *n)
                    }
                };
                axum::Json(json!({"ok": true, "channel": channel, "ts": ts})).into_response()
            }
            Role::PagerDuty => (
                StatusCode::ACCEPTED,
                axum::Json(json!({"status": "success", "message": "Event processed"})),
            )
                .into_response(),
            Role::Teams => StatusCode::ACCEPTED.into_response(),
            Role::Webhook => StatusCode::NO_CONTENT.into_response(),
        },
    }
}

impl Receiver {
    pub async fn start(role: Role) -> Self {
        let inner = Arc::new(Inner {
            role,
            got: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            then: Mutex::new(Answer::Ok),
            changed: Notify::new(),
            ts: Mutex::new(0),
        });
        let app = axum::Router::new()
            .fallback(axum::routing::any(handle))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next requests get these answers, in order.
    pub fn script(&self, answers: &[Answer]) {
        self.inner
            .script
            .lock()
            .unwrap()
            .extend(answers.iter().copied());
    }

    /// Every request after the script gets `a`.
    pub fn then(&self, a: Answer) {
        *self.inner.then.lock().unwrap() = a;
    }

    pub fn got(&self) -> Vec<Received> {
        self.inner.got.lock().unwrap().clone()
    }

    /// Waits until `pred` holds over what arrived, or panics after `WAIT`.
    pub async fn wait_until(
        &self,
        what: &str,
        pred: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + RECEIVE_WAIT;
        loop {
            let changed = self.inner.changed.notified();
            let got = self.got();
            if pred(&got) {
                return got;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!(
                    "{what}: not received in {RECEIVE_WAIT:?}; got {:#?}",
                    self.got()
                );
            }
        }
    }

    /// Waits for at least `n` requests.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        self.wait_until(&format!("{n} requests"), |g| g.len() >= n)
            .await
    }
}

/// How long a receiver waits for what a test expects.
pub const RECEIVE_WAIT: Duration = Duration::from_secs(60);

/// A webhook secret (Standard Webhooks form).
pub const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn notify_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/notify")
}

/// Runs `npm ci` once when the library is not installed yet (under a lock directory, so
/// parallel test binaries do not race). A `node_modules` that already holds the library
/// (`.ci/run` installs it) is used as it is; one that is a symlink (a worktree sharing
/// another's) is never reinstalled, since `npm ci` would empty the directory it points at.
pub fn ensure_installed() {
    let dir = notify_dir();
    let marker = dir.join("node_modules/.signoff-ready");
    let installed = || {
        marker.exists()
            || dir
                .join("node_modules/standardwebhooks/package.json")
                .exists()
    };
    if installed() {
        return;
    }
    let modules = dir.join("node_modules");
    assert!(
        !modules.is_symlink(),
        "{} is a symlink without standardwebhooks in it: run `npm ci --prefix tests/notify` \
         where it points",
        modules.display()
    );
    let lock = std::env::temp_dir().join("signoff-notify-npm.lock.d");
    // Some(true): this binary holds the lock; Some(false): another finished the install.
    let locked =
        signoff::testkit::eventually(Duration::from_secs(300), || {
            match std::fs::create_dir(&lock) {
                Ok(()) => Some(true),
                Err(_) if installed() => Some(false),
                Err(_) => None,
            }
        })
        .expect("the npm install lock is released within 300 s");
    if !locked {
        return;
    }
    if installed() {
        let _ = std::fs::remove_dir(&lock);
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .status();
    let _ = std::fs::remove_dir(&lock);
    let status = status.expect("npm is required to install standardwebhooks for the tests");
    assert!(status.success(), "npm ci --prefix tests/notify failed");
    std::fs::write(&marker, b"").expect("install marker");
}

/// `node verify.mjs`: the reference library's verdict on each message. Killed on drop.
pub struct Verifier {
    child: Child,
    stdin: ChildStdin,
    out: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Verifier {
    pub fn start() -> Self {
        ensure_installed();
        let mut child = Command::new("node")
            .arg(notify_dir().join("verify.mjs"))
            .current_dir(notify_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node is required to verify webhook signatures");
        let stdin = child.stdin.take().expect("stdin");
        let out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Self { child, stdin, out }
    }

    /// `Ok(payload)` when the library accepts the message, else its error.
    pub fn verify(&mut self, secret: &str, r: &Received) -> Result<Value, String> {
        let headers: BTreeMap<&str, &str> =
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
                .into_iter()
                .map(|h| (h, r.header(h)))
                .collect();
        let line = json!({"secret": secret, "headers": headers, "body": r.body});
        writeln!(self.stdin, "{line}").expect("write to node");
        self.stdin.flush().expect("flush");
        let answer = self.out.next().expect("an answer").expect("a line");
        let v: Value = serde_json::from_str(&answer).expect("JSON from node");
        if v["ok"] == json!(true) {
            Ok(v["payload"].clone())
        } else {
            Err(v["error"].as_str().unwrap_or_default().to_string())
        }
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Installs the official Slack SDK for Python once per test binary (`install.sh` is
/// idempotent and hash-pinned).
pub fn ensure_slack_sdk() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let status = Command::new("bash")
            .arg(notify_dir().join("install.sh"))
            .status()
            .expect("bash runs tests/notify/install.sh");
        assert!(status.success(), "tests/notify/install.sh failed");
    });
}

/// `slack_sign.py`: signs Slack requests with the official SDK's `SignatureVerifier`
/// (`slack_sdk.signature`), not with our code. Killed on drop.
pub struct SlackSigner {
    child: Child,
    stdin: ChildStdin,
    out: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl SlackSigner {
    pub fn start() -> Self {
        ensure_slack_sdk();
        let mut child = Command::new(notify_dir().join(".venv/bin/python"))
            .arg(notify_dir().join("slack_sign.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs slack_sign.py");
        let stdin = child.stdin.take().expect("stdin");
        let out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Self { child, stdin, out }
    }

    /// The `X-Slack-Signature` of `body` sent at `timestamp` (Unix seconds).
    pub fn sign(&mut self, secret: &str, timestamp: i64, body: &str) -> String {
        let line = json!({"secret": secret, "timestamp": timestamp.to_string(), "body": body});
        writeln!(self.stdin, "{line}").expect("write to python");
        self.stdin.flush().expect("flush");
        let answer = self.out.next().expect("an answer").expect("a line");
        let v: Value = serde_json::from_str(&answer).expect("JSON from python");
        v["signature"].as_str().expect("a signature").to_string()
    }
}

impl Drop for SlackSigner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A receiver for each kind of sink.
pub struct AllSinks {
    pub slack: Receiver,
    pub teams: Receiver,
    pub hook: Receiver,
    pub pd: Receiver,
}

impl AllSinks {
    pub async fn start() -> Self {
        Self {
            slack: Receiver::start(Role::Slack).await,
            teams: Receiver::start(Role::Teams).await,
            hook: Receiver::start(Role::Webhook).await,
            pd: Receiver::start(Role::PagerDuty).await,
        }
    }

    /// `[[notify]]` tables pointing at the four: `oncall` (Slack, channel `C0ONCALL`),
    /// `teams`, `hook` (at `/signoff`) and `page` (PagerDuty, after a second). `secret`
    /// gives each kind's secret line (`secret_env = …` or `secret_file = …`).
    pub fn config(&self, secret: impl Fn(&str) -> String) -> String {
        format!(
            r#"
[[notify]]
name = "oncall"
kind = "slack"
channel = "C0ONCALL"
{}
url = "{}/api"

[[notify]]
name = "teams"
kind = "teams"
{}
url = "{}/workflows/trigger"

[[notify]]
name = "hook"
kind = "webhook"
url = "{}/signoff"
{}

[[notify]]
name = "page"
kind = "pagerduty"
url = "{}/v2/enqueue"
{}
after_secs = 1
"#,
            secret("slack"),
            self.slack.url(),
            secret("teams"),
            self.teams.url(),
            self.hook.url(),
            secret("webhook"),
            self.pd.url(),
            secret("pagerduty"),
        )
    }
}
