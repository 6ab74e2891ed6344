//! The session store: tokens in a 0600 file in the data dir, refreshed silently.
//!
//! The console and the agent side ask [`SessionStore`] (as a [`TokenSource`]) for a bearer
//! token; it refreshes with the refresh token shortly before the access token expires, so
//! an approver signed in in the morning is still signed in at 3 a.m. without a prompt.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openidconnect::{OAuth2TokenResponse as _, RefreshToken};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::files::{self, FileError};
use super::oidc::{self, IssuerConfig, IssuerError};
use super::session_lock::SessionLock;
use super::{TokenError, TokenSource};
use crate::auth::BoxFuture;
use crate::protocol::Timestamp;
use crate::protocol::messages::Identity;

/// Name of the session file inside the data dir.
pub const SESSION_FILE: &str = "session.json";
/// Name of the device key file inside the data dir.
pub const DEVICE_KEY_FILE: &str = "device-key";
/// Environment variable that overrides the data dir (tests, several identities).
pub const DATA_DIR_ENV: &str = "SIGNOFF_DATA_DIR";

/// A signed-in approver: tokens and who they belong to. `Debug` never shows a token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub issuer: IssuerConfig,
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    /// When the access token expires.
    pub expires_at: Timestamp,
    pub obtained_at: Timestamp,
    pub identity: Identity,
    /// The broker this session registered its device key with, if any.
    #[serde(default)]
    pub broker: Option<String>,
}

impl Session {
    /// Seconds until the access token expires (negative once expired).
    pub fn expires_in_secs(&self, now: Timestamp) -> i64 {
        now.millis_until(self.expires_at) / 1000
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("issuer", &self.issuer)
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .field("identity", &self.identity)
            .field("broker", &self.broker)
            .finish()
    }
}

/// Why the session store could not give a session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("not signed in: run `signoff login`")]
    NotSignedIn,
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{path} is not a valid session file ({detail}); run `signoff login` again")]
    Corrupt { path: String, detail: String },
    #[error("no data directory: set {DATA_DIR_ENV} or HOME")]
    NoDataDir,
    #[error(transparent)]
    Issuer(#[from] IssuerError),
    #[error("the session can no longer be refreshed ({0}); run `signoff login` again")]
    RefreshRefused(String),
}

impl From<SessionError> for TokenError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Issuer(IssuerError::Unreachable(m)) => TokenError::Unreachable(m),
            SessionError::Issuer(IssuerError::Discovery { detail, .. }) => {
                TokenError::Unreachable(detail)
            }
            other => TokenError::SignedOut(other.to_string()),
        }
    }
}

/// The default data dir: `$SIGNOFF_DATA_DIR`, else the platform data dir for signoff.
pub fn default_data_dir() -> Result<PathBuf, SessionError> {
    if let Some(d) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("dev", "signoff", "signoff")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or(SessionError::NoDataDir)
}

/// Reads, writes and refreshes the session in one data dir.
pub struct SessionStore {
    dir: PathBuf,
    http: reqwest::Client,
    refresh_margin: Duration,
    /// Serialises refreshes so two callers never spend the same (rotating) refresh token.
    refresh_lock: Mutex<()>,
}

