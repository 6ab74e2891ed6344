//! `signoff gate -- CMD` against a real broker: runs only when approved, passes the exit
//! code through, closes the loop in the audit log, and withdraws on Ctrl-C.

mod agent_support;

use std::time::Duration;

use agent_support::*;
use signoff::agent::AgentClient;
use signoff::protocol::{Command, Status, Verdict};
use signoff::testkit::eventually_async;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_runs_the_exact_argv_passes_its_exit_code_and_audits_the_result() {
    let env = start().await;
    let marker = env.dir.path().join("ran");
    let script = format!(
        "echo \"$SIGNOFF_ACTION_ID\" > '{}'; exit 7",
        marker.display()
    );
    let mut alice = env.approver(ALICE_TOKEN, 1).await;
    let child = env.spawn(&["gate", "--env", "staging", "--", "sh", "-c", &script]);
    let action = alice
        .next_pending(Duration::from_secs(30), |a| a.kind == "command.exec")
        .await
        .unwrap();
    assert_eq!(
        action.command,
        Some(Command::Argv {
            argv: vec!["sh".into(), "-c".into(), script.clone()]
        })
    );
    assert!(!exists(&marker), "nothing runs before approval");
    alice.decide(&action, Verdict::Approve, "ok").await.unwrap();
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 7, "{stderr}");
    let ran = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(ran.trim(), action.id.to_string());

    let client = AgentClient::new(&env.broker.url(), AGENT_TOKEN).unwrap();
    let view = client.get(action.id, 0).await.unwrap();
    let exec = view.action.execution.expect("execution recorded");
    assert_eq!(exec.exit_code, 7);
    assert!(exec.detail.unwrap_or_default().starts_with("exited with 7"));
    let audit = env.audit().await;
    let entry = audit
        .iter()
        .find(|e| e["entry"]["type"] == "execution")
        .expect("an execution entry in the audit log");
    assert_eq!(entry["entry"]["action_id"], action.id.to_string());
    assert_eq!(entry["entry"]["actor"], AGENT);
    assert_eq!(entry["entry"]["payload"]["execution"]["exit_code"], 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_never_runs_and_exits_2() {
    let env = start().await;
    let marker = env.dir.path().join("ran");
    let script = format!("touch '{}'", marker.display());
    let mut bob = env.approver(BOB_TOKEN, 2).await;
    let child = env.spawn(&["gate", "--env", "staging", "--", "sh", "-c", &script]);
    let action = bob
        .next_pending(Duration::from_secs(30), |a| a.kind == "command.exec")
        .await
        .unwrap();
    bob.decide(&action, Verdict::Deny, "not during the freeze")
        .await
        .unwrap();
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bob: not during the freeze"), "{stderr}");
    assert!(!exists(&marker));
    let audit = env.audit().await;
    assert!(audit.iter().all(|e| e["entry"]["type"] != "execution"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_and_expiry_never_run() {
    let env = start().await;
    let marker = env.dir.path().join("ran");
    let script = format!("touch '{}'", marker.display());
    let child = env.spawn(&[
        "gate",
        "--env",
        "staging",
        "--timeout",
        "1s",
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("withdrawn"),
        "gate withdraws what it will not run: {stderr}"
    );
    let child = env.spawn(&[
        "gate", "--env", "staging", "--ttl", "1s", "--", "sh", "-c", &script,
    ]);
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(!exists(&marker));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_waiting_withdraws_and_runs_nothing() {
    let env = start().await;
    let marker = env.dir.path().join("ran");
    let script = format!("touch '{}'", marker.display());
    let mut alice = env.approver(ALICE_TOKEN, 1).await;
    let child = env.spawn(&["gate", "--env", "staging", "--", "sh", "-c", &script]);
    let action = alice
        .next_pending(Duration::from_secs(30), |a| a.kind == "command.exec")
        .await
        .unwrap();
    let pid = child.id().expect("gate is running");
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("withdrawn"), "{stderr}");
    let client = AgentClient::new(&env.broker.url(), AGENT_TOKEN).unwrap();
    assert_eq!(
        client.get(action.id, 0).await.unwrap().action.status,
        Status::Withdrawn
    );
    assert!(!exists(&marker));
    let audit = env.audit().await;
    assert!(
        audit.iter().any(|e| e["entry"]["type"] == "withdrawal"
            && e["entry"]["action_id"] == action.id.to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_running_is_forwarded_and_reported_as_128_plus_15() {
    let env = start().await;
    let started = env.dir.path().join("started");
    // The shell records that it started, then waits on a long sleep; SIGTERM ends it.
    let script = format!("touch '{}'; exec sleep 30", started.display());
    let mut alice = env.approver(ALICE_TOKEN, 1).await;
    let child = env.spawn(&["gate", "--env", "staging", "--", "sh", "-c", &script]);
    let action = alice
        .next_pending(Duration::from_secs(30), |a| a.kind == "command.exec")
        .await
        .unwrap();
    alice.decide(&action, Verdict::Approve, "ok").await.unwrap();
    eventually_async(Duration::from_secs(30), || async {
        exists(&started).then_some(())
    })
    .await
    .expect("the gated command starts within 30 s");
    let pid = child.id().expect("gate is running");
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 143, "{stderr}");
    let client = AgentClient::new(&env.broker.url(), AGENT_TOKEN).unwrap();
    let exec = client.get(action.id, 0).await.unwrap().action.execution;
    assert_eq!(exec.map(|e| e.exit_code), Some(143));
}
