//! docs/protocol.md against a real broker on 127.0.0.1:0: one test per point an
//! independent client found the document and the broker disagreeing on (issue #14), and
//! the lock-out an agent could cause.

mod broker_common;

use std::sync::Arc;
use std::time::Duration;

use broker_common::{AGENT, AGENT2, BOB, CAROL, Feed, Http, key, request, sign};
use reqwest::Method;
use serde_json::{Value, json};
use signoff::broker::policy::Engine;
use signoff::broker::{Budgets, Tunables};
use signoff::client::backoff::BackoffConfig;
use signoff::client::feed::{self, FeedConfig, FeedEvent};
use signoff::identity::FixedToken;
use signoff::protocol::limits::{MAX_SERVER_FRAME, MAX_SNAPSHOT_PAGE};
use signoff::protocol::{ClientMsg, ErrorCode, ServerMsg, Status, Verdict};

/// A broker whose policy sends `db.*` actions to the `dba` group only (every test token
/// is in `sre`), with the given budgets.
async fn broker(dir: &std::path::Path, budgets: Budgets) -> signoff::broker::RunningBroker {
    let policy = r#"
        [[rule]]
        name = "dba-only"
        kind = "db.*"
        approver_groups = ["dba"]
    "#;
    let mut s = broker_common::settings(
        dir,
        Tunables {
            budgets,
            ..Tunables::default()
        },
    );
    s.policy = Engine::from_toml_str(policy).expect("policy");
    signoff::broker::spawn(s).await.expect("broker starts")
}

/// A test's broker with default budgets, its data directory and an HTTP client to it.
struct Env {
    b: signoff::broker::RunningBroker,
    http: Http,
    _dir: tempfile::TempDir,
}

impl Env {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let b = broker(dir.path(), Budgets::default()).await;
        let http = Http::new(&b);
        Self { b, http, _dir: dir }
    }

    /// Registers bob's key 1 and connects bob's feed, past its snapshot, to decide on it.
    async fn bob_deciding(&self) -> Feed {
        self.http.register(BOB, &key(1)).await;
        let (mut f, _) = Feed::connect(&self.b, BOB, None).await;
        let _ = f.next().await;
        f
    }

    /// Submits an open request as the agent and returns bob's approval of it, signed
    /// with key 1 over the body bob sees.
    async fn approval(&self, summary: &str, reason: &str) -> signoff::protocol::SignedDecision {
        let a = self.http.submit(AGENT, &open_request(summary)).await;
        let body = self.http.view(BOB, &a.id.to_string(), 0).await.action;
        sign(&key(1), "bob", &body, Verdict::Approve, reason)
    }

    async fn shutdown(self) {
        self.b.shutdown().await.unwrap();
    }
}

/// A request any `sre` approver may decide (no group rule matches `k8s.*`).
fn open_request(summary: &str) -> Value {
    let mut r = request(summary);
    r["kind"] = json!("k8s.scale");
    r
}

/// About 2 MB: a 1 MiB diff and 60 context values of 16,000 bytes.
fn two_megabytes(summary: &str) -> Value {
    let mut r = open_request(summary);
    let line = format!("+{}\n", "x".repeat(99));
    let diff = format!(
        "--- a/f\n+++ b/f\n@@ -0,0 +1,10000 @@\n{}",
        line.repeat(10_000)
    );
    r["change"] = json!({ "type": "unified_diff", "diff": diff });
    r["context"] = Value::Array(
        (0..60)
            .map(|i| json!({ "key": format!("k{i}"), "value": "y".repeat(16_000) }))
            .collect(),
    );
    r
}

async fn next_event(h: &mut feed::FeedHandle) -> FeedEvent {
    tokio::time::timeout(Duration::from_secs(120), h.events.recv())
        .await
        .expect("a feed event in time")
        .expect("the feed runs")
}

