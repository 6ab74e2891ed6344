//! The development issuer (same device-flow code path as a real issuer), `slow_down`
//! handling against a scripted token endpoint, and refusal of session files others can
//! read.

use std::os::unix::fs::PermissionsExt as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use signoff::auth::PrincipalKind;
use signoff::auth::jwt::JwtAuthenticator;
use signoff::identity::dev_issuer::{self, DevIdentity, DevIssuerConfig, DevIssuerError, Signer};
use signoff::identity::{IssuerConfig, SessionStore, TokenError, TokenSource, start_device_flow};

async fn no_sleep(_: Duration) {}

fn fast() -> DevIssuerConfig {
    DevIssuerConfig {
        confirm_delay: Duration::from_millis(50),
        ..DevIssuerConfig::default()
    }
}

#[tokio::test]
async fn dev_issuer_signs_in_through_the_device_flow() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = dev_issuer::start(listener, fast()).await.unwrap();
    let auth = start_device_flow(&issuer.issuer_config()).await.unwrap();
    assert!(auth.verification_uri.starts_with(&issuer.issuer_url));
    // Poll with real sleeps of the announced interval (1 s): the code confirms after 50 ms.
    let session = auth.poll(|d| tokio::time::sleep(d)).await.unwrap();
    assert_eq!(session.identity.subject, "dev-approver");
    assert_eq!(
        session.identity.groups,
        ["sre", "security", "data-governance"]
    );

    let broker = JwtAuthenticator::new(issuer.jwt_config()).unwrap();
    let p = broker.validate(&session.access_token).await.unwrap();
    assert_eq!(p.kind, PrincipalKind::Approver);
    assert_eq!(p.identity.subject, "dev-approver");

    // Refresh works, and the old refresh token is spent.
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::new(dir.path());
    store.save(&session).unwrap();
    let fresh = store.refresh(&session).await.unwrap();
    assert_ne!(fresh.refresh_token, session.refresh_token);
    assert!(broker.validate(&fresh.access_token).await.is_ok());
    assert!(
        store.refresh(&session).await.is_err(),
        "refresh tokens rotate"
    );

    // The demo's second approver gets a token directly.
    let second = DevIdentity::new("second-approver", &["sre"]);
    let p = broker.validate(&issuer.mint_token(&second)).await.unwrap();
    assert_eq!(p.identity.subject, "second-approver");
    issuer.shutdown().await;
}

#[tokio::test]
async fn dev_issuer_refuses_non_loopback() {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    match dev_issuer::start(listener, fast()).await {
        Err(DevIssuerError::NotLoopback(addr)) => assert!(addr.ip().is_unspecified()),
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("a non-loopback dev issuer started"),
    }
}

/// A token endpoint that answers from a script, to see `slow_down` (which neither the
/// dev issuer nor oidc-provider ever sends) handled.
struct Script {
    url: String,
    signer: Signer,
    answers: Mutex<Vec<&'static str>>,
}

async fn scripted(answers: Vec<&'static str>) -> Arc<Script> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let s = Arc::new(Script {
        url: url.clone(),
        signer: Signer::from_key(SigningKey::from_bytes(&[3; 32])),
        answers: Mutex::new(answers),
    });
    let disc = json!({
        "issuer": url, "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"), "jwks_uri": format!("{url}/jwks"),
        "device_authorization_endpoint": format!("{url}/device_authorization"),
        "response_types_supported": ["code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
    });
    let app =
        Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { Json(disc) }),
            )
            .route(
                "/jwks",
                get(|State(s): State<Arc<Script>>| async move {
                    Json(json!({"keys": [s.signer.jwk()]}))
                }),
            )
            .route(
                "/device_authorization",
                post(|State(s): State<Arc<Script>>| async move {
                    Json(json!({"device_code": "dc", "user_code": "ABCD-EFGH",
                "verification_uri": format!("{}/device", s.url), "expires_in": 600, "interval": 2}))
                }),
            )
            .route("/token", post(token))
            .with_state(s.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    s
}

