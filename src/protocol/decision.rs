//! Signed decisions: what an approver signs, and how the signature is checked.
//!
//! The signature covers the RFC 8785 canonical form of [`Decision`], which carries the
//! digest of the exact action version the approver saw. Any change to the decision, to
//! the digest it names, or the key, makes verification fail with a typed error.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::canonical::{Digest, canonical_json};
use super::ids::ActionId;
use super::time::Timestamp;

pub use super::ids::DecisionId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Deny => "deny",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key id: the first 16 hex characters of SHA-256 over the 32 public key bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(pub String);

impl KeyId {
    pub fn of(key: &VerifyingKey) -> Self {
        Self(hex::encode(Sha256::digest(key.as_bytes()))[..16].to_string())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The signed content of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub decision_id: DecisionId,
    pub action_id: ActionId,
    /// The digest of the action version the approver saw.
    pub action_digest: Digest,
    pub verdict: Verdict,
    pub reason: String,
    /// The approver's OIDC subject.
    pub approver: String,
    pub key_id: KeyId,
    pub issued_at: Timestamp,
}

/// A decision with its Ed25519 signature (standard base64 of the 64 signature bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedDecision {
    pub decision: Decision,
    pub signature: String,
}

/// Why a signed decision failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("signature is not valid base64 of 64 bytes")]
    MalformedSignature,
    #[error("public key is not a valid Ed25519 key")]
    MalformedPublicKey,
    #[error("decision names key {claimed} but was checked against key {actual}")]
    KeyIdMismatch { claimed: KeyId, actual: KeyId },
    #[error("signature does not match the decision and key")]
    BadSignature,
}

impl Decision {
    /// The exact bytes that are signed: the RFC 8785 canonical form of the decision.
    pub fn signing_input(&self) -> Vec<u8> {
        canonical_json(self)
    }

    pub fn sign(self, key: &SigningKey) -> SignedDecision {
        let sig = key.sign(&self.signing_input());
        SignedDecision {
            decision: self,
            signature: B64.encode(sig.to_bytes()),
        }
    }
}

impl SignedDecision {
    /// Checks the signature against `key`, and that the decision names that key, with the
    /// one rule of [`super::ed25519`] (the same answer as a batch would give).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), VerifyError> {
        if super::ed25519::verify_one(&self.prepare(key)?) {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }

    /// Everything [`Self::verify`] checks but the group equation: the key id, the
    /// signature's encoding; the result goes to [`super::ed25519::verify_batch`].
    pub fn prepare(&self, key: &VerifyingKey) -> Result<super::ed25519::Prepared, VerifyError> {
        let actual = KeyId::of(key);
        if actual != self.decision.key_id {
            return Err(VerifyError::KeyIdMismatch {
                claimed: self.decision.key_id.clone(),
                actual,
            });
        }
        let bytes = B64
            .decode(&self.signature)
            .map_err(|_| VerifyError::MalformedSignature)?;
        let bytes: [u8; 64] = bytes
            .try_into()
            .map_err(|_| VerifyError::MalformedSignature)?;
        super::ed25519::prepare(key, &self.decision.signing_input(), &bytes)
            .map_err(|_| VerifyError::BadSignature)
    }
}

/// Generates a fresh Ed25519 signing key from the operating system's randomness.
pub fn generate_signing_key() -> std::io::Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(std::io::Error::other)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Encodes a public key for the wire (standard base64 of its 32 bytes).
pub fn encode_public_key(key: &VerifyingKey) -> String {
    B64.encode(key.as_bytes())
}

