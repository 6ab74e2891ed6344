//! Sign-in against the real OpenID provider (`oidc-provider` on 127.0.0.1): device login
//! end to end, silent refresh after the access token expired, `access_denied`,
//! `expired_token`, agent client credentials, and logout with revocation.

#[path = "oidc/harness.rs"]
mod harness;

use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, Instant};

use harness::{Options, Provider, confirm_user_code};
use signoff::auth::jwt::{JwtAuthenticator, JwtConfig};
use signoff::auth::{AuthError, PrincipalKind};
use signoff::identity::login::{complete_login, logout};
use signoff::identity::{
    DeviceFlowError, IssuerConfig, SessionStore, TokenSource, start_device_flow,
};
use signoff::testkit::eventually_async;

const RESOURCE: &str = "urn:signoff:broker";

fn console(p: &Provider) -> IssuerConfig {
    IssuerConfig::new(p.issuer.clone(), "signoff-console")
}

fn broker_auth(p: &Provider, leeway: u64) -> JwtAuthenticator {
    let cfg: JwtConfig = serde_json::from_value(serde_json::json!({
        "issuer": p.issuer, "audience": RESOURCE, "leeway_secs": leeway, "agent_clients": ["ci-bot"],
    }))
    .unwrap();
    JwtAuthenticator::new(cfg).unwrap()
}

async fn sleep(d: Duration) {
    tokio::time::sleep(d).await
}

/// Signs `login` in through the device flow, confirming like a phone would.
async fn device_login(p: &Provider, login: &str) -> signoff::identity::Session {
    let auth = start_device_flow(&console(p)).await.unwrap();
    assert_eq!(
        auth.interval,
        Duration::from_secs(1),
        "interval from the success hook"
    );
    assert!(
        auth.verification_uri_complete
            .as_deref()
            .unwrap()
            .contains(&auth.user_code)
    );
    let (issuer, code, who) = (p.issuer.clone(), auth.user_code.clone(), login.to_string());
    let phone = tokio::spawn(async move { confirm_user_code(&issuer, &code, &who, false).await });
    let session = auth.poll(sleep).await.unwrap();
    phone.await.unwrap();
    session
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_login_end_to_end() {
    let p = Provider::start(Options::default());
    let started = Instant::now();
    let session = device_login(&p, "alice").await;
    eprintln!("device login took {:?}", started.elapsed());
    assert_eq!(session.identity.subject, "alice");
    assert_eq!(
        session.identity.email.as_deref(),
        Some("alice@example.test")
    );
    assert_eq!(session.identity.groups, ["sre", "security"]);
    assert!(
        session.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    assert!(!format!("{session:?}").contains(&session.access_token));

    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::new(dir.path());
    let outcome = complete_login(&store, session.clone()).await.unwrap();
    assert!(outcome.key_created);
    assert_eq!(outcome.registered, None);
    for f in [store.session_path(), store.device_key_path()] {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }

    // The broker accepts the access token the console now holds.
    let bearer = store.bearer().await.unwrap();
    assert_eq!(bearer, session.access_token);
    let principal = broker_auth(&p, 30).validate(&bearer).await.unwrap();
    assert_eq!(principal.kind, PrincipalKind::Approver);
    assert_eq!(principal.identity.subject, "alice");
    assert_eq!(principal.identity.groups, ["sre", "security"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_after_access_token_expiry() {
    let p = Provider::start(Options {
        access_ttl_secs: Some(2),
        ..Options::default()
    });
    let session = device_login(&p, "bob").await;
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::new(dir.path()).with_refresh_margin(Duration::ZERO);
    complete_login(&store, session.clone()).await.unwrap();
    let strict = broker_auth(&p, 0);
    assert!(strict.validate(&session.access_token).await.is_ok());

    // Wait (bounded) until the broker calls the old token expired.
    let (strict, token) = (&strict, &session.access_token);
    let expired = eventually_async(Duration::from_secs(20), move || async move {
        match strict.validate(token).await {
            Err(AuthError::Expired) => Some(()),
            Ok(_) => None,
            Err(e) => panic!("unexpected {e}"),
        }
    })
    .await;
    assert!(expired.is_some(), "token never expired");

    let fresh = store.bearer().await.unwrap();
    assert_ne!(fresh, session.access_token, "a new access token");
    let principal = strict.validate(&fresh).await.unwrap();
    assert_eq!(principal.identity.subject, "bob");
    let stored = store.load().unwrap().unwrap();
    assert_eq!(stored.access_token, fresh);
    assert_eq!(
        stored.identity, session.identity,
        "identity kept across refresh"
    );
    assert_ne!(
        stored.refresh_token, session.refresh_token,
        "refresh token rotated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_has_its_message() {
    let p = Provider::start(Options::default());
    let auth = start_device_flow(&console(&p)).await.unwrap();
    confirm_user_code(&p.issuer, &auth.user_code, "alice", true).await;
    let err = auth.poll(sleep).await.unwrap_err();
    assert_eq!(err, DeviceFlowError::AccessDenied);
    let msg = err.to_string();
    assert!(
        msg.contains("declined") && msg.contains("access_denied"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_has_its_message() {
    let p = Provider::start(Options {
        device_ttl_secs: Some(2),
        ..Options::default()
    });
    let auth = start_device_flow(&console(&p)).await.unwrap();
    let err = auth.poll(sleep).await.unwrap_err();
    assert_eq!(err, DeviceFlowError::Expired);
    let msg = err.to_string();
    assert!(
        msg.contains("expired") && msg.contains("expired_token"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_client_credentials_are_agents() {
    let p = Provider::start(Options::default());
    let resp: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/token", p.issuer))
        .basic_auth("ci-bot", Some("ci-bot-secret"))
        .form(&[("grant_type", "client_credentials"), ("resource", RESOURCE)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = resp["access_token"].as_str().expect("access token");
    let principal = broker_auth(&p, 30).validate(token).await.unwrap();
    assert_eq!(principal.kind, PrincipalKind::Agent);
    assert_eq!(principal.identity.subject, "ci-bot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_and_deletes() {
    let p = Provider::start(Options::default());
    let session = device_login(&p, "alice").await;
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::new(dir.path());
    complete_login(&store, session.clone()).await.unwrap();
    let out = logout(&store, false).await.unwrap();
    assert_eq!(out.subject.as_deref(), Some("alice"));
    assert!(out.revoked.contains(&"refresh token"), "{out:?}");
    assert!(out.session_deleted);
    assert!(!store.session_path().exists());
    assert!(
        store.device_key_path().exists(),
        "the device key stays without --forget-key"
    );
    // The revoked refresh token no longer works.
    let err = store.refresh(&session).await.unwrap_err();
    assert!(err.to_string().contains("sign"), "{err}");
}
