//! The development issuer's signing key: Ed25519 (EdDSA), generated at start.

use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::auth::jose;
use crate::protocol::decision::generate_signing_key;

/// A signing key with its `kid`, and its public half as a JWK.
pub struct Signer {
    key: SigningKey,
    kid: String,
}

impl Signer {
    pub fn generate() -> std::io::Result<Self> {
        Ok(Self::from_key(generate_signing_key()?))
    }

    pub fn from_key(key: SigningKey) -> Self {
        let kid = format!(
            "dev-{}",
            &hex::encode(Sha256::digest(key.verifying_key().as_bytes()))[..12]
        );
        Self { key, kid }
    }

    /// The private key as hex, for the issuer's own 0600 state file.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// A signer from [`Signer::secret_hex`] text.
    pub fn from_hex(s: &str) -> Option<Self> {
        let b: [u8; 32] = hex::decode(s.trim()).ok()?.try_into().ok()?;
        Some(Self::from_key(SigningKey::from_bytes(&b)))
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JSON Web Key (RFC 8037 OKP).
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": jose::b64url(self.key.verifying_key().as_bytes()),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    /// Signs `claims` as a compact JWS with `typ` in the header.
    pub fn sign(&self, typ: &str, claims: &Value) -> String {
        let header = json!({"alg": "EdDSA", "kid": self.kid, "typ": typ});
        jose::build(&header, claims, |input| {
            self.key.sign(input).to_bytes().to_vec()
        })
    }
}
