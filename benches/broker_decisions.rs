//! Decision throughput: signed decisions verified and durably logged per second by a real
//! broker (group commit, `synchronous=FULL`, ack only after commit), beside bare
//! `ed25519-dalek` verification per second in the same run.
//! Run with `cargo bench --bench broker_decisions`.
//!
//! `DECISIONS=N` (default 20,000) actions are submitted over HTTP first (not timed). Then
//! `FEEDS=K` consoles (default 4, one approver each) pipeline their share of signed
//! approvals over their websockets, at most `WINDOW` (default 512) unacknowledged each,
//! while reading every event the broker fans out to them. The clock runs from the first
//! decision sent to the last `ack` received.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _};
use futures_util::{SinkExt as _, StreamExt as _, stream};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use signoff::auth::PrincipalKind;
use signoff::broker::Tunables;
use signoff::protocol::api::{ActionCreated, KeyRegistration};
use signoff::protocol::decision::encode_public_key;
use signoff::protocol::ed25519;
use signoff::protocol::{
    ClientMsg, Decision, DecisionId, KeyId, ServerMsg, SignedDecision, Timestamp, Verdict,
    decode_server, encode,
};
use support::broker::{start_in as start, token};
use support::machine;

const AGENT: &str = "bench-agent-token";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn approver_token(i: usize) -> String {
    format!("bench-approver-{i}-token")
}

fn approver_key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&[i as u8 + 1; 32])
}

fn sign(i: usize, a: &ActionCreated) -> SignedDecision {
    let k = approver_key(i);
    Decision {
        decision_id: DecisionId::new(),
        action_id: a.id,
        action_digest: a.digest.clone(),
        verdict: Verdict::Approve,
        reason: format!("ticket CHG-{} checked", 1000 + i),
        approver: format!("approver-{i}"),
        key_id: KeyId::of(&k.verifying_key()),
        issued_at: Timestamp::now(),
    }
    .sign(&k)
}

