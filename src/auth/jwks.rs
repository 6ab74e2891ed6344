//! The issuer's signing keys (JWKS), found through discovery and cached.
//!
//! A token naming an unknown `kid` triggers a refetch (the issuer may have rotated keys),
//! but at most once per interval, so a flood of forged `kid`s cannot turn the broker into
//! a load generator against the identity provider.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey as _, JsonWebKeyAlgorithm, JsonWebKeyUse as _};
use serde_json::Value;
use tokio::sync::Mutex;

/// Why no key could be found for a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error("signing key {0:?} is not in the issuer's key set")]
    UnknownKid(String),
    #[error("{0}")]
    Unavailable(String),
}

#[derive(Default)]
struct State {
    keys: Vec<CoreJsonWebKey>,
    last_fetch: Option<Instant>,
    last_ok: bool,
}

/// The JWKS of one issuer.
pub struct JwksCache {
    issuer: String,
    http: reqwest::Client,
    min_refetch: Duration,
    state: Mutex<State>,
    fetches: AtomicU64,
}

/// After a failed fetch, retry no sooner than this (an IdP outage at start-up heals fast).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

impl JwksCache {
    pub fn new(issuer: impl Into<String>, min_refetch: Duration) -> Self {
        Self {
            issuer: issuer.into().trim_end_matches('/').to_string(),
            http: super::http::http_client(),
            min_refetch,
            state: Mutex::new(State::default()),
            fetches: AtomicU64::new(0),
        }
    }

    /// How many times the key set was fetched (for metrics and tests).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The key that should verify a token with this `kid` and `alg`. Without a `kid`, the
    /// only key that fits the algorithm.
    pub async fn key_for(
        &self,
        kid: Option<&str>,
        alg: &CoreJwsSigningAlgorithm,
    ) -> Result<CoreJsonWebKey, JwksError> {
        let mut st = self.state.lock().await;
        if let Some(k) = pick(&st.keys, kid, alg) {
            return Ok(k);
        }
        let wait = if st.last_ok {
            self.min_refetch
        } else {
            RETRY_AFTER_FAILURE
        };
        let may_fetch = st.last_fetch.is_none_or(|t| t.elapsed() >= wait);
        if may_fetch {
            st.last_fetch = Some(Instant::now());
            self.fetches.fetch_add(1, Ordering::Relaxed);
            match self.fetch().await {
                Ok(keys) => {
                    st.keys = keys;
                    st.last_ok = true;
                }
                Err(e) => {
                    st.last_ok = false;
                    if st.keys.is_empty() {
                        return Err(JwksError::Unavailable(e));
                    }
                    tracing::warn!(issuer = %self.issuer, error = %e, "JWKS refetch failed");
                }
            }
            if let Some(k) = pick(&st.keys, kid, alg) {
                return Ok(k);
            }
        } else if !st.last_ok && st.keys.is_empty() {
            return Err(JwksError::Unavailable(format!(
                "the key set of {} could not be fetched",
                self.issuer
            )));
        }
        Err(JwksError::UnknownKid(kid.unwrap_or("<none>").to_string()))
    }

    async fn fetch(&self) -> Result<Vec<CoreJsonWebKey>, String> {
        let disc_url = format!("{}/.well-known/openid-configuration", self.issuer);
        let disc: Value = self.get_json(&disc_url).await?;
        let issuer = disc
            .get("issuer")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if issuer.trim_end_matches('/') != self.issuer {
            return Err(format!(
                "discovery at {disc_url} names issuer {issuer:?}, not {:?}",
                self.issuer
            ));
        }
        let Some(jwks_uri) = disc.get("jwks_uri").and_then(Value::as_str) else {
            return Err(format!("discovery at {disc_url} has no jwks_uri"));
        };
        let set: Value = self.get_json(jwks_uri).await?;
        let keys = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{jwks_uri} has no keys array"))?;
        // Keys of types this build cannot use (or malformed ones) are skipped, not fatal.
        let keys: Vec<CoreJsonWebKey> = keys
            .iter()
            .filter_map(|k| serde_json::from_value(k.clone()).ok())
            .filter(|k: &CoreJsonWebKey| k.key_use().is_none_or(|u| u.allows_signature()))
            .collect();
        tracing::info!(issuer = %self.issuer, keys = keys.len(), "fetched JWKS");
        Ok(keys)
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{url}: {}", super::http::error_chain(&e.without_url())))?;
        if !resp.status().is_success() {
            return Err(format!("{url}: HTTP {}", resp.status()));
        }
        resp.json().await.map_err(|e| format!("{url}: {e}"))
    }
}

fn pick(
    keys: &[CoreJsonWebKey],
    kid: Option<&str>,
    alg: &CoreJwsSigningAlgorithm,
) -> Option<CoreJsonWebKey> {
    let fits = |k: &&CoreJsonWebKey| match k.signing_alg() {
        JsonWebKeyAlgorithm::Algorithm(a) => a == alg,
        JsonWebKeyAlgorithm::Unspecified => true,
        JsonWebKeyAlgorithm::Unsupported => false,
    };
    match kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.key_id().is_some_and(|id| id.as_str() == kid))
            .cloned(),
        None => {
            let mut it = keys.iter().filter(fits);
            match (it.next(), it.next()) {
                (Some(k), None) => Some(k.clone()),
                _ => None,
            }
        }
    }
}
