//! `signoff request --wait` against a real broker: exit 0 / 2 / 3 / 4 / 1.

mod agent_support;

use agent_support::*;
use signoff::protocol::api::{ActionCreated, ActionView};
use signoff::protocol::{Status, Verdict};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_exits_0_and_prints_the_final_action_as_json() {
    let env = start().await;
    let mut alice = env.approver(ALICE_TOKEN, 1).await;
    let child = env.spawn(&request_flags(
        "restart web (approve)",
        &["--wait", "--json"],
    ));
    let action = pending(&mut alice, "restart web (approve)").await;
    let acked = std::time::Instant::now();
    let status = alice.decide(&action, Verdict::Approve, "go").await.unwrap();
    assert_eq!(status, Status::Approved);
    let (code, stdout, stderr) = finish(child).await;
    // The long poll wakes on the change: the agent learns of the approval at once.
    eprintln!("approval to agent exit: {:?}", acked.elapsed());
    assert_eq!(code, 0, "{stderr}");
    let view: ActionView = serde_json::from_str(&stdout).unwrap();
    assert_eq!(view.action.status, Status::Approved);
    assert_eq!(view.action.requester.id, AGENT);
    assert!(
        stderr.contains("approved") && stderr.contains("alice"),
        "{stderr}"
    );
    // The agent kept the broker's checkpoint covering the outcome (0600, state dir), and
    // it proves the broker's log as it stands.
    let kept =
        signoff::client::checkpoints::path_for(&env.dir.path().join("state"), &env.broker.url());
    let text = std::fs::read_to_string(&kept).expect("a checkpoint was kept");
    let cp: signoff::protocol::Checkpoint = serde_json::from_str(&text).unwrap();
    assert!(cp.audit_seq >= 3, "{cp:?}");
    let out = env
        .signoff(&["audit", "verify", "--data"])
        .arg(env.dir.path().join("data"))
        .arg("--checkpoint")
        .arg(&kept)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_exits_2_and_says_who_and_why() {
    let env = start().await;
    let mut bob = env.approver(BOB_TOKEN, 2).await;
    let child = env.spawn(&request_flags("restart web (deny)", &["--wait"]));
    let action = pending(&mut bob, "restart web (deny)").await;
    bob.decide(&action, Verdict::Deny, "no change ticket")
        .await
        .unwrap();
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bob: no change ticket"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_exits_3() {
    let env = start().await;
    let child = env.spawn(&request_flags(
        "restart web (expire)",
        &["--ttl", "1s", "--wait"],
    ));
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("expired"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn still_pending_at_the_timeout_exits_4() {
    let env = start().await;
    let child = env.spawn(&request_flags(
        "restart web (timeout)",
        &["--wait", "--timeout", "2s", "--json"],
    ));
    let (code, stdout, stderr) = finish(child).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
    let view: ActionView = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        view.action.status,
        Status::Pending,
        "request leaves it pending"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_wait_prints_the_id_and_exits_0() {
    let env = start().await;
    let (code, stdout, stderr) =
        finish(env.spawn(&request_flags("restart web (nowait)", &["--json"]))).await;
    assert_eq!(code, 0, "{stderr}");
    let created: ActionCreated = serde_json::from_str(&stdout).unwrap();
    assert_eq!(created.status, Status::Pending);
    let (code, stdout, _) = finish(env.spawn(&request_flags("restart web (id)", &[]))).await;
    assert_eq!(code, 0);
    assert_eq!(stdout.trim().len(), 26, "a ULID: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_and_connection_errors_exit_1_with_a_clear_message() {
    let env = start().await;
    // Missing flags.
    let (code, _, stderr) = finish(env.spawn(&["request", "--kind", "x.y"])).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("missing --summary, --target, --env"),
        "{stderr}"
    );
    // Impersonation: a requester id that is not the token's subject.
    let (code, _, stderr) =
        finish(env.spawn(&request_flags("imp", &["--requester-id", "someone-else"]))).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("token's subject"), "{stderr}");
    // A malformed idempotency key is refused before anything is sent.
    let (code, _, stderr) = finish(env.spawn(&request_flags(
        "bad key",
        &["--idempotency-key", "has space"],
    )))
    .await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--idempotency-key must be visible ASCII"),
        "{stderr}"
    );
    // No broker listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let mut cmd = env.signoff(&request_flags(
        "nobody home",
        &["--wait", "--retry-submit-for", "1s"],
    ));
    cmd.env("SIGNOFF_BROKER_URL", format!("http://127.0.0.1:{port}"));
    let (code, _, stderr) = finish(cmd.spawn().unwrap()).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot reach the broker"), "{stderr}");
    assert!(
        stderr.contains("retrying in") && stderr.contains("same idempotency key"),
        "the submission is retried before giving up: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_flags_exit_1_not_the_denied_code() {
    let env = start().await;
    let (code, _, stderr) = finish(env.spawn(&["request", "--no-such-flag"])).await;
    assert_eq!(code, 1, "{stderr}");
    let (code, _, stderr) = finish(env.spawn(&["gate", "--env", "staging"])).await;
    assert_eq!(code, 1, "a gate needs a command: {stderr}");
    let (code, stdout, _) = finish(env.spawn(&["request", "--help"])).await;
    assert_eq!(code, 0);
    assert!(stdout.contains("3  expired or withdrawn"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flag_reaches_the_approver() {
    let env = start().await;
    let before = env.dir.path().join("before.yaml");
    let after = env.dir.path().join("after.yaml");
    std::fs::write(&before, "replicas: 2\n").unwrap();
    std::fs::write(&after, "replicas: 4\n").unwrap();
    let (b, a) = (before.to_string_lossy(), after.to_string_lossy());
    let mut alice = env.approver(ALICE_TOKEN, 1).await;
    let flags = request_flags(
        "scale web",
        &[
            "--justification",
            "traffic spike",
            "--before",
            &b,
            "--after",
            &a,
            "--context",
            "ticket=OPS-42",
            "--context",
            "q=a=b",
            "--on-behalf-of",
            "dave",
            "--model",
            "claude-opus-4",
            "--requester-name",
            "Scaler",
            "--ttl",
            "20m",
            "--command",
            "kubectl scale deploy/web --replicas=4",
        ],
    );
    let (code, _, stderr) = finish(env.spawn(&flags)).await;
    assert_eq!(code, 0, "{stderr}");
    let got = pending(&mut alice, "scale web").await;
    assert_eq!(got.justification, "traffic spike");
    assert_eq!(got.requester.display_name, "Scaler");
    assert_eq!(got.requester.on_behalf_of.as_deref(), Some("dave"));
    assert_eq!(got.requester.model.as_deref(), Some("claude-opus-4"));
    let ctx: Vec<(&str, &str)> = got
        .context
        .iter()
        .map(|c| (c.key.as_str(), c.value.as_str()))
        .collect();
    assert_eq!(ctx, [("ticket", "OPS-42"), ("q", "a=b")]);
    assert!(matches!(
        &got.change,
        Some(signoff::protocol::Change::BeforeAfter { before, after, .. })
            if before == "replicas: 2\n" && after == "replicas: 4\n"
    ));
    let ttl_ms = got.created_at.millis_until(got.expires_at);
    // The policy may shorten the requested TTL, never lengthen it.
    assert!(ttl_ms > 0 && ttl_ms <= 20 * 60 * 1000, "{ttl_ms}");
}
