//! The development issuer's memory: pending device codes and live refresh tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{DevIdentity, DevIssuerConfig, Signer};
use crate::protocol::Timestamp;

pub struct DeviceCode {
    pub user_code: String,
    pub client_id: String,
    pub scope: String,
    pub created: Instant,
    pub expires: Instant,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub identity: DevIdentity,
    pub client_id: String,
    pub scope: String,
}

/// Live refresh grants, keyed by the SHA-256 of the refresh token (never the token itself,
/// so the file they are kept in holds nothing that signs anyone in).
pub type Grants = HashMap<String, RefreshGrant>;

/// What a persistent issuer keeps in its 0600 file: its signing key and live grants.
#[derive(Serialize, Deserialize)]
pub struct Saved {
    pub signing_key: String,
    #[serde(default)]
    pub refresh: Grants,
}

pub struct State {
    pub issuer: String,
    pub cfg: DevIssuerConfig,
    pub signer: Signer,
    pub device_codes: Mutex<HashMap<String, DeviceCode>>,
    pub refresh: Mutex<Grants>,
    /// Where key and grants are kept across restarts (`broker --dev`); `None`: memory only.
    pub file: Option<PathBuf>,
}

/// Random base64url text of `n` bytes.
pub fn random_token(n: usize) -> String {
    let mut b = vec![0u8; n];
    // getrandom failing means the OS has no entropy source: nothing sensible to fall back to.
    if getrandom::fill(&mut b).is_err() {
        b.iter_mut().enumerate().for_each(|(i, x)| *x = i as u8);
    }
    crate::auth::jose::b64url(&b)
}

/// A user code like `BCDF-GHJK` (no vowels: no words; no 0/O or 1/I confusion).
pub fn user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    let c: String = b
        .iter()
        .map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &c[..4], &c[4..])
}

impl State {
    pub fn new(issuer: String, cfg: DevIssuerConfig, signer: Signer) -> Self {
        Self {
            issuer,
            cfg,
            signer,
            device_codes: Mutex::new(HashMap::new()),
            refresh: Mutex::new(HashMap::new()),
            file: None,
        }
    }

    /// Takes a refresh grant out (refresh tokens are single-use), by its token.
    pub fn take_grant(&self, refresh_token: &str) -> Option<RefreshGrant> {
        let mut r = self.refresh.lock().ok()?;
        let g = r.remove(&crate::auth::hash_token(refresh_token));
        if g.is_some() {
            self.save(&r);
        }
        g
    }

    /// Writes key and grants to the issuer's file, when it has one. A failure is logged:
    /// the issuer keeps working, and only a restart would sign people out.
    pub fn save(&self, grants: &Grants) {
        let Some(path) = &self.file else { return };
        let saved = Saved {
            signing_key: self.signer.secret_hex(),
            refresh: grants.clone(),
        };
        let written = serde_json::to_vec(&saved)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                crate::identity::files::write_private(path, &b).map_err(|e| e.to_string())
            });
        if let Err(e) = written {
            tracing::warn!(error = %e, "development issuer: cannot save its state");
        }
    }

    fn ttl_secs(d: Duration) -> i64 {
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
    }

    /// A signed access token for the broker.
    pub fn access_token(&self, who: &DevIdentity, client_id: &str, scope: &str) -> String {
        let now = Timestamp::now().unix_millis() / 1000;
        let claims = json!({
            "iss": self.issuer,
            "sub": who.subject,
            "aud": self.cfg.audience,
            "iat": now,
            "nbf": now,
            "exp": now + Self::ttl_secs(self.cfg.access_token_ttl),
            "jti": random_token(12),
            "client_id": client_id,
            "scope": scope,
            "email": who.email,
            "name": who.name,
            "groups": who.groups,
        });
        self.signer.sign("at+jwt", &claims)
    }

    fn id_token(&self, who: &DevIdentity, client_id: &str) -> String {
        let now = Timestamp::now().unix_millis() / 1000;
        let claims = json!({
            "iss": self.issuer,
            "sub": who.subject,
            "aud": client_id,
            "iat": now,
            "exp": now + Self::ttl_secs(self.cfg.access_token_ttl),
            "email": who.email,
            "email_verified": true,
            "name": who.name,
            "groups": who.groups,
        });
        self.signer.sign("JWT", &claims)
    }

    /// A token response with a fresh refresh token (the old one, if any, is gone).
    pub fn token_response(&self, who: &DevIdentity, client_id: &str, scope: &str) -> Value {
        let refresh_token = random_token(32);
        if let Ok(mut r) = self.refresh.lock() {
            r.insert(
                crate::auth::hash_token(&refresh_token),
                RefreshGrant {
                    identity: who.clone(),
                    client_id: client_id.into(),
                    scope: scope.into(),
                },
            );
            self.save(&r);
        }
        json!({
            "access_token": self.access_token(who, client_id, scope),
            "token_type": "Bearer",
            "expires_in": self.cfg.access_token_ttl.as_secs(),
            "refresh_token": refresh_token,
            "id_token": self.id_token(who, client_id),
            "scope": scope,
        })
    }
}
