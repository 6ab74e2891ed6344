//! The crash-safe edges of the broker, with the real `signoff broker` binary:
//!
//! - a submission whose answer was lost because the broker died between committing the
//!   action and answering (`SIGNOFF_TEST_FAULT=after-commit:create:N`, debug builds only)
//!   is retried with its `Idempotency-Key` and gets the original action: one action;
//! - the same key with another body is refused `409 idempotency_conflict`; concurrent
//!   duplicates make one action; malformed keys are `400 invalid_field`;
//! - a console resuming after a SIGKILL and restart gets exactly the events it missed;
//! - `signoff request` retries through a broker crash and ends with one action;
//! - a bounded soak: 20 crashes under agents that retry with keys and an approver that
//!   decides, with 0 lost acked decisions, 0 duplicate actions and a clean audit log.

mod broker_common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broker_common::*;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use signoff::agent::AgentClient;
use signoff::protocol::api::ActionCreated;
use signoff::protocol::{
    ActionId, ActionRequest, ClientMsg, DecisionId, ServerMsg, Status, Verdict, decode_server,
    encode,
};
use signoff::testkit::eventually_async;
use tokio::process::Child;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

const FAULT: &str = "SIGNOFF_TEST_FAULT";

/// `POST /v1/actions` with an `Idempotency-Key`: status, body, and whether the answer
/// says it repeats an earlier one. `Err` when no answer came (the broker died).
async fn post_keyed(
    http: &Http,
    token: &str,
    key: &str,
    req: &Value,
) -> Result<(u16, Value, bool), String> {
    let resp = http
        .client
        .post(format!("{}/v1/actions", http.base))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(req)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    let body = resp.json::<Value>().await.map_err(|e| e.to_string())?;
    Ok((status, body, replayed))
}

/// The audit log as `signoff audit export` prints it, one JSON value per entry.
fn audit(dir: &Path) -> Vec<Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["audit", "export", "--data"])
        .arg(dir.join("data"))
        .output()
        .expect("audit export runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an audit line is JSON"))
        .collect()
}

