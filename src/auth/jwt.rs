//! OIDC bearer JWT validation against the issuer's JWKS.
//!
//! Every check has its own [`AuthError`] so that logs, metrics and tests can tell an
//! expired token from a forged one. The algorithm comes from the configured allow-list,
//! never from the token alone: `none` and every HMAC algorithm are refused before any key
//! is looked at (the classic "HS256 with the RSA public key as secret" attack).

use std::time::Duration;

use openidconnect::JsonWebKey as _;
use openidconnect::core::CoreJwsSigningAlgorithm;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AuthError, Authenticator, BoxFuture, Principal, PrincipalKind};
use crate::auth::jose;
use crate::auth::jwks::{JwksCache, JwksError};
use crate::protocol::Timestamp;
use crate::protocol::messages::Identity;

/// How the broker validates JWTs from one issuer (the `[oidc]` section of its config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The issuer URL; discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The audience tokens must carry (usually the console's client id or an API id).
    pub audience: String,
    /// Allowed signing algorithms; only RS256, ES256 and EdDSA may be listed.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock leeway for `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    #[serde(default = "default_subject_claim")]
    pub subject_claim: String,
    #[serde(default = "default_email_claim")]
    pub email_claim: String,
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Whether tokens from this issuer are approvers (console) or agents (client credentials).
    #[serde(default = "default_kind")]
    pub kind: PrincipalKind,
    /// Client ids whose client-credentials tokens (no user: `sub` is the client id) are
    /// agents, whatever `kind` says; lets one issuer serve both approvers and agents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agent_clients: Vec<String>,
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into(), "EdDSA".into()]
}
fn default_leeway() -> u64 {
    30
}
fn default_subject_claim() -> String {
    "sub".into()
}
fn default_email_claim() -> String {
    "email".into()
}
fn default_groups_claim() -> String {
    "groups".into()
}
fn default_kind() -> PrincipalKind {
    PrincipalKind::Approver
}

/// A configuration the validator cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtConfigError {
    #[error("algorithm {0:?} is not allowed for bearer tokens (use RS256, ES256 or EdDSA)")]
    Algorithm(String),
    #[error("no algorithms configured")]
    NoAlgorithms,
}

/// Parses an allowed algorithm name; only the three asymmetric ones the broker supports.
fn parse_alg(name: &str) -> Option<CoreJwsSigningAlgorithm> {
    match name {
        "RS256" => Some(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256),
        "ES256" => Some(CoreJwsSigningAlgorithm::EcdsaP256Sha256),
        "EdDSA" => Some(CoreJwsSigningAlgorithm::EdDsa),
        _ => None,
    }
}

/// Validates bearer JWTs from one issuer; implements [`Authenticator`].
pub struct JwtAuthenticator {
    cfg: JwtConfig,
    allowed: Vec<(String, CoreJwsSigningAlgorithm)>,
    jwks: JwksCache,
}

/// Default minimum time between JWKS refetches caused by unknown `kid`s.
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

impl JwtAuthenticator {
    pub fn new(cfg: JwtConfig) -> Result<Self, JwtConfigError> {
        Self::with_refetch_interval(cfg, DEFAULT_REFETCH_INTERVAL)
    }

