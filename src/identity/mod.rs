//! The approver's identity: OIDC device-flow sign-in, the session store with silent
//! refresh, and the device signing key.
//!
//! The console drives sign-in as steps ([`start_device_flow`], then
//! [`DeviceAuthorization::poll`]) and draws [`qr_lines`]; the CLI's `login`, `logout`,
//! `whoami` and `keys` handlers live in [`cli`]. The broker's side of identity (JWT
//! validation against the issuer's JWKS) is [`crate::auth::jwt::JwtAuthenticator`] with
//! [`crate::auth::jwks`]; the console's sign-in adapter is `console::edge::device_login`; [`dev_issuer`] is the loopback-only issuer for local use.

use crate::auth::BoxFuture;

pub mod broker_keys;
pub mod cli;
pub mod dev_issuer;
pub mod device_flow;
pub mod device_key;
pub mod files;
pub mod login;
pub mod oidc;
/// One person however spelled: moved to the protocol (votes carry it); the old path
/// stays for callers outside the crate's layers.
pub use crate::protocol::person;
pub mod qr;
pub mod session;
pub mod session_lock;

pub use broker_keys::{BrokerKeys, KeysError};
pub use device_flow::{DeviceAuthorization, DeviceFlowError, start_device_flow};
pub use device_key::{DeviceKey, KeyError};
pub use oidc::{IssuerConfig, IssuerError};
pub use qr::qr_lines;
pub use session::{Session, SessionError, SessionStore, default_data_dir};

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
