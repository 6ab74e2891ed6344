//! The real `signoff` binary in a pseudo-terminal, its screen parsed with `vt100`:
//! wait for text, press keys, read the screen, and check what reached the broker.
//!
//! Two broker set-ups: the in-test stand-in from `console_support` (always runs), and the
//! real broker (`real_broker_*`, ignored until the broker lands at merge).

mod console_support;

use std::io::{Read as _, Write as _};
use std::num::NonZeroU16;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use console_support::FakeBroker;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use signoff::console::fixtures::{action, hostile_action};
use signoff::protocol::messages::ClientMsg;
use signoff::protocol::{RiskLevel, Timestamp, Verdict};

/// A running `signoff` in a pty.
struct Pty {
    screen: Arc<Mutex<vt100::Parser>>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    writer: Box<dyn std::io::Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _dir: tempfile::TempDir,
}

impl Pty {
    /// Starts `signoff` (no subcommand: the console is the default) with `env`.
    fn spawn(cols: u16, rows: u16, env: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_signoff"));
        cmd.env_clear();
        cmd.env("TERM", "xterm-256color");
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("SIGNOFF_CONFIG_DIR", dir.path().join("config"));
        cmd.env("SIGNOFF_STATE_DIR", dir.path().join("state"));
        cmd.env("SIGNOFF_NOTIFICATIONS", "off");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(rows).unwrap(),
            NonZeroU16::new(cols).unwrap(),
            0,
        )));
        let s = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => s.lock().unwrap().process(&buf[..n]),
                }
            }
        });
        Self {
            screen,
            master: pair.master,
            writer,
            child,
            _dir: dir,
        }
    }

    /// Resizes the pty (the child gets SIGWINCH) and the emulator.
    fn resize(&self, cols: u16, rows: u16) {
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        self.screen.lock().unwrap().screen_mut().set_size(
            NonZeroU16::new(rows).unwrap(),
            NonZeroU16::new(cols).unwrap(),
        );
    }

    /// True once the terminal is back to what a shell expects: main screen, cursor
    /// shown, no mouse reporting, no bracketed paste.
    fn restored(&self) -> bool {
        let p = self.screen.lock().unwrap();
        let s = p.screen();
        !s.alternate_screen()
            && !s.hide_cursor()
            && s.mouse_protocol_mode() == vt100::MouseProtocolMode::None
            && !s.bracketed_paste()
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `text`; panics with the screen after `secs`.
    fn wait_for(&self, text: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if self.contents().contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}; screen:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Waits until the screen no longer shows `text`.
    fn wait_gone(&self, text: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.contents().contains(text) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?} to go; screen:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits for the process to exit on its own; panics after `secs`.
    fn wait_exit(&mut self, secs: u64) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "signoff did not exit; screen:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A 0600 seed file for the device key.
fn key_file(dir: &std::path::Path, seed: u8) -> PathBuf {
    let p = dir.join("device.key");
    std::fs::write(&p, hex::encode([seed; 32])).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

/// A fixture action that is still pending now (fixtures use a fixed past clock).
fn fresh(mut a: signoff::protocol::Action) -> signoff::protocol::Action {
    a.created_at = Timestamp::now().plus_secs(-60);
    a.expires_at = Timestamp::now().plus_secs(900);
    a
}

#[test]
fn approve_with_the_keyboard_signs_the_displayed_digest() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let a = fresh(action(
        1,
        "db.export",
        "customers",
        "production",
        RiskLevel::High,
    ));
    let mut broker = rt.block_on(FakeBroker::start("tok-bob", "bob", vec![a.clone()]));
    let keys = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        100,
        30,
        &[
            ("SIGNOFF_BROKER_URL", broker.url.clone()),
            ("SIGNOFF_TOKEN", "tok-bob".into()),
            (
                "SIGNOFF_KEY_FILE",
                key_file(keys.path(), 4).display().to_string(),
            ),
        ],
    );
    pty.wait_for("db.export on customers", 30);
    pty.wait_for("● live", 10);
    // The key registration must land before the decision, as with the real broker.
    let deadline = Instant::now() + Duration::from_secs(10);
    while broker.shared.keys.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "key never registered");
        std::thread::sleep(Duration::from_millis(30));
    }
    pty.press("a");
    pty.wait_for("Approve: db.export on customers", 10);
    pty.wait_for("your approval completes the quorum", 5);
    // A bracketed paste ending in a newline must not confirm.
    pty.press("\x1b[200~ticket DATA-1234\x1b[201~");
    pty.wait_for("[ticket DATA-1234", 5);
    pty.press("\x1b[200~\r\x1b[201~");
    pty.wait_for("[ticket DATA-1234 ", 5);
    assert!(
        pty.contents().contains("Approve: db.export"),
        "still open after a pasted newline"
    );
    pty.press("\x7f"); // backspace the pasted space
    pty.wait_for("[ticket DATA-1234▏]", 5);
    pty.press("\r");
    let decision = rt.block_on(async {
        loop {
            if let ClientMsg::Decide { decision } = broker.next_msg(10).await {
                return decision;
            }
        }
    });
    assert_eq!(decision.decision.action_id, a.id);
    assert_eq!(
        decision.decision.action_digest,
        a.digest(),
        "signs what it showed"
    );
    assert_eq!(decision.decision.verdict, Verdict::Approve);
    assert_eq!(decision.decision.reason, "ticket DATA-1234");
    let vk = ed25519_dalek::SigningKey::from_bytes(&[4; 32]).verifying_key();
    decision.verify(&vk).expect("signed by the device key");
    pty.wait_for("db.export postgres/customers approved (audit", 10);
    pty.wait_for("No pending actions", 5);
    pty.press("q");
    assert!(pty.wait_exit(10).success());
}

