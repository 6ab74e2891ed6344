//! The approver's identity: OIDC device-flow sign-in, the session store with silent
//! refresh, and the device signing key.

use crate::auth::BoxFuture;

/// Where the console and the agent side get a bearer token from. The identity module's
/// session store implements it with silent refresh; tests use [`FixedToken`].
pub trait TokenSource: Send + Sync + 'static {
    /// A currently valid bearer token, refreshing first when needed.
    fn bearer(&self) -> BoxFuture<'_, Result<String, TokenError>>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No session, or the refresh token is no longer accepted: sign in again.
    #[error("signed out: {0}")]
    SignedOut(String),
    /// The issuer could not be reached; try again later.
    #[error("identity provider unreachable: {0}")]
    Unreachable(String),
}

/// A token that never changes (agent tokens, tests).
pub struct FixedToken(pub String);

impl TokenSource for FixedToken {
    fn bearer(&self) -> BoxFuture<'_, Result<String, TokenError>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
}
