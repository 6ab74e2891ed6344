//! Approval integrity at the real broker (issue 13): no self-approval by any spelling of
//! yourself, and one person one vote whatever the login.
//!
//! Each spelling of alice an agent might put in `on_behalf_of` is either refused at intake
//! (`400 invalid_field` naming the field) or, once accepted, alice's approval is refused as
//! `self_approval`. The quorum test signs alice in through the real OpenID provider and
//! also gives her a static approver token for `ALICE@example.test`.

#[path = "broker_common/mod.rs"]
mod broker_common;
#[path = "oidc/harness.rs"]
mod harness;

use std::sync::Arc;
use std::time::Duration;

use broker_common::{AGENT, Feed, Http, key, request, sign};
use harness::{Options, Provider, confirm_user_code};
use serde_json::Value;
use signoff::auth::jwt::{JwtAuthenticator, JwtConfig};
use signoff::auth::static_tokens::{StaticToken, StaticTokens};
use signoff::auth::{Authenticator, Chain, PrincipalKind, hash_token};
use signoff::broker::policy::Engine;
use signoff::broker::{RunningBroker, Settings, spawn};
use signoff::identity::login::complete_login;
use signoff::identity::{DeviceKey, IssuerConfig, SessionStore, TokenSource, start_device_flow};
use signoff::protocol::{ErrorCode, ServerMsg, Status, Verdict};

const ALICE_STATIC: &str = "alice-static-token";
const BOB_STATIC: &str = "bob-static-token";

fn static_token(
    secret: &str,
    kind: PrincipalKind,
    subject: &str,
    email: Option<&str>,
) -> StaticToken {
    StaticToken {
        token_sha256: format!("sha256:{}", hash_token(secret)),
        kind,
        subject: subject.into(),
        email: email.map(String::from),
        name: None,
        groups: vec!["sre".into()],
    }
}

fn static_tokens() -> Vec<StaticToken> {
    vec![
        static_token(AGENT, PrincipalKind::Agent, "agent-7", None),
        static_token(
            ALICE_STATIC,
            PrincipalKind::Approver,
            "alice",
            Some("alice@example.test"),
        ),
        static_token(
            BOB_STATIC,
            PrincipalKind::Approver,
            "bob",
            Some("bob@example.test"),
        ),
    ]
}

async fn broker(
    dir: &std::path::Path,
    auth: Arc<dyn Authenticator>,
    policy: &str,
) -> RunningBroker {
    spawn(Settings::new(
        auth,
        Engine::from_toml_str(policy).expect("policy"),
        dir,
    ))
    .await
    .expect("broker starts")
}

/// What happened to one spelling of alice in `on_behalf_of`.
#[derive(Debug, PartialEq)]
enum Fate {
    /// Refused at intake: the field named and the message.
    Intake(String, String),
    /// Accepted, then alice's approval was refused with this code and message.
    Decision(ErrorCode, String),
}

async fn attempt(on_behalf_of: &str) -> Fate {
    let dir = tempfile::tempdir().unwrap();
    let b = broker(dir.path(), Arc::new(StaticTokens::new(static_tokens())), "").await;
    let http = Http::new(&b);
    let k = key(11);
    http.register(ALICE_STATIC, &k).await;
    let (mut feed, _) = Feed::connect(&b, ALICE_STATIC, None).await;
    assert!(matches!(feed.next().await, ServerMsg::Snapshot { .. }));
    let mut req = request("Export customers");
    req["requester"]["on_behalf_of"] = Value::String(on_behalf_of.into());
    let (status, body) = http
        .send(reqwest::Method::POST, "/v1/actions", AGENT, Some(&req))
        .await;
    let fate = if status == 400 {
        assert_eq!(body["error"]["code"], "invalid_field", "{body}");
        let f = &body["error"]["fields"][0];
        Fate::Intake(
            f["field"].as_str().unwrap_or_default().into(),
            f["message"].as_str().unwrap_or_default().into(),
        )
    } else {
        assert_eq!(status, 201, "{body}");
        let action = loop {
            if let ServerMsg::Pending { action, .. } = feed.next().await {
                break action;
            }
        };
        match feed
            .decide(sign(&k, "alice", &action, Verdict::Approve, "fine"))
            .await
        {
            ServerMsg::Rejected { code, message, .. } => Fate::Decision(code, message),
            other => panic!("alice approved her own request as {on_behalf_of:?}: {other:?}"),
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), b.shutdown()).await;
    fate
}

