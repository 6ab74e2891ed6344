//! Three `signoff broker` processes on one PostgreSQL database: one queue, one audit
//! chain. Votes for one action on two replicas, a long poll on a third, feeds that see
//! every replica's events, conflicting decisions resolved exactly once, replicas killed
//! under load, and PostgreSQL itself restarted under load.
//!
//! Real parts: the signoff binary (three processes), a PostgreSQL server started from the
//! machine's binaries, websocket feeds and HTTP.

mod broker_common;
mod pg_cluster;
mod pg_support;

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::time::Duration;

use broker_common::*;
use futures_util::{SinkExt as _, StreamExt as _};
use pg_cluster::{Cluster, data_of};
use reqwest::Method;
use signoff::protocol::{
    ActionId, ClientMsg, DecisionId, ErrorCode, ServerMsg, SignedDecision, Status, Verdict,
    decode_server, encode,
};
use signoff::testkit::eventually_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

async fn register_all(http: &Http) {
    http.register(BOB, &key(1)).await;
    http.register(CAROL, &key(2)).await;
}

async fn next_pending(feed: &mut Feed) -> signoff::protocol::ActionRow {
    loop {
        if let ServerMsg::Pending { row, .. } = feed.next().await {
            return row;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_votes_on_two_replicas_release_a_long_poll_on_a_third() {
    let pg = pg_support::server();
    let mut c = Cluster::new(&pg, 2);
    let a = c.start("a").await;
    let b = c.start("b").await;
    let cc = c.start("c").await;
    let (ha, hb, hc) = (Http::at(&a.url), Http::at(&b.url), Http::at(&cc.url));
    register_all(&ha).await;

    // A console on B, connected before anything happens.
    let (mut on_b, _) = Feed::connect_url(&b.feed_url(), BOB, None).await;
    let _ = on_b.next().await;
    let created = ha.submit(AGENT, &request("Export customers")).await;
    let row = next_pending(&mut on_b).await;
    assert_eq!(row.id, created.id, "B's feed shows what was submitted to A");

    // The agent waits on C.
    let poll = {
        let id = created.id.to_string();
        let url = cc.url.clone();
        tokio::spawn(async move { Http::at(&url).view(AGENT, &id, 60).await })
    };
    // C knows it is pending (whether or not its feed has caught up).
    let seen = hc.view(BOB, &created.id.to_string(), 0).await;
    assert_eq!(seen.action.status, Status::Pending);

    let (mut bob_a, _) = Feed::connect_url(&a.feed_url(), BOB, None).await;
    let ack = bob_a
        .decide(sign(&key(1), "bob", &row, Verdict::Approve, "one"))
        .await;
    assert!(
        matches!(
            ack,
            ServerMsg::Ack {
                status: Status::Pending,
                ..
            }
        ),
        "{ack:?}"
    );
    // bob again, through C: the stored votes say he voted.
    let (mut bob_c, _) = Feed::connect_url(&cc.feed_url(), BOB, None).await;
    let twice = bob_c
        .decide(sign(&key(1), "bob", &row, Verdict::Approve, "again"))
        .await;
    assert!(
        matches!(
            twice,
            ServerMsg::Rejected {
                code: ErrorCode::AlreadyVoted,
                ..
            }
        ),
        "{twice:?}"
    );
    let (mut carol_b, _) = Feed::connect_url(&b.feed_url(), CAROL, None).await;
    let ack = carol_b
        .decide(sign(&key(2), "carol", &row, Verdict::Approve, "two"))
        .await;
    assert!(
        matches!(
            ack,
            ServerMsg::Ack {
                status: Status::Approved,
                ..
            }
        ),
        "{ack:?}"
    );
    let view = tokio::time::timeout(WAIT, poll)
        .await
        .expect("the long poll on C returns")
        .expect("poll");
    assert_eq!(view.action.status, Status::Approved);
    assert_eq!(view.action.votes.len(), 2);

    // B's console saw the whole story, numbered without a gap.
    let mut seqs = Vec::new();
    loop {
        match on_b.next().await {
            ServerMsg::Updated { seq, .. } => seqs.push(seq),
            ServerMsg::Resolved { seq, row, .. } => {
                seqs.push(seq);
                assert_eq!(row.status, Status::Approved);
                break;
            }
            _ => {}
        }
    }
    assert_eq!(seqs.len(), 2);
    assert_eq!(seqs[1], seqs[0] + 1, "{seqs:?}");

    // History on any replica.
    let (s, v) = hb
        .send(Method::GET, "/v1/history?q=customers", BOB, None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["records"].as_array().map(Vec::len), Some(1), "{v}");
    let (ok, out) = c.audit_verify();
    assert!(ok, "{out}");
    c.logs_hold_no_password();
    let _ = data_of(&a);
}

/// Reads replies to the decisions in `want` off a raw feed.
async fn replies(
    feed: &mut Feed,
    want: &HashSet<DecisionId>,
) -> HashMap<DecisionId, Result<Status, ErrorCode>> {
    let mut got = HashMap::new();
    while got.len() < want.len() {
        match feed.next().await {
            ServerMsg::Ack {
                decision_id,
                status,
                ..
            } if want.contains(&decision_id) => {
                got.insert(decision_id, Ok(status));
            }
            ServerMsg::Rejected {
                decision_id, code, ..
            } if want.contains(&decision_id) => {
                got.insert(decision_id, Err(code));
            }
            _ => {}
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_conflicting_decisions_on_two_replicas_resolve_exactly_once() {
    let pg = pg_support::server();
    let mut c = Cluster::new(&pg, 1);
    let a = c.start("a").await;
    let b = c.start("b").await;
    let (ha, hb) = (Http::at(&a.url), Http::at(&b.url));
    register_all(&ha).await;
    let mut actions = Vec::new();
    for i in 0..100usize {
        let h = if i.is_multiple_of(2) { &ha } else { &hb };
        let created = h
            .submit(AGENT, &request(&format!("Export batch {i}")))
            .await;
        let action = h.view(BOB, &created.id.to_string(), 0).await.action;
        actions.push(action);
    }
    let (mut bob, _) = Feed::connect_url(&a.feed_url(), BOB, None).await;
    let (mut carol, _) = Feed::connect_url(&b.feed_url(), CAROL, None).await;
    let mut approve: HashMap<ActionId, DecisionId> = HashMap::new();
    let mut deny: HashMap<ActionId, DecisionId> = HashMap::new();
    let mut to_bob: Vec<SignedDecision> = Vec::new();
    let mut to_carol: Vec<SignedDecision> = Vec::new();
    for a in &actions {
        let d = sign(&key(1), "bob", a, Verdict::Approve, "go");
        approve.insert(a.id, d.decision.decision_id);
        to_bob.push(d);
        let d = sign(&key(2), "carol", a, Verdict::Deny, "stop");
        deny.insert(a.id, d.decision.decision_id);
        to_carol.push(d);
    }
    // Both approvers send everything at once, interleaved on the two replicas.
    // Half the time carol's goes first: each replica's batches race for the chain head.
    for (i, (x, y)) in to_bob.into_iter().zip(to_carol).enumerate() {
        if i.is_multiple_of(2) {
            bob.send(&ClientMsg::Decide { decision: x }).await;
            carol.send(&ClientMsg::Decide { decision: y }).await;
        } else {
            carol.send(&ClientMsg::Decide { decision: y }).await;
            bob.send(&ClientMsg::Decide { decision: x }).await;
        }
    }
    let want_a: HashSet<DecisionId> = approve.values().copied().collect();
    let want_b: HashSet<DecisionId> = deny.values().copied().collect();
    let (ra, rb) = tokio::join!(replies(&mut bob, &want_a), replies(&mut carol, &want_b));
    let mut approved = 0;
    for a in &actions {
        let x = ra[&approve[&a.id]];
        let y = rb[&deny[&a.id]];
        let winner = match (x, y) {
            (Ok(Status::Approved), Err(ErrorCode::NotPending)) => Status::Approved,
            (Err(ErrorCode::NotPending), Ok(Status::Denied)) => Status::Denied,
            other => panic!("action {}: not exactly one winner: {other:?}", a.id),
        };
        if winner == Status::Approved {
            approved += 1;
        }
        let stored = ha.view(AGENT, &a.id.to_string(), 0).await.action;
        assert_eq!(stored.status, winner, "the stored outcome is the acked one");
        assert_eq!(stored.votes.len(), 1);
    }
    eprintln!("approved {approved}, denied {}", 100 - approved);
    let (ok, out) = c.audit_verify();
    assert!(ok, "{out}");
    assert!(out.contains("100 vote signatures verified"), "{out}");
}

/// A feed client that never panics: `None` when the replica is gone.
struct Ws {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Ws {
    async fn connect(url: &str, token: &str) -> Option<Self> {
        let mut req = url.into_client_request().ok()?;
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().ok()?);
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_tungstenite::connect_async(req),
        )
        .await
        .ok()?
        .ok()?;
        let mut w = Self { ws };
        w.ws.send(Message::Text(
            encode(&ClientMsg::hello("test/0", None)).into(),
        ))
        .await
        .ok()?;
        Some(w)
    }

    /// Sends a decision and waits for its ack (`Some(Ok)`), rejection (`Some(Err)`), or
    /// the connection's end (`None`: nobody knows whether it was recorded).
    async fn decide(&mut self, d: SignedDecision) -> Option<Result<Status, ErrorCode>> {
        let id = d.decision.decision_id;
        self.ws
            .send(Message::Text(
                encode(&ClientMsg::Decide { decision: d }).into(),
            ))
            .await
            .ok()?;
        loop {
            let m = tokio::time::timeout(Duration::from_secs(20), self.ws.next())
                .await
                .ok()??
                .ok()?;
            let Message::Text(t) = m else { continue };
            match decode_server(&t).ok()? {
                ServerMsg::Ack {
                    decision_id,
                    status,
                    ..
                } if decision_id == id => return Some(Ok(status)),
                ServerMsg::Rejected {
                    decision_id, code, ..
                } if decision_id == id => return Some(Err(code)),
                _ => {}
            }
        }
    }
}

/// Submits through any replica that answers; the action and the URL that took it.
async fn submit_anywhere(
    client: &reqwest::Client,
    urls: &[String],
    start: usize,
    summary: &str,
) -> Option<(signoff::protocol::api::ActionCreated, String)> {
    for i in 0..urls.len() * 3 {
        let url = &urls[(start + i) % urls.len()];
        let r = client
            .post(format!("{url}/v1/actions"))
            .bearer_auth(AGENT)
            .json(&request(summary))
            .send()
            .await;
        if let Ok(r) = r
            && r.status().as_u16() == 201
            && let Ok(c) = r.json().await
        {
            return Some((c, url.clone()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_killed_under_load_lose_no_acked_decision() {
    let pg = pg_support::server();
    let mut c = Cluster::new(&pg, 1);
    let mut reps = [c.start("a").await, c.start("b").await, c.start("c").await];
    register_all(&Http::at(&reps[0].url)).await;
    let urls = std::sync::Arc::new(std::sync::Mutex::new(
        reps.iter().map(|r| r.url.clone()).collect::<Vec<_>>(),
    ));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Two workers: submit through any replica, decide through another; keep what was acked.
    let mut workers = Vec::new();
    for w in 0..2usize {
        let urls = urls.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client");
            let mut acked: Vec<(ActionId, DecisionId)> = Vec::new();
            let mut unknown = 0u32;
            let mut n = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let now: Vec<String> = urls.lock().map(|u| u.clone()).unwrap_or_default();
                let Some((created, _)) =
                    submit_anywhere(&client, &now, n + w, &format!("load {w}-{n}")).await
                else {
                    continue;
                };
                let (k, who, token) = if n.is_multiple_of(2) {
                    (key(1), "bob", BOB)
                } else {
                    (key(2), "carol", CAROL)
                };
                let action = signoff::protocol::Action::clone(&match client
                    .get(format!(
                        "{}/v1/actions/{}",
                        now[(n + w + 1) % now.len()],
                        created.id
                    ))
                    .bearer_auth(token)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        match r.json::<signoff::protocol::api::ActionView>().await {
                            Ok(v) => v.action,
                            Err(_) => continue,
                        }
                    }
                    _ => continue,
                });
                let d = sign(&k, who, &action, Verdict::Approve, "load");
                let id = d.decision.decision_id;
                let feed = format!(
                    "{}/v1/feed",
                    now[(n + w + 2) % now.len()].replace("http://", "ws://")
                );
                let Some(mut ws) = Ws::connect(&feed, token).await else {
                    continue;
                };
                match ws.decide(d).await {
                    Some(Ok(Status::Approved)) => acked.push((created.id, id)),
                    Some(other) => panic!("unexpected answer {other:?}"),
                    None => unknown += 1,
                }
            }
            (acked, unknown)
        }));
    }
    // Kill a replica, start it again on the same data directory, repeatedly.
    let kills = 20;
    for i in 0..kills {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let victim = i % reps.len();
        let _ = reps[victim].child.start_kill();
        let _ = reps[victim].child.wait().await;
        let name = ["a", "b", "c"][victim];
        let fresh = c.start(name).await;
        if let Ok(mut u) = urls.lock() {
            u[victim] = fresh.url.clone();
        }
        reps[victim] = fresh;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked = Vec::new();
    let mut unknown = 0;
    for w in workers {
        let (a, u) = w.await.expect("worker");
        acked.extend(a);
        unknown += u;
    }
    eprintln!(
        "{kills} kills: {} decisions acked, {unknown} cut off",
        acked.len()
    );
    assert!(
        acked.len() >= 20,
        "too little load got through: {}",
        acked.len()
    );
    let db = pg_support::db_name(&c.db_url).to_string();
    for (action, decision) in &acked {
        let status = pg.psql(
            &db,
            &format!("SELECT status FROM actions WHERE id = '{action}'"),
        );
        assert_eq!(status, "approved", "acked action {action}");
        let votes = pg.psql(
            &db,
            &format!("SELECT count(*) FROM votes WHERE decision_id = '{decision}'"),
        );
        assert_eq!(votes, "1", "acked decision {decision}");
        let chained = pg.psql(
            &db,
            &format!(
                "SELECT count(*) FROM audit WHERE type = 'vote' AND entry LIKE '%{decision}%'"
            ),
        );
        assert_eq!(chained, "1", "acked decision {decision} in the chain");
    }
    let (ok, out) = c.audit_verify();
    assert!(ok, "{out}");
    c.logs_hold_no_password();
}

/// Polls `/healthz` until it answers `want`; returns the body.
async fn healthz_until(url: &str, want: u16) -> String {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let client = &client;
    eventually_async(WAIT, move || async move {
        let r = client.get(format!("{url}/healthz")).send().await.ok()?;
        let s = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        (s == want).then_some(body)
    })
    .await
    .unwrap_or_else(|| panic!("/healthz never answered {want}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_gives_503_store_unavailable_then_recovers() {
    // A server of its own: this test stops it.
    let pg = pg_support::PgServer::start();
    let mut c = Cluster::new(&pg, 1);
    let a = c.start("a").await;
    let b = c.start("b").await;
    let (ha, hb) = (Http::at(&a.url), Http::at(&b.url));
    register_all(&ha).await;
    let before = ha.submit(AGENT, &request("before the outage")).await;

    pg.stop();
    let body = healthz_until(&a.url, 503).await;
    assert!(body.contains("store_unavailable"), "{body}");
    let (s, v) = hb
        .send(Method::POST, "/v1/actions", AGENT, Some(&request("during")))
        .await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["error"]["code"], "store_unavailable", "{v}");

    pg.restart();
    healthz_until(&a.url, 200).await;
    healthz_until(&b.url, 200).await;
    // Writes go through again, on both, without a broker restart.
    let hb = &hb;
    let after = eventually_async(WAIT, move || async move {
        let (s, v) = hb
            .send(Method::POST, "/v1/actions", AGENT, Some(&request("after")))
            .await;
        (s == 201).then_some(v)
    })
    .await
    .expect("writes recover");
    let id = after["id"].as_str().expect("id").to_string();
    let (mut bob, _) = Feed::connect_url(&a.feed_url(), BOB, None).await;
    let action = ha.view(BOB, &id, 0).await.action;
    let ack = bob
        .decide(sign(&key(1), "bob", &action, Verdict::Approve, "after"))
        .await;
    assert!(
        matches!(
            ack,
            ServerMsg::Ack {
                status: Status::Approved,
                ..
            }
        ),
        "{ack:?}"
    );
    assert_eq!(
        hb.view(AGENT, &before.id.to_string(), 0)
            .await
            .action
            .status,
        Status::Pending,
        "what was acked before the outage is still there"
    );
    let (ok, out) = c.audit_verify();
    assert!(ok, "{out}");
    c.logs_hold_no_password();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gate_listing_three_replicas_carries_on_when_its_replica_dies() {
    let pg = pg_support::server();
    let mut c = Cluster::new(&pg, 1);
    let mut a = c.start("a").await;
    let b = c.start("b").await;
    let cc = c.start("c").await;
    register_all(&Http::at(&b.url)).await;
    let marker = c.dir.path().join("ran");
    let script = format!("echo ran >> '{}'; exit 7", marker.display());
    let (mut feed, _) = Feed::connect_url(&b.feed_url(), BOB, None).await;
    let _ = feed.next().await;
    let gate = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["gate", "--env", "staging", "--", "sh", "-c", &script])
        .env(
            "SIGNOFF_BROKER_URL",
            format!("{},{},{}", a.url, b.url, cc.url),
        )
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
    // The gate submitted through A (first listed); B's console sees it.
    let row = next_pending(&mut feed).await;
    // A dies while the gate long-polls it.
    a.kill().await;
    let ack = feed
        .decide(sign(&key(1), "bob", &row, Verdict::Approve, "via B"))
        .await;
    assert!(
        matches!(
            ack,
            ServerMsg::Ack {
                status: Status::Approved,
                ..
            }
        ),
        "{ack:?}"
    );
    let out = tokio::time::timeout(Duration::from_secs(120), gate.wait_with_output())
        .await
        .expect("the gate exits in time")
        .expect("gate output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    let ran = std::fs::read_to_string(&marker).expect("the command ran");
    assert_eq!(ran.lines().count(), 1, "ran exactly once: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_feed_listing_two_replicas_moves_to_the_other_and_resumes() {
    use signoff::client::{FeedConfig, FeedEvent, feed};
    let pg = pg_support::server();
    let mut c = Cluster::new(&pg, 1);
    let mut a = c.start("a").await;
    let b = c.start("b").await;
    let hb = Http::at(&b.url);
    let mut config = FeedConfig::new(format!("{},{}", a.url, b.url));
    config.backoff = signoff::client::backoff::BackoffConfig {
        base: Duration::from_millis(50),
        max: Duration::from_millis(200),
    };
    let mut h = feed::spawn(
        config,
        std::sync::Arc::new(signoff::identity::FixedToken(BOB.into())),
    );
    async fn pending(h: &mut signoff::client::FeedHandle, id: ActionId) -> u64 {
        tokio::time::timeout(WAIT, async {
            loop {
                match h.events.recv().await {
                    Some(FeedEvent::Server(m)) => {
                        if let ServerMsg::Pending { seq, row } = *m
                            && row.id == id
                        {
                            return seq;
                        }
                    }
                    Some(_) => {}
                    None => panic!("feed ended"),
                }
            }
        })
        .await
        .expect("the pending event arrives")
    }
    let first = hb.submit(AGENT, &request("before")).await;
    let seq = pending(&mut h, first.id).await;
    // A (the console's first broker) dies; the console moves on to B and resumes.
    a.kill().await;
    let second = hb.submit(AGENT, &request("after")).await;
    let next = pending(&mut h, second.id).await;
    assert_eq!(next, seq + 1, "resumed on B without a gap or a snapshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_retried_on_another_replica_with_its_idempotency_key_is_one_action() {
    let pg = pg_support::server();
    let mut c = Cluster::new(&pg, 1);
    let a = c.start("a").await;
    let b = c.start("b").await;
    let client = reqwest::Client::new();
    let send = |url: String, summary: &'static str| {
        let client = client.clone();
        async move {
            let r = client
                .post(format!("{url}/v1/actions"))
                .bearer_auth(AGENT)
                .header(signoff::protocol::idempotency::HEADER, "ci-run-4711")
                .json(&request(summary))
                .send()
                .await
                .expect("answered");
            let status = r.status().as_u16();
            (status, r.json::<serde_json::Value>().await.expect("json"))
        }
    };
    let (s1, first) = send(a.url.clone(), "Export once").await;
    assert_eq!(s1, 201, "{first}");
    let (s2, again) = send(b.url.clone(), "Export once").await;
    assert!(s2 == 200 || s2 == 201, "{s2} {again}");
    assert_eq!(
        first["id"], again["id"],
        "the retry on B answers A's action"
    );
    let (s3, other) = send(b.url.clone(), "Export something else").await;
    assert_eq!(s3, 409, "{other}");
    assert_eq!(other["error"]["code"], "idempotency_conflict");
}
