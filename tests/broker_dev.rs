//! The real `signoff broker --dev`: its development issuer signs `signoff login` in by
//! itself, `whoami` shows the development identity, the agent token it prints submits an
//! action and the signed-in approver's decision verifies; a non-loopback address is refused;
//! a restart keeps sessions, agent tokens and a waiting `gate` working.

mod broker_common;

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use broker_common::*;
use signoff::broker::dev::{ISSUER_FILE as DEV_ISSUER, STATE_FILE as DEV_STATE};
use signoff::identity::{DeviceKey, SessionStore};
use signoff::protocol::{ServerMsg, Status, Verdict};
use signoff::testkit::eventually_async;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// What `signoff broker --dev` printed: the URLs and the agent token.
struct DevBroker {
    child: Child,
    broker: String,
    issuer: String,
    client_id: String,
    agent_token: String,
    stderr: Arc<Mutex<String>>,
}

fn signoff() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_signoff"));
    c.env_remove("SIGNOFF_BROKER")
        .env_remove("SIGNOFF_BROKER_URL")
        .env_remove("SIGNOFF_ISSUER")
        .env_remove("SIGNOFF_CLIENT_ID")
        .kill_on_drop(true);
    c
}

/// The word after `flag` in `line`.
fn after<'a>(line: &'a str, flag: &str) -> Option<&'a str> {
    let mut words = line.split_whitespace();
    words.find(|w| *w == flag)?;
    words.next()
}

async fn start_dev(dir: &Path) -> DevBroker {
    start_dev_on(dir, "127.0.0.1:0").await
}