async fn refused_at_intake(spelling: &str, why: &str) {
    match attempt(spelling).await {
        Fate::Intake(field, message) => {
            assert_eq!(field, "requester.on_behalf_of");
            assert!(message.contains(why), "{spelling:?}: {message}");
        }
        other => panic!("{spelling:?} was accepted: {other:?}"),
    }
}

async fn refused_as_self_approval(spelling: &str) {
    match attempt(spelling).await {
        Fate::Decision(code, message) => {
            assert_eq!(code, ErrorCode::SelfApproval, "{spelling:?}: {message}")
        }
        other => panic!("{spelling:?}: {other:?}"),
    }
}

#[tokio::test]
async fn self_approval_trailing_space() {
    refused_at_intake("alice ", "ends with whitespace").await;
}

#[tokio::test]
async fn self_approval_leading_space() {
    refused_at_intake(" alice", "starts with whitespace").await;
}

#[tokio::test]
async fn self_approval_email_with_trailing_tab() {
    refused_at_intake("alice@example.test\t", "ends with whitespace (U+0009)").await;
}

#[tokio::test]
async fn self_approval_subject_in_other_case() {
    refused_as_self_approval("Alice").await;
}

#[tokio::test]
async fn self_approval_display_name_and_address() {
    refused_as_self_approval("Alice <alice@example.test>").await;
}

#[tokio::test]
async fn self_approval_mailto_address() {
    refused_as_self_approval("mailto:alice@example.test").await;
}

#[tokio::test]
async fn self_approval_trailing_dot_domain() {
    refused_as_self_approval("alice@example.test.").await;
}

#[tokio::test]
async fn self_approval_fullwidth() {
    refused_as_self_approval("ａｌｉｃｅ").await;
}