/// Bare Ed25519 verifications per second on one thread, of `n` distinct signed messages of
/// the size of a canonical decision; the same through `SignedDecision::verify` (canonical
/// form + base64 + the cofactored equation), the one-by-one check; and the cofactored
/// equation in batches of 64, as the broker's verify stage runs it.
fn bare_verify(n: usize, decisions: &[SignedDecision]) -> (f64, f64, f64) {
    let k = approver_key(0);
    let vk = k.verifying_key();
    let msgs: Vec<(Vec<u8>, Signature)> = decisions
        .iter()
        .take(n)
        .map(|d| {
            let m = d.decision.signing_input();
            let s = k.sign(&m);
            (m, s)
        })
        .collect();
    let t = Instant::now();
    for (m, s) in &msgs {
        assert!(vk.verify(m, s).is_ok());
    }
    let bare = msgs.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let own: Vec<_> = decisions
        .iter()
        .filter(|d| d.decision.approver == "approver-0")
        .collect();
    for d in &own {
        assert!(d.verify(&vk).is_ok());
    }
    let full = own.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for chunk in msgs.chunks(64) {
        let items: Vec<_> = chunk
            .iter()
            .map(|(m, s)| ed25519::prepare(&vk, m, &s.to_bytes()).expect("prepared"))
            .collect();
        assert!(ed25519::verify_batch(&items));
    }
    let batch = msgs.len() as f64 / t.elapsed().as_secs_f64();
    (bare, full, batch)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = env_usize("DECISIONS", 20_000);
    let feeds = env_usize("FEEDS", 4).max(1);
    let window = env_usize("WINDOW", 512).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut tokens = vec![token(AGENT, PrincipalKind::Agent, "agent-bench", &[])];
    for i in 0..feeds {
        let subject = format!("approver-{i}");
        tokens.push(token(
            &approver_token(i),
            PrincipalKind::Approver,
            &subject,
            &["sre"],
        ));
    }
    let tunables = Tunables {
        // Every console sees every event; while N actions are submitted they must not be
        // dropped as slow consumers.
        feed_queue_depth: 1 << 17,
        ..Tunables::default()
    };
    let broker = start(dir.path(), tokens, tunables).await;
    let http = reqwest::Client::new();
    let base = broker.url();
    for i in 0..feeds {
        let body = KeyRegistration {
            public_key: encode_public_key(&approver_key(i).verifying_key()),
            label: "bench".into(),
        };
        let r = http
            .post(format!("{base}/v1/keys"))
            .bearer_auth(approver_token(i))
            .json(&body)
            .send()
            .await
            .expect("register key");
        assert!(r.status().is_success(), "{}", r.status());
    }

    // Consoles connect first, so they read the `pending` events as actions arrive.
    let acks = Arc::new(tokio::sync::Notify::new());
    let acked_total = Arc::new(AtomicUsize::new(0));
    let mut conns = Vec::new();
    for i in 0..feeds {
        let mut req = broker.feed_url().into_client_request().expect("request");
        let auth = format!("Bearer {}", approver_token(i))
            .parse()
            .expect("header");
        req.headers_mut().insert("authorization", auth);
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket");
        let (mut sink, mut rx) = ws.split();
        let hello = encode(&ClientMsg::hello("bench/0", None));
        sink.send(Message::Text(hello.into())).await.expect("hello");
        let credit = Arc::new(Semaphore::new(window));
        let reader = {
            let credit = credit.clone();
            let acks = acks.clone();
            let acked_total = acked_total.clone();
            tokio::spawn(async move {
                let mut acked = 0usize;
                while let Some(Ok(m)) = rx.next().await {
                    let Message::Text(t) = m else { continue };
                    // Events (pending / updated / resolved) are only drained: parsing
                    // each would bill this client's work to the broker's figure.
                    let head = t.get(..24).unwrap_or(&t);
                    if !["\"ack\"", "rejected", "error"]
                        .iter()
                        .any(|k| head.contains(k))
                    {
                        continue;
                    }
                    match decode_server(&t) {
                        Ok(ServerMsg::Ack { .. }) => {
                            acked += 1;
                            credit.add_permits(1);
                            if acked_total.fetch_add(1, Ordering::AcqRel) + 1 == n {
                                acks.notify_one();
                            }
                        }
                        Ok(ServerMsg::Rejected { code, message, .. }) => {
                            panic!("rejected: {code}: {message}")
                        }
                        Ok(ServerMsg::Error { code, message }) => panic!("{code}: {message}"),
                        _ => {}
                    }
                }
                acked
            })
        };
        conns.push((sink, credit, reader));
    }

    let t = Instant::now();
    let request = json!({
        "kind": "deploy.restart",
        "summary": "Restart checkout pods after config change",
        "requester": {"kind": "pipeline", "id": "agent-bench", "display_name": "Deploy bot"},
        "target": {"system": "kubernetes", "resource": "deploy/checkout", "environment": "staging"},
        "justification": "Config map updated; pods must reload",
        "command": {"type": "argv", "argv": ["kubectl", "rollout", "restart", "deploy/checkout"]},
        "ttl_secs": 3600
    });
    let created: Vec<ActionCreated> = stream::iter(0..n)
        .map(|_| {
            let (http, base, request) = (&http, &base, &request);
            async move {
                let r = http
                    .post(format!("{base}/v1/actions"))
                    .bearer_auth(AGENT)
                    .json(request)
                    .send()
                    .await
                    .expect("submit");
                assert_eq!(r.status().as_u16(), 201);
                r.json::<ActionCreated>().await.expect("ActionCreated")
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let submit_secs = t.elapsed().as_secs_f64();
    let decisions: Vec<(usize, SignedDecision)> = created
        .iter()
        .enumerate()
        .map(|(j, a)| (j % feeds, sign(j % feeds, a)))
        .collect();
    let signed: Vec<SignedDecision> = decisions.iter().map(|(_, d)| d.clone()).collect();
    let frames: Vec<Vec<String>> = (0..feeds)
        .map(|i| {
            decisions
                .iter()
                .filter(|(f, _)| *f == i)
                .map(|(_, d)| {
                    encode(&ClientMsg::Decide {
                        decision: d.clone(),
                    })
                })
                .collect()
        })
        .collect();

    let metrics_url = format!("{base}/metrics");
    let before = Counters::read(&http, &metrics_url).await;
    let t = Instant::now();
    let mut senders = Vec::new();
    let mut readers = Vec::new();
    for ((mut sink, credit, reader), frames) in conns.into_iter().zip(frames) {
        readers.push(reader);
        senders.push(tokio::spawn(async move {
            for f in frames {
                credit.acquire().await.expect("semaphore").forget();
                sink.send(Message::Text(f.into())).await.expect("send");
            }
            sink
        }));
    }
    let mut sinks = Vec::new();
    for s in senders {
        sinks.push(s.await.expect("sender"));
    }
    // The readers count acks; the last one wakes us.
    while acked_total.load(Ordering::Acquire) < n {
        let _ = tokio::time::timeout(Duration::from_secs(1), acks.notified()).await;
    }
    let secs = t.elapsed().as_secs_f64();
    let during = Counters::read(&http, &metrics_url).await.minus(&before);
    for mut s in sinks {
        let _ = s.close().await;
    }
    let mut acked = 0;
    for r in readers {
        acked += r.await.expect("reader");
    }
    broker.shutdown().await.expect("shutdown");
    assert_eq!(acked, n, "every decision is acked");

    let (bare, full, batch) = bare_verify(n.min(20_000), &signed);
    let rate = n as f64 / secs;
    println!();
    println!(
        "decision throughput, {n} signed approvals over {feeds} feeds (window {window}); {}",
        machine()
    );
    println!("| measure | per second |");
    println!("|---|---:|");
    println!(
        "| broker: signed decisions verified, durably logged and acked (group commit, synchronous=FULL) | {rate:.0} |"
    );
    println!("| bare ed25519-dalek `verify`, one thread | {bare:.0} |");
    println!(
        "| `SignedDecision::verify` (canonical form + base64 + cofactored equation), one thread | {full:.0} |"
    );
    println!(
        "| cofactored equation in batches of 64 (the verify stage), one thread | {batch:.0} |"
    );
    println!(
        "end to end / bare verify on one core: {:.2}x (goal >= 0.8x)",
        rate / bare
    );
    println!(
        "| (set-up, not timed above) actions submitted over HTTP | {:.0} |",
        n as f64 / submit_secs
    );
    println!(
        "while deciding: {:.0} group commits ({:.1} decisions per commit, {:.0} per second); \
         broker-side latency from frame to ack {:.1} ms on average",
        during.commits,
        during.ops / during.commits.max(1.0),
        during.commits / secs,
        during.latency_sum / during.latency_count.max(1.0) * 1e3,
    );
}

/// The broker's counters that explain the figure: commits, operations, decision latency.
struct Counters {
    commits: f64,
    ops: f64,
    latency_sum: f64,
    latency_count: f64,
}

impl Counters {
    async fn read(http: &reqwest::Client, url: &str) -> Self {
        let text = http
            .get(url)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("body");
        Self {
            commits: metric(&text, "signoff_store_commits_total"),
            ops: metric(&text, "signoff_store_committed_ops_total"),
            latency_sum: metric(&text, "signoff_decision_latency_seconds_sum"),
            latency_count: metric(&text, "signoff_decision_latency_seconds_count"),
        }
    }

    fn minus(&self, o: &Self) -> Self {
        Self {
            commits: self.commits - o.commits,
            ops: self.ops - o.ops,
            latency_sum: self.latency_sum - o.latency_sum,
            latency_count: self.latency_count - o.latency_count,
        }
    }
}

/// The value of one metric line in Prometheus text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}