    /// As [`JwtAuthenticator::new`], refetching the JWKS on an unknown `kid` at most once
    /// per `min_refetch`.
    pub fn with_refetch_interval(
        cfg: JwtConfig,
        min_refetch: Duration,
    ) -> Result<Self, JwtConfigError> {
        if cfg.algorithms.is_empty() {
            return Err(JwtConfigError::NoAlgorithms);
        }
        let allowed = cfg
            .algorithms
            .iter()
            .map(|a| {
                parse_alg(a)
                    .map(|p| (a.clone(), p))
                    .ok_or_else(|| JwtConfigError::Algorithm(a.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let jwks = JwksCache::new(cfg.issuer.clone(), min_refetch);
        Ok(Self { cfg, allowed, jwks })
    }

    pub fn config(&self) -> &JwtConfig {
        &self.cfg
    }

    /// How many times the JWKS was fetched so far.
    pub fn jwks_fetch_count(&self) -> u64 {
        self.jwks.fetch_count()
    }

    /// Validates a token and returns who it belongs to.
    pub async fn validate(&self, token: &str) -> Result<Principal, AuthError> {
        let c = jose::split(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        let alg_name = c
            .header
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some((_, alg)) = self.allowed.iter().find(|(n, _)| n == alg_name) else {
            return Err(AuthError::AlgorithmNotAllowed(visible_short(alg_name)));
        };
        if c.header.contains_key("crit") {
            return Err(AuthError::Malformed("unsupported critical header".into()));
        }
        // The issuer is checked before any key is fetched: a token from elsewhere never
        // makes the broker call its own issuer.
        let iss = c
            .claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if iss.trim_end_matches('/') != self.cfg.issuer.trim_end_matches('/') {
            return Err(AuthError::WrongIssuer {
                got: visible_short(iss),
                expected: self.cfg.issuer.clone(),
            });
        }
        let kid = c.header.get("kid").and_then(Value::as_str);
        let key = self.jwks.key_for(kid, alg).await.map_err(|e| match e {
            JwksError::UnknownKid(k) => AuthError::UnknownKeyId(visible_short(&k)),
            JwksError::Unavailable(m) => AuthError::Unavailable(m),
        })?;
        key.verify_signature(alg, c.signing_input.as_bytes(), &c.signature)
            .map_err(|_| AuthError::BadSignature)?;
        self.check_claims(&c.claims, Timestamp::now())
    }

    /// The checks after the signature: audience, time window, identity claims.
    fn check_claims(
        &self,
        claims: &Map<String, Value>,
        now: Timestamp,
    ) -> Result<Principal, AuthError> {
        let aud = jose::string_list(claims.get("aud"));
        if !aud.contains(&self.cfg.audience) {
            return Err(AuthError::WrongAudience {
                expected: self.cfg.audience.clone(),
            });
        }
        let now_s = now.unix_millis().div_euclid(1000);
        let leeway = i64::try_from(self.cfg.leeway_secs).unwrap_or(i64::MAX);
        let exp = numeric(claims, "exp").ok_or_else(|| AuthError::MissingClaim("exp".into()))?;
        if now_s > exp.saturating_add(leeway) {
            return Err(AuthError::Expired);
        }
        if let Some(nbf) = numeric(claims, "nbf")
            && now_s.saturating_add(leeway) < nbf
        {
            return Err(AuthError::NotYetValid);
        }
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(String::from);
        let subject = text(&self.cfg.subject_claim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AuthError::MissingClaim(self.cfg.subject_claim.clone()))?;
        let client = text("client_id").or_else(|| text("azp"));
        let is_agent_client = client
            .as_ref()
            .is_some_and(|c| *c == subject && self.cfg.agent_clients.contains(c));
        let kind = if is_agent_client {
            PrincipalKind::Agent
        } else {
            self.cfg.kind
        };
        let groups = match claims.get(&self.cfg.groups_claim) {
            Some(v) => jose::string_list(Some(v)),
            // Approvers are authorised by group: a token without the claim cannot be.
            None if kind == PrincipalKind::Approver => {
                return Err(AuthError::MissingClaim(self.cfg.groups_claim.clone()));
            }
            None => Vec::new(),
        };
        Ok(Principal {
            kind,
            identity: Identity {
                subject,
                email: text(&self.cfg.email_claim),
                name: text("name"),
                groups,
            },
            expires_at: Some(Timestamp::from_unix_millis(
                exp.saturating_add(leeway).saturating_mul(1000),
            )),
            issuer: self.cfg.issuer.clone(),
        })
    }
}

fn numeric(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    let v = claims.get(name)?;
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

/// Attacker-controlled text for an error message: visible characters, bounded length.
fn visible_short(s: &str) -> String {
    crate::text::truncate(&crate::text::visible_string(s), 80)
}

impl Authenticator for JwtAuthenticator {
    fn authenticate<'a>(&'a self, bearer: &'a str) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(async move {
            let r = self.validate(bearer).await;
            if let Err(e) = &r {
                tracing::debug!(reason = e.reason(), "bearer JWT refused");
            }
            r
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn auth(kind: PrincipalKind) -> JwtAuthenticator {
        let cfg: JwtConfig = serde_json::from_value(json!({
            "issuer": "https://id.example",
            "audience": "signoff",
            "kind": kind,
            "agent_clients": ["ci-bot"],
        }))
        .unwrap();
        JwtAuthenticator::new(cfg).unwrap()
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    const NOW: i64 = 1_800_000_000;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_unix_millis(s * 1000)
    }

    #[test]
    fn refuses_symmetric_or_unknown_algorithms_in_config() {
        let mut cfg: JwtConfig =
            serde_json::from_value(json!({"issuer": "https://i", "audience": "a"})).unwrap();
        assert_eq!(cfg.algorithms, ["RS256", "ES256", "EdDSA"]);
        cfg.algorithms = vec!["HS256".into()];
        assert_eq!(
            JwtAuthenticator::new(cfg.clone()).err(),
            Some(JwtConfigError::Algorithm("HS256".into()))
        );
        cfg.algorithms = vec![];
        assert_eq!(
            JwtAuthenticator::new(cfg).err(),
            Some(JwtConfigError::NoAlgorithms)
        );
    }

    #[test]
    fn time_window_with_leeway() {
        let a = auth(PrincipalKind::Approver);
        let base = json!({"aud": "signoff", "sub": "alice", "groups": ["sre"]});
        let mut c = claims(base.clone());
        c.insert("exp".into(), json!(NOW - 10));
        assert!(a.check_claims(&c, at(NOW)).is_ok(), "within leeway");
        c.insert("exp".into(), json!(NOW - 31));
        assert_eq!(a.check_claims(&c, at(NOW)), Err(AuthError::Expired));
        c.insert("exp".into(), json!(NOW + 600));
        c.insert("nbf".into(), json!(NOW + 31));
        assert_eq!(a.check_claims(&c, at(NOW)), Err(AuthError::NotYetValid));
        c.insert("nbf".into(), json!(NOW + 20));
        assert!(a.check_claims(&c, at(NOW)).is_ok());
        c.remove("exp");
        assert_eq!(
            a.check_claims(&c, at(NOW)),
            Err(AuthError::MissingClaim("exp".into()))
        );
    }

    #[test]
    fn agent_clients_and_groups() {
        let a = auth(PrincipalKind::Approver);
        let agent = claims(
            json!({"aud": ["x", "signoff"], "sub": "ci-bot", "client_id": "ci-bot",
            "exp": NOW + 60}),
        );
        let p = a.check_claims(&agent, at(NOW)).unwrap();
        assert_eq!(p.kind, PrincipalKind::Agent);
        assert!(p.identity.groups.is_empty());
        // The same client acting for a user is that user, an approver.
        let user = claims(
            json!({"aud": "signoff", "sub": "alice", "client_id": "ci-bot",
            "exp": NOW + 60, "email": "a@x", "groups": "sre"}),
        );
        let p = a.check_claims(&user, at(NOW)).unwrap();
        assert_eq!(p.kind, PrincipalKind::Approver);
        assert_eq!(p.identity.groups, ["sre"]);
        assert_eq!(p.identity.email.as_deref(), Some("a@x"));
        let no_groups = claims(json!({"aud": "signoff", "sub": "alice", "exp": NOW + 60}));
        assert_eq!(
            a.check_claims(&no_groups, at(NOW)),
            Err(AuthError::MissingClaim("groups".into()))
        );
        let wrong_aud = claims(json!({"aud": "other", "sub": "alice", "exp": NOW + 60}));
        assert!(matches!(
            a.check_claims(&wrong_aud, at(NOW)),
            Err(AuthError::WrongAudience { .. })
        ));
    }
}
