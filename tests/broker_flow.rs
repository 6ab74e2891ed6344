//! End to end over real sockets: submit → feed event → signed decision → ack → the agent's
//! long poll returns the outcome → result reported → history → audit verify passes.

mod broker_common;

use broker_common::*;
use reqwest::Method;
use serde_json::json;
use signoff::protocol::{ClientMsg, ErrorCode, HistoryQuery, ServerMsg, Status, Verdict};

#[tokio::test]
async fn submit_decide_poll_report_verify() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let http = Http::new(&broker);
    let bob_key = key(1);
    http.register(BOB, &bob_key).await;

    let (mut feed, welcome) = Feed::connect(&broker, BOB, None).await;
    let ServerMsg::Welcome {
        identity, head_seq, ..
    } = welcome
    else {
        unreachable!()
    };
    assert_eq!(identity.subject, "bob");
    let ServerMsg::Snapshot {
        seq, rows: actions, ..
    } = feed.next().await
    else {
        panic!("snapshot expected")
    };
    assert_eq!((seq, actions.len()), (head_seq, 0));

    let created = http.submit(AGENT, &request("Export customers")).await;
    assert_eq!(created.status, Status::Pending);

    // The agent starts its long poll before anyone decides.
    let poll = {
        let http = Http::new(&broker);
        let id = created.id.to_string();
        tokio::spawn(async move { http.view(AGENT, &id, 60).await })
    };

    let ServerMsg::Pending { seq, row: action } = feed.next().await else {
        panic!("pending expected")
    };
    assert_eq!(seq, head_seq + 1);
    assert_eq!(action.id, created.id);
    assert_eq!(
        action.digest, created.digest,
        "the feed announces what the agent submitted"
    );
    // The body, fetched as a console does on view, has that digest.
    let body = feed.get_action(&action).await;
    assert_eq!(body.digest(), created.digest);

    let decision = sign(
        &bob_key,
        "bob",
        &action,
        Verdict::Approve,
        "ticket DATA-1234 checked",
    );
    let decision_id = decision.decision.decision_id;
    let ack = feed.decide(decision).await;
    let ServerMsg::Ack {
        status,
        decision_id: acked,
        ..
    } = ack
    else {
        panic!("{ack:?}")
    };
    assert_eq!((status, acked), (Status::Approved, decision_id));

    let view = poll.await.unwrap();
    assert_eq!(view.action.status, Status::Approved);
    assert_eq!(view.action.votes.len(), 1);
    assert_eq!(view.action.votes[0].approver, "bob");

    // The agent closes the loop.
    let path = format!("/v1/actions/{}/result", created.id);
    let body = json!({"exit_code": 0, "detail": "42 rows"});
    let (s, v) = http.send(Method::POST, &path, AGENT, Some(&body)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["action"]["execution"]["exit_code"], 0);
    let (s, v) = http.send(Method::POST, &path, AGENT, Some(&body)).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("conflict")));

    // History over HTTP and over the websocket.
    let (s, v) = http
        .send(
            Method::GET,
            "/v1/history?outcome=approved&executed=true&q=customers",
            BOB,
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["records"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["records"][0]["decided_by"], json!(["bob"]));
    assert_eq!(v["records"][0]["signatures_verified"], json!([true]));
    let (s, v) = http
        .send(Method::GET, "/v1/history?q=nosuchword", BOB, None)
        .await;
    assert_eq!((s, v["records"].as_array().map(Vec::len)), (200, Some(0)));
    let (s, v) = http
        .send(Method::GET, "/v1/history?risk=enormous", BOB, None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_query"))
    );
    feed.send(&ClientMsg::QueryHistory {
        request_id: 9,
        query: HistoryQuery {
            approver: Some("bob".into()),
            ..Default::default()
        },
    })
    .await;
    let page = loop {
        if let ServerMsg::HistoryPage {
            request_id: 9,
            page,
        } = feed.next().await
        {
            break page;
        }
    };
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].action.id, created.id);

    let (s, metrics) = http.send(Method::GET, "/metrics", BOB, None).await;
    let metrics = metrics.as_str().unwrap_or_default().to_string();
    assert_eq!(s, 200);
    assert!(
        metrics.contains("signoff_decisions_total{outcome=\"approved\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("signoff_decision_latency_seconds_count 1"),
        "{metrics}"
    );
    assert!(metrics.contains("signoff_feed_subscribers 1"), "{metrics}");

    drop(feed);
    broker.shutdown().await.unwrap();
    let summary = signoff::broker::cli::verify(dir.path()).expect("the chain verifies");
    // key_registered, action_created, vote, outcome, execution
    assert!(
        summary.contains("5 entries, 1 vote signatures verified"),
        "{summary}"
    );
}

