//! A `signoff logout` that lands while another session store (another console) is in the
//! middle of a refresh leaves no session behind, and revokes the refreshed token.
//!
//! The issuer is scripted on 127.0.0.1 and holds the refresh response until the test lets
//! it go, so the logout certainly starts while the refresh is in flight.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Form;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use signoff::identity::login::logout;
use signoff::identity::{IssuerConfig, Session, SessionStore};
use signoff::protocol::Timestamp;
use signoff::protocol::messages::Identity;
use tokio::sync::{Notify, mpsc};

const WAIT: Duration = Duration::from_secs(60);

struct Gate {
    /// Tells the test a refresh reached the token endpoint.
    in_flight: mpsc::UnboundedSender<()>,
    /// Lets the held refresh answer.
    release: Notify,
    /// Tokens the revocation endpoint was given.
    revoked: Mutex<Vec<String>>,
    revoke_seen: mpsc::UnboundedSender<()>,
}

async fn token(State(g): State<Arc<Gate>>) -> Json<Value> {
    let _ = g.in_flight.send(());
    g.release.notified().await;
    Json(
        json!({"access_token": "AT-2", "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": "RT-2"}),
    )
}

async fn revoke(State(g): State<Arc<Gate>>, Form(f): Form<Vec<(String, String)>>) {
    if let Some((_, t)) = f.iter().find(|(k, _)| k == "token") {
        g.revoked.lock().unwrap().push(t.clone());
    }
    let _ = g.revoke_seen.send(());
}

async fn issuer(gate: Arc<Gate>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let disc = json!({
        "issuer": url, "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"), "jwks_uri": format!("{url}/jwks"),
        "revocation_endpoint": format!("{url}/revoke"),
        "device_authorization_endpoint": format!("{url}/device_authorization"),
        "response_types_supported": ["code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
    });
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(disc) }),
        )
        .route("/jwks", get(|| async { Json(json!({"keys": []})) }))
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .with_state(gate);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn expiring_session(issuer: &str) -> Session {
    Session {
        issuer: IssuerConfig::new(issuer, "console"),
        access_token: "AT-1".into(),
        refresh_token: Some("RT-1".into()),
        id_token: None,
        // Inside the refresh margin: the next bearer() refreshes.
        expires_at: Timestamp::now().plus_secs(20),
        obtained_at: Timestamp::now(),
        identity: Identity {
            subject: "alice".into(),
            email: None,
            name: None,
            groups: vec!["sre".into()],
        },
        broker: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_during_a_refresh_leaves_no_session() {
    let (in_flight, mut in_flight_rx) = mpsc::unbounded_channel();
    let (revoke_seen, mut revoke_rx) = mpsc::unbounded_channel();
    let gate = Arc::new(Gate {
        in_flight,
        release: Notify::new(),
        revoked: Mutex::new(Vec::new()),
        revoke_seen,
    });
    let url = issuer(gate.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let console = Arc::new(SessionStore::new(dir.path()));
    console.save(&expiring_session(&url)).unwrap();

    let refreshing = tokio::spawn({
        let console = console.clone();
        async move { console.valid_session().await }
    });
    tokio::time::timeout(WAIT, in_flight_rx.recv())
        .await
        .expect("the refresh reaches the issuer");

    // A second store on the same directory: `signoff logout` in another terminal.
    let path = dir.path().to_path_buf();
    let logging_out = tokio::spawn(async move { logout(&SessionStore::new(path), false).await });
    // Without the lock the logout would revoke RT-1 now and delete the file before the
    // refresh writes it back; give it the chance to show that, then let the refresh answer.
    let early = tokio::time::timeout(Duration::from_millis(500), revoke_rx.recv()).await;
    assert!(
        early.is_err(),
        "logout revoked while a refresh held the session"
    );
    gate.release.notify_one();

    let fresh = tokio::time::timeout(WAIT, refreshing)
        .await
        .expect("refresh ends")
        .unwrap()
        .expect("the refresh succeeds");
    assert_eq!(fresh.access_token, "AT-2");
    let out = tokio::time::timeout(WAIT, logging_out)
        .await
        .expect("logout ends")
        .unwrap()
        .expect("logout succeeds");
    assert!(out.session_deleted);
    assert!(!console.session_path().exists(), "no session is left");
    // Logout re-read the file after taking the lock: it revoked the refreshed token.
    let revoked = gate.revoked.lock().unwrap().clone();
    assert_eq!(
        revoked.first().map(String::as_str),
        Some("RT-2"),
        "{revoked:?}"
    );
    // And the console, asked again, is signed out rather than resurrecting the session.
    assert!(console.valid_session().await.is_err());
}
