//! The broker's JWT validation: one rejection test per case, each with its own error,
//! against a real JWKS served over HTTP on 127.0.0.1 with tokens forged here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use ed25519_dalek::SigningKey;
use openidconnect::PrivateSigningKey as _;
use openidconnect::core::{CoreHmacKey, CoreJwsSigningAlgorithm};
use serde_json::{Value, json};
use signoff::auth::jose;
use signoff::auth::jwt::{JwtAuthenticator, JwtConfig};
use signoff::auth::{AuthError, Authenticator, PrincipalKind};
use signoff::identity::dev_issuer::Signer;

struct Jwks {
    keys: Mutex<Vec<Value>>,
    hits: AtomicU64,
}

/// A real issuer endpoint (discovery + JWKS) and the key it publishes.
struct Issuer {
    url: String,
    signer: Signer,
    jwks: Arc<Jwks>,
    _server: tokio::task::JoinHandle<()>,
}

async fn issuer() -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let signer = Signer::from_key(SigningKey::from_bytes(&[7; 32]));
    let jwks = Arc::new(Jwks {
        keys: Mutex::new(vec![signer.jwk()]),
        hits: AtomicU64::new(0),
    });
    let disc = json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(disc) }),
        )
        .route(
            "/jwks",
            get(|State(j): State<Arc<Jwks>>| async move {
                j.hits.fetch_add(1, Ordering::SeqCst);
                Json(json!({"keys": *j.keys.lock().unwrap()}))
            }),
        )
        .with_state(jwks.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Issuer {
        url,
        signer,
        jwks,
        _server: server,
    }
}

fn now() -> i64 {
    signoff::protocol::Timestamp::now().unix_millis() / 1000
}

impl Issuer {
    fn authenticator(&self) -> JwtAuthenticator {
        let cfg: JwtConfig = serde_json::from_value(json!({
            "issuer": self.url, "audience": "signoff", "leeway_secs": 5,
        }))
        .unwrap();
        JwtAuthenticator::with_refetch_interval(cfg, Duration::from_secs(60)).unwrap()
    }

    fn claims(&self) -> Value {
        json!({
            "iss": self.url, "aud": "signoff", "sub": "alice", "email": "alice@example.test",
            "groups": ["sre"], "iat": now(), "nbf": now(), "exp": now() + 300,
        })
    }

    fn sign(&self, claims: &Value) -> String {
        self.signer.sign("at+jwt", claims)
    }

    fn with(&self, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
        let mut c = self.claims();
        edit(c.as_object_mut().unwrap());
        self.sign(&c)
    }
}

async fn refused(i: &Issuer, token: &str) -> AuthError {
    i.authenticator().authenticate(token).await.unwrap_err()
}

#[tokio::test]
async fn a_good_token_is_accepted() {
    let i = issuer().await;
    let p = i
        .authenticator()
        .authenticate(&i.sign(&i.claims()))
        .await
        .unwrap();
    assert_eq!(p.kind, PrincipalKind::Approver);
    assert_eq!(p.identity.subject, "alice");
    assert_eq!(p.identity.email.as_deref(), Some("alice@example.test"));
    assert_eq!(p.identity.groups, ["sre"]);
}

#[tokio::test]
async fn expired_token() {
    let i = issuer().await;
    let t = i.with(|c| {
        c.insert("exp".into(), json!(now() - 60));
    });
    assert_eq!(refused(&i, &t).await, AuthError::Expired);
}

#[tokio::test]
async fn nbf_in_the_future() {
    let i = issuer().await;
    let t = i.with(|c| {
        c.insert("nbf".into(), json!(now() + 120));
    });
    assert_eq!(refused(&i, &t).await, AuthError::NotYetValid);
}

#[tokio::test]
async fn wrong_audience() {
    let i = issuer().await;
    let t = i.with(|c| {
        c.insert("aud".into(), json!(["another-api"]));
    });
    assert_eq!(
        refused(&i, &t).await,
        AuthError::WrongAudience {
            expected: "signoff".into()
        }
    );
}

#[tokio::test]
async fn wrong_issuer() {
    let i = issuer().await;
    let t = i.with(|c| {
        c.insert("iss".into(), json!("https://evil.example"));
    });
    let e = refused(&i, &t).await;
    assert!(
        matches!(&e, AuthError::WrongIssuer { got, .. } if got == "https://evil.example"),
        "{e}"
    );
    assert_eq!(
        i.jwks.hits.load(Ordering::SeqCst),
        0,
        "a foreign token fetches nothing"
    );
}

