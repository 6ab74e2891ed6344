//! A token that expires while its feed is open: the broker closes that feed as
//! `unauthorized` at the token's `exp`, so an expired token cannot keep deciding on a
//! connection it opened while valid; the console's feed client then reconnects with a
//! fresh token from its token source instead of signing the approver out.
//!
//! Real parts: a JWKS issuer over HTTP on 127.0.0.1, JWTs signed here, the real broker
//! validating them, real websockets.

mod broker_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use broker_common::{AGENT, Feed, Http, WAIT};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use signoff::auth::jwt::{JwtAuthenticator, JwtConfig};
use signoff::auth::static_tokens::StaticTokens;
use signoff::auth::{Authenticator, BoxFuture, Chain};
use signoff::broker::policy::Engine;
use signoff::broker::{RunningBroker, Settings};
use signoff::client::{FeedConfig, FeedEvent, feed};
use signoff::identity::dev_issuer::Signer;
use signoff::identity::{TokenError, TokenSource};
use signoff::protocol::{ErrorCode, ServerMsg, Timestamp};

/// An issuer (discovery + JWKS) on 127.0.0.1 and the key it signs with.
struct Issuer {
    url: String,
    signer: Signer,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Issuer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let signer = Signer::from_key(SigningKey::from_bytes(&[9; 32]));
        let disc = json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
        let jwks = json!({"keys": [signer.jwk()]});
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { Json(disc) }),
            )
            .route("/jwks", get(move || async move { Json(jwks) }));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            signer,
            server,
        }
    }

    /// An approver token for bob that expires `secs` from now.
    fn token(&self, secs: i64) -> String {
        let now = Timestamp::now().unix_millis() / 1000;
        let claims: Value = json!({
            "iss": self.url, "aud": "signoff", "sub": "bob", "email": "bob@example.com",
            "groups": ["sre"], "iat": now, "nbf": now, "exp": now + secs,
        });
        self.signer.sign("at+jwt", &claims)
    }

    /// A real broker validating this issuer's JWTs (no leeway), plus the agent tokens.
    async fn broker(&self, dir: &std::path::Path) -> RunningBroker {
        let cfg: JwtConfig = serde_json::from_value(json!({
            "issuer": self.url, "audience": "signoff", "leeway_secs": 0,
        }))
        .expect("jwt config");
        let jwt = JwtAuthenticator::new(cfg).expect("jwt authenticator");
        let auth: Arc<dyn Authenticator> = Arc::new(Chain(vec![
            Arc::new(StaticTokens::new(broker_common::tokens())),
            Arc::new(jwt),
        ]));
        signoff::broker::spawn(Settings::new(auth, Engine::default(), dir))
            .await
            .expect("broker starts")
    }
}

#[tokio::test]
async fn the_broker_closes_a_feed_when_its_token_expires() {
    let issuer = Issuer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = issuer.broker(dir.path()).await;

    // A token valid for 2 s opens the feed and receives events while it is valid.
    let (mut short, _) = Feed::connect(&broker, &issuer.token(2), None).await;
    assert!(matches!(short.next().await, ServerMsg::Snapshot { .. }));
    // A long-lived token's feed, opened at the same time, outlives it.
    let (mut long, _) = Feed::connect(&broker, &issuer.token(600), None).await;
    assert!(matches!(long.next().await, ServerMsg::Snapshot { .. }));

    // At expiry the short feed is told why, then closed.
    let code = tokio::time::timeout(WAIT, async {
        loop {
            if let ServerMsg::Error { code, .. } = short.next().await {
                return code;
            }
        }
    })
    .await
    .expect("the expired feed is closed within the wait");
    assert_eq!(code, ErrorCode::Unauthorized);
    short.closed().await;

    // The long feed still gets new actions.
    Http::new(&broker)
        .submit(AGENT, &broker_common::request("after the expiry"))
        .await;
    let ev = long.next().await;
    assert!(matches!(ev, ServerMsg::Pending { .. }), "{ev:?}");
    // And the expired token cannot open a new feed.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        broker.feed_url(),
    )
    .expect("request");
    let stale = issuer.token(-5);
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {stale}").parse().expect("header"),
    );
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
}

/// Hands out a short-lived token first, then long-lived ones, like a session that
/// refreshes.
struct Refreshing {
    issuer: Arc<Issuer>,
    calls: AtomicUsize,
}

impl TokenSource for Refreshing {
    fn bearer(&self) -> BoxFuture<'_, Result<String, TokenError>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let t = self.issuer.token(if n == 0 { 2 } else { 600 });
        Box::pin(async move { Ok(t) })
    }
}

#[tokio::test]
async fn the_console_feed_reconnects_with_a_fresh_token_instead_of_signing_out() {
    let issuer = Arc::new(Issuer::start().await);
    let dir = tempfile::tempdir().expect("temp dir");
    let broker = issuer.broker(dir.path()).await;
    let tokens = Arc::new(Refreshing {
        issuer: issuer.clone(),
        calls: AtomicUsize::new(0),
    });
    let mut config = FeedConfig::new(broker.url());
    config.backoff.base = Duration::from_millis(50);
    let mut h = feed::spawn(config, tokens.clone());
    let mut welcomes = 0;
    let mut saw_unauthorized = false;
    let done = tokio::time::timeout(WAIT, async {
        while let Some(ev) = h.events.recv().await {
            match ev {
                FeedEvent::SignedOut { reason } => panic!("signed out: {reason}"),
                FeedEvent::Server(m) => match *m {
                    ServerMsg::Welcome { .. } => {
                        welcomes += 1;
                        if welcomes == 2 {
                            return;
                        }
                    }
                    ServerMsg::Error { code, .. } => {
                        saw_unauthorized |= code == ErrorCode::Unauthorized;
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    })
    .await;
    assert!(done.is_ok(), "a second welcome within the wait");
    assert!(
        saw_unauthorized,
        "the first feed ended because its token expired"
    );
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 2, "one fresh token");
}