#[test]
fn hostile_text_is_visible_on_a_real_terminal() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let broker = rt.block_on(FakeBroker::start(
        "t",
        "bob",
        vec![fresh(hostile_action(1))],
    ));
    let keys = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        160,
        48,
        &[
            ("SIGNOFF_BROKER_URL", broker.url.clone()),
            ("SIGNOFF_TOKEN", "t".into()),
            (
                "SIGNOFF_KEY_FILE",
                key_file(keys.path(), 5).display().to_string(),
            ),
        ],
    );
    pty.wait_for("⟨CSI 2J⟩", 30);
    let screen = pty.contents();
    assert!(
        !pty.restored(),
        "runs on the alternate screen with mouse reporting"
    );
    assert!(screen.contains("⟨U+202E⟩"), "{screen}");
    assert!(screen.contains("ops-bot⟨OSC 0;pwned⟩"), "{screen}");
    // The screen was not cleared by the agent's ESC[2J: the queue is still there.
    assert!(screen.contains("Queue 1 pending"), "{screen}");
    pty.press("q");
    assert!(pty.wait_exit(10).success());
    assert!(pty.restored(), "terminal restored after quit");
}

#[test]
fn an_unreachable_broker_shows_the_reconnect_state() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let keys = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        80,
        24,
        &[
            ("SIGNOFF_BROKER_URL", format!("http://127.0.0.1:{port}")),
            ("SIGNOFF_TOKEN", "t".into()),
            (
                "SIGNOFF_KEY_FILE",
                key_file(keys.path(), 6).display().to_string(),
            ),
        ],
    );
    pty.wait_for("reconnecting (attempt 2", 30);
    pty.press("?");
    pty.wait_for("? or Esc to close", 5);
    // A lone Esc followed at once by `q` would read as Alt-q, as in any terminal app.
    pty.press("\x1b");
    pty.wait_gone("? or Esc to close", 5);
    pty.press("q");
    assert!(pty.wait_exit(10).success());
}

