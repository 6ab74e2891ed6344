//! What happens after the approver confirmed: store the session, make sure this device has
//! a signing key, and register the key with the broker. Shared by `signoff login` and the
//! console's login dialog.

use std::sync::Arc;

use super::broker_keys::{BrokerKeys, KeysError};
use super::device_key::{DeviceKey, KeyError};
use super::oidc::{self, IssuerError};
use super::session::{Session, SessionError, SessionStore};
use super::session_lock::SessionLock;
use crate::protocol::KeyId;
use crate::protocol::api::KeyRegistration;

/// How sign-in ended.
#[derive(Debug)]
pub struct LoginOutcome {
    pub session: Session,
    pub key_id: KeyId,
    /// The key file was created by this sign-in.
    pub key_created: bool,
    /// What the broker said about the key: `Some(true)` newly registered, `Some(false)`
    /// already registered, `None` when no broker is configured.
    pub registered: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("signed in, but the device key could not be registered with the broker: {0}")]
    Register(#[from] KeysError),
}

/// The label a device key is registered under: the host name.
pub fn device_label() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "signoff console".into())
}

/// Stores `session`, creates the device key on first sign-in, and registers it with the
/// broker (`session.broker`) when one is set. Registration is idempotent, so signing in
/// again on the same device is harmless.
pub async fn complete_login(
    store: &SessionStore,
    session: Session,
) -> Result<LoginOutcome, LoginError> {
    store.replace(&session).await?;
    let (key, key_created) = DeviceKey::load_or_create(&store.device_key_path())?;
    let registered = match &session.broker {
        Some(url) => Some(register_key(url, store, &key).await?),
        None => None,
    };
    Ok(LoginOutcome {
        session,
        key_id: key.key_id(),
        key_created,
        registered,
    })
}

/// Registers `key` with the broker at `url` under the stored session's identity.
pub async fn register_key(
    url: &str,
    store: &SessionStore,
    key: &DeviceKey,
) -> Result<bool, KeysError> {
    let token = Arc::new(SessionStore::new(store.dir()));
    let reg = KeyRegistration {
        public_key: key.public_key_b64(),
        label: device_label(),
    };
    let (_, created) = BrokerKeys::new(url, token).register(&reg).await?;
    Ok(created)
}

/// What `signoff logout` did.
#[derive(Debug, Default)]
pub struct LogoutOutcome {
    pub subject: Option<String>,
    /// Tokens revoked at the issuer (none when it has no revocation endpoint).
    pub revoked: Vec<&'static str>,
    /// Why revocation was skipped or failed, if it was.
    pub revocation_note: Option<String>,
    pub session_deleted: bool,
    pub key_deleted: bool,
}

/// Revokes the session's tokens where the issuer supports it, then deletes the session
/// file (and the device key when `forget_key`). Local files are deleted even when the
/// issuer cannot be reached: signing out must always work.
pub async fn logout(store: &SessionStore, forget_key: bool) -> Result<LogoutOutcome, SessionError> {
    let mut out = LogoutOutcome::default();
    // Held until the file is gone: a refresh in another process either finished before
    // (and the tokens read below are its fresh ones) or sees no session and writes nothing.
    let _locked = SessionLock::acquire(store.dir()).await?;
    let session = match store.load() {
        Ok(s) => s,
        // An unreadable (e.g. too open) session is still deleted.
        Err(SessionError::File(_)) | Err(SessionError::Corrupt { .. }) => None,
        Err(e) => return Err(e),
    };
    if let Some(s) = &session {
        out.subject = Some(s.identity.subject.clone());
        match revoke_tokens(s).await {
            Ok((revoked, note)) => {
                out.revoked = revoked;
                out.revocation_note = note;
            }
            Err(e) => out.revocation_note = Some(e.to_string()),
        }
        if out.revoked.is_empty() && out.revocation_note.is_none() {
            out.revocation_note = Some("the issuer has no revocation endpoint".into());
        }
    }
    out.session_deleted = store.delete()?;
    if forget_key {
        out.key_deleted = super::files::remove_private(&store.device_key_path())?;
    }
    Ok(out)
}

/// Revokes the refresh token (what matters: it mints new access tokens) and the access
/// token. Issuers often cannot revoke JWT access tokens; that is a note, not a failure.
async fn revoke_tokens(s: &Session) -> Result<(Vec<&'static str>, Option<String>), IssuerError> {
    let http = oidc::http_client();
    let meta = oidc::discover(&s.issuer, &http).await?;
    let Some(url) = meta.additional_metadata().revocation_endpoint.clone() else {
        return Ok((Vec::new(), None));
    };
    let url = url.url().clone();
    // Tokens travel only over TLS, except to a loopback issuer (development, tests).
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(IssuerError::BadTokenResponse(format!(
            "revocation endpoint {url} is not https"
        )));
    }
    let mut tokens: Vec<(&'static str, &str, &str)> = Vec::new();
    if let Some(rt) = &s.refresh_token {
        tokens.push(("refresh token", "refresh_token", rt));
    }
    tokens.push(("access token", "access_token", &s.access_token));
    let mut done = Vec::new();
    for (name, hint, token) in tokens {
        // RFC 7009: the client authenticates as at the token endpoint.
        let mut req = http.post(url.clone());
        let mut form = vec![("token", token), ("token_type_hint", hint)];
        match &s.issuer.client_secret {
            Some(secret) => req = req.basic_auth(&s.issuer.client_id, Some(secret)),
            None => form.push(("client_id", &s.issuer.client_id)),
        }
        let resp = req.form(&form).send().await.map_err(|e| {
            IssuerError::Unreachable(format!(
                "revoking the {name}: {}",
                oidc::error_chain(&e.without_url())
            ))
        })?;
        if resp.status().is_success() {
            done.push(name);
        } else if hint == "access_token" {
            let note = format!(
                "the issuer would not revoke the access token (HTTP {}); it expires at {}",
                resp.status().as_u16(),
                s.expires_at
            );
            return Ok((done, Some(note)));
        } else {
            return Err(IssuerError::BadTokenResponse(format!(
                "revoking the {name}: HTTP {}",
                resp.status()
            )));
        }
    }
    Ok((done, None))
}