/// The ids of the actions the audit log says were created.
fn created_ids(dir: &Path) -> Vec<String> {
    audit(dir)
        .iter()
        .filter(|e| e["entry"]["type"] == "action_created")
        .map(|e| {
            e["entry"]["action_id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

fn audit_verify(dir: &Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["audit", "verify", "--data"])
        .arg(dir.join("data"))
        .output()
        .expect("audit verify runs");
    assert!(
        out.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits for a broker that is meant to abort (the fault hook) and checks it did not exit
/// cleanly.
async fn aborted(child: &mut Child) {
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("the broker aborts in time")
        .expect("broker status");
    assert!(
        !status.success(),
        "the broker should have aborted: {status}"
    );
}

async fn killed(mut child: Child) {
    child.start_kill().expect("kill");
    child.wait().await.expect("broker exits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(debug_assertions), ignore = "needs the fault hook of debug builds")]
async fn a_submission_retried_after_a_crash_between_commit_and_answer_gets_the_original_action() {
    let dir = tempfile::tempdir().unwrap();
    let fault = [(FAULT, "after-commit:create:1")];
    let (mut first, url) = broker_process_with(dir.path(), "127.0.0.1:0", &fault).await;
    let listen = url.trim_start_matches("http://").to_string();
    let req = request("crash between commit and answer");

    // The broker stores the action, then dies before answering.
    let lost = post_keyed(&Http::at(&url), AGENT, "ci-run-77", &req).await;
    assert!(lost.is_err(), "no answer may arrive: {lost:?}");
    aborted(&mut first).await;
    assert_eq!(
        created_ids(dir.path()).len(),
        1,
        "the action was committed before the crash"
    );

    // The same request with the same key, after a restart on the same address: the
    // original action, not a second one.
    let (second, url) = broker_process(dir.path(), &listen).await;
    let http = Http::at(&url);
    let (status, body, replayed) = post_keyed(&http, AGENT, "ci-run-77", &req).await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert!(replayed, "the answer says it repeats the first");
    let created: ActionCreated = serde_json::from_value(body).unwrap();
    let ids = created_ids(dir.path());
    assert_eq!(ids, [created.id.to_string()], "one action, the original");
    let view = http.view(AGENT, &created.id.to_string(), 0).await;
    assert_eq!(view.digest, created.digest);
    assert_eq!(view.action.status, Status::Pending);

    // Asking again keeps answering the same; the same key with another body is refused.
    let (_, again, _) = post_keyed(&http, AGENT, "ci-run-77", &req).await.unwrap();
    assert_eq!(again["id"], created.id.to_string());
    let (status, body, _) = post_keyed(&http, AGENT, "ci-run-77", &request("another body"))
        .await
        .unwrap();
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "idempotency_conflict");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&created.id.to_string()),
        "{body}"
    );
    assert_eq!(created_ids(dir.path()).len(), 1);
    killed(second).await;
    audit_verify(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_per_agent_checked_for_grammar_and_concurrent_duplicates_make_one_action() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(&dir.path().join("data")).await;
    let http = Http::new(&broker);

    // Same key, different body: 409, nothing created.
    let (s, first, replayed) = post_keyed(&http, AGENT, "k-1", &request("one"))
        .await
        .unwrap();
    assert_eq!((s, replayed), (201, false), "{first}");
    let (s, body, _) = post_keyed(&http, AGENT, "k-1", &request("two"))
        .await
        .unwrap();
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["error"]["code"], "idempotency_conflict");

    // Another agent's key space is its own.
    let mut theirs = request("one");
    theirs["requester"]["id"] = "agent-8".into();
    let (s, body, replayed) = post_keyed(&http, AGENT2, "k-1", &theirs).await.unwrap();
    assert_eq!((s, replayed), (201, false), "{body}");
    assert_ne!(body["id"], first["id"]);

    // The key's grammar: visible ASCII, 1 to 255 bytes.
    for bad in ["", "has space", &"k".repeat(256)] {
        let (s, body, _) = post_keyed(&http, AGENT, bad, &request("x")).await.unwrap();
        assert_eq!(s, 400, "{bad:?}: {body}");
        assert_eq!(body["error"]["code"], "invalid_field");
        assert_eq!(body["error"]["fields"][0]["field"], "Idempotency-Key");
    }
    let (s, _, _) = post_keyed(&http, AGENT, &"k".repeat(255), &request("x"))
        .await
        .unwrap();
    assert_eq!(s, 201);

    // Eight copies of one request with one key, sent at once: one action, one answer.
    let req = request("sent eight times at once");
    let answers =
        futures_util::future::join_all((0..8).map(|_| post_keyed(&http, AGENT, "burst", &req)))
            .await;
    let ids: HashSet<String> = answers
        .iter()
        .map(|a| {
            let (s, body, _) = a.as_ref().expect("answered");
            assert_eq!(*s, 201, "{body}");
            body["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(
        answers.iter().filter(|a| !a.as_ref().unwrap().2).count(),
        1,
        "exactly one answer is the original, the rest are replays"
    );
    let made = audit(dir.path())
        .iter()
        .filter(|e| e["entry"]["type"] == "action_created")
        .filter(|e| ids.contains(e["entry"]["action_id"].as_str().unwrap()))
        .count();
    assert_eq!(made, 1);

    // Without a key nothing changes: each submission is its own action.
    let a = http.submit(AGENT, &request("no key")).await;
    let b = http.submit(AGENT, &request("no key")).await;
    assert_ne!(a.id, b.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_resuming_after_a_crash_gets_exactly_the_missed_events() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url) = broker_process(dir.path(), "127.0.0.1:0").await;
    let http = Http::at(&url);
    let ws = format!("{}/v1/feed", url.replace("http://", "ws://"));
    http.register(BOB, &key(1)).await;
    let decided = http
        .submit(AGENT, &request("decided before the crash"))
        .await;
    let second = http.submit(AGENT, &request("second")).await;
    let third = http.submit(AGENT, &request("third")).await;
    let (mut bob, _) = Feed::connect_url(&ws, BOB, Some(3)).await;
    let a = http.view(BOB, &decided.id.to_string(), 0).await.action;
    let ack = bob
        .decide(sign(&key(1), "bob", &a, Verdict::Approve, "fine"))
        .await;
    assert!(matches!(ack, ServerMsg::Ack { .. }), "{ack:?}");
    // Events: pending 1, 2, 3 and resolved 4. A console that applied only event 1 is
    // three behind when the broker is killed.
    let head = 4;
    killed(child).await;
    drop(bob);

    let (child, url) = broker_process(dir.path(), "127.0.0.1:0").await;
    let http = Http::at(&url);
    let ws = format!("{}/v1/feed", url.replace("http://", "ws://"));
    let (mut feed, welcome) = Feed::connect_url(&ws, CAROL, Some(head - 3)).await;
    assert!(
        matches!(welcome, ServerMsg::Welcome { head_seq, .. } if head_seq == head),
        "{welcome:?}"
    );
    match feed.next().await {
        ServerMsg::Pending { seq: 2, row } => assert_eq!(row.id, second.id),
        other => panic!("expected the missed pending 2, not a snapshot: {other:?}"),
    }
    match feed.next().await {
        ServerMsg::Pending { seq: 3, row } => assert_eq!(row.id, third.id),
        other => panic!("expected pending 3: {other:?}"),
    }
    match feed.next().await {
        ServerMsg::Resolved {
            seq: 4,
            row,
            decided_by,
            reason,
        } => {
            assert_eq!(row.id, decided.id);
            assert_eq!(row.status, Status::Approved);
            assert_eq!(decided_by, ["bob"]);
            assert_eq!(reason, "fine");
        }
        other => panic!("expected the resolved event from before the crash: {other:?}"),
    }
    // Exactly those three: the next frame is the next live event.
    let after = http.submit(AGENT, &request("after the restart")).await;
    match feed.next().await {
        ServerMsg::Pending { seq: 5, row } => assert_eq!(row.id, after.id),
        other => panic!("expected live event 5 right after the replay: {other:?}"),
    }
    // A console from before anything was kept (another database) still gets a snapshot.
    let (mut fresh, _) = Feed::connect_url(&ws, CAROL, Some(99)).await;
    assert!(matches!(fresh.next().await, ServerMsg::Snapshot { .. }));
    killed(child).await;
    audit_verify(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(debug_assertions), ignore = "needs the fault hook of debug builds")]
async fn signoff_request_retries_through_a_broker_crash_and_makes_one_action() {
    let dir = tempfile::tempdir().unwrap();
    let fault = [(FAULT, "after-commit:create:1")];
    let (mut first, url) = broker_process_with(dir.path(), "127.0.0.1:0", &fault).await;
    let listen = url.trim_start_matches("http://").to_string();
    let request = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args([
            "request",
            "--kind",
            "service.restart",
            "--summary",
            "restart through a crash",
            "--target",
            "k8s:deployment/web",
            "--env",
            "staging",
            "--idempotency-key",
            "pipeline-991-restart",
        ])
        .env("SIGNOFF_BROKER_URL", &url)
        .env("SIGNOFF_AGENT_TOKEN", AGENT)
        .env("SIGNOFF_AGENT_ID", "agent-7")
        .env("SIGNOFF_STATE_DIR", dir.path().join("state"))
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("signoff request starts");
    // The broker commits the request's action and dies before answering; the request
    // keeps retrying until a broker is back on the same address.
    aborted(&mut first).await;
    let (second, _) = broker_process(dir.path(), &listen).await;
    let out = tokio::time::timeout(WAIT, request.wait_with_output())
        .await
        .expect("signoff request ends in time")
        .expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("same idempotency key"), "{stderr}");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(created_ids(dir.path()), [id], "one action, the one printed");
    killed(second).await;
    audit_verify(dir.path());
}

/// A request of `agent` (`agent-7` or `agent-8`) numbered `n`.
fn soak_request(agent: &str, n: usize) -> ActionRequest {
    let mut v = request(&format!("soak {agent} #{n}"));
    v["requester"]["id"] = agent.into();
    serde_json::from_value(v).expect("a valid request")
}

/// What the soak's approver saw acknowledged: each decision durable by the broker's word.
type Acked = Arc<Mutex<Vec<(DecisionId, ActionId)>>>;

/// One connection of the approver: approves every pending action it sees until the
/// connection ends (the broker died) or `stop` is set.
async fn approve_until_dropped(
    ws_url: &str,
    acked: &Acked,
    stop: &tokio::sync::watch::Receiver<bool>,
) {
    let Ok(mut req) = ws_url.into_client_request() else {
        return;
    };
    req.headers_mut()
        .insert("authorization", format!("Bearer {BOB}").parse().unwrap());
    let Ok(Ok((mut ws, _))) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(req),
    )
    .await
    else {
        return;
    };
    let hello = encode(&ClientMsg::hello("soak/0", None));
    if ws.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    let mut sent: HashMap<DecisionId, ActionId> = HashMap::new();
    let mut voted: HashSet<ActionId> = HashSet::new();
    while !*stop.borrow() {
        let frame = tokio::time::timeout(Duration::from_millis(500), ws.next()).await;
        let text = match frame {
            Err(_) => continue,
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return,
            Ok(Some(Ok(_))) => continue,
        };
        let Ok(msg) = decode_server(&text) else {
            return;
        };
        let rows = match msg {
            ServerMsg::Snapshot { rows, .. } => rows,
            ServerMsg::Pending { row, .. } => vec![row],
            ServerMsg::Ack {
                decision_id,
                action_id,
                ..
            } => {
                if sent.remove(&decision_id).is_some() {
                    acked.lock().unwrap().push((decision_id, action_id));
                }
                continue;
            }
            _ => continue,
        };
        for row in rows {
            if row.status != Status::Pending || !voted.insert(row.id) {
                continue;
            }
            let d = sign(&key(1), "bob", &row, Verdict::Approve, "soak");
            sent.insert(d.decision.decision_id, row.id);
            let m = encode(&ClientMsg::Decide { decision: d });
            if ws.send(Message::Text(m.into())).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(debug_assertions), ignore = "needs the fault hook of debug builds")]
async fn soak_twenty_crashes_lose_no_acked_decision_and_duplicate_no_action() {
    const CRASHES: usize = 20;
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    // Each life ends right after committing its Nth new action, N in 1..=3: the crash
    // lands between commit and answer, with votes and other submissions around it.
    let fault = |life: usize| format!("after-commit:create:{}", 1 + life % 3);
    let spec = fault(0);
    let (mut child, url) =
        broker_process_with(dir.path(), "127.0.0.1:0", &[(FAULT, spec.as_str())]).await;
    let listen = url.trim_start_matches("http://").to_string();
    let ws_url = format!("{}/v1/feed", url.replace("http://", "ws://"));
    Http::at(&url).register(BOB, &key(1)).await;

    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    // Agents: submit one request after another, each with its own key, retried through
    // crashes by the same code `signoff request` uses.
    let answers: Arc<Mutex<HashMap<String, HashSet<ActionId>>>> = Default::default();
    let mut agents = Vec::new();
    for (agent, token) in [("agent-7", AGENT), ("agent-8", AGENT2)] {
        let (answers, stop, url) = (answers.clone(), stop.clone(), url.clone());
        agents.push(tokio::spawn(async move {
            let client = AgentClient::new(&url, token).expect("client");
            let mut n = 0;
            while !*stop.borrow() {
                n += 1;
                let key = format!("{agent}-{n}");
                let req = soak_request(agent, n);
                let created = signoff::agent::session::submit(
                    &client,
                    &req,
                    &key,
                    None,
                    Duration::from_secs(60),
                )
                .await
                .expect("a submission gets through");
                answers
                    .lock()
                    .unwrap()
                    .entry(key)
                    .or_default()
                    .insert(created.id);
            }
        }));
    }
    // The approver: approves what it sees, reconnecting after each crash.
    let acked: Acked = Default::default();
    let approver = {
        let (acked, stop, ws_url) = (acked.clone(), stop.clone(), ws_url.clone());
        tokio::spawn(async move {
            while !*stop.borrow() {
                approve_until_dropped(&ws_url, &acked, &stop).await;
                // Reconnect pace while the broker is down (a retry, not a synchronisation).
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    for life in 1..=CRASHES {
        aborted(&mut child).await;
        let spec = fault(life);
        let env: Vec<(&str, &str)> = if life < CRASHES {
            vec![(FAULT, spec.as_str())]
        } else {
            Vec::new()
        };
        (child, _) = broker_process_with(dir.path(), &listen, &env).await;
    }
    // The last broker has no fault: let some work finish on it, then stop.
    let before = answers.lock().unwrap().len();
    let answers = &answers;
    let progress = eventually_async(WAIT, move || async move {
        (answers.lock().unwrap().len() >= before + 4).then_some(())
    })
    .await;
    assert!(
        progress.is_some(),
        "agents make progress after the last crash"
    );
    stop_tx.send(true).unwrap();
    for a in agents {
        tokio::time::timeout(WAIT, a)
            .await
            .expect("agents stop")
            .unwrap();
    }
    tokio::time::timeout(WAIT, approver)
        .await
        .expect("approver stops")
        .unwrap();
    let elapsed = started.elapsed();

    // 0 duplicates: each key got one action id, and the log created one action per key.
    let answers = answers.lock().unwrap().clone();
    let dup_keys: Vec<_> = answers.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        dup_keys.is_empty(),
        "keys answered with two actions: {dup_keys:?}"
    );
    let created = created_ids(dir.path());
    assert_eq!(
        created.len(),
        answers.len(),
        "one action per submitted key (created {}, keys {})",
        created.len(),
        answers.len()
    );
    let answered: HashSet<String> = answers
        .values()
        .flat_map(|ids| ids.iter().map(|i| i.to_string()))
        .collect();
    assert_eq!(created.iter().cloned().collect::<HashSet<_>>(), answered);
    // 0 lost acked decisions: every acked vote is in the log and on its action.
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty(), "the approver decided something");
    let votes: HashSet<String> = audit(dir.path())
        .iter()
        .filter(|e| e["entry"]["type"] == "vote")
        .map(|e| e["entry"]["payload"]["decision"]["decision"]["decision_id"].to_string())
        .collect();
    let http = Http::at(&url_of(&listen));
    for (decision, action) in &acked {
        assert!(
            votes.contains(&format!("\"{decision}\"")),
            "acked decision {decision} is not in the audit log"
        );
        let view = http.view(BOB, &action.to_string(), 0).await;
        assert!(
            view.action.votes.iter().any(|v| v.decision_id == *decision),
            "acked decision {decision} is missing from action {action}"
        );
    }
    killed(child).await;
    audit_verify(dir.path());
    eprintln!(
        "soak: {CRASHES} crashes, {} submissions, {} acked decisions, {:.1}s",
        answers.len(),
        acked.len(),
        elapsed.as_secs_f64()
    );
}

fn url_of(listen: &str) -> String {
    format!("http://{listen}")
}

/// A commit thread that panics (the process lives on) leaves no write able to succeed:
/// the submission in that batch fails, and `/healthz` says so with 503 (and `/metrics`
/// with `signoff_writer_up 0`) instead of answering `ok`, so a load balancer or
/// supervisor takes the broker out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(debug_assertions), ignore = "needs the fault hook of debug builds")]
async fn a_dead_commit_thread_makes_healthz_fail() {
    let dir = tempfile::tempdir().unwrap();
    let fault = [(FAULT, "panic-commit:create:2")];
    let (broker, url) = broker_process_with(dir.path(), "127.0.0.1:0", &fault).await;
    let http = Http::at(&url);
    let (s, body) = http.send(reqwest::Method::GET, "/healthz", "", None).await;
    assert_eq!(s, 200, "{body}");
    // The first submission commits; the second's batch makes the commit thread panic.
    let (s, _, _) = post_keyed(&http, AGENT, "first", &request("first"))
        .await
        .unwrap();
    assert_eq!(s, 201);
    let (s, body, _) = post_keyed(&http, AGENT, "second", &request("second"))
        .await
        .unwrap();
    assert_eq!(s, 500, "{body}");
    // The writer marks itself down as its thread ends, which may be just after that answer.
    let health = &http;
    let body = eventually_async(Duration::from_secs(30), move || async move {
        let (s, body) = health
            .send(reqwest::Method::GET, "/healthz", "", None)
            .await;
        (s == 503).then_some(body)
    })
    .await
    .expect("/healthz answers 503");
    assert!(body.to_string().contains("writer stopped"), "{body}");
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("\nsignoff_writer_up 0\n"), "{metrics}");
    killed(broker).await;
    assert_eq!(
        created_ids(dir.path()).len(),
        1,
        "only the first was stored"
    );
}