#[test]
fn resizing_relayouts_and_a_tiny_window_says_so() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let a = fresh(action(
        1,
        "db.export",
        "customers",
        "production",
        RiskLevel::High,
    ));
    let broker = rt.block_on(FakeBroker::start("t", "bob", vec![a]));
    let keys = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        100,
        30,
        &[
            ("SIGNOFF_BROKER_URL", broker.url.clone()),
            ("SIGNOFF_TOKEN", "t".into()),
            (
                "SIGNOFF_KEY_FILE",
                key_file(keys.path(), 9).display().to_string(),
            ),
        ],
    );
    pty.wait_for("Tab switches", 30);
    pty.resize(160, 48);
    pty.wait_for("┌ Risk", 10);
    pty.wait_gone("Tab switches", 10);
    pty.resize(50, 10);
    pty.wait_for("Window too small: 50x10", 10);
    pty.resize(80, 24);
    pty.wait_for("Tab switches", 10);
    pty.press("q");
    assert!(pty.wait_exit(10).success());
    assert!(pty.restored());
}

#[test]
fn a_decision_made_offline_is_sent_after_the_broker_comes_back() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let a = fresh(action(
        1,
        "db.export",
        "customers",
        "production",
        RiskLevel::High,
    ));
    let mut broker = rt.block_on(FakeBroker::start("t", "bob", vec![a.clone()]));
    let keys = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        100,
        30,
        &[
            ("SIGNOFF_BROKER_URL", broker.url.clone()),
            ("SIGNOFF_TOKEN", "t".into()),
            (
                "SIGNOFF_KEY_FILE",
                key_file(keys.path(), 10).display().to_string(),
            ),
        ],
    );
    pty.wait_for("● live", 30);
    let deadline = Instant::now() + Duration::from_secs(10);
    while broker.shared.keys.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "key never registered");
        std::thread::sleep(Duration::from_millis(30));
    }
    match rt.block_on(broker.next_msg(10)) {
        ClientMsg::Hello { resume_after, .. } => assert_eq!(resume_after, None),
        other => panic!("expected the first hello, got {other:?}"),
    }
    {
        let _rt = rt.enter();
        broker.stop();
    }
    pty.wait_for("reconnecting (attempt", 10);
    pty.wait_for("offline, as last seen", 5);
    pty.press("a");
    pty.wait_for("Offline: sent after reconnect", 5);
    pty.press("\r");
    pty.wait_for("1 decision(s) queued", 5);
    rt.block_on(broker.restart());
    // The console resumes from its last event number and then re-sends the decision.
    let hello = rt.block_on(async {
        loop {
            if let ClientMsg::Hello { resume_after, .. } = broker.next_msg(30).await {
                return resume_after;
            }
        }
    });
    assert_eq!(hello, Some(5), "resumes after the last event it saw");
    let decision = rt.block_on(async {
        loop {
            if let ClientMsg::Decide { decision } = broker.next_msg(10).await {
                return decision;
            }
        }
    });
    assert_eq!(decision.decision.action_digest, a.digest());
    pty.wait_for("db.export postgres/customers approved (audit", 10);
    pty.press("q");
    assert!(pty.wait_exit(10).success());
}

#[test]
fn a_clear_error_without_a_token() {
    let keys = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        80,
        24,
        &[(
            "SIGNOFF_KEY_FILE",
            key_file(keys.path(), 7).display().to_string(),
        )],
    );
    pty.wait_for("no session: pass --token or set SIGNOFF_TOKEN", 30);
    assert!(!pty.wait_exit(10).success());
}

/// Static tokens for the real broker: an agent (`agent-7`) and an approver (`bob`, sre).
fn broker_auth() -> Arc<dyn signoff::auth::Authenticator> {
    use signoff::auth::static_tokens::{StaticToken, StaticTokens};
    use signoff::auth::{PrincipalKind, hash_token};
    Arc::new(StaticTokens::new([
        StaticToken {
            token_sha256: hash_token("agent-secret"),
            kind: PrincipalKind::Agent,
            subject: "agent-7".into(),
            email: None,
            name: None,
            groups: vec![],
        },
        StaticToken {
            token_sha256: hash_token("bob-secret"),
            kind: PrincipalKind::Approver,
            subject: "bob".into(),
            email: Some("bob@example.com".into()),
            name: Some("Bob".into()),
            groups: vec!["sre".into()],
        },
    ]))
}

