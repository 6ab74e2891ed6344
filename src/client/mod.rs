//! The console's connection to the broker: the websocket feed with reconnect and resume
//! ([`feed`]), its backoff schedule ([`backoff`]), and the HTTP calls ([`http`]).

pub mod backoff;
pub mod checkpoints;
pub mod feed;
pub mod http;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::protocol::time::Timestamp;

pub use feed::{FeedCommand, FeedConfig, FeedEvent, FeedHandle};
pub use http::BrokerHttp;

/// Why a call to the broker failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("broker URL {url:?}: {why}")]
    BadUrl { url: String, why: String },
    #[error(transparent)]
    Token(#[from] crate::identity::TokenError),
    #[error("cannot reach the broker: {0}")]
    Network(String),
    #[error("broker refused ({status}): {code}: {message}")]
    Api {
        status: u16,
        code: crate::protocol::ErrorCode,
        message: String,
    },
    #[error("unexpected answer from the broker ({status}): {detail}")]
    Unexpected { status: u16, detail: String },
}

/// The feed's websocket URL for a broker base URL: `http` becomes `ws`, `https` `wss`.
pub fn feed_url(broker_url: &str) -> Result<String, ClientError> {
    let base = broker_url.trim_end_matches('/');
    let rest = if let Some(r) = base.strip_prefix("https://") {
        format!("wss://{r}")
    } else if let Some(r) = base.strip_prefix("http://") {
        format!("ws://{r}")
    } else if base.starts_with("ws://") || base.starts_with("wss://") {
        base.to_string()
    } else {
        return Err(ClientError::BadUrl {
            url: broker_url.into(),
            why: "must start with http:// or https://".into(),
        });
    };
    Ok(format!("{rest}/v1/feed"))
}

/// The `exp` claim of a JWT bearer, read without verification, for display only (the
/// broker verifies). `None` for opaque tokens.
pub fn token_expiry(bearer: &str) -> Option<Timestamp> {
    let mut parts = bearer.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_i64()?;
    Some(Timestamp::from_unix_millis(exp.checked_mul(1000)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_url_maps_schemes() {
        assert_eq!(
            feed_url("http://127.0.0.1:8080").unwrap(),
            "ws://127.0.0.1:8080/v1/feed"
        );
        assert_eq!(
            feed_url("https://b.example/").unwrap(),
            "wss://b.example/v1/feed"
        );
        assert!(feed_url("ftp://x").is_err());
    }

    #[test]
    fn token_expiry_reads_jwt_exp_only() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"bob","exp":1795000000}"#);
        let jwt = format!("eyJhbGciOiJFUzI1NiJ9.{payload}.sig");
        assert_eq!(
            token_expiry(&jwt),
            Some(Timestamp::from_unix_millis(1_795_000_000_000))
        );
        assert_eq!(token_expiry("opaque-static-token"), None);
        assert_eq!(token_expiry("a.!!!.c"), None);
    }
}