#[tokio::test]
async fn thirty_six_two_megabyte_actions_cannot_lock_a_console_out() {
    let dir = tempfile::tempdir().unwrap();
    let roomy = Budgets {
        per_requester: 200 << 20,
        total: 400 << 20,
    };
    let b = broker(dir.path(), roomy).await;
    let http = Http::new(&b);
    let mut created = Vec::new();
    for i in 0..36 {
        created.push(
            http.submit(AGENT, &two_megabytes(&format!("big {i}")))
                .await,
        );
    }
    // Every frame of a fresh start is bounded: pages of rows, not 72 MB of bodies.
    let mut raw = Feed::raw(&b, BOB).await;
    raw.send(&ClientMsg::hello("conformance/0", None)).await;
    assert!(matches!(raw.next().await, ServerMsg::Welcome { .. }));
    let mut rows = 0;
    loop {
        let text = raw.next_text().await;
        assert!(
            text.len() <= MAX_SNAPSHOT_PAGE + 1024,
            "a snapshot page of {} bytes",
            text.len()
        );
        let ServerMsg::Snapshot {
            page,
            pages,
            rows: r,
            ..
        } = signoff::protocol::decode_server(&text).unwrap()
        else {
            panic!("snapshot expected")
        };
        rows += r.len();
        if page == pages {
            break;
        }
    }
    assert_eq!(rows, 36);

    // The console's own feed client connects once and stays connected.
    let mut config = FeedConfig::new(b.url());
    config.backoff = BackoffConfig {
        base: Duration::from_millis(20),
        max: Duration::from_millis(200),
    };
    let mut h = feed::spawn(config, Arc::new(FixedToken(BOB.into())));
    let mut got = 0;
    loop {
        match next_event(&mut h).await {
            FeedEvent::Server(m) => {
                if let ServerMsg::Snapshot {
                    page, pages, rows, ..
                } = *m
                {
                    got += rows.len();
                    if page == pages {
                        break;
                    }
                }
            }
            FeedEvent::Disconnected { reason } => panic!("locked out: {reason}"),
            _ => {}
        }
    }
    assert_eq!(got, 36, "every pending action is on the console");
    // A body is fetched on view: one frame, under the limit, matching its row's digest.
    let mut f = Feed::raw(&b, BOB).await;
    f.send(&ClientMsg::hello("conformance/0", None)).await;
    let _ = f.next().await;
    let first = loop {
        if let ServerMsg::Snapshot { rows, .. } = f.next().await {
            break rows.into_iter().next().expect("a row");
        }
    };
    f.send(&ClientMsg::GetAction {
        request_id: 1,
        action_id: first.id,
    })
    .await;
    let text = loop {
        let t = f.next_text().await;
        if t.starts_with(r#"{"type":"action""#) {
            break t;
        }
    };
    assert!(text.len() > 1_900_000 && text.len() <= MAX_SERVER_FRAME);
    let ServerMsg::Action { action, .. } = signoff::protocol::decode_server(&text).unwrap() else {
        panic!()
    };
    assert_eq!(action.digest(), first.digest);
    drop(h);
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn pending_bytes_budgets_refuse_with_pending_budget_exceeded() {
    let dir = tempfile::tempdir().unwrap();
    // The canonical size of one such action, as the broker counts it (read off its row).
    let one = {
        let probe_dir = tempfile::tempdir().unwrap();
        let probe = broker(probe_dir.path(), Budgets::default()).await;
        let (mut f, _) = Feed::connect(&probe, BOB, None).await;
        let _ = f.next().await;
        Http::new(&probe).submit(AGENT, &open_request("p0")).await;
        let ServerMsg::Pending { row, .. } = f.next().await else {
            panic!("pending expected")
        };
        probe.shutdown().await.unwrap();
        row.sizes.action
    };
    // Room for about three actions per requester, five in all.
    let b = broker(
        dir.path(),
        Budgets {
            per_requester: one * 3 + one / 4,
            total: one * 5 + one / 4,
        },
    )
    .await;
    let http = Http::new(&b);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(http.submit(AGENT, &open_request(&format!("a{i}"))).await.id);
    }
    let (s, v) = http
        .send(
            Method::POST,
            "/v1/actions",
            AGENT,
            Some(&open_request("a3")),
        )
        .await;
    assert_eq!(s, 429, "{v}");
    assert_eq!(v["error"]["code"], "pending_budget_exceeded");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("per-requester budget"),
        "{v}"
    );
    // Another requester still fits, up to the broker's total.
    let mut other = open_request("b0");
    other["requester"]["id"] = json!("agent-8");
    http.submit(AGENT2, &other).await;
    http.submit(AGENT2, &other).await;
    let (s, v) = http
        .send(Method::POST, "/v1/actions", AGENT2, Some(&other))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (429, Some("pending_budget_exceeded"))
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("its budget"),
        "{v}"
    );
    // Withdrawing frees the room.
    let path = format!("/v1/actions/{}", ids[0]);
    let (s, _) = http.send(Method::DELETE, &path, AGENT, None).await;
    assert_eq!(s, 200);
    http.submit(AGENT, &open_request("a4")).await;
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_approver_outside_a_group_sees_skipped_ranges_never_a_gap() {
    let env = Env::start().await;
    let (mut bob, welcome) = Feed::connect(&env.b, BOB, None).await;
    let ServerMsg::Welcome { head_seq, .. } = welcome else {
        unreachable!()
    };
    let ServerMsg::Snapshot { seq, .. } = bob.next().await else {
        panic!("snapshot expected")
    };
    assert_eq!(seq, head_seq);
    // Two actions only `dba` may see, then one bob may see.
    env.http.submit(AGENT, &request("dba only 1")).await;
    env.http.submit(AGENT, &request("dba only 2")).await;
    let visible = env.http.submit(AGENT, &open_request("for sre")).await;
    let ServerMsg::Skipped { seq: to, from } = bob.next().await else {
        panic!("skipped expected")
    };
    assert_eq!((from, to), (head_seq + 1, head_seq + 2));
    let ServerMsg::Pending { seq, row } = bob.next().await else {
        panic!("pending expected")
    };
    assert_eq!((seq, row.id), (head_seq + 3, visible.id));
    // Resuming from before them: the replay accounts for every number and ends at the head.
    env.http.submit(AGENT, &request("dba only 3")).await;
    let (mut again, welcome) = Feed::connect(&env.b, BOB, Some(head_seq)).await;
    let ServerMsg::Welcome { head_seq: head, .. } = welcome else {
        unreachable!()
    };
    assert_eq!(head, head_seq + 4);
    let mut last = head_seq;
    while last < head {
        let m = again.next().await;
        let first = m.first_seq().expect("an event");
        assert_eq!(first, last + 1, "contiguous: {m:?}");
        last = m.seq().unwrap();
    }
    // And a console applying them never resynchronises.
    env.shutdown().await;
}

