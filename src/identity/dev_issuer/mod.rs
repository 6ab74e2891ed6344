//! A minimal OIDC issuer for local use: discovery, JWKS, device authorization, token
//! (device code and refresh), revocation. Loopback only, loudly labelled.
//!
//! `signoff broker --dev` and `signoff demo` run it so that the console signs in through
//! exactly the same device-flow code as against a real issuer; device codes confirm
//! themselves for the configured development identity after a short, visible delay.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::PrincipalKind;
use crate::auth::jwt::JwtConfig;
use crate::identity::files;
use crate::identity::oidc::IssuerConfig;

mod routes;
mod signer;
mod state;

pub use signer::Signer;

/// The banner printed (and logged) on every start.
pub const BANNER: &str = "DEVELOPMENT ISSUER: for local use only. It signs in anyone who \
asks as the configured development identity. Never expose it or use it in production.";

/// A person the development issuer signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevIdentity {
    pub subject: String,
    pub email: String,
    pub name: String,
    pub groups: Vec<String>,
}

impl DevIdentity {
    /// A subject that already looks like an address is its own email; a bare name gets
    /// `@localhost`.
    pub fn new(subject: &str, groups: &[&str]) -> Self {
        let email = if subject.contains('@') {
            subject.to_string()
        } else {
            format!("{subject}@localhost")
        };
        Self {
            subject: subject.into(),
            email,
            name: subject.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }
}

/// How the development issuer behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevIssuerConfig {
    /// Who device codes are confirmed for.
    pub identity: DevIdentity,
    /// The console's client id (public client).
    pub client_id: String,
    /// The audience of access tokens (what the broker checks).
    pub audience: String,
    /// How long after the device authorization a code confirms itself.
    pub confirm_delay: Duration,
    pub access_token_ttl: Duration,
    pub device_code_ttl: Duration,
    /// The polling interval announced to clients.
    pub interval: Duration,
}

impl Default for DevIssuerConfig {
    fn default() -> Self {
        Self {
            identity: DevIdentity::new("dev-approver", &["sre", "security", "data-governance"]),
            client_id: "signoff-console".into(),
            audience: "signoff".into(),
            confirm_delay: Duration::from_secs(2),
            access_token_ttl: Duration::from_secs(15 * 60),
            device_code_ttl: Duration::from_secs(10 * 60),
            interval: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DevIssuerError {
    #[error(
        "the development issuer only listens on loopback (127.0.0.1 or ::1), not on {0}; \
         it signs anyone in and must not be reachable from other machines"
    )]
    NotLoopback(SocketAddr),
    #[error("development issuer: {0}")]
    Io(#[from] std::io::Error),
    #[error("development issuer state {0}")]
    State(String),
}

/// A running development issuer. Dropping it stops the server.
pub struct DevIssuer {
    /// `http://127.0.0.1:PORT`: the issuer identifier and base URL.
    pub issuer_url: String,
    state: Arc<state::State>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Starts the issuer on `listener`, which must be bound to a loopback address. Its key
/// and refresh grants live in memory and die with it (`signoff demo`, tests).
pub async fn start(
    listener: TcpListener,
    cfg: DevIssuerConfig,
) -> Result<DevIssuer, DevIssuerError> {
    start_with(listener, cfg, Signer::generate()?, None).await
}

/// Like [`start`], but keeps the signing key and live refresh grants in `file` (0600,
/// created on first start): restarted on the same port, the issuer still honours the
/// sessions it signed, so `signoff broker --dev` can restart without signing anyone out.
pub async fn start_persistent(
    listener: TcpListener,
    cfg: DevIssuerConfig,
    file: &Path,
) -> Result<DevIssuer, DevIssuerError> {
    let corrupt = |why: String| {
        DevIssuerError::State(format!(
            "{}: {why}; delete it to start afresh (everyone signs in again)",
            file.display()
        ))
    };
    let saved = files::read_private(file).map_err(|e| DevIssuerError::State(e.to_string()))?;
    let (signer, grants) = match saved {
        Some(bytes) => {
            let saved: state::Saved =
                serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
            let signer = Signer::from_hex(&saved.signing_key)
                .ok_or_else(|| corrupt("signing_key is not 32 bytes of hex".into()))?;
            (signer, saved.refresh)
        }
        None => (Signer::generate()?, state::Grants::new()),
    };
    start_with(listener, cfg, signer, Some((file.to_path_buf(), grants))).await
}

async fn start_with(
    listener: TcpListener,
    cfg: DevIssuerConfig,
    signer: Signer,
    persist: Option<(PathBuf, state::Grants)>,
) -> Result<DevIssuer, DevIssuerError> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        return Err(DevIssuerError::NotLoopback(addr));
    }
    let issuer_url = format!("http://{addr}");
    eprintln!(
        "\n!!! {BANNER}\n!!! issuer {issuer_url}, signing in as {:?}\n",
        cfg.identity.subject
    );
    tracing::warn!(issuer = %issuer_url, subject = %cfg.identity.subject, "{BANNER}");
    let mut st = state::State::new(issuer_url.clone(), cfg, signer);
    if let Some((file, grants)) = persist {
        st.file = Some(file);
        st.save(&grants);
        st.refresh = std::sync::Mutex::new(grants);
    }
    let state = Arc::new(st);
    let app = routes::router(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "development issuer stopped");
        }
    });
    Ok(DevIssuer {
        issuer_url,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}

impl DevIssuer {
    /// What the broker needs to validate this issuer's access tokens.
    pub fn jwt_config(&self) -> JwtConfig {
        JwtConfig {
            issuer: self.issuer_url.clone(),
            audience: self.state.cfg.audience.clone(),
            algorithms: vec!["EdDSA".into()],
            leeway_secs: 30,
            subject_claim: "sub".into(),
            email_claim: "email".into(),
            groups_claim: "groups".into(),
            kind: PrincipalKind::Approver,
            agent_clients: Vec::new(),
        }
    }

    /// What the console needs to sign in here.
    pub fn issuer_config(&self) -> IssuerConfig {
        IssuerConfig::new(self.issuer_url.clone(), self.state.cfg.client_id.clone())
    }

    /// An access token for `identity`, straight away (the demo's second approver).
    pub fn mint_token(&self, identity: &DevIdentity) -> String {
        self.state
            .access_token(identity, &self.state.cfg.client_id, "openid profile email")
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for DevIssuer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Dropped without `shutdown().await`: do not wait for idle keep-alive connections.
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