async fn token(State(s): State<Arc<Script>>) -> (StatusCode, Json<Value>) {
    let next = s.answers.lock().unwrap().remove(0);
    if next != "ok" {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": next})));
    }
    let now = signoff::protocol::Timestamp::now().unix_millis() / 1000;
    let claims = json!({"iss": s.url, "sub": "carol", "aud": "console", "iat": now,
        "exp": now + 300, "groups": ["sre"]});
    let id_token = s.signer.sign("JWT", &claims);
    let access = s.signer.sign("at+jwt", &claims);
    (
        StatusCode::OK,
        Json(json!({"access_token": access, "token_type": "Bearer",
        "expires_in": 300, "id_token": id_token})),
    )
}

#[tokio::test]
async fn slow_down_adds_five_seconds_to_the_interval() {
    let s = scripted(vec![
        "authorization_pending",
        "slow_down",
        "authorization_pending",
        "ok",
    ])
    .await;
    let auth = start_device_flow(&IssuerConfig::new(s.url.clone(), "console"))
        .await
        .unwrap();
    assert_eq!(auth.interval, Duration::from_secs(2));
    let slept = Arc::new(Mutex::new(Vec::new()));
    let rec = slept.clone();
    let session = auth
        .poll(move |d| {
            rec.lock().unwrap().push(d);
            no_sleep(d)
        })
        .await
        .unwrap();
    assert_eq!(session.identity.subject, "carol");
    let secs: Vec<u64> = slept
        .lock()
        .unwrap()
        .iter()
        .map(Duration::as_secs)
        .collect();
    assert_eq!(
        secs,
        [2, 7, 7],
        "pending keeps the interval, slow_down adds 5 s"
    );
}

#[tokio::test]
async fn other_refusals_are_named() {
    let s = scripted(vec!["authorization_pending", "access_denied"]).await;
    let auth = start_device_flow(&IssuerConfig::new(s.url.clone(), "console"))
        .await
        .unwrap();
    let e = auth.poll(no_sleep).await.unwrap_err();
    assert!(e.to_string().contains("access_denied"), "{e}");
}

#[tokio::test]
async fn a_session_file_others_can_read_is_refused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = dev_issuer::start(listener, fast()).await.unwrap();
    let session = start_device_flow(&issuer.issuer_config()).await.unwrap();
    let session = session.poll(|d| tokio::time::sleep(d)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::new(dir.path());
    store.save(&session).unwrap();
    let path = store.session_path();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let msg = store.load().unwrap_err().to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("644") && msg.contains("chmod 600"), "{msg}");
    assert!(!msg.contains(&session.access_token));
    // The console's token source says the same, and never hands out the token.
    match store.bearer().await {
        Err(TokenError::SignedOut(m)) => assert!(m.contains("chmod 600"), "{m}"),
        other => panic!("expected a refusal, got {:?}", other.map(|_| "<token>")),
    }
    // Fixed as the message says, it works again.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(store.bearer().await.unwrap(), session.access_token);
    issuer.shutdown().await;
}

#[tokio::test]
async fn dev_issuer_codes_expire_and_strangers_are_refused() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cfg = DevIssuerConfig {
        confirm_delay: Duration::from_secs(3600),
        device_code_ttl: Duration::from_secs(1),
        ..DevIssuerConfig::default()
    };
    let issuer = dev_issuer::start(listener, cfg).await.unwrap();
    let auth = start_device_flow(&issuer.issuer_config()).await.unwrap();
    let e = auth.poll(|d| tokio::time::sleep(d)).await.unwrap_err();
    assert_eq!(e, signoff::identity::DeviceFlowError::Expired);

    let stranger = IssuerConfig::new(issuer.issuer_url.clone(), "not-the-console");
    let e = start_device_flow(&stranger).await.unwrap_err();
    assert!(e.to_string().contains("invalid_client"), "{e}");
    issuer.shutdown().await;
}
