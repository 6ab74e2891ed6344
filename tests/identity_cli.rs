//! The real `signoff` binary: `login` (device flow, QR, key), `whoami`, `logout` against
//! the real OpenID provider, and the 0644 refusal as the user sees it.

#[path = "oidc/harness.rs"]
mod harness;

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use harness::{Options, Provider, confirm_user_code};

fn signoff(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(args)
        .env("SIGNOFF_DATA_DIR", dir)
        .env_remove("SIGNOFF_BROKER_URL")
        .env_remove("SIGNOFF_BROKER")
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_whoami_logout() {
    let p = Provider::start(Options::default());
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args([
            "login",
            "--issuer",
            &p.issuer,
            "--client-id",
            "signoff-console",
        ])
        .env("SIGNOFF_DATA_DIR", dir.path())
        .env_remove("SIGNOFF_BROKER_URL")
        .env_remove("SIGNOFF_BROKER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut shown = Vec::new();
    let code = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("login prints the code");
        shown.push(line.clone());
        if let Some(c) = line.strip_prefix("and enter the code:") {
            break c.trim().to_string();
        }
    };
    confirm_user_code(&p.issuer, &code, "alice", false).await;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    let all = [shown, rest].concat().join("\n");
    assert!(status.success(), "{all}");
    assert!(
        all.contains('█') || all.contains('▀'),
        "a QR code is drawn:\n{all}"
    );
    assert!(
        all.contains("Signed in as alice <alice@example.test>"),
        "{all}"
    );
    assert!(all.contains("Device key"), "{all}");

    let (ok, out, err) = signoff(dir.path(), &["whoami"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("subject:  alice") && out.contains("groups:   sre, security"),
        "{out}"
    );
    let session = std::fs::read_to_string(dir.path().join("session.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&session).unwrap();
    let at = v["access_token"].as_str().unwrap();
    assert!(
        !out.contains(at) && !err.contains(at) && !all.contains(at),
        "no token printed"
    );

    // 0644 is refused with the file and the fix named.
    let path = dir.path().join("session.json");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, _, err) = signoff(dir.path(), &["whoami"]);
    assert!(!ok);
    assert!(
        err.contains(&format!("chmod 600 {}", path.display())),
        "{err}"
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

    let (ok, out, err) = signoff(dir.path(), &["logout"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Signed out alice") && out.contains("refresh token"),
        "{out}"
    );
    assert!(!path.exists());
    let (ok, _, err) = signoff(dir.path(), &["whoami"]);
    assert!(!ok && err.contains("signoff login"), "{err}");
}
