//! The approver feed: resume after N gets exactly the events after N (or a snapshot when N
//! is too old), and a consumer that stops reading is cut off without slowing the others.

mod broker_common;

use std::time::Duration;

use broker_common::*;
use serde_json::json;
use signoff::broker::Tunables;
use signoff::protocol::{ErrorCode, ServerMsg};

#[tokio::test]
async fn resume_gets_exactly_the_missed_events_or_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let tunables = Tunables {
        resume_window: 3,
        ..Tunables::default()
    };
    let broker = signoff::broker::spawn(settings(dir.path(), tunables))
        .await
        .unwrap();
    let http = Http::new(&broker);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            http.submit(AGENT, &request(&format!("action {i}")))
                .await
                .id,
        );
    }
    // Events 1..=5 exist; the window holds 3..=5.
    let (mut f, welcome) = Feed::connect(&broker, BOB, Some(3)).await;
    assert!(matches!(welcome, ServerMsg::Welcome { head_seq: 5, .. }));
    for (seq, id) in [(4, ids[3]), (5, ids[4])] {
        let ServerMsg::Pending {
            seq: s,
            row: action,
        } = f.next().await
        else {
            panic!()
        };
        assert_eq!((s, action.id), (seq, id));
    }
    // Live events follow the replay directly.
    let later = http.submit(AGENT, &request("later")).await.id;
    let ServerMsg::Pending { seq, row: action } = f.next().await else {
        panic!()
    };
    assert_eq!((seq, action.id), (6, later));

    let (mut old, _) = Feed::connect(&broker, BOB, Some(1)).await;
    let ServerMsg::Snapshot {
        seq, rows: actions, ..
    } = old.next().await
    else {
        panic!("snapshot")
    };
    assert_eq!((seq, actions.len()), (6, 6));
    broker.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_consumer_that_stops_reading_is_closed_as_slow_and_others_keep_up() {
    let dir = tempfile::tempdir().unwrap();
    let tunables = Tunables {
        feed_queue_depth: 4,
        send_timeout: Duration::from_secs(30),
        ..Tunables::default()
    };
    let broker = signoff::broker::spawn(settings(dir.path(), tunables))
        .await
        .unwrap();
    let http = Http::new(&broker);
    let (mut stalled, _) = Feed::connect(&broker, BOB, None).await;
    let _ = stalled.next().await;
    let (mut healthy, _) = Feed::connect(&broker, CAROL, None).await;
    let _ = healthy.next().await;

    // Events as large as a row gets (every short field full, written as \u0001 escapes:
    // ~20 KB of JSON each) fill the stalled socket's buffers; then its queue overflows.
    const EVENTS: usize = 300;
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        while seen < EVENTS {
            if let ServerMsg::Pending { .. } = healthy.next().await {
                seen += 1;
            }
        }
        seen
    });
    let pad = "\u{1}".repeat(500);
    for i in 0..EVENTS {
        let mut r = request(&format!("big {i} {pad}"));
        r["requester"]["display_name"] = json!(pad);
        r["requester"]["model"] = json!(pad);
        // Identity fields follow the identifier grammar; the other fields carry the bulk.
        r["requester"]["on_behalf_of"] = json!("alice");
        r["target"] = json!({"system": pad, "resource": pad, "environment": pad});
        http.submit(AGENT, &r).await;
    }
    assert_eq!(
        reader.await.unwrap(),
        EVENTS,
        "the healthy console saw every event"
    );

    let code = loop {
        if let ServerMsg::Error { code, .. } = stalled.next().await {
            break code;
        }
    };
    assert_eq!(code, ErrorCode::SlowConsumer);
    assert!(stalled.closed().await.starts_with("slow_consumer"));
    let (_, m) = http.send(reqwest::Method::GET, "/metrics", BOB, None).await;
    assert!(
        m.as_str()
            .unwrap_or_default()
            .contains("signoff_feed_slow_consumers_total 1")
    );
    broker.shutdown().await.unwrap();
}
