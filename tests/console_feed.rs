//! The feed client against a real websocket server on 127.0.0.1: bearer header, hello,
//! resume after a drop, signed-out on a refused token, key registration over HTTP. The
//! real broker where nothing is staged; the stand-in where the test drops connections
//! or reads exactly what the client sent.

mod console_support;

use std::sync::Arc;
use std::time::Duration;

use console_support::{FakeBroker, start_real_broker};
use signoff::client::backoff::BackoffConfig;
use signoff::client::{BrokerHttp, FeedConfig, FeedEvent, FeedHandle, feed};
use signoff::console::fixtures::sample_queue;
use signoff::identity::FixedToken;
use signoff::protocol::messages::{ClientMsg, ServerMsg};

fn config(url: &str) -> FeedConfig {
    let mut c = FeedConfig::new(url);
    c.backoff = BackoffConfig {
        base: Duration::from_millis(50),
        max: Duration::from_millis(200),
    };
    c
}

/// The next event matching `pred`, skipping others; panics after 10 s.
async fn until(h: &mut FeedHandle, pred: impl Fn(&FeedEvent) -> bool) -> FeedEvent {
    let wait = async {
        loop {
            match h.events.recv().await {
                Some(ev) if pred(&ev) => return ev,
                Some(_) => continue,
                None => panic!("feed ended"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("timed out waiting for a feed event")
}

fn is_server(ev: &FeedEvent, f: impl Fn(&ServerMsg) -> bool) -> bool {
    matches!(ev, FeedEvent::Server(m) if f(m))
}

#[tokio::test]
async fn hello_welcome_snapshot_then_resume_after_a_drop() {
    let mut broker = FakeBroker::start("tok-bob", "bob", sample_queue()).await;
    let mut h = feed::spawn(config(&broker.url), Arc::new(FixedToken("tok-bob".into())));
    match broker.next_msg(10).await {
        ClientMsg::Hello { resume_after, .. } => assert_eq!(resume_after, None),
        other => panic!("expected hello, got {other:?}"),
    }
    until(&mut h, |e| {
        is_server(e, |m| matches!(m, ServerMsg::Welcome { .. }))
    })
    .await;
    let snap = until(&mut h, |e| {
        is_server(e, |m| matches!(m, ServerMsg::Snapshot { .. }))
    })
    .await;
    let FeedEvent::Server(m) = snap else {
        unreachable!()
    };
    let ServerMsg::Snapshot {
        seq, rows: actions, ..
    } = *m
    else {
        unreachable!()
    };
    assert_eq!((seq, actions.len()), (5, 4));

    // A live event, then the connection drops.
    let extra =
        signoff::console::fixtures::action(9, "x", "y", "dev", signoff::protocol::RiskLevel::Low);
    broker.push(|seq| ServerMsg::Pending {
        seq,
        row: signoff::protocol::ActionRow::compute(&extra),
    });
    until(&mut h, |e| is_server(e, |m| m.seq() == Some(6))).await;
    broker.shared.kick.notify_waiters();
    until(&mut h, |e| matches!(e, FeedEvent::Disconnected { .. })).await;
    let retry = until(&mut h, |e| matches!(e, FeedEvent::Retrying { .. })).await;
    assert!(
        matches!(retry, FeedEvent::Retrying { attempt: 1, .. }),
        "{retry:?}"
    );
    match broker.next_msg(10).await {
        ClientMsg::Hello { resume_after, .. } => {
            assert_eq!(resume_after, Some(6), "resumes from the last event")
        }
        other => panic!("expected hello, got {other:?}"),
    }
    until(&mut h, |e| {
        is_server(e, |m| matches!(m, ServerMsg::Welcome { head_seq: 6, .. }))
    })
    .await;
}

#[tokio::test]
async fn a_refused_token_means_signed_out() {
    let (_data, broker) = start_real_broker().await;
    let mut h = feed::spawn(config(&broker.url()), Arc::new(FixedToken("wrong".into())));
    let ev = until(&mut h, |e| matches!(e, FeedEvent::SignedOut { .. })).await;
    let FeedEvent::SignedOut { reason } = ev else {
        unreachable!()
    };
    assert!(reason.contains("401"), "{reason}");
}

#[tokio::test]
async fn an_unreachable_broker_backs_off_and_keeps_trying() {
    // Bind and drop to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut h = feed::spawn(
        config(&format!("http://127.0.0.1:{port}")),
        Arc::new(FixedToken("t".into())),
    );
    for want in 1..=3 {
        let ev = until(&mut h, |e| matches!(e, FeedEvent::Retrying { .. })).await;
        let FeedEvent::Retrying { attempt, delay } = ev else {
            unreachable!()
        };
        assert_eq!(attempt, want);
        assert!(delay <= Duration::from_millis(200));
    }
}

#[tokio::test]
async fn device_key_registration_over_http() {
    let (_data, broker) = start_real_broker().await;
    let http = BrokerHttp::new(&broker.url(), Arc::new(FixedToken("bob-secret".into()))).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let info = http
        .register_key(&key.verifying_key(), "laptop")
        .await
        .unwrap();
    assert_eq!(
        info.key_id,
        signoff::protocol::KeyId::of(&key.verifying_key())
    );
    assert_eq!(info.subject, "bob");
    let bad = BrokerHttp::new(&broker.url(), Arc::new(FixedToken("nope".into()))).unwrap();
    let e = bad
        .register_key(&key.verifying_key(), "laptop")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
}

#[tokio::test]
async fn resync_reconnects_without_resume_for_a_fresh_snapshot() {
    let mut broker = FakeBroker::start("tok", "bob", sample_queue()).await;
    let mut h = feed::spawn(config(&broker.url), Arc::new(FixedToken("tok".into())));
    broker.next_msg(10).await;
    until(&mut h, |e| {
        is_server(e, |m| matches!(m, ServerMsg::Snapshot { .. }))
    })
    .await;
    h.resync();
    match broker.next_msg(10).await {
        ClientMsg::Hello { resume_after, .. } => assert_eq!(resume_after, None),
        other => panic!("expected hello, got {other:?}"),
    }
    until(&mut h, |e| {
        is_server(e, |m| matches!(m, ServerMsg::Snapshot { .. }))
    })
    .await;
}
