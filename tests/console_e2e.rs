//! End to end against the real broker on 127.0.0.1 (real SQLite file, real audit log):
//! the real `signoff` binary in a pty, keys pressed as an approver would.

mod console_support;

use console_support::pty::{Pty, wait_key_registered};
use console_support::{get_json, real_broker, submit};
use signoff::testkit::eventually;

/// End to end against the real broker on 127.0.0.1 with a real SQLite file: an agent
/// submits, the approver approves with the keyboard in the real binary, the agent's long
/// poll returns approved, and the audit log verifies (chain and every vote signature).
#[test]
fn real_broker_approve_end_to_end() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (data, broker) = real_broker(&rt);
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
    let created = submit(&rt, &url, &serde_json::to_value(&req).unwrap());
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
    let mut pty = Pty::console(100, 30, &url, "bob-secret", 8);
    pty.wait_for("Export the e2e table to S3", 30);
    pty.wait_for("● live", 10);
    wait_key_registered(&rt, &url, "bob-secret", 8);
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

/// A refusal from the real broker reaches the approver word for word.
#[test]
fn real_broker_refusal_is_shown_exactly() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_data, broker) = real_broker(&rt);
    let url = broker.url();
    // The agent acts for bob, so bob may not approve it.
    let body = serde_json::json!({
        "kind": "db.export",
        "summary": "Export for bob himself",
        "requester": {"kind": "agent", "id": "agent-7", "display_name": "E2E agent",
                      "on_behalf_of": "bob"},
        "target": {"system": "postgres", "resource": "e2e", "environment": "staging"},
        "ttl_secs": 300
    });
    submit(&rt, &url, &body);
    let mut pty = Pty::console(120, 30, &url, "bob-secret", 11);
    pty.wait_for("Export for bob himself", 30);
    pty.wait_for("● live", 10);
    wait_key_registered(&rt, &url, "bob-secret", 11);
    pty.press("a");
    pty.wait_for("will refuse self-approval", 10);
    pty.press("\r");
    pty.wait_for(
        "refused: self_approval: you are the person the requester acts for",
        20,
    );
    assert!(
        pty.contents().contains("Export for bob himself"),
        "still pending"
    );
    pty.press("q");
    assert!(pty.wait_exit(10).success());
    rt.block_on(broker.shutdown()).unwrap();
}

/// Issue #13 part 3, on the real binary against the real broker: the approver presses
/// `a` on A and starts typing a reason; the requester withdraws A; the rest of the typing
/// (`all good` + Enter) must not open or approve B. The dialog stays as a blocking notice
/// that swallows the keys; Enter only closes it.
#[test]
fn real_broker_withdrawn_under_the_dialog_swallows_the_typing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_data, broker) = real_broker(&rt);
    let url = broker.url();
    let http = reqwest::Client::new();
    let export = |summary: &str, resource: &str, ttl: u64| {
        let body = serde_json::json!({
            "kind": "db.export",
            "summary": summary,
            "requester": {"kind": "agent", "id": "agent-7", "display_name": "E2E agent"},
            "target": {"system": "postgres", "resource": resource, "environment": "staging"},
            "ttl_secs": ttl
        });
        submit(&rt, &url, &body)
    };
    // Same risk; A expires first, so A is the first row and selected.
    let a = export("Export table alpha", "alpha", 300);
    let b = export("Export table bravo", "bravo", 600);
    let mut pty = Pty::console(100, 30, &url, "bob-secret", 9);
    pty.wait_for("bravo", 30);
    pty.wait_for("● live", 10);
    wait_key_registered(&rt, &url, "bob-secret", 9);
    pty.press("a");
    pty.wait_for("Approve: Export table alpha", 10);
    pty.press("ok, ");
    pty.wait_for("[ok, ", 5);
    rt.block_on(async {
        let resp = http
            .delete(format!("{url}/v1/actions/{}", a.id))
            .bearer_auth("agent-secret")
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{:?}", resp.text().await);
    });
    pty.wait_for("withdrawn by the requester — Esc to close", 10);
    pty.press("all good");
    pty.press("\r");
    pty.wait_gone("Esc to close", 10);
    let screen = pty.contents();
    assert!(
        !screen.contains("Approve:"),
        "no dialog opened on B:\n{screen}"
    );
    // The typing went nowhere: B is still pending with no vote, and nothing else was
    // decided.
    let path = format!("/v1/actions/{}", b.id);
    let view: signoff::protocol::api::ActionView = get_json(&rt, &url, &path, "agent-secret");
    assert_eq!(view.action.status, signoff::protocol::Status::Pending);
    assert!(view.action.votes.is_empty(), "{:?}", view.action.votes);
    assert!(screen.contains("bravo"), "B still listed:\n{screen}");
    pty.press("q");
    assert!(pty.wait_exit(10).success());
    rt.block_on(broker.shutdown()).unwrap();
}

/// A console that never votes still keeps the audit log's latest signed checkpoint (the
/// broker sends `checkpoint` on the feed as the log grows), in its state directory, 0600;
/// and that file later proves a truncation of the log.
#[test]
fn a_console_that_never_votes_keeps_the_latest_checkpoint() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (data, broker) = real_broker(&rt);
    let url = broker.url();
    let export = |summary: &str| {
        let req = serde_json::json!({
            "kind": "db.export",
            "summary": summary,
            "requester": {"kind": "agent", "id": "agent-7", "display_name": "E2E agent"},
            "target": {"system": "postgres", "resource": "e2e", "environment": "staging"},
            "justification": "checkpoint test",
            "context": [],
            "ttl_secs": 300
        });
        submit(&rt, &url, &req);
    };
    let head = || -> signoff::protocol::Checkpoint {
        get_json(&rt, &url, "/v1/audit/checkpoint", "bob-secret")
    };
    export("First export before the console starts");
    let pty = Pty::console(100, 30, &url, "bob-secret", 9);
    pty.wait_for("First export before the console starts", 30);
    pty.wait_for("● live", 10);
    wait_key_registered(&rt, &url, "bob-secret", 9);
    export("Second export while the console watches");
    pty.wait_for("2 pending", 10);
    let latest = head();
    let file = signoff::client::checkpoints::path_for(&pty.dir().join("state"), &url);
    let kept = eventually(std::time::Duration::from_secs(20), || {
        signoff::broker::cli::read_checkpoint(&file)
            .ok()
            .filter(|k| k.audit_seq >= latest.audit_seq)
    })
    .unwrap_or_else(|| {
        let kept = signoff::broker::cli::read_checkpoint(&file);
        panic!("the console kept {kept:?}, not the head {latest:?}")
    });
    assert_eq!(kept, latest, "the kept checkpoint is the broker's head");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "checkpoint file mode {mode:o}");
    }
    drop(pty);
    rt.block_on(broker.shutdown()).unwrap();
    signoff::broker::cli::verify_with(data.path(), std::slice::from_ref(&kept), None)
        .expect("the log holds the kept checkpoint");
    // An operator deletes the newest entries: the checkpoint the console kept proves it.
    let db = rusqlite::Connection::open(data.path().join(signoff::broker::store::DB_FILE)).unwrap();
    db.execute("DELETE FROM audit WHERE seq >= ?1", [kept.audit_seq as i64])
        .unwrap();
    drop(db);
    let err = signoff::broker::cli::verify_with(data.path(), &[kept], None).unwrap_err();
    assert!(
        matches!(&err, signoff::broker::audit_error::AuditError::Failed(f) if f.contains("were deleted")),
        "{err}"
    );
}