/// End to end against the real broker on 127.0.0.1 with a real SQLite file: an agent
/// submits, the approver approves with the keyboard in the real binary, the agent's long
/// poll returns approved, and the audit log verifies (chain and every vote signature).
#[test]
fn real_broker_approve_end_to_end() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let settings = signoff::broker::Settings::new(
        broker_auth(),
        signoff::broker::policy::Engine::default(),
        data.path(),
    );
    let broker = rt.block_on(signoff::broker::spawn(settings)).unwrap();
    let url = broker.url();
    let http = reqwest::Client::new();
    let req = signoff::protocol::ActionRequest {
        kind: "db.export".into(),
        summary: "Export the e2e table to S3".into(),
        requester: signoff::protocol::Requester {
            kind: signoff::protocol::RequesterKind::Agent,
            id: "agent-7".into(),
            display_name: "E2E agent".into(),
            model: Some("claude-opus-4".into()),
            on_behalf_of: Some("alice@example.com".into()),
        },
        target: signoff::protocol::Target {
            system: "postgres".into(),
            resource: "e2e".into(),
            environment: "staging".into(),
        },
        justification: "pty end-to-end test".into(),
        context: vec![],
        command: None,
        change: Some(signoff::protocol::Change::UnifiedDiff {
            diff: "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n".into(),
        }),
        ttl_secs: Some(300),
    };
    let created: signoff::protocol::api::ActionCreated = rt.block_on(async {
        let resp = http
            .post(format!("{url}/v1/actions"))
            .bearer_auth("agent-secret")
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
        resp.json().await.unwrap()
    });
    let poll = {
        let (http, url, id) = (http.clone(), url.clone(), created.id);
        rt.spawn(async move {
            http.get(format!("{url}/v1/actions/{id}?wait=120"))
                .bearer_auth("agent-secret")
                .send()
                .await
                .unwrap()
                .json::<signoff::protocol::api::ActionView>()
                .await
                .unwrap()
        })
    };
    let keys = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        100,
        30,
        &[
            ("SIGNOFF_BROKER_URL", url.clone()),
            ("SIGNOFF_TOKEN", "bob-secret".into()),
            (
                "SIGNOFF_KEY_FILE",
                key_file(keys.path(), 8).display().to_string(),
            ),
        ],
    );
    pty.wait_for("Export the e2e table to S3", 30);
    pty.wait_for("● live", 10);
    // The device key is registered at start; wait for it before deciding.
    let key_id = signoff::protocol::KeyId::of(
        &ed25519_dalek::SigningKey::from_bytes(&[8; 32]).verifying_key(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed: signoff::protocol::api::KeyList = rt.block_on(async {
            http.get(format!("{url}/v1/keys"))
                .bearer_auth("bob-secret")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        if listed.keys.iter().any(|k| k.key_id == key_id) {
            break;
        }
        assert!(Instant::now() < deadline, "device key never registered");
        std::thread::sleep(Duration::from_millis(50));
    }
    pty.press("a");
    pty.wait_for("Approve: Export the e2e table to S3", 10);
    pty.press("e2e ok");
    pty.press("\r");
    let view = rt.block_on(poll).unwrap();
    assert_eq!(view.action.status, signoff::protocol::Status::Approved);
    assert_eq!(view.action.votes.len(), 1);
    assert_eq!(view.action.votes[0].approver, "bob");
    assert_eq!(view.action.votes[0].reason, "e2e ok");
    pty.wait_for("approved (audit", 10);
    pty.press("q");
    assert!(pty.wait_exit(10).success());
    rt.block_on(broker.shutdown()).unwrap();
    let summary = signoff::broker::cli::verify(data.path()).expect("audit log verifies");
    assert!(summary.contains("1 vote signatures verified"), "{summary}");
}