#[tokio::test]
async fn http_bodies_and_queries_get_their_documented_codes() {
    let env = Env::start().await;
    let raw = |body: Vec<u8>| {
        env.http
            .client
            .post(format!("{}/v1/actions", env.http.base))
            .bearer_auth(AGENT)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or_default().to_string();
    let answer = |r: reqwest::Response| async move {
        let s = r.status().as_u16();
        (s, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (s, v) = answer(raw(vec![b' '; 2 * 1024 * 1024 + 1]).await.unwrap()).await;
    assert_eq!((s, code(&v)), (413, "frame_too_large".into()));
    let (s, v) = answer(raw(b"kind=db.export".to_vec()).await.unwrap()).await;
    assert_eq!((s, code(&v)), (400, "malformed_frame".into()));
    let positional = json!([
        "db.export",
        "s",
        ["agent", "agent-7", "A"],
        ["pg", "r", "prod"]
    ]);
    let (s, v) = answer(raw(positional.to_string().into_bytes()).await.unwrap()).await;
    assert_eq!((s, code(&v)), (400, "malformed_frame".into()), "{v}");
    let mut missing = open_request("x");
    missing.as_object_mut().unwrap().remove("summary");
    let (s, v) = env
        .http
        .send(Method::POST, "/v1/actions", AGENT, Some(&missing))
        .await;
    assert_eq!((s, code(&v)), (400, "missing_field".into()), "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "summary");
    let mut arr = open_request("x");
    arr["requester"] = json!(["agent", "agent-7", "Data assistant"]);
    let (s, v) = env
        .http
        .send(Method::POST, "/v1/actions", AGENT, Some(&arr))
        .await;
    assert_eq!((s, code(&v)), (400, "invalid_field".into()), "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "requester");
    let mut null = open_request("x");
    null["requester"]["model"] = Value::Null;
    let (s, v) = env
        .http
        .send(Method::POST, "/v1/actions", AGENT, Some(&null))
        .await;
    assert_eq!((s, code(&v)), (400, "invalid_field".into()), "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "requester.model");
    let mut unknown = open_request("x");
    unknown["target"]["region"] = json!("eu");
    let (s, v) = env
        .http
        .send(Method::POST, "/v1/actions", AGENT, Some(&unknown))
        .await;
    assert_eq!((s, code(&v)), (400, "invalid_field".into()), "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "target.region");

    // `wait`: digits only; any larger number is 300; anything else is invalid_query.
    let a = env.http.submit(AGENT, &open_request("w")).await;
    let path = format!("/v1/actions/{}", a.id);
    let (s, _) = env.http.send(Method::DELETE, &path, AGENT, None).await;
    assert_eq!(s, 200);
    for bad in ["abc", "-1", "1.5", "", "%20"] {
        let (s, v) = env
            .http
            .send(Method::GET, &format!("{path}?wait={bad}"), AGENT, None)
            .await;
        assert_eq!(
            (s, code(&v)),
            (400, "invalid_query".into()),
            "wait={bad}: {v}"
        );
    }
    let huge = format!("{path}?wait=99999999999999999999999999");
    let (s, v) = env.http.send(Method::GET, &huge, AGENT, None).await;
    assert_eq!(s, 200, "a huge wait is the longest wait: {v}");
    env.shutdown().await;
}

#[tokio::test]
async fn a_client_frame_over_64_kib_gets_frame_too_large_and_close_1009() {
    let env = Env::start().await;
    for size in [70 * 1024, 300 * 1024] {
        let (mut f, _) = Feed::connect(&env.b, BOB, None).await;
        let _ = f.next().await; // snapshot
        let big = format!(
            r#"{{"type":"query_history","request_id":1,"query":{{"text":"{}"}}}}"#,
            "x".repeat(size)
        );
        f.send_raw(&big).await;
        let ServerMsg::Error { code, .. } = f.next().await else {
            panic!("error expected for {size} bytes")
        };
        assert_eq!(code, ErrorCode::FrameTooLarge);
        let (close, reason) = f.close_frame().await;
        assert_eq!(close, 1009, "{reason}");
        assert!(reason.starts_with("frame_too_large"), "{reason}");
    }
    env.shutdown().await;
}

/// A change made to a decision's JSON before it is signed and sent.
type Edit = Box<dyn Fn(&mut Value)>;

/// The decision of `d` as JSON, with `edit` applied, signed over exactly those values.
fn signed_as_sent(d: &signoff::protocol::SignedDecision, edit: impl Fn(&mut Value)) -> Value {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    let mut decision = serde_json::to_value(&d.decision).unwrap();
    edit(&mut decision);
    let bytes = signoff::protocol::canonical_json(&decision);
    let sig = key(1).sign(&bytes);
    json!({
        "type": "decide",
        "decision": {
            "decision": decision,
            "signature": base64::engine::general_purpose::STANDARD.encode(sig.to_bytes()),
        }
    })
}

#[tokio::test]
async fn a_decision_is_verified_as_sent_or_refused_naming_the_accepted_form() {
    let env = Env::start().await;
    env.http.register(BOB, &key(1)).await;
    let good = env.approval("sign me", "ok").await;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "+00:00",
            Box::new(|d: &mut Value| {
                let t = d["issued_at"].as_str().unwrap().replace('Z', "+00:00");
                d["issued_at"] = json!(t);
            }),
            "decision.decision.issued_at",
        ),
        (
            "microseconds",
            Box::new(|d: &mut Value| {
                let t = d["issued_at"].as_str().unwrap().replace('Z', "123Z");
                d["issued_at"] = json!(t);
            }),
            "decision.decision.issued_at",
        ),
        (
            "lowercase ULID",
            Box::new(|d: &mut Value| {
                let id = d["decision_id"].as_str().unwrap().to_lowercase();
                d["decision_id"] = json!(id);
            }),
            "decision.decision.decision_id",
        ),
    ];
    for (what, edit, field) in cases {
        let (mut f, _) = Feed::connect(&env.b, BOB, None).await;
        let _ = f.next().await;
        f.send_raw(&signed_as_sent(&good, edit).to_string()).await;
        let ServerMsg::Error { code, message } = f.next().await else {
            panic!("{what}: an error expected")
        };
        assert_eq!(code, ErrorCode::InvalidField, "{what}: {message}");
        assert!(message.contains(field), "{what}: {message}");
        assert!(message.contains("accepted form"), "{what}: {message}");
    }
    // A decision that is an array is refused, not acked.
    let (mut f, _) = Feed::connect(&env.b, BOB, None).await;
    let _ = f.next().await;
    let d = serde_json::to_value(&good.decision).unwrap();
    let positional: Vec<Value> = d.as_object().unwrap().values().cloned().collect();
    f.send_raw(
        &json!({"type":"decide","decision":{"decision": positional, "signature": good.signature}})
            .to_string(),
    )
    .await;
    let ServerMsg::Error { code, .. } = f.next().await else {
        panic!("an error expected")
    };
    assert_eq!(code, ErrorCode::InvalidField);
    // Signed as sent in the accepted form: acked.
    let (mut f, _) = Feed::connect(&env.b, BOB, None).await;
    let _ = f.next().await;
    let ServerMsg::Ack { status, .. } = f.decide(good).await else {
        panic!("ack expected")
    };
    assert_eq!(status, Status::Approved);
    env.shutdown().await;
}

#[tokio::test]
async fn decision_checks_run_in_the_documented_order() {
    let env = Env::start().await;
    let mut f = env.bob_deciding().await;
    // 5 before 9: the vote that approved it, re-sent, is a replay, not "not pending".
    let a = env.http.submit(AGENT, &open_request("replay")).await;
    let body = env.http.view(BOB, &a.id.to_string(), 0).await.action;
    let d = sign(&key(1), "bob", &body, Verdict::Approve, "ok");
    assert!(matches!(f.decide(d.clone()).await, ServerMsg::Ack { .. }));
    let ServerMsg::Rejected { code, .. } = f.decide(d).await else {
        panic!()
    };
    assert_eq!(code, ErrorCode::ReplayedDecision);
    // A fresh decision on it: not_pending.
    let d = sign(&key(1), "bob", &body, Verdict::Approve, "again");
    let ServerMsg::Rejected { code, .. } = f.decide(d).await else {
        panic!()
    };
    assert_eq!(code, ErrorCode::NotPending);
    // 8: once the broker marked an action expired, a decision is action_expired.
    let mut short = open_request("expires");
    short["ttl_secs"] = json!(1);
    let a = env.http.submit(AGENT, &short).await;
    let body = env.http.view(BOB, &a.id.to_string(), 0).await.action;
    let view = env.http.view(AGENT, &a.id.to_string(), 30).await;
    assert_eq!(view.action.status, Status::Expired);
    let d = sign(&key(1), "bob", &body, Verdict::Approve, "late");
    let ServerMsg::Rejected { code, .. } = f.decide(d).await else {
        panic!()
    };
    assert_eq!(code, ErrorCode::ActionExpired);
    env.shutdown().await;
}

#[tokio::test]
async fn an_execution_report_emits_an_executed_event() {
    let env = Env::start().await;
    let mut f = env.bob_deciding().await;
    let d = env.approval("run me", "go").await;
    let id = d.decision.action_id;
    assert!(matches!(f.decide(d).await, ServerMsg::Ack { .. }));
    let path = format!("/v1/actions/{id}/result");
    let (s, v) = env
        .http
        .send(
            Method::POST,
            &path,
            AGENT,
            Some(&json!({"exit_code": 0, "detail": "done"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let row = loop {
        if let ServerMsg::Executed { row, .. } = f.next().await {
            break row;
        }
    };
    assert_eq!(row.id, id);
    assert_eq!(row.execution.map(|e| e.exit_code), Some(0));
    env.shutdown().await;
}

#[tokio::test]
async fn get_action_answers_only_for_actions_the_approver_may_see() {
    let env = Env::start().await;
    let hidden = env.http.submit(AGENT, &request("dba only")).await;
    let (mut f, _) = Feed::connect(&env.b, CAROL, None).await;
    let _ = f.next().await;
    f.send(&ClientMsg::GetAction {
        request_id: 4,
        action_id: hidden.id,
    })
    .await;
    loop {
        match f.next().await {
            ServerMsg::QueryFailed {
                request_id: 4,
                code,
                ..
            } => {
                assert_eq!(code, ErrorCode::NotFound);
                break;
            }
            ServerMsg::Action { .. } => panic!("a body outside the approver's groups"),
            _ => {}
        }
    }
    env.shutdown().await;
}

#[tokio::test]
async fn re_registering_a_revoked_key_is_409_conflict() {
    let env = Env::start().await;
    let info = env.http.register(BOB, &key(7)).await;
    let path = format!("/v1/keys/{}", info.key_id);
    let (s, _) = env.http.send(Method::DELETE, &path, BOB, None).await;
    assert_eq!(s, 200);
    let body = serde_json::to_value(signoff::protocol::api::KeyRegistration {
        public_key: signoff::protocol::decision::encode_public_key(&key(7).verifying_key()),
        label: "again".into(),
    })
    .unwrap();
    let (s, v) = env
        .http
        .send(Method::POST, "/v1/keys", BOB, Some(&body))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{v}"
    );
    env.shutdown().await;
}

/// `signoff digest`: unknown fields, `null` and non-canonical timestamps are refused.
#[test]
fn signoff_digest_refuses_what_it_would_have_to_rewrite() {
    let doc = include_str!("../docs/protocol.md");
    let start = doc.find("```json action example:action").unwrap();
    let body_start = start + doc[start..].find('\n').unwrap() + 1;
    let body_end = body_start + doc[body_start..].find("```").unwrap();
    let action: Value = serde_json::from_str(&doc[body_start..body_end]).unwrap();
    let run = |v: &Value| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        std::fs::write(&p, v.to_string()).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
            .arg("digest")
            .arg(&p)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, digest, err) = run(&action);
    assert!(ok, "{err}");
    assert_eq!(
        digest,
        "a5edccb8932e60c6bbcf8d09a6bca0600db99d21b012558aa0576d80ae321dfb"
    );
    let mut unknown = action.clone();
    unknown["approved_by_magic"] = json!(true);
    let mut null = action.clone();
    null["command"] = Value::Null;
    let mut offset = action.clone();
    offset["created_at"] = json!("2026-11-23T14:00:00.000+00:00");
    for (what, v, field) in [
        ("unknown", unknown, "approved_by_magic"),
        ("null", null, "command"),
        ("offset", offset, "created_at"),
    ] {
        let (ok, _, err) = run(&v);
        assert!(!ok, "{what} was accepted");
        assert!(err.contains(field), "{what}: {err}");
    }
}

/// A broker that welcomes every console and then sends a snapshot page larger than any
/// client accepts: the lock-out, as it looked from the console before the fix.
async fn oversized_snapshot(mut ws: axum::extract::ws::WebSocket) {
    use axum::extract::ws::Message as AxMessage;
    let _ = ws.recv().await;
    let welcome = ServerMsg::Welcome {
        protocol: signoff::protocol::PROTOCOL_VERSION,
        identity: signoff::protocol::messages::Identity {
            subject: "bob".into(),
            email: None,
            name: None,
            groups: vec!["sre".into()],
        },
        server_time: signoff::protocol::Timestamp::now(),
        head_seq: 36,
    };
    let text = signoff::protocol::encode(&welcome);
    if ws.send(AxMessage::Text(text.into())).await.is_err() {
        return;
    }
    let filler = "x".repeat(MAX_SERVER_FRAME + 1);
    let page =
        format!(r#"{{"type":"snapshot","seq":36,"page":1,"pages":1,"rows":[],"pad":"{filler}"}}"#);
    let _ = ws.send(AxMessage::Text(page.into())).await;
    while let Some(Ok(_)) = ws.recv().await {}
}

#[tokio::test]
async fn a_connection_that_fails_before_catching_up_backs_off_and_says_why() {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app =
        axum::Router::new().route(
            "/v1/feed",
            get(|ws: axum::extract::ws::WebSocketUpgrade| async move {
                ws.on_upgrade(oversized_snapshot)
            }),
        );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut config = FeedConfig::new(format!("http://{addr}"));
    config.backoff = BackoffConfig {
        base: Duration::from_millis(10),
        max: Duration::from_secs(10),
    };
    let mut h = feed::spawn(config, Arc::new(FixedToken("tok".into())));
    let mut retries = Vec::new();
    let mut reasons = Vec::new();
    while retries.len() < 4 {
        match next_event(&mut h).await {
            FeedEvent::Disconnected { reason } => reasons.push(reason),
            FeedEvent::Retrying { attempt, delay } => retries.push((attempt, delay)),
            _ => {}
        }
    }
    // Welcomed every time, yet the attempts keep counting and the waits keep growing.
    let attempts: Vec<u32> = retries.iter().map(|r| r.0).collect();
    assert_eq!(attempts, [1, 2, 3, 4], "{retries:?}");
    for w in retries.windows(2) {
        assert!(w[1].1 >= w[0].1, "backoff grows: {retries:?}");
    }
    assert!(retries[3].1 >= Duration::from_millis(40), "{retries:?}");
    assert!(
        reasons.iter().all(|r| r.starts_with("snapshot refused:")),
        "{reasons:?}"
    );
    drop(h);
    server.abort();
}

/// Decisions sent back to back reach the broker's verify stage together and are checked in
/// one batch equation: the tampered ones are refused with `bad_signature`, every other one
/// is acked, each answer under its own decision id.
#[tokio::test]
async fn a_burst_with_bad_signatures_refuses_exactly_the_bad_ones() {
    let env = Env::start().await;
    let mut f = env.bob_deciding().await;
    let mut want = std::collections::HashMap::new();
    let mut frames = Vec::new();
    for i in 0..24 {
        let mut d = env.approval(&format!("burst {i}"), "ok").await;
        let bad = [3, 11, 19].contains(&i);
        if bad {
            // Signed, then changed: the signature no longer covers the reason.
            d.decision.reason.push('!');
        }
        want.insert(d.decision.decision_id, bad);
        frames.push(signoff::protocol::encode(&ClientMsg::Decide {
            decision: d,
        }));
    }
    for frame in &frames {
        f.send_raw(frame).await;
    }
    let mut answered = 0;
    while answered < frames.len() {
        match f.next().await {
            ServerMsg::Ack { decision_id, .. } => {
                assert_eq!(
                    want.remove(&decision_id),
                    Some(false),
                    "{decision_id} acked"
                );
                answered += 1;
            }
            ServerMsg::Rejected {
                decision_id, code, ..
            } => {
                assert_eq!(code, ErrorCode::BadSignature);
                assert_eq!(
                    want.remove(&decision_id),
                    Some(true),
                    "{decision_id} refused"
                );
                answered += 1;
            }
            _ => {}
        }
    }
    assert!(want.is_empty());
    env.shutdown().await;
}

/// A key that would make one signature hold for every message is refused at registration:
/// small-order points, a good key plus a torsion point, a non-canonical encoding.
#[tokio::test]
async fn weak_and_non_canonical_public_keys_are_refused_with_invalid_field() {
    use base64::Engine as _;
    use curve25519_dalek::constants::EIGHT_TORSION;
    let env = Env::start().await;
    let good = key(5).verifying_key().to_edwards();
    let mut candidates: Vec<(String, [u8; 32])> = EIGHT_TORSION
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("small order #{i}"), t.compress().to_bytes()))
        .collect();
    candidates.push((
        "good key plus a torsion point".into(),
        (good + EIGHT_TORSION[2]).compress().to_bytes(),
    ));
    let mut non_canonical = [0xffu8; 32];
    non_canonical[0] = 0xed;
    non_canonical[31] = 0x7f;
    candidates.push(("y = p, a non-canonical 0".into(), non_canonical));
    for (what, bytes) in candidates {
        let body = json!({
            "public_key": base64::engine::general_purpose::STANDARD.encode(bytes),
            "label": "weak",
        });
        let (s, v) = env
            .http
            .send(Method::POST, "/v1/keys", BOB, Some(&body))
            .await;
        assert_eq!(s, 400, "{what}: {v}");
        assert_eq!(v["error"]["code"], "invalid_field", "{what}: {v}");
        assert_eq!(
            v["error"]["fields"][0]["field"], "public_key",
            "{what}: {v}"
        );
    }
    env.shutdown().await;
}