#[tokio::test]
async fn self_approval_cyrillic_a() {
    match attempt("\u{0430}lice").await {
        Fate::Decision(ErrorCode::SelfApproval, m) => {
            assert!(m.contains("looks like your identity"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn self_approval_dotted_capital_i() {
    refused_as_self_approval("al\u{0130}ce").await;
}

#[tokio::test]
async fn self_approval_zero_width_space() {
    refused_at_intake("al\u{200b}ice", "U+200B").await;
}

#[tokio::test]
async fn another_person_may_still_approve() {
    // The same broker set-up lets bob approve an action on alice's behalf.
    let dir = tempfile::tempdir().unwrap();
    let b = broker(dir.path(), Arc::new(StaticTokens::new(static_tokens())), "").await;
    let http = Http::new(&b);
    let k = key(12);
    http.register(BOB_STATIC, &k).await;
    let (mut feed, _) = Feed::connect(&b, BOB_STATIC, None).await;
    let mut req = request("Export customers");
    req["requester"]["on_behalf_of"] = "Alice <alice@example.test>".into();
    http.submit(AGENT, &req).await;
    let action = loop {
        if let ServerMsg::Pending { action, .. } = feed.next().await {
            break action;
        }
    };
    match feed
        .decide(sign(&k, "bob", &action, Verdict::Approve, "ok"))
        .await
    {
        ServerMsg::Ack { status, .. } => assert_eq!(status, Status::Approved),
        other => panic!("{other:?}"),
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), b.shutdown()).await;
}

/// Signs `login` in through the provider's device flow and registers a device key.
async fn oidc_login(
    p: &Provider,
    broker: &RunningBroker,
    login: &str,
) -> (Arc<SessionStore>, tempfile::TempDir) {
    let auth = start_device_flow(&IssuerConfig::new(p.issuer.clone(), "signoff-console"))
        .await
        .unwrap();
    let (issuer, code, who) = (p.issuer.clone(), auth.user_code.clone(), login.to_string());
    let phone = tokio::spawn(async move { confirm_user_code(&issuer, &code, &who, false).await });
    let mut session = auth.poll(|d| tokio::time::sleep(d)).await.unwrap();
    phone.await.unwrap();
    session.broker = Some(broker.url());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SessionStore::new(dir.path()));
    complete_login(&store, session).await.unwrap();
    (store, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_person_two_logins_one_vote() {
    let p = Provider::start(Options::default());
    let jwt: JwtConfig = serde_json::from_value(serde_json::json!({
        "issuer": p.issuer, "audience": "urn:signoff:broker",
    }))
    .unwrap();
    const ALICE_UPPER: &str = "alice-upper-token";
    const CAROL: &str = "carol-static-token";
    let mut tokens = static_tokens();
    tokens.push(static_token(
        ALICE_UPPER,
        PrincipalKind::Approver,
        "ALICE@example.test",
        None,
    ));
    tokens.push(static_token(
        CAROL,
        PrincipalKind::Approver,
        "carol",
        Some("carol@example.test"),
    ));
    let chain: Vec<Arc<dyn Authenticator>> = vec![
        Arc::new(StaticTokens::new(tokens)),
        Arc::new(JwtAuthenticator::new(jwt).unwrap()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let b = broker(
        dir.path(),
        Arc::new(Chain(chain)),
        "[defaults]\napprovals_required = 2\n",
    )
    .await;
    let http = Http::new(&b);

    // alice through the real provider (sub alice, email alice@example.test).
    let (store, _session_dir) = oidc_login(&p, &b, "alice").await;
    let oidc_key = DeviceKey::load(&store.device_key_path()).unwrap().unwrap();
    let (mut oidc_feed, _) = Feed::connect(&b, &store.bearer().await.unwrap(), None).await;
    // alice again with a static token whose subject is her address in capitals.
    let static_key = key(21);
    http.register(ALICE_UPPER, &static_key).await;
    let (mut static_feed, _) = Feed::connect(&b, ALICE_UPPER, None).await;
    let carol_key = key(22);
    http.register(CAROL, &carol_key).await;
    let (mut carol_feed, _) = Feed::connect(&b, CAROL, None).await;

    let mut req = request("Export customers");
    req["requester"]["on_behalf_of"] = "dave@example.test".into();
    for attempt in 0..3 {
        let created = http.submit(AGENT, &req).await;
        let action = loop {
            if let ServerMsg::Pending { action, .. } = oidc_feed.next().await
                && action.id == created.id
            {
                break action;
            }
        };
        let first = sign(
            oidc_key.signing_key(),
            "alice",
            &action,
            Verdict::Approve,
            "ok",
        );
        match oidc_feed.decide(first).await {
            ServerMsg::Ack { status, .. } => assert_eq!(status, Status::Pending),
            other => panic!("try {attempt}: {other:?}"),
        }
        let second = sign(
            &static_key,
            "ALICE@example.test",
            &action,
            Verdict::Approve,
            "ok",
        );
        match static_feed.decide(second).await {
            ServerMsg::Rejected { code, message, .. } => {
                assert_eq!(code, ErrorCode::AlreadyVoted, "try {attempt}: {message}");
                assert!(message.contains("one person, one vote"), "{message}");
            }
            other => panic!("try {attempt}: a second login's vote counted: {other:?}"),
        }
        let view = http.view(AGENT, &created.id.to_string(), 0).await;
        assert_eq!(view.action.status, Status::Pending, "try {attempt}");
        assert_eq!(view.action.votes.len(), 1);
        let person = view.action.votes[0]
            .person
            .clone()
            .expect("the vote names its person");
        assert_eq!(person.email.as_deref(), Some("alice@example.test"));
        assert_eq!(
            person.issuer.as_deref(),
            Some(p.issuer.trim_end_matches('/'))
        );
        // A different person completes the quorum.
        let third = sign(&carol_key, "carol", &action, Verdict::Approve, "ok");
        match carol_feed.decide(third).await {
            ServerMsg::Ack { status, .. } => assert_eq!(status, Status::Approved),
            other => panic!("try {attempt}: {other:?}"),
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), b.shutdown()).await;
}
