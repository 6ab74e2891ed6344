//! `/v1/history` on a store of 1,000,000 decisions, through the real HTTP server on
//! 127.0.0.1: p50 / p99 per kind of query. Run with `cargo bench --bench broker_history`.
//!
//! The store is seeded once with `signoff::devtools::seed` (the same code as
//! `signoff dev seed`) and cached under `target/tmp/`; later runs reuse it. `DECISIONS=N`
//! changes the size, `RUNS=N` the samples per query. Each sample is one GET, timed until
//! the whole JSON body has arrived.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use signoff::auth::PrincipalKind;
use signoff::broker::Tunables;
use signoff::devtools::seed::seed;
use signoff::history::r#gen::GenConfig;
use signoff::protocol::{HistoryPage, Timestamp};
use support::broker::{start_in as start, token};
use support::{Stats, machine, ms};

const APPROVER: &str = "bench-approver-token";
const APPROVERS: &[&str] = &[
    "maria.garcia@example.com",
    "li.wei@example.com",
    "amara.okafor@example.com",
    "jose.alvarez@example.com",
];
/// Words from deny reasons (about 1.4% of records each) and approve reasons (about 8%).
const RARE_WORDS: &[&str] = &["anonymised", "freeze"];
const COMMON_WORDS: &[&str] = &["runbook", "rollback", "incident"];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The cached store for `config`, seeded when missing or incomplete.
fn store_dir(config: GenConfig) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("broker-history-{}-{:x}", config.count, config.seed));
    let done = dir.join("seeded");
    if done.exists() {
        println!("reusing the seeded store in {}", dir.display());
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "seeding {} decisions into {} (once) …",
        config.count,
        dir.display()
    );
    let report = seed(&dir, config, |n| {
        if n.is_multiple_of(100_000) {
            println!("  {n}");
        }
    })
    .expect("seeding the benchmark store");
    println!(
        "seeded {} decisions, {} audit entries, in {:.1}s ({:.0} rows/s)",
        report.decisions,
        report.audit_entries,
        report.secs,
        report.rows_per_sec()
    );
    std::fs::write(&done, b"ok").expect("marker file");
    dir
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// One GET of `/v1/history?{query}`: the time until the whole body arrived, and the page.
    async fn get(&self, query: &str) -> (Duration, HistoryPage) {
        let t = Instant::now();
        let resp = self
            .http
            .get(format!("{}/v1/history?{query}", self.base))
            .bearer_auth(APPROVER)
            .send()
            .await
            .expect("request");
        assert!(resp.status().is_success(), "{query}: {}", resp.status());
        let body = resp.bytes().await.expect("body");
        let took = t.elapsed();
        let page: HistoryPage = serde_json::from_slice(&body).expect("a HistoryPage");
        (took, page)
    }
}

struct Row {
    name: String,
    stats: Stats,
    records: usize,
}

impl Row {
    fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            stats: Stats::new(),
            records: 0,
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs = env_usize("RUNS", 200);
    let config = GenConfig {
        count: env_usize("DECISIONS", 1_000_000),
        ..GenConfig::default()
    };
    let dir = store_dir(config);
    let tokens = vec![token(
        APPROVER,
        PrincipalKind::Approver,
        "bench-auditor",
        &["sre"],
    )];
    let broker = start(&dir, tokens, Tunables::default()).await;
    let c = Client {
        http: reqwest::Client::new(),
        base: broker.url(),
    };
    let end = config.end.unix_millis();
    let day = 86_400_000i64;
    let iso = |ms: i64| Timestamp::from_unix_millis(ms).to_string();

    // Warm the page cache and connections once, as a running broker would be.
    for _ in 0..5 {
        c.get("").await;
    }
    let mut rows = Vec::new();
    let mut first = Row::new("first page, unfiltered (100)");
    let mut outcome_env = Row::new("outcome=denied & env=production");
    let mut risk = Row::new("risk=high,critical");
    let mut approver = Row::new("approver=<one of 18>");
    let mut range = Row::new("time range: one day, 30..60 days ago");
    let mut rare = Row::new("free text q=<word in ~1.4% of records>");
    let mut common = Row::new("free text q=<word in ~8% of records>");
    let mut paging = Row::new("cursor paging, pages 2..50");
    for i in 0..runs {
        let (d, p) = c.get("").await;
        first.stats.push(d);
        first.records = p.records.len();
        let (d, p) = c.get("outcome=denied&env=production").await;
        outcome_env.stats.push(d);
        outcome_env.records = p.records.len();
        let (d, p) = c.get("risk=high,critical").await;
        risk.stats.push(d);
        risk.records = p.records.len();
        let who = APPROVERS[i % APPROVERS.len()];
        let (d, p) = c.get(&format!("approver={who}")).await;
        approver.stats.push(d);
        approver.records = p.records.len();
        let from = end - (30 + (i as i64 % 30)) * day;
        let q = format!("since={}&until={}", iso(from), iso(from + day));
        let (d, p) = c.get(&q).await;
        range.stats.push(d);
        range.records = p.records.len();
        let (d, p) = c
            .get(&format!("q={}", RARE_WORDS[i % RARE_WORDS.len()]))
            .await;
        rare.stats.push(d);
        rare.records = p.records.len();
        let (d, p) = c
            .get(&format!("q={}", COMMON_WORDS[i % COMMON_WORDS.len()]))
            .await;
        common.stats.push(d);
        common.records = p.records.len();
    }
    // Paging: follow the cursor from the first page to page 50, a few times over.
    for _ in 0..(runs / 20).max(2) {
        let (_, mut page) = c.get("").await;
        for _ in 2..=50 {
            let Some(cursor) = page.next_cursor.clone() else {
                break;
            };
            let (d, p) = c.get(&format!("cursor={}", cursor.0)).await;
            paging.stats.push(d);
            paging.records = p.records.len();
            page = p;
        }
    }
    rows.extend([
        first,
        outcome_env,
        risk,
        approver,
        range,
        rare,
        common,
        paging,
    ]);

    println!();
    println!(
        "/v1/history on {} decisions over HTTP on 127.0.0.1 ({runs} runs per query; {})",
        config.count,
        machine()
    );
    println!("| query | samples | records | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|");
    for mut r in rows {
        println!(
            "| {} | {} | {} | {:.2} | {:.2} |",
            r.name,
            r.stats.len(),
            r.records,
            ms(r.stats.pct(0.50)),
            ms(r.stats.pct(0.99)),
        );
    }
    broker.shutdown().await.expect("shutdown");
}
