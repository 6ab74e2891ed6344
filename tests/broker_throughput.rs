//! A rough throughput measurement (ignored by default; run with `--ignored --nocapture`):
//! many signed decisions pipelined over one websocket, each acked only after commit.

mod broker_common;

use std::time::Instant;

use broker_common::*;
use futures_util::future::join_all;
use signoff::protocol::{ClientMsg, ServerMsg, Verdict};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a check; run explicitly"]
async fn pipelined_decisions_per_second() {
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let http = Http::new(&broker);
    http.register(BOB, &key(1)).await;
    let t = Instant::now();
    let created = join_all((0..n).map(|i| {
        let http = &http;
        async move { http.submit(AGENT, &request(&format!("bulk {i}"))).await }
    }))
    .await;
    let submit_secs = t.elapsed().as_secs_f64();
    let mut actions = Vec::new();
    for c in &created {
        actions.push(http.view(BOB, &c.id.to_string(), 0).await.action);
    }
    let (mut feed, _) = Feed::connect(&broker, BOB, None).await;
    let _snapshot = feed.next().await;
    let decisions: Vec<_> = actions
        .iter()
        .map(|a| sign(&key(1), "bob", a, Verdict::Approve, "ok"))
        .collect();
    let t = Instant::now();
    // Pipelined in windows of 256: the console keeps reading while it sends.
    let mut acks = 0;
    for chunk in decisions.chunks(256) {
        for d in chunk {
            feed.send(&ClientMsg::Decide {
                decision: d.clone(),
            })
            .await;
        }
        let goal = acks + chunk.len();
        while acks < goal {
            match feed.next().await {
                ServerMsg::Ack { .. } => acks += 1,
                ServerMsg::Rejected { code, .. } => panic!("rejected: {code}"),
                _ => {}
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let (_, m) = http.send(reqwest::Method::GET, "/metrics", BOB, None).await;
    let m = m.as_str().unwrap_or_default().to_string();
    let commits = m
        .lines()
        .find(|l| l.starts_with("signoff_store_commits_total"))
        .unwrap_or_default()
        .to_string();
    println!(
        "{n} submits in {submit_secs:.2}s ({:.0}/s); {n} decisions acked in {secs:.2}s ({:.0}/s); {commits}",
        n as f64 / submit_secs,
        n as f64 / secs
    );
    assert_eq!(acks, n);
    broker.shutdown().await.unwrap();
}