impl SessionStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            http: oidc::http_client(),
            refresh_margin: Duration::from_secs(60),
            refresh_lock: Mutex::new(()),
        }
    }

    /// How long before expiry the access token is refreshed (default 60 s).
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn session_path(&self) -> PathBuf {
        self.dir.join(SESSION_FILE)
    }

    pub fn device_key_path(&self) -> PathBuf {
        self.dir.join(DEVICE_KEY_FILE)
    }

    /// The stored session, as is (possibly expired); `None` when signed out.
    pub fn load(&self) -> Result<Option<Session>, SessionError> {
        let path = self.session_path();
        let Some(bytes) = files::read_private(&path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SessionError::Corrupt {
                path: path.display().to_string(),
                detail: e.to_string(),
            })
    }

    pub fn save(&self, session: &Session) -> Result<(), SessionError> {
        let bytes = serde_json::to_vec_pretty(session).map_err(|e| SessionError::Corrupt {
            path: self.session_path().display().to_string(),
            detail: e.to_string(),
        })?;
        files::write_private(&self.session_path(), &bytes)?;
        Ok(())
    }

    /// Deletes the session file; returns whether there was one.
    pub fn delete(&self) -> Result<bool, SessionError> {
        Ok(files::remove_private(&self.session_path())?)
    }

    /// A session whose access token is valid for at least the refresh margin, refreshing
    /// first when needed.
    pub async fn valid_session(&self) -> Result<Session, SessionError> {
        let session = self.load()?.ok_or(SessionError::NotSignedIn)?;
        if !self.needs_refresh(&session) {
            return Ok(session);
        }
        let _guard = self.refresh_lock.lock().await;
        let _locked = SessionLock::acquire(&self.dir).await?;
        // Another caller or process may have refreshed, or signed out, while this one waited.
        let session = self.load()?.ok_or(SessionError::NotSignedIn)?;
        if !self.needs_refresh(&session) {
            return Ok(session);
        }
        match self.exchange_and_save(&session).await {
            Ok(fresh) => Ok(fresh),
            // The issuer is down but the token still works: keep using it until it expires
            // (the next call tries again).
            Err(SessionError::Issuer(e)) if Timestamp::now() < session.expires_at => {
                tracing::warn!(error = %e, "refresh failed; using the current token until it expires");
                Ok(session)
            }
            Err(e) => Err(e),
        }
    }

    fn needs_refresh(&self, s: &Session) -> bool {
        let margin = i64::try_from(self.refresh_margin.as_millis()).unwrap_or(i64::MAX);
        Timestamp::now().millis_until(s.expires_at) <= margin
    }

    /// Exchanges the refresh token for new tokens and stores them, under the session lock;
    /// `NotSignedIn` when the session was removed meanwhile (it is not written back).
    pub async fn refresh(&self, session: &Session) -> Result<Session, SessionError> {
        let _guard = self.refresh_lock.lock().await;
        let _locked = SessionLock::acquire(&self.dir).await?;
        if self.load()?.is_none() {
            return Err(SessionError::NotSignedIn);
        }
        self.exchange_and_save(session).await
    }

    /// Stores a new session (a sign-in) under the session lock, so a refresh of the
    /// previous one in another process cannot overwrite it.
    pub async fn replace(&self, session: &Session) -> Result<(), SessionError> {
        let _locked = SessionLock::acquire(&self.dir).await?;
        self.save(session)
    }

    /// The refresh itself; the caller holds the session lock.
    async fn exchange_and_save(&self, session: &Session) -> Result<Session, SessionError> {
        let Some(rt) = session.refresh_token.clone() else {
            return Err(SessionError::RefreshRefused(
                "the issuer gave no refresh token".into(),
            ));
        };
        let meta = oidc::discover(&session.issuer, &self.http).await?;
        let client = oidc::client(&session.issuer, meta.clone());
        let rt = RefreshToken::new(rt);
        let req = client
            .exchange_refresh_token(&rt)
            .map_err(|e| IssuerError::BadTokenResponse(e.to_string()))?;
        let resp = match req.request_async(&self.http).await {
            Ok(r) => r,
            Err(openidconnect::RequestTokenError::ServerResponse(e)) => {
                return Err(SessionError::RefreshRefused(e.error().to_string()));
            }
            Err(openidconnect::RequestTokenError::Request(e)) => {
                return Err(IssuerError::Unreachable(oidc::error_chain(&e)).into());
            }
            Err(e) => return Err(IssuerError::BadTokenResponse(oidc::error_chain(&e)).into()),
        };
        tracing::debug!(
            subject = %session.identity.subject,
            rotated = resp.refresh_token().is_some(),
            "session refreshed"
        );
        let fresh = oidc::session_from_response(&session.issuer, &meta, &resp, Some(session))?;
        self.save(&fresh)?;
        Ok(fresh)
    }
}

impl TokenSource for SessionStore {
    fn bearer(&self) -> BoxFuture<'_, Result<String, TokenError>> {
        Box::pin(async move {
            let s = self.valid_session().await?;
            Ok(s.access_token)
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn session() -> Session {
        Session {
            issuer: IssuerConfig::new("https://id.example", "console"),
            access_token: "AT-SECRET".into(),
            refresh_token: Some("RT-SECRET".into()),
            id_token: None,
            expires_at: Timestamp::now().plus_secs(3600),
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

    #[test]
    fn debug_redacts_tokens() {
        let s = format!("{:?}", session());
        assert!(!s.contains("SECRET"), "{s}");
        assert!(s.contains("alice"));
    }

    #[tokio::test]
    async fn saved_0600_and_served_without_refresh() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        store.save(&session()).unwrap();
        let mode = std::fs::metadata(store.session_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(store.bearer().await.unwrap(), "AT-SECRET");
    }

    #[tokio::test]
    async fn unreachable_issuer_keeps_a_still_valid_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path()).with_refresh_margin(Duration::from_secs(7200));
        let mut s = session();
        // A port nothing listens on: discovery fails at once.
        s.issuer = IssuerConfig::new("http://127.0.0.1:9", "console");
        store.save(&s).unwrap();
        assert_eq!(store.bearer().await.unwrap(), "AT-SECRET");
        s.expires_at = Timestamp::now().plus_secs(-1);
        store.save(&s).unwrap();
        let e = store.bearer().await.unwrap_err();
        assert!(matches!(e, TokenError::Unreachable(_)), "{e}");
        assert!(!e.to_string().contains("SECRET"));
    }

    #[tokio::test]
    async fn signed_out_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::new(dir.path());
        let e = store.bearer().await.unwrap_err();
        assert!(
            matches!(e, TokenError::SignedOut(ref m) if m.contains("signoff login")),
            "{e}"
        );
    }
}
