//! Several brokers on PostgreSQL against one broker on SQLite, in the same run: decision
//! throughput and event → feed latency with 1 and 3 brokers on one PostgreSQL database
//! (a throwaway server from the machine's binaries, as the tests start it), the cost of
//! replication as a ratio to SQLite. Run with `cargo bench --bench replicas`.
//!
//! Latency: an agent submits to broker 1 while an approver's feed is connected to the
//! last broker (another one when there are three); the clock runs from sending the
//! request to the `pending` event arriving on that feed. `SAMPLES=N` (default 300).
//! Throughput: `DECISIONS=N` actions (default 2,000) are submitted first (not timed), then
//! one approver feed per broker pipelines its share of signed approvals; the clock runs
//! from the first decision sent to the last `ack`.

#[path = "../tests/broker_common/mod.rs"]
mod broker_common;
#[path = "../tests/pg_support/mod.rs"]
mod pg_support;
mod support;

use std::collections::HashSet;
use std::time::Instant;

use broker_common::*;
use signoff::broker::{RunningBroker, Tunables};
use signoff::protocol::{ClientMsg, DecisionId, ServerMsg, Verdict};
use support::{Stats, machine, ms};

struct Setup {
    name: &'static str,
    brokers: Vec<RunningBroker>,
    _dirs: Vec<tempfile::TempDir>,
}

async fn sqlite() -> Setup {
    let dir = tempfile::tempdir().expect("dir");
    let b = signoff::broker::spawn(settings(dir.path(), Tunables::default()))
        .await
        .expect("broker");
    Setup {
        name: "SQLite",
        brokers: vec![b],
        _dirs: vec![dir],
    }
}

async fn postgres(pg: &pg_support::PgServer, n: usize) -> Setup {
    let url = pg.database();
    let mut dirs: Vec<tempfile::TempDir> = Vec::new();
    let mut brokers = Vec::new();
    for _ in 0..n {
        let dir = tempfile::tempdir().expect("dir");
        if let Some(first) = dirs.first() {
            std::fs::copy(
                first.path().join("audit-key.json"),
                dir.path().join("audit-key.json"),
            )
            .expect("shared audit key");
        }
        let mut s = settings(dir.path(), Tunables::default());
        s.postgres = Some(pg.options(&url));
        brokers.push(signoff::broker::spawn(s).await.expect("broker"));
        dirs.push(dir);
    }
    Setup {
        name: "PostgreSQL",
        brokers,
        _dirs: dirs,
    }
}

/// Submit on the first broker, see `pending` on the last broker's feed.
async fn latency(s: &Setup, samples: usize) -> Stats {
    let first = Http::new(&s.brokers[0]);
    let last = s.brokers.last().expect("a broker");
    let (mut feed, _) = Feed::connect(last, BOB, None).await;
    let _snapshot = feed.next().await;
    let mut stats = Stats::new();
    for i in 0..samples {
        let t = Instant::now();
        let created = first.submit(AGENT, &request(&format!("latency {i}"))).await;
        loop {
            if let ServerMsg::Pending { row, .. } = feed.next().await
                && row.id == created.id
            {
                break;
            }
        }
        stats.push(t.elapsed());
    }
    stats
}

/// Decisions per second, one approver feed per broker.
async fn throughput(s: &Setup, n: usize) -> f64 {
    let mut actions = Vec::with_capacity(n);
    for i in 0..n {
        let http = Http::new(&s.brokers[i % s.brokers.len()]);
        let created = http
            .submit(AGENT, &request(&format!("throughput {i}")))
            .await;
        actions.push(created);
    }
    let mut feeds = Vec::new();
    for b in &s.brokers {
        let (mut f, _) = Feed::connect(b, BOB, None).await;
        let _ = f.next().await;
        feeds.push(f);
    }
    let per = n.div_ceil(feeds.len());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, mut f) in feeds.into_iter().enumerate() {
        let mine: Vec<_> = actions.iter().skip(i * per).take(per).cloned().collect();
        tasks.push(tokio::spawn(async move {
            let mut want: HashSet<DecisionId> = HashSet::new();
            for a in &mine {
                let d = signoff::protocol::Decision {
                    decision_id: DecisionId::new(),
                    action_id: a.id,
                    action_digest: a.digest.clone(),
                    verdict: Verdict::Approve,
                    reason: "bench".into(),
                    approver: "bob".into(),
                    key_id: signoff::protocol::KeyId::of(&key(1).verifying_key()),
                    issued_at: signoff::protocol::Timestamp::now(),
                }
                .sign(&key(1));
                want.insert(d.decision.decision_id);
                f.send(&ClientMsg::Decide { decision: d }).await;
            }
            while !want.is_empty() {
                match f.next().await {
                    ServerMsg::Ack { decision_id, .. } => {
                        want.remove(&decision_id);
                    }
                    ServerMsg::Rejected {
                        decision_id,
                        code,
                        message,
                    } if want.contains(&decision_id) => {
                        panic!("rejected: {code}: {message}")
                    }
                    _ => {}
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("approver");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let samples = env_usize("SAMPLES", 300);
    let decisions = env_usize("DECISIONS", 2_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let pg = pg_support::server();
    println!(
        "# Several brokers on PostgreSQL vs one on SQLite — {}",
        machine()
    );
    println!("{samples} latency samples, {decisions} decisions per setup\n");
    println!(
        "| store      | brokers | decisions/s | vs SQLite | event → feed p50 ms | p99 ms | max ms |"
    );
    println!(
        "|------------|---------|-------------|-----------|---------------------|--------|--------|"
    );
    let mut base = None;
    for (kind, n) in [("sqlite", 1), ("pg", 1), ("pg", 3)] {
        let (rate, mut lat, name) = rt.block_on(async {
            let s = match kind {
                "sqlite" => sqlite().await,
                _ => postgres(&pg, n).await,
            };
            Http::new(&s.brokers[0]).register(BOB, &key(1)).await;
            let lat = latency(&s, samples).await;
            let rate = throughput(&s, decisions).await;
            let name = s.name;
            for b in s.brokers {
                b.shutdown().await.expect("shutdown");
            }
            (rate, lat, name)
        });
        let base_rate = *base.get_or_insert(rate);
        println!(
            "| {name:<10} | {n:>7} | {rate:>11.0} | {:>8.2}× | {:>19.2} | {:>6.2} | {:>6.2} |",
            rate / base_rate,
            ms(lat.pct(0.5)),
            ms(lat.pct(0.99)),
            ms(lat.pct(1.0)),
        );
    }
    println!("\nGoal: event → screen p99 < 100 ms across brokers.");
}