#[tokio::test]
async fn alg_none() {
    let i = issuer().await;
    let t = jose::build(&json!({"alg": "none", "typ": "JWT"}), &i.claims(), |_| {
        Vec::new()
    });
    assert_eq!(
        refused(&i, &t).await,
        AuthError::AlgorithmNotAllowed("none".into())
    );
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_as_secret() {
    let i = issuer().await;
    let kid = i.signer.kid().to_string();
    // The classic confusion attack: the public key, as published, used as an HMAC secret.
    let public = i.signer.jwk().to_string();
    let hmac = CoreHmacKey::new(public.into_bytes());
    let header = json!({"alg": "HS256", "kid": kid});
    let t = jose::build(&header, &i.claims(), |input| {
        hmac.sign(&CoreJwsSigningAlgorithm::HmacSha256, input)
            .unwrap()
    });
    assert_eq!(
        refused(&i, &t).await,
        AuthError::AlgorithmNotAllowed("HS256".into())
    );
}

#[tokio::test]
async fn unknown_kid() {
    let i = issuer().await;
    let other = Signer::from_key(SigningKey::from_bytes(&[9; 32]));
    let t = other.sign("at+jwt", &i.claims());
    assert_eq!(
        refused(&i, &t).await,
        AuthError::UnknownKeyId(other.kid().into())
    );
}

#[tokio::test]
async fn tampered_payload() {
    let i = issuer().await;
    let t = i.sign(&i.claims());
    let mut parts: Vec<String> = t.split('.').map(String::from).collect();
    let mut c = i.claims();
    c["sub"] = json!("mallory");
    parts[1] = jose::b64url(c.to_string().as_bytes());
    assert_eq!(refused(&i, &parts.join(".")).await, AuthError::BadSignature);
}

#[tokio::test]
async fn missing_group_claim() {
    let i = issuer().await;
    let t = i.with(|c| {
        c.remove("groups");
    });
    assert_eq!(
        refused(&i, &t).await,
        AuthError::MissingClaim("groups".into())
    );
}

#[tokio::test]
async fn malformed_token() {
    let i = issuer().await;
    assert!(matches!(
        refused(&i, "not-a-jwt").await,
        AuthError::Malformed(_)
    ));
}

/// Every case above maps to a distinct reason (for logs, metrics, and these tests).
#[test]
fn rejection_reasons_are_distinct() {
    let all = [
        AuthError::Expired,
        AuthError::NotYetValid,
        AuthError::WrongAudience {
            expected: String::new(),
        },
        AuthError::WrongIssuer {
            got: String::new(),
            expected: String::new(),
        },
        AuthError::AlgorithmNotAllowed(String::new()),
        AuthError::UnknownKeyId(String::new()),
        AuthError::BadSignature,
        AuthError::MissingClaim(String::new()),
    ];
    let mut reasons: Vec<_> = all.iter().map(|e| e.reason()).collect();
    reasons.sort();
    reasons.dedup();
    assert_eq!(reasons.len(), all.len());
}

#[tokio::test]
async fn rotated_key_is_fetched_on_unknown_kid() {
    let i = issuer().await;
    let cfg = i.authenticator().config().clone();
    let auth = JwtAuthenticator::with_refetch_interval(cfg, Duration::ZERO).unwrap();
    auth.authenticate(&i.sign(&i.claims())).await.unwrap();
    assert_eq!(auth.jwks_fetch_count(), 1);
    auth.authenticate(&i.sign(&i.claims())).await.unwrap();
    assert_eq!(
        auth.jwks_fetch_count(),
        1,
        "known kid: served from the cache"
    );
    // The issuer rotates: a token with the new key's kid triggers a refetch and passes.
    let rotated = Signer::from_key(SigningKey::from_bytes(&[8; 32]));
    i.jwks.keys.lock().unwrap().push(rotated.jwk());
    let p = auth
        .authenticate(&rotated.sign("at+jwt", &i.claims()))
        .await
        .unwrap();
    assert_eq!(p.identity.subject, "alice");
    assert_eq!(auth.jwks_fetch_count(), 2);
}

#[tokio::test]
async fn unknown_kids_refetch_at_most_once_per_interval() {
    let i = issuer().await;
    let auth = i.authenticator(); // 60 s between refetches
    auth.authenticate(&i.sign(&i.claims())).await.unwrap();
    for n in 0..20u8 {
        let forged = Signer::from_key(SigningKey::from_bytes(&[100 + n; 32]));
        let e = auth
            .authenticate(&forged.sign("at+jwt", &i.claims()))
            .await
            .unwrap_err();
        assert!(matches!(e, AuthError::UnknownKeyId(_)), "{e}");
    }
    assert_eq!(auth.jwks_fetch_count(), 1);
    assert_eq!(i.jwks.hits.load(Ordering::SeqCst), 1);
}

/// Validation cost once the key set is cached (printed; the assertion is that every
/// token passes and the JWKS was fetched once).
#[tokio::test]
async fn cached_validation_throughput() {
    let i = issuer().await;
    let auth = i.authenticator();
    let token = i.sign(&i.claims());
    let n = 2000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        auth.authenticate(&token).await.unwrap();
    }
    let per = start.elapsed() / n;
    eprintln!("EdDSA JWT validation with cached JWKS: {per:?} per token");
    assert_eq!(auth.jwks_fetch_count(), 1);
}
