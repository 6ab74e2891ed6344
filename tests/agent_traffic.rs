//! The demo's moving parts against a real broker: the sample agents submit every kind, a
//! second identity approves, and approved samples get an execution result in the audit log.

mod agent_support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use signoff::auth::static_tokens::{StaticToken, StaticTokens};
use signoff::auth::{PrincipalKind, hash_token};
use signoff::broker::{Settings, policy::Engine, spawn};
use signoff::demo::peer::{FeedApprover, run_peer_approver};
use signoff::demo::traffic::{SampleTokens, run_traffic};
use signoff::protocol::Command;
use signoff::testkit::eventually_async;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_traffic_reaches_the_feed_and_closes_the_loop() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = SampleTokens::generate().unwrap();
    let mut entries = tokens.static_tokens();
    for (secret, subject) in [("peer-token", "carol"), ("watch-token", "watcher")] {
        entries.push(StaticToken {
            token_sha256: hash_token(secret),
            kind: PrincipalKind::Approver,
            subject: subject.into(),
            email: None,
            name: None,
            groups: vec!["sre".into()],
        });
    }
    let settings = Settings::new(
        Arc::new(StaticTokens::new(entries)),
        Engine::from_toml_str("").unwrap(),
        dir.path().join("data"),
    );
    let broker = spawn(settings).await.unwrap();
    let url = broker.url();

    let (stop_traffic, traffic_stopped) = tokio::sync::oneshot::channel::<()>();
    let (stop_peer, peer_stopped) = tokio::sync::oneshot::channel::<()>();
    let traffic = tokio::spawn(run_traffic_owned(url.clone(), tokens, traffic_stopped));
    let peer = tokio::spawn(run_peer_approver(
        url.clone(),
        "peer-token".into(),
        2,
        Duration::ZERO,
        async move {
            let _ = peer_stopped.await;
        },
    ));

    // A watcher sees every kind arrive, the hostile one with its bidi override intact.
    let mut watcher = FeedApprover::connect(&url, "watch-token", SigningKey::from_bytes(&[3; 32]))
        .await
        .unwrap();
    let mut kinds = BTreeSet::new();
    while kinds.len() < 7 {
        let a = watcher
            .next_pending(Duration::from_secs(30), |a| !kinds.contains(&a.kind))
            .await
            .unwrap();
        if a.kind == "command.exec" {
            let Some(Command::Text { text }) = &a.command else {
                panic!("hostile sample lost its command");
            };
            assert!(text.contains('\u{202e}'));
        }
        kinds.insert(a.kind);
    }

    // The peer approves some; traffic reports their execution, which the audit log records.
    let data = dir.path().join("data");
    let data = &data;
    let audit = eventually_async(Duration::from_secs(60), move || async move {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
            .args(["audit", "export", "--data"])
            .arg(data)
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.contains("\"type\":\"execution\"").then_some(text)
    })
    .await
    .expect("an execution result within 60 s");
    assert!(audit.contains("\"actor\":\"carol\""), "the peer voted");

    let _ = stop_traffic.send(());
    let _ = stop_peer.send(());
    let stats = tokio::time::timeout(Duration::from_secs(30), traffic)
        .await
        .unwrap()
        .unwrap();
    let approved = tokio::time::timeout(Duration::from_secs(30), peer)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stats.submitted >= 7 && stats.results_reported >= 1,
        "{stats:?}"
    );
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert!(approved >= 1);
    broker.shutdown().await.unwrap();
}

async fn run_traffic_owned(
    url: String,
    tokens: SampleTokens,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> signoff::demo::traffic::TrafficStats {
    run_traffic(&url, tokens, Duration::from_millis(30), async move {
        let _ = stop.await;
    })
    .await
}
