//! Identity end to end with the real broker and the real OpenID provider: the console
//! signs in with the device flow, registers its device key through `POST /v1/keys`, and
//! its session opens the broker feed and sends a decision the broker verifies. The broker
//! authenticates approvers with `JwtAuthenticator` and agents with static tokens.

#[path = "broker_common/mod.rs"]
mod broker_common;
#[path = "oidc/harness.rs"]
mod harness;

use std::sync::Arc;
use std::time::Duration;

use broker_common::{AGENT, Feed, Http, request, sign, tokens};
use harness::{Options, Provider, confirm_user_code};
use signoff::auth::jwt::{JwtAuthenticator, JwtConfig};
use signoff::auth::static_tokens::StaticTokens;
use signoff::auth::{Authenticator, Chain};
use signoff::broker::policy::Engine;
use signoff::broker::{Settings, spawn};
use signoff::identity::login::complete_login;
use signoff::identity::{
    BrokerKeys, DeviceKey, IssuerConfig, KeysError, SessionStore, TokenSource, start_device_flow,
};
use signoff::protocol::{ErrorCode, ServerMsg, Status, Verdict};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_session_opens_the_feed_and_its_decision_verifies() {
    let p = Provider::start(Options::default());
    let jwt: JwtConfig = serde_json::from_value(serde_json::json!({
        "issuer": p.issuer, "audience": "urn:signoff:broker",
    }))
    .unwrap();
    let chain: Vec<Arc<dyn Authenticator>> = vec![
        Arc::new(StaticTokens::new(tokens())),
        Arc::new(JwtAuthenticator::new(jwt).unwrap()),
    ];
    let broker_dir = tempfile::tempdir().unwrap();
    let broker = spawn(Settings::new(
        Arc::new(Chain(chain)),
        Engine::default(),
        broker_dir.path(),
    ))
    .await
    .unwrap();

    // Sign in as bob (group sre) through the device flow, with the broker configured.
    let auth = start_device_flow(&IssuerConfig::new(p.issuer.clone(), "signoff-console"))
        .await
        .unwrap();
    let (issuer, code) = (p.issuer.clone(), auth.user_code.clone());
    let phone = tokio::spawn(async move { confirm_user_code(&issuer, &code, "bob", false).await });
    let mut session = auth.poll(|d| tokio::time::sleep(d)).await.unwrap();
    phone.await.unwrap();
    session.broker = Some(broker.url());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SessionStore::new(dir.path()));
    let outcome = complete_login(&store, session).await.unwrap();
    assert_eq!(
        outcome.registered,
        Some(true),
        "first sign-in registers the key"
    );
    let again = complete_login(&store, store.load().unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!(
        again.registered,
        Some(false),
        "signing in again is idempotent"
    );
    assert_eq!(again.key_id, outcome.key_id);

    let keys = BrokerKeys::new(broker.url(), store.clone());
    let list = keys.list().await.unwrap();
    assert_eq!(list.keys.len(), 1);
    assert_eq!(list.keys[0].key_id, outcome.key_id);
    assert_eq!(list.keys[0].subject, "bob");

    // The console's session opens the feed.
    let bearer = store.bearer().await.unwrap();
    let (mut feed, welcome) = Feed::connect(&broker, &bearer, None).await;
    let ServerMsg::Welcome { identity, .. } = welcome else {
        unreachable!()
    };
    assert_eq!(identity.subject, "bob");
    assert_eq!(identity.groups, ["sre"]);
    assert!(matches!(feed.next().await, ServerMsg::Snapshot { .. }));

    // An agent asks; bob approves with the device key from the 0600 file.
    let http = Http::new(&broker);
    let created = http.submit(AGENT, &request("Export customers")).await;
    let ServerMsg::Pending { row: action, .. } = feed.next().await else {
        panic!("pending expected")
    };
    assert_eq!(action.id, created.id);
    let key = DeviceKey::load(&store.device_key_path()).unwrap().unwrap();
    let decision = sign(
        key.signing_key(),
        "bob",
        &action,
        Verdict::Approve,
        "checked",
    );
    match feed.decide(decision).await {
        ServerMsg::Ack { status, .. } => assert_eq!(status, Status::Approved),
        other => panic!("{other:?}"),
    }
    let view = http.view(AGENT, &created.id.to_string(), 0).await;
    assert_eq!(view.action.status, Status::Approved);

    // Rotate: the old key is revoked and a decision signed with it is refused.
    let old = keys.revoke(&outcome.key_id).await.unwrap();
    assert!(old.revoked_at.is_some());
    let created = http.submit(AGENT, &request("Export again")).await;
    let action = loop {
        if let ServerMsg::Pending { row: action, .. } = feed.next().await {
            break action;
        }
    };
    assert_eq!(action.id, created.id);
    let decision = sign(
        key.signing_key(),
        "bob",
        &action,
        Verdict::Approve,
        "checked",
    );
    match feed.decide(decision).await {
        ServerMsg::Rejected { code, .. } => assert_eq!(code, ErrorCode::KeyRevoked),
        other => panic!("{other:?}"),
    }

    // An agent token cannot manage keys.
    let agent_keys = BrokerKeys::new(
        broker.url(),
        Arc::new(signoff::identity::FixedToken(AGENT.into())),
    );
    match agent_keys.list().await {
        Err(KeysError::Api { status, code, .. }) => {
            assert_eq!((status, code), (403, ErrorCode::Forbidden))
        }
        other => panic!("{other:?}"),
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), broker.shutdown()).await;
}