/// Decodes a public key sent over the wire.
pub fn decode_public_key(s: &str) -> Result<VerifyingKey, VerifyError> {
    let bytes = B64.decode(s).map_err(|_| VerifyError::MalformedPublicKey)?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| VerifyError::MalformedPublicKey)?;
    // Canonical, prime order: a weak key would make a signature that holds for any message.
    super::ed25519::check_public_key(&bytes).map_err(|_| VerifyError::MalformedPublicKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| VerifyError::MalformedPublicKey)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use ed25519_dalek::{Signature, Verifier as _};

    use super::*;

    type Edit<T> = Box<dyn Fn(&mut T)>;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn decision(k: &SigningKey) -> Decision {
        Decision {
            decision_id: DecisionId::from_str("01JD0000000000000000000000").unwrap(),
            action_id: ActionId::from_str("01JD0000000000000000000001").unwrap(),
            action_digest: Digest::of_bytes(b"action"),
            verdict: Verdict::Approve,
            reason: "looks right".into(),
            approver: "alice".into(),
            key_id: KeyId::of(&k.verifying_key()),
            issued_at: Timestamp::from_unix_millis(1_795_000_000_000),
        }
    }

    #[test]
    fn sign_then_verify() {
        let k = key(1);
        let signed = decision(&k).sign(&k);
        assert_eq!(signed.verify(&k.verifying_key()), Ok(()));
    }

    #[test]
    fn another_key_fails() {
        let k = key(1);
        let other = key(2);
        let signed = decision(&k).sign(&k);
        assert!(matches!(
            signed.verify(&other.verifying_key()),
            Err(VerifyError::KeyIdMismatch { .. })
        ));
        // Even when the decision claims the other key's id, the signature does not match.
        let mut forged = signed.clone();
        forged.decision.key_id = KeyId::of(&other.verifying_key());
        assert_eq!(
            forged.verify(&other.verifying_key()),
            Err(VerifyError::BadSignature)
        );
    }

    /// Flipping any one byte of the signed input (decision or digest) breaks the signature.
    #[test]
    fn any_one_byte_change_fails() {
        let k = key(3);
        let signed = decision(&k).sign(&k);
        let sig = B64.decode(&signed.signature).unwrap();
        let sig = Signature::from_bytes(&sig.try_into().unwrap());
        let input = signed.decision.signing_input();
        for i in 0..input.len() {
            let mut tampered = input.clone();
            tampered[i] ^= 0x01;
            assert!(
                k.verifying_key().verify(&tampered, &sig).is_err(),
                "byte {i}"
            );
        }
    }

    #[test]
    fn changed_fields_fail() {
        let k = key(4);
        let signed = decision(&k).sign(&k);
        let edits: Vec<Edit<Decision>> = vec![
            Box::new(|d| d.decision_id = DecisionId::new()),
            Box::new(|d| d.action_id = ActionId::new()),
            Box::new(|d| d.action_digest = Digest::of_bytes(b"other")),
            Box::new(|d| d.verdict = Verdict::Deny),
            Box::new(|d| d.reason.push('!')),
            Box::new(|d| d.approver = "mallory".into()),
            Box::new(|d| d.issued_at = d.issued_at.plus_secs(1)),
        ];
        for (i, e) in edits.iter().enumerate() {
            let mut t = signed.clone();
            e(&mut t.decision);
            assert_eq!(
                t.verify(&k.verifying_key()),
                Err(VerifyError::BadSignature),
                "edit {i}"
            );
        }
    }

    #[test]
    fn signature_byte_flip_fails() {
        let k = key(5);
        let signed = decision(&k).sign(&k);
        let mut raw = B64.decode(&signed.signature).unwrap();
        raw[10] ^= 0x80;
        let t = SignedDecision {
            signature: B64.encode(&raw),
            ..signed.clone()
        };
        assert_eq!(t.verify(&k.verifying_key()), Err(VerifyError::BadSignature));
        let t = SignedDecision {
            signature: "not base64!".into(),
            ..signed
        };
        assert_eq!(
            t.verify(&k.verifying_key()),
            Err(VerifyError::MalformedSignature)
        );
    }

    #[test]
    fn public_key_round_trip() {
        let k = key(6).verifying_key();
        assert_eq!(decode_public_key(&encode_public_key(&k)).unwrap(), k);
        assert_eq!(
            decode_public_key("AAAA"),
            Err(VerifyError::MalformedPublicKey)
        );
    }

    #[test]
    fn key_id_is_16_hex() {
        let id = KeyId::of(&key(7).verifying_key());
        assert_eq!(id.0.len(), 16);
    }
}
