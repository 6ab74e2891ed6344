//! Standard Webhooks signatures (<https://www.standardwebhooks.com>) and retry backoff.
//!
//! A message is signed as `v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"))
//! where the key is the base64 after `whsec_` in the secret. Receivers verify with any
//! Standard Webhooks library (the tests use the `standardwebhooks` npm package).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use super::config::Retry;

/// A webhook signing key (the bytes behind `whsec_…`).
#[derive(Clone)]
pub struct WebhookKey(Vec<u8>);

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookKey(…)")
    }
}

impl WebhookKey {
    /// Reads `whsec_<base64>` (24 to 64 bytes of key).
    pub fn parse(secret: &str) -> Result<Self, String> {
        let b64 = secret
            .strip_prefix("whsec_")
            .ok_or("a webhook secret is whsec_ followed by base64 (Standard Webhooks)")?;
        let key = STANDARD
            .decode(b64)
            .map_err(|_| "the webhook secret after whsec_ is not base64")?;
        if !(24..=64).contains(&key.len()) {
            return Err(format!(
                "the webhook secret holds {} bytes; use 24 to 64 (e.g. whsec_ + 32 random bytes in base64)",
                key.len()
            ));
        }
        Ok(Self(key))
    }

    /// The `webhook-signature` header value for one message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The headers of a signed message: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
pub fn headers(
    key: &WebhookKey,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", key.sign(id, timestamp, body)),
    ]
}

/// The wait before attempt `attempts + 1`: `base · 2^attempts`, at most `max`, then
/// scaled by `0.5 + jitter/2` (`jitter` in 0..=1) so retries of many messages spread out.
pub fn backoff(r: &Retry, attempts: u32, jitter: f64) -> Duration {
    let exp = 2u32.saturating_pow(attempts.min(30));
    let full = r.base.saturating_mul(exp).min(r.max);
    full.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
}

/// A uniform number in 0..=1 from the system's random source.
pub fn jitter() -> f64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_spec_example() {
        // The example in the Standard Webhooks specification.
        let key = WebhookKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        assert!(WebhookKey::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookKey::parse("whsec_!!!").is_err());
        assert!(
            WebhookKey::parse("whsec_AAAA")
                .unwrap_err()
                .contains("3 bytes")
        );
        assert!(
            !format!(
                "{:?}",
                WebhookKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
            )
            .contains("Mf")
        );
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter_in_the_upper_half() {
        let r = Retry {
            timeout: Duration::from_secs(1),
            max_attempts: 10,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(backoff(&r, 0, 1.0), Duration::from_millis(100));
        assert_eq!(backoff(&r, 1, 1.0), Duration::from_millis(200));
        assert_eq!(backoff(&r, 3, 1.0), Duration::from_millis(800));
        assert_eq!(backoff(&r, 4, 1.0), Duration::from_secs(1), "capped");
        assert_eq!(backoff(&r, 60, 1.0), Duration::from_secs(1), "no overflow");
        assert_eq!(
            backoff(&r, 1, 0.0),
            Duration::from_millis(100),
            "half at least"
        );
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..=1.0).contains(&j));
        }
    }
}
