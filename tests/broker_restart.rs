//! A broker process killed with SIGKILL and started again on the same data directory keeps
//! every acked decision and every pending action, and continues its sequence numbers.

mod broker_common;

use broker_common::*;
use signoff::protocol::{ServerMsg, Status, Verdict};

#[tokio::test]
async fn killed_broker_keeps_acked_decisions_and_pending_actions() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = broker_process(dir.path(), "127.0.0.1:0").await;
    let http = Http::at(&url);
    let ws = format!("{}/v1/feed", url.replace("http://", "ws://"));
    http.register(BOB, &key(1)).await;
    let (mut feed, _) = Feed::connect_url(&ws, BOB, None).await;
    let _snapshot = feed.next().await;
    let decided = http.submit(AGENT, &request("approve me")).await;
    let waiting = http.submit(AGENT, &request("leave me pending")).await;
    let a = http.view(BOB, &decided.id.to_string(), 0).await.action;
    let ServerMsg::Ack { status, .. } = feed
        .decide(sign(&key(1), "bob", &a, Verdict::Approve, "ok"))
        .await
    else {
        panic!("ack expected")
    };
    assert_eq!(status, Status::Approved);
    let (_probe, welcome) = Feed::connect_url(&ws, CAROL, None).await;
    let ServerMsg::Welcome {
        head_seq: last_seq, ..
    } = welcome
    else {
        unreachable!()
    };
    assert_eq!(last_seq, 3, "pending, pending, resolved");

    // The ack was sent: SIGKILL now, no chance to flush anything.
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    drop(feed);

    let (mut child, url) = broker_process(dir.path(), "127.0.0.1:0").await;
    let http = Http::at(&url);
    let ws = format!("{}/v1/feed", url.replace("http://", "ws://"));
    let view = http.view(AGENT, &decided.id.to_string(), 0).await;
    assert_eq!(view.action.status, Status::Approved);
    assert_eq!(view.action.votes.len(), 1);
    let view = http.view(AGENT, &waiting.id.to_string(), 0).await;
    assert_eq!(view.action.status, Status::Pending);

    // Resuming from the last event seen: nothing was missed, numbering continues.
    let (mut feed, welcome) = Feed::connect_url(&ws, BOB, Some(last_seq)).await;
    let ServerMsg::Welcome { head_seq, .. } = welcome else {
        unreachable!()
    };
    assert_eq!(head_seq, last_seq);
    let more = http.submit(AGENT, &request("after restart")).await;
    let ServerMsg::Pending { seq, row: action } = feed.next().await else {
        panic!("pending expected")
    };
    assert_eq!((seq, action.id), (last_seq + 1, more.id));
    // A fresh console gets the surviving pending actions in its snapshot.
    let (mut fresh, _) = Feed::connect_url(&ws, CAROL, None).await;
    let ServerMsg::Snapshot { rows: actions, .. } = fresh.next().await else {
        panic!()
    };
    let ids: Vec<_> = actions.iter().map(|a| a.id).collect();
    assert!(ids.contains(&waiting.id) && ids.contains(&more.id) && !ids.contains(&decided.id));
    // The surviving pending action can still be decided.
    let w = http.view(BOB, &waiting.id.to_string(), 0).await.action;
    let ack = feed
        .decide(sign(&key(1), "bob", &w, Verdict::Deny, "not today"))
        .await;
    assert!(
        matches!(
            ack,
            ServerMsg::Ack {
                status: Status::Denied,
                ..
            }
        ),
        "{ack:?}"
    );

    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["audit", "verify", "--data"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
