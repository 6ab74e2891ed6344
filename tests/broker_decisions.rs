//! Every decision check over a real websocket, each asserting its error code, and that a
//! refused decision changes nothing.

mod broker_common;

use broker_common::*;
use reqwest::Method;
use signoff::broker::RunningBroker;
use signoff::protocol::{Action, ClientMsg, Digest, ErrorCode, KeyId, ServerMsg, Status, Verdict};

struct Env {
    _dir: tempfile::TempDir,
    broker: RunningBroker,
    http: Http,
    feed: Feed,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let http = Http::new(&broker);
    http.register(BOB, &key(1)).await;
    http.register(ALICE, &key(3)).await;
    let (mut feed, _) = Feed::connect(&broker, BOB, None).await;
    let _snapshot = feed.next().await;
    Env {
        _dir: dir,
        broker,
        http,
        feed,
    }
}

impl Env {
    async fn action(&mut self) -> Action {
        let created = self.http.submit(AGENT, &request("check me")).await;
        self.http.view(BOB, &created.id.to_string(), 0).await.action
    }

    async fn rejected(&mut self, d: signoff::protocol::SignedDecision) -> ErrorCode {
        match self.feed.decide(d).await {
            ServerMsg::Rejected { code, .. } => code,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn subject_mismatch() {
    let mut e = env().await;
    let a = e.action().await;
    let d = sign(&key(1), "carol", &a, Verdict::Approve, "ok");
    assert_eq!(e.rejected(d).await, ErrorCode::SubjectMismatch);
}

#[tokio::test]
async fn unknown_key() {
    let mut e = env().await;
    let a = e.action().await;
    let d = sign(&key(9), "bob", &a, Verdict::Approve, "ok");
    assert_eq!(e.rejected(d).await, ErrorCode::UnknownKey);
    // Alice's registered key is not bob's.
    let d = sign(&key(3), "bob", &a, Verdict::Approve, "ok");
    assert_eq!(e.rejected(d).await, ErrorCode::UnknownKey);
}

#[tokio::test]
async fn key_revoked() {
    let mut e = env().await;
    let a = e.action().await;
    let path = format!("/v1/keys/{}", KeyId::of(&key(1).verifying_key()));
    let (s, _) = e.http.send(Method::DELETE, &path, BOB, None).await;
    assert_eq!(s, 200);
    let d = sign(&key(1), "bob", &a, Verdict::Approve, "ok");
    assert_eq!(e.rejected(d).await, ErrorCode::KeyRevoked);
}

#[tokio::test]
async fn bad_signature() {
    let mut e = env().await;
    let a = e.action().await;
    let mut d = sign(&key(1), "bob", &a, Verdict::Approve, "ok");
    d.decision.verdict = Verdict::Deny;
    d.decision.reason = "flipped after signing".into();
    assert_eq!(e.rejected(d).await, ErrorCode::BadSignature);
}

#[tokio::test]
async fn unknown_action() {
    let mut e = env().await;
    let mut a = e.action().await;
    a.id = signoff::protocol::ActionId::new();
    let d = sign(&key(1), "bob", &a, Verdict::Approve, "ok");
    assert_eq!(e.rejected(d).await, ErrorCode::UnknownAction);
}

#[tokio::test]
async fn digest_mismatch() {
    let mut e = env().await;
    let a = e.action().await;
    let mut shown = a.clone();
    shown.summary = "a different version than the broker holds".into();
    let mut d = sign(&key(1), "bob", &shown, Verdict::Approve, "ok");
    d.decision.action_id = a.id;
    let d = d.decision.sign(&key(1));
    assert_eq!(e.rejected(d).await, ErrorCode::DigestMismatch);
    let mut d = sign(&key(1), "bob", &a, Verdict::Approve, "ok");
    d.decision.action_digest = Digest::of_bytes(b"x");
    let d = d.decision.sign(&key(1));
    assert_eq!(e.rejected(d).await, ErrorCode::DigestMismatch);
}

#[tokio::test]
async fn not_pending() {
    let mut e = env().await;
    let a = e.action().await;
    let (s, _) = e
        .http
        .send(
            Method::DELETE,
            &format!("/v1/actions/{}", a.id),
            AGENT,
            None,
        )
        .await;
    assert_eq!(s, 200);
    let d = sign(&key(1), "bob", &a, Verdict::Approve, "ok");
    assert_eq!(e.rejected(d).await, ErrorCode::NotPending);
}

#[tokio::test]
async fn self_approval_by_the_human_the_agent_acts_for() {
    let mut e = env().await;
    let a = e.action().await;
    let (mut alice, _) = Feed::connect(&e.broker, ALICE, None).await;
    let d = sign(&key(3), "alice", &a, Verdict::Approve, "mine, fine");
    match alice.decide(d).await {
        ServerMsg::Rejected { code, .. } => assert_eq!(code, ErrorCode::SelfApproval),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn replayed_decision() {
    let mut e = env().await;
    let a = e.action().await;
    let d = sign(&key(1), "bob", &a, Verdict::Approve, "ok");
    assert!(matches!(
        e.feed.decide(d.clone()).await,
        ServerMsg::Ack { .. }
    ));
    assert_eq!(e.rejected(d.clone()).await, ErrorCode::ReplayedDecision);
    // Even aimed at another action (re-signed with the same decision id).
    let b = e.action().await;
    let mut again = d.decision.clone();
    again.action_id = b.id;
    again.action_digest = b.digest();
    assert_eq!(
        e.rejected(again.sign(&key(1))).await,
        ErrorCode::ReplayedDecision
    );
}

#[tokio::test]
async fn reason_required_for_a_deny() {
    let mut e = env().await;
    let a = e.action().await;
    let d = sign(&key(1), "bob", &a, Verdict::Deny, "");
    assert_eq!(e.rejected(d).await, ErrorCode::ReasonRequired);
    let view = e.http.view(AGENT, &a.id.to_string(), 0).await;
    assert_eq!(
        view.action.status,
        Status::Pending,
        "a refused decision changes nothing"
    );
    let d = sign(&key(1), "bob", &a, Verdict::Deny, "no change ticket");
    let ServerMsg::Ack { status, .. } = e.feed.decide(d).await else {
        panic!()
    };
    assert_eq!(status, Status::Denied);
}

#[tokio::test]
async fn hello_first_and_frames_checked() {
    let e = env().await;
    let mut f = Feed::raw(&e.broker, BOB).await;
    f.send(&ClientMsg::QueryHistory {
        request_id: 1,
        query: Default::default(),
    })
    .await;
    let ServerMsg::Error { code, .. } = f.next().await else {
        panic!()
    };
    assert_eq!(code, ErrorCode::HelloRequired);
    assert!(f.closed().await.starts_with("hello_required"));
    let (mut f, _) = Feed::connect(&e.broker, BOB, None).await;
    let _snapshot = f.next().await;
    f.send(&ClientMsg::hello("again", None)).await;
    let ServerMsg::Error { code, .. } = f.next().await else {
        panic!()
    };
    assert_eq!(code, ErrorCode::InvalidField);
    let (mut f, _) = Feed::connect(&e.broker, BOB, None).await;
    let _snapshot = f.next().await;
    f.send_raw(r#"{"type":"approve_everything"}"#).await;
    let ServerMsg::Error { code, .. } = f.next().await else {
        panic!()
    };
    assert_eq!(code, ErrorCode::UnknownMessageType);
    // An agent token cannot open the feed.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        e.broker.feed_url(),
    )
    .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {AGENT}").parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
}
