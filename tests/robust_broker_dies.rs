//! A broker that dies mid-session, seen from the agent side: `signoff gate` is
//! waiting for approval when the broker process is killed with SIGKILL. The gate runs
//! nothing, says the broker is unreachable, keeps retrying, and when the broker comes
//! back on the same address and data directory and the action is approved, it runs the
//! command exactly once and exits with its code.
//!
//! Real parts: the `signoff broker` and `signoff gate` binaries, a real approver on the
//! feed websocket, a SQLite store in a temp dir.

mod broker_common;

use std::process::Stdio;
use std::time::Duration;

use broker_common::{AGENT, WAIT, broker_process as broker};
use ed25519_dalek::SigningKey;
use signoff::demo::peer::FeedApprover;
use signoff::protocol::Verdict;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

/// Waits for a line of the gate's stderr containing `text`; returns everything seen.
async fn stderr_until(lines: &mut mpsc::UnboundedReceiver<String>, seen: &mut String, text: &str) {
    let found = tokio::time::timeout(WAIT, async {
        while let Some(l) = lines.recv().await {
            seen.push_str(&l);
            seen.push('\n');
            if l.contains(text) {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        matches!(found, Ok(true)),
        "gate never said {text:?}; stderr so far:\n{seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_waiting_through_a_broker_crash_runs_once_after_approval() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut first, url) = broker(dir.path(), "127.0.0.1:0").await;
    let listen = url.trim_start_matches("http://").to_string();
    let marker = dir.path().join("ran");
    let script = format!("echo ran >> '{}'; exit 5", marker.display());

    let mut gate = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["gate", "--env", "staging", "--", "sh", "-c", &script])
        .env("SIGNOFF_BROKER", &url)
        .env("SIGNOFF_AGENT_TOKEN", AGENT)
        .env("SIGNOFF_AGENT_ID", "agent-7")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("gate starts");
    let stderr = gate.stderr.take().expect("gate stderr");
    let (tx, mut lines) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut r = BufReader::new(stderr).lines();
        while let Ok(Some(l)) = r.next_line().await {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();

    // The action is pending at the broker.
    let mut bob = tokio::time::timeout(
        WAIT,
        FeedApprover::connect(&url, broker_common::BOB, SigningKey::from_bytes(&[3; 32])),
    )
    .await
    .expect("approver connects in time")
    .expect("approver connects");
    let action = bob
        .next_pending(WAIT, |a| a.kind == "command.exec")
        .await
        .expect("the gate's action arrives");
    drop(bob);
    // The gate has its `201` and waits (the action reaching the feed is not enough: a
    // kill before the answer leaves the gate retrying its submission instead).
    stderr_until(&mut lines, &mut seen, "waiting for approval to run").await;

    // The broker dies with no chance to say anything.
    first.start_kill().expect("kill the broker");
    first.wait().await.expect("broker reaped");
    stderr_until(&mut lines, &mut seen, "broker unreachable").await;
    assert!(
        !marker.try_exists().unwrap_or(false),
        "nothing runs while the outcome is unknown"
    );

    // Back on the same address and data: the action survived and can be approved.
    let (_second, url2) = broker(dir.path(), &listen).await;
    assert_eq!(url2, url);
    let mut bob = FeedApprover::connect(&url, broker_common::BOB, SigningKey::from_bytes(&[3; 32]))
        .await
        .expect("approver reconnects");
    bob.decide_id(action.id, Verdict::Approve, "after the restart", WAIT)
        .await
        .expect("approval accepted");

    let out = tokio::time::timeout(Duration::from_secs(120), gate.wait_with_output())
        .await
        .expect("the gate exits in time")
        .expect("gate output");
    // The rest of stderr, up to its end (the reader stops at EOF).
    let rest = tokio::time::timeout(WAIT, async {
        while let Some(l) = lines.recv().await {
            seen.push_str(&l);
            seen.push('\n');
        }
    })
    .await;
    assert!(rest.is_ok(), "gate stderr ends after exit");
    assert_eq!(out.status.code(), Some(5), "{seen}");
    assert!(seen.contains("broker reachable again"), "{seen}");
    let ran = std::fs::read_to_string(&marker).expect("the command ran");
    assert_eq!(ran.lines().count(), 1, "ran exactly once");
}
