//! Compact JWS pieces: split, decode and build `header.payload.signature` tokens.
//!
//! Shared by the broker's validator (which verifies before trusting anything), the session
//! store (which only reads claims of tokens it was just handed by the issuer over TLS) and
//! the development issuer (which signs).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value};

/// A compact JWS, split and decoded but not verified.
#[derive(Debug, Clone)]
pub struct Compact {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `base64url(header) "." base64url(payload)`: the bytes the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// Why a token is not a well-formed compact JWS. Never includes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    #[error("not three dot-separated parts")]
    Parts,
    #[error("{0} is not base64url")]
    Base64(&'static str),
    #[error("{0} is not a JSON object")]
    Json(&'static str),
}

/// Splits and decodes a compact JWS without checking its signature.
pub fn split(token: &str) -> Result<Compact, JoseError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Parts);
    };
    let header = decode_object(h, "header")?;
    let claims = decode_object(p, "payload")?;
    let signature = B64URL
        .decode(s)
        .map_err(|_| JoseError::Base64("signature"))?;
    Ok(Compact {
        header,
        claims,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

/// The claims of a JWT, unverified; `None` for opaque tokens.
pub fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    split(token).ok().map(|c| c.claims)
}

fn decode_object(part: &str, what: &'static str) -> Result<Map<String, Value>, JoseError> {
    let bytes = B64URL.decode(part).map_err(|_| JoseError::Base64(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JoseError::Json(what)),
    }
}

/// Encodes bytes as unpadded base64url.
pub fn b64url(bytes: &[u8]) -> String {
    B64URL.encode(bytes)
}

/// Builds a compact JWS: `sign` receives the signing input and returns the signature.
pub fn build(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64url(&sig))
}

/// The strings in a claim that may be a string or an array of strings (`aud`, `groups`).
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn build_then_split() {
        let t = build(&json!({"alg": "none"}), &json!({"sub": "a"}), |_| {
            vec![1, 2, 3]
        });
        let c = split(&t).unwrap();
        assert_eq!(c.header["alg"], "none");
        assert_eq!(c.claims["sub"], "a");
        assert_eq!(c.signature, vec![1, 2, 3]);
        assert!(t.starts_with(&c.signing_input));
    }

    #[test]
    fn malformed_tokens() {
        assert_eq!(split("abc").unwrap_err(), JoseError::Parts);
        assert_eq!(split("a.b.c.d").unwrap_err(), JoseError::Parts);
        assert_eq!(split("!!.e30.").unwrap_err(), JoseError::Base64("header"));
        assert_eq!(split("W10.e30.").unwrap_err(), JoseError::Json("header"));
        assert!(unverified_claims("opaque-token").is_none());
    }

    #[test]
    fn string_or_list() {
        assert_eq!(string_list(Some(&json!("x"))), vec!["x"]);
        assert_eq!(string_list(Some(&json!(["x", 1, "y"]))), vec!["x", "y"]);
        assert!(string_list(None).is_empty());
    }
}
