//! Static bearer tokens from the config, stored as SHA-256 hashes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{AuthError, Authenticator, BoxFuture, Principal, PrincipalKind, hash_token};
use crate::protocol::messages::Identity;

/// One configured token: its hash and who it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticToken {
    /// `sha256:<hex>` or bare hex of SHA-256 over the token.
    pub token_sha256: String,
    pub kind: PrincipalKind,
    pub subject: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Looks tokens up by hash. Comparison of the hash is constant-time.
#[derive(Debug, Default)]
pub struct StaticTokens {
    by_hash: HashMap<String, StaticToken>,
}

impl StaticTokens {
    pub fn new(tokens: impl IntoIterator<Item = StaticToken>) -> Self {
        let by_hash = tokens
            .into_iter()
            .map(|t| {
                let h = t
                    .token_sha256
                    .trim_start_matches("sha256:")
                    .to_ascii_lowercase();
                (h, t)
            })
            .collect();
        Self { by_hash }
    }

    fn lookup(&self, bearer: &str) -> Option<&StaticToken> {
        let h = hash_token(bearer);
        // The map lookup is on a hash of the secret, so its timing reveals nothing usable;
        // the final comparison is constant-time anyway.
        self.by_hash
            .get_key_value(&h)
            .filter(|(k, _)| bool::from(k.as_bytes().ct_eq(h.as_bytes())))
            .map(|(_, v)| v)
    }
}

impl Authenticator for StaticTokens {
    fn authenticate<'a>(&'a self, bearer: &'a str) -> BoxFuture<'a, Result<Principal, AuthError>> {
        let result = self.lookup(bearer).map(|t| Principal {
            kind: t.kind,
            identity: Identity {
                subject: t.subject.clone(),
                email: t.email.clone(),
                name: t.name.clone(),
                groups: t.groups.clone(),
            },
            expires_at: None,
            issuer: crate::protocol::person::STATIC_ISSUER.to_string(),
        });
        Box::pin(async move { result.ok_or(AuthError::UnknownToken) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finds_by_hash_only() {
        let tokens = StaticTokens::new([StaticToken {
            token_sha256: format!("sha256:{}", hash_token("s3cret")),
            kind: PrincipalKind::Agent,
            subject: "ci-bot".into(),
            email: None,
            name: None,
            groups: vec![],
        }]);
        let p = tokens.authenticate("s3cret").await.unwrap();
        assert_eq!(p.subject(), "ci-bot");
        assert_eq!(p.kind, PrincipalKind::Agent);
        assert_eq!(
            tokens.authenticate("wrong").await,
            Err(AuthError::UnknownToken)
        );
        assert_eq!(
            tokens.authenticate(&hash_token("s3cret")).await,
            Err(AuthError::UnknownToken)
        );
    }
}