#[tokio::test]
async fn agent_api_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let http = Http::new(&broker);

    let (s, _) = http.send(Method::GET, "/healthz", "", None).await;
    assert_eq!(s, 200);
    let (s, v) = http
        .send(Method::POST, "/v1/actions", "wrong", Some(&request("x")))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (s, v) = http
        .send(Method::POST, "/v1/actions", BOB, Some(&request("x")))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "approver token"
    );
    let (s, v) = http
        .send(Method::POST, "/v1/actions", AGENT2, Some(&request("x")))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "impersonation"
    );

    let mut bad = request(" ");
    bad["target"]["environment"] = json!("");
    let (s, v) = http
        .send(Method::POST, "/v1/actions", AGENT, Some(&bad))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("invalid_field"))
    );
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["summary", "target.environment"]);

    let mut missing = request("x");
    missing.as_object_mut().unwrap().remove("target");
    let (s, v) = http
        .send(Method::POST, "/v1/actions", AGENT, Some(&missing))
        .await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (400, Some("target"))
    );
    assert_eq!(v["error"]["code"], "missing_field");

    let mut big = request("x");
    big["change"] = json!({"type": "unified_diff", "diff": "+".repeat(1024 * 1024 + 1)});
    let (s, v) = http
        .send(Method::POST, "/v1/actions", AGENT, Some(&big))
        .await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (400, Some("change"))
    );

    let mut huge = request("x");
    huge["justification"] = json!("x".repeat(3 * 1024 * 1024));
    let (s, v) = http
        .send(Method::POST, "/v1/actions", AGENT, Some(&huge))
        .await;
    assert_eq!(s, 413, "{v}");

    let resp = http
        .client
        .post(format!("{}/v1/actions", http.base))
        .bearer_auth(AGENT)
        .header("content-type", "application/json")
        .body(b"{\"kind\":\"\xff\"}".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        v["error"]["code"], "malformed_frame",
        "not UTF-8 is not JSON text"
    );

    // Withdraw: only the requester, only while pending.
    let created = http.submit(AGENT, &request("withdraw me")).await;
    let path = format!("/v1/actions/{}", created.id);
    let (s, _) = http.send(Method::GET, &path, AGENT2, None).await;
    assert_eq!(s, 404, "another agent does not see it");
    let (s, _) = http.send(Method::DELETE, &path, AGENT2, None).await;
    assert_eq!(s, 404);
    let (s, v) = http
        .send(
            Method::POST,
            &format!("{path}/result"),
            AGENT,
            Some(&json!({"exit_code": 0})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("conflict")),
        "not approved yet"
    );
    let (s, v) = http.send(Method::DELETE, &path, AGENT, None).await;
    assert_eq!(
        (s, v["action"]["status"].as_str()),
        (200, Some("withdrawn"))
    );
    let (s, v) = http.send(Method::DELETE, &path, AGENT, None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("conflict")));
    let (s, v) = http.send(Method::GET, &path, BOB, None).await;
    assert_eq!(
        (s, v["action"]["status"].as_str()),
        (200, Some("withdrawn"))
    );
    let (s, _) = http
        .send(Method::GET, "/v1/actions/not-a-ulid", AGENT, None)
        .await;
    assert_eq!(s, 404);
    let _ = ErrorCode::Conflict;
    broker.shutdown().await.unwrap();
}

#[tokio::test]
async fn expiry_resolves_and_wakes_the_long_poll() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let http = Http::new(&broker);
    let (mut feed, _) = Feed::connect(&broker, BOB, None).await;
    let _snapshot = feed.next().await;
    let mut req = request("short-lived");
    req["ttl_secs"] = json!(1);
    let created = http.submit(AGENT, &req).await;
    let view = http.view(AGENT, &created.id.to_string(), 30).await;
    assert_eq!(view.action.status, Status::Expired);
    let _pending = feed.next().await;
    let ServerMsg::Resolved {
        row: action,
        decided_by,
        ..
    } = feed.next().await
    else {
        panic!()
    };
    assert_eq!(
        (action.status, decided_by),
        (Status::Expired, vec!["system".to_string()])
    );
    broker.shutdown().await.unwrap();
}

#[tokio::test]
async fn keys_register_list_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let http = Http::new(&broker);
    let k = key(7);
    let body = json!({"public_key": signoff::protocol::decision::encode_public_key(&k.verifying_key()), "label": "laptop"});
    let (s, info) = http.send(Method::POST, "/v1/keys", BOB, Some(&body)).await;
    assert_eq!(s, 201, "{info}");
    let (s, _) = http.send(Method::POST, "/v1/keys", BOB, Some(&body)).await;
    assert_eq!(s, 200, "same key, same subject: idempotent");
    let (s, v) = http
        .send(Method::POST, "/v1/keys", CAROL, Some(&body))
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("conflict")));
    let (s, v) = http
        .send(
            Method::POST,
            "/v1/keys",
            BOB,
            Some(&json!({"public_key": "AAAA"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["fields"][0]["field"].as_str()),
        (400, Some("public_key"))
    );
    let (s, v) = http
        .send(Method::POST, "/v1/keys", AGENT, Some(&body))
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")));
    let (_, list) = http.send(Method::GET, "/v1/keys", BOB, None).await;
    assert_eq!(list["keys"].as_array().map(Vec::len), Some(1));
    let (_, list) = http.send(Method::GET, "/v1/keys", CAROL, None).await;
    assert_eq!(list["keys"].as_array().map(Vec::len), Some(0));
    let path = format!("/v1/keys/{}", info["key_id"].as_str().unwrap());
    let (s, _) = http.send(Method::DELETE, &path, CAROL, None).await;
    assert_eq!(s, 404, "not carol's key");
    let (s, v) = http.send(Method::DELETE, &path, BOB, None).await;
    assert_eq!(s, 200);
    assert!(v["revoked_at"].is_string());
    broker.shutdown().await.unwrap();
}