async fn start_dev_on(dir: &Path, listen: &str) -> DevBroker {
    let mut child = signoff()
        .args(["broker", "--dev", "--listen", listen, "--data"])
        .arg(dir.join("data"))
        .args([
            "--dev-user",
            "alice@example.com",
            "--dev-groups",
            "sre,security",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("broker binary starts");
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let sink = stderr.clone();
    tokio::spawn(async move {
        while let Ok(Some(l)) = err_lines.next_line().await {
            let mut s = sink.lock().unwrap();
            s.push_str(&l);
            s.push('\n');
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut login, mut token) = (None, None);
    let mut shown = String::new();
    while login.is_none() || token.is_none() {
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("the dev broker prints its next steps in time:\n{shown}"))
            .unwrap()
            .unwrap_or_else(|| panic!("stdout closed early:\n{shown}"));
        shown.push_str(&line);
        shown.push('\n');
        let t = line.trim();
        if t.starts_with("signoff login ") {
            login = Some(t.to_string());
        }
        if let Some(rest) = t.strip_prefix("SIGNOFF_AGENT_TOKEN=") {
            token = rest.split_whitespace().next().map(String::from);
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let login = login.unwrap();
    assert!(
        shown.contains("signoff --broker http://127.0.0.1:"),
        "{shown}"
    );
    assert!(shown.contains("local use only"), "{shown}");
    DevBroker {
        child,
        broker: after(&login, "--broker").expect("--broker").into(),
        issuer: after(&login, "--issuer").expect("--issuer").into(),
        client_id: after(&login, "--client-id").expect("--client-id").into(),
        agent_token: token.unwrap(),
        stderr,
    }
}

async fn run(cmd: &mut Command) -> (bool, String) {
    let out = tokio::time::timeout(WAIT, cmd.output())
        .await
        .expect("finishes in time")
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_whoami_and_a_verified_decision_against_broker_dev() {
    let dir = tempfile::tempdir().unwrap();
    let dev = start_dev(dir.path()).await;
    assert!(
        dev.broker.starts_with("http://127.0.0.1:"),
        "{}",
        dev.broker
    );
    assert!(
        dev.issuer.starts_with("http://127.0.0.1:"),
        "{}",
        dev.issuer
    );
    let banner = dev.stderr.lock().unwrap().clone();
    assert!(
        banner.contains("DEVELOPMENT ISSUER: for local use only"),
        "{banner}"
    );

    let session_dir = dir.path().join("session");
    let (ok, out) = run(signoff()
        .args(["login", "--no-qr", "--issuer", &dev.issuer])
        .args(["--client-id", &dev.client_id, "--broker", &dev.broker])
        .env("SIGNOFF_DATA_DIR", &session_dir))
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("Signed in as alice@example.com"), "{out}");
    assert!(out.contains("Key registered with the broker"), "{out}");

    let (ok, out) = run(signoff()
        .arg("whoami")
        .env("SIGNOFF_DATA_DIR", &session_dir))
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("subject:  alice@example.com"), "{out}");
    assert!(out.contains("groups:   sre, security"), "{out}");
    assert!(out.contains(&format!("issuer:   {}", dev.issuer)), "{out}");

    // Issue 18: right after `signoff login`, `signoff history` uses that session and its
    // broker, like the console: no --token, no --broker.
    let (ok, out) = run(signoff()
        .arg("history")
        .env_remove("SIGNOFF_TOKEN")
        .env("SIGNOFF_DATA_DIR", &session_dir))
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("No decisions match"), "{out}");

    // The printed agent token submits; the signed-in approver's signed decision verifies.
    let http = Http::at(&dev.broker);
    let mut req = request("export for the dev loop");
    req["requester"]["id"] = "dev-agent".into();
    req["requester"]["on_behalf_of"] = "carol@example.com".into();
    let created = http.submit(&dev.agent_token, &req).await;
    let store = SessionStore::new(&session_dir);
    let session = store.load().unwrap().expect("a stored session");
    let key = DeviceKey::load(&store.device_key_path())
        .unwrap()
        .expect("a device key");
    let action = http
        .view(&session.access_token, &created.id.to_string(), 0)
        .await
        .action;
    let ws = format!("{}/v1/feed", dev.broker.replace("http://", "ws://"));
    let (mut feed, _) = Feed::connect_url(&ws, &session.access_token, None).await;
    let _snapshot = feed.next().await;
    let signed = sign(
        key.signing_key(),
        "alice@example.com",
        &action,
        Verdict::Approve,
        "fine for dev",
    );
    let ack = feed.decide(signed).await;
    assert!(
        matches!(
            ack,
            ServerMsg::Ack {
                status: Status::Approved,
                ..
            }
        ),
        "{ack:?}"
    );
}

#[tokio::test]
async fn dev_refuses_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(signoff()
        .args(["broker", "--dev", "--listen", "0.0.0.0:0", "--data"])
        .arg(dir.path()))
    .await;
    assert!(!ok, "{out}");
    assert!(out.contains("loopback only"), "{out}");
    assert!(out.contains("0.0.0.0:0"), "{out}");
    assert!(!out.contains("listening on"), "{out}");
}

/// Stops a broker with SIGTERM and waits for it to exit.
async fn stop(dev: &mut DevBroker) {
    let pid = dev.child.id().expect("running") as i32;
    // SAFETY: kill(2) on a child process id this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    tokio::time::timeout(WAIT, dev.child.wait())
        .await
        .expect("the broker stops in time")
        .expect("exit status");
}

/// Collects a child's stderr lines into a shared string.
fn collect(child: &mut Child) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let sink = text.clone();
    tokio::spawn(async move {
        while let Ok(Some(l)) = lines.next_line().await {
            let mut s = sink.lock().unwrap();
            s.push_str(&l);
            s.push('\n');
        }
    });
    text
}

async fn wait_for_text(text: &Arc<Mutex<String>>, want: &str) {
    let shown = eventually_async(WAIT, move || async move {
        text.lock().unwrap().contains(want).then_some(())
    })
    .await;
    assert!(shown.is_some(), "no {want:?} in:\n{}", text.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_session_the_agent_token_and_a_waiting_gate() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let listen = format!("127.0.0.1:{port}");
    let mut first = start_dev_on(dir.path(), &listen).await;
    let session_dir = dir.path().join("session");
    let (ok, out) = run(signoff()
        .args(["login", "--no-qr", "--issuer", &first.issuer])
        .args(["--client-id", &first.client_id, "--broker", &first.broker])
        .env("SIGNOFF_DATA_DIR", &session_dir))
    .await;
    assert!(ok, "{out}");

    // An agent waits at the gate while the broker restarts.
    let mut gate = signoff()
        .args([
            "gate",
            "--broker",
            &first.broker,
            "--requester-id",
            "dev-agent",
        ])
        .args([
            "--kind",
            "db.export",
            "--summary",
            "export across a restart",
        ])
        .args([
            "--target",
            "postgres:customers",
            "--env",
            "staging",
            "--",
            "true",
        ])
        .env("SIGNOFF_AGENT_TOKEN", &first.agent_token)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gate starts");
    let gate_err = collect(&mut gate);
    wait_for_text(&gate_err, "waiting for approval").await;
    stop(&mut first).await;
    let second = start_dev_on(dir.path(), &listen).await;
    assert_eq!(second.issuer, first.issuer, "the issuer keeps its port");
    assert_eq!(
        second.agent_token, first.agent_token,
        "the agent token is kept"
    );
    for f in [DEV_STATE, DEV_ISSUER] {
        let mode = std::fs::metadata(dir.path().join("data").join(f)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600,
            "{f}"
        );
    }

    // The session from before the restart is still good, at the issuer and the broker.
    let (ok, out) = run(signoff()
        .arg("whoami")
        .env("SIGNOFF_DATA_DIR", &session_dir))
    .await;
    assert!(ok && !out.contains("warning"), "{out}");
    let store = SessionStore::new(&session_dir);
    let session = store.load().unwrap().expect("a stored session");
    let key = DeviceKey::load(&store.device_key_path())
        .unwrap()
        .expect("a device key");
    let ws = format!("{}/v1/feed", second.broker.replace("http://", "ws://"));
    let (mut feed, _) = Feed::connect_url(&ws, &session.access_token, None).await;
    let ServerMsg::Snapshot { rows: actions, .. } = feed.next().await else {
        panic!("a snapshot first")
    };
    let action = actions
        .into_iter()
        .find(|a| a.summary == "export across a restart")
        .expect("the gate's action survived the restart");
    let signed = sign(
        key.signing_key(),
        "alice@example.com",
        &action,
        Verdict::Approve,
        "ok",
    );
    let ack = feed.decide(signed).await;
    assert!(
        matches!(
            ack,
            ServerMsg::Ack {
                status: Status::Approved,
                ..
            }
        ),
        "{ack:?}"
    );
    let status = tokio::time::timeout(WAIT, gate.wait())
        .await
        .expect("the gate finishes")
        .expect("status");
    let said = gate_err.lock().unwrap().clone();
    assert_eq!(status.code(), Some(0), "{said}");
    assert!(!said.contains("malformed"), "{said}");

    // A token this broker never issued is called unknown, not malformed.
    let (ok, out) = run(signoff()
        .args(["request", "--broker", &second.broker, "--requester-id", "x"])
        .args([
            "--kind",
            "db.export",
            "--summary",
            "s",
            "--target",
            "pg:t",
            "--env",
            "dev",
        ])
        .env("SIGNOFF_AGENT_TOKEN", "sot_dev_forgotten"))
    .await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("does not know the token") && !out.contains("malformed"),
        "{out}"
    );

    // With the broker and its issuer gone, whoami says the session cannot be checked.
    let mut second = second;
    stop(&mut second).await;
    let (ok, out) = run(signoff()
        .arg("whoami")
        .env("SIGNOFF_DATA_DIR", &session_dir))
    .await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("the issuer does not answer") && out.contains("signoff login"),
        "{out}"
    );
}
