//! Authentication of bearer tokens, behind one trait.
//!
//! The broker's handlers only see [`Authenticator`]; static hashed tokens (agents, and
//! approvers in tests) and OIDC JWT validation are implementations of it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::protocol::messages::Identity;
use crate::protocol::{ErrorCode, Timestamp};

pub mod http;
pub mod jose;
pub mod jwks;
pub mod jwt;
pub mod static_tokens;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What kind of caller a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A human approver (console).
    Approver,
    /// An agent or pipeline submitting actions.
    Agent,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub identity: Identity,
    /// When the credential stops being valid (a JWT's `exp` plus the clock leeway);
    /// `None` for tokens that do not expire. A feed opened with it is closed then, so an
    /// expired token cannot keep deciding on a connection it opened while valid.
    pub expires_at: Option<Timestamp>,
    /// Who vouches for the identity: the OIDC issuer URL, or
    /// [`STATIC_ISSUER`](crate::protocol::person::STATIC_ISSUER) for static tokens.
    pub issuer: String,
}

impl Principal {
    /// The person behind the token, as every vote and self-approval check compares them.
    pub fn person(&self) -> crate::protocol::person::PersonKey {
        crate::protocol::person::PersonKey::authenticated(
            &self.issuer,
            &self.identity.subject,
            self.identity.email.as_deref(),
        )
    }

    pub fn subject(&self) -> &str {
        &self.identity.subject
    }

    pub fn in_any_group(&self, groups: &[String]) -> bool {
        self.identity.groups.iter().any(|g| groups.contains(g))
    }
}

/// Why a token was refused. Messages never contain the token itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error(
        "this broker does not know the token (not one of its agent or approver tokens, nor \
         signed by its issuer): was it restarted with new tokens, or is this the wrong broker?"
    )]
    UnknownToken,
    #[error("token is malformed: {0}")]
    Malformed(String),
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet (nbf in the future)")]
    NotYetValid,
    #[error("token audience does not include {expected:?}")]
    WrongAudience { expected: String },
    #[error("token issuer {got:?} is not {expected:?}")]
    WrongIssuer { got: String, expected: String },
    #[error("token algorithm {0} is not allowed")]
    AlgorithmNotAllowed(String),
    #[error("token signing key {0:?} is not in the issuer's key set")]
    UnknownKeyId(String),
    #[error("token signature does not verify")]
    BadSignature,
    #[error("token has no {0:?} claim")]
    MissingClaim(String),
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    #[error("this endpoint is for {expected:?} tokens")]
    WrongKind { expected: PrincipalKind },
}

impl AuthError {
    /// A stable machine-readable reason, for logs, metrics and tests.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::UnknownToken => "unknown_token",
            AuthError::Malformed(_) => "malformed",
            AuthError::Expired => "expired",
            AuthError::NotYetValid => "not_yet_valid",
            AuthError::WrongAudience { .. } => "wrong_audience",
            AuthError::WrongIssuer { .. } => "wrong_issuer",
            AuthError::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            AuthError::UnknownKeyId(_) => "unknown_kid",
            AuthError::BadSignature => "bad_signature",
            AuthError::MissingClaim(_) => "missing_claim",
            AuthError::Unavailable(_) => "unavailable",
            AuthError::WrongKind { .. } => "wrong_kind",
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::WrongKind { .. } => ErrorCode::Forbidden,
            AuthError::Unavailable(_) => ErrorCode::Internal,
            _ => ErrorCode::Unauthorized,
        }
    }
}

/// Turns a bearer token into a [`Principal`].
pub trait Authenticator: Send + Sync + 'static {
    fn authenticate<'a>(&'a self, bearer: &'a str) -> BoxFuture<'a, Result<Principal, AuthError>>;
}

/// Tries each authenticator in turn; the first that recognises the token wins.
/// An `UnknownToken` from one moves on to the next; any other error is final.
pub struct Chain(pub Vec<Arc<dyn Authenticator>>);

impl Authenticator for Chain {
    fn authenticate<'a>(&'a self, bearer: &'a str) -> BoxFuture<'a, Result<Principal, AuthError>> {
        Box::pin(async move {
            let mut last = AuthError::UnknownToken;
            for a in &self.0 {
                match a.authenticate(bearer).await {
                    Ok(p) => return Ok(p),
                    Err(AuthError::UnknownToken) => last = AuthError::UnknownToken,
                    // A JWT validator calls any opaque token malformed; only a token shaped
                    // like a JWT (three dot-separated parts) is worth that detail.
                    Err(AuthError::Malformed(m)) if looks_like_jwt(bearer) => {
                        last = AuthError::Malformed(m)
                    }
                    Err(AuthError::Malformed(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            Err(last)
        })
    }
}

fn looks_like_jwt(bearer: &str) -> bool {
    bearer.split('.').count() == 3
}

/// SHA-256 of a token, hex: how static tokens are stored in config files.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every token with one fixed error.
    struct Says(AuthError);

    impl Authenticator for Says {
        fn authenticate<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Principal, AuthError>> {
            let e = self.0.clone();
            Box::pin(async move { Err(e) })
        }
    }

    fn chain() -> Chain {
        Chain(vec![
            Arc::new(Says(AuthError::UnknownToken)),
            Arc::new(Says(AuthError::Malformed(
                "not three dot-separated parts".into(),
            ))),
        ])
    }

    #[tokio::test]
    async fn an_unknown_opaque_token_is_called_unknown_not_malformed() {
        let e = chain().authenticate("sot_dev_0123").await.unwrap_err();
        assert_eq!(e, AuthError::UnknownToken);
        let text = e.to_string();
        assert!(
            text.contains("does not know the token") && text.contains("restarted"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_jwt_shaped_token_keeps_the_malformed_detail() {
        let e = chain().authenticate("a.b.c").await.unwrap_err();
        assert!(matches!(e, AuthError::Malformed(_)), "{e:?}");
    }
}
