//! Broker-signed audit checkpoints: "the audit log had entry `audit_seq` with hash
//! `head_hash` at time `at`", signed with the broker's own Ed25519 key.
//!
//! Whoever keeps a checkpoint (a console, `signoff request`, an auditor) can later prove
//! that the log still contains that entry with that hash: deleting the last records or
//! rewriting any earlier entry (even with the whole chain recomputed) changes or removes
//! it, and a new checkpoint cannot be forged without the broker's key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::canonical::canonical_json;
use super::decision::KeyId;
use super::time::Timestamp;

/// What a checkpoint signature covers, besides its fields: keeps a checkpoint signature
/// from ever reading as another kind of signed object.
pub const CHECKPOINT_PURPOSE: &str = "signoff.audit.checkpoint.v1";

/// One signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The audit entry this checkpoint vouches for (the log's head when signed).
    pub audit_seq: u64,
    /// That entry's chain hash, 64 lowercase hex characters.
    pub head_hash: String,
    pub at: Timestamp,
    /// The broker's audit key ([`KeyId::of`] its public key).
    pub key_id: KeyId,
    /// Ed25519 over [`Checkpoint::signing_input`], standard base64.
    pub signature: String,
}

#[derive(Serialize)]
struct Signed<'a> {
    purpose: &'static str,
    audit_seq: u64,
    head_hash: &'a str,
    at: Timestamp,
    key_id: &'a KeyId,
}

/// The broker's audit public key, as `GET /v1/audit/key` publishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditKey {
    pub key_id: KeyId,
    /// 32 raw bytes, standard base64.
    pub public_key: String,
}

impl Checkpoint {
    /// The bytes signed: RFC 8785 canonical JSON of `{purpose, audit_seq, head_hash, at,
    /// key_id}` with `purpose` = [`CHECKPOINT_PURPOSE`].
    pub fn signing_input(&self) -> Vec<u8> {
        canonical_json(&Signed {
            purpose: CHECKPOINT_PURPOSE,
            audit_seq: self.audit_seq,
            head_hash: &self.head_hash,
            at: self.at,
            key_id: &self.key_id,
        })
    }

    pub fn sign(audit_seq: u64, head_hash: &str, at: Timestamp, key: &SigningKey) -> Self {
        let mut c = Self {
            audit_seq,
            head_hash: head_hash.to_string(),
            at,
            key_id: KeyId::of(&key.verifying_key()),
            signature: String::new(),
        };
        c.signature = B64.encode(key.sign(&c.signing_input()).to_bytes());
        c
    }

    /// Checks the signature against the broker's key (and that it names that key).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), String> {
        let actual = KeyId::of(key);
        if actual != self.key_id {
            return Err(format!(
                "checkpoint is signed by key {}, not by the broker's audit key {actual}",
                self.key_id
            ));
        }
        let sig = B64
            .decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .ok_or("checkpoint signature is not base64 of 64 bytes")?;
        key.verify(&self.signing_input(), &Signature::from_bytes(&sig))
            .map_err(|_| "checkpoint signature does not verify".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_refuses_edits() {
        let k = SigningKey::from_bytes(&[5; 32]);
        let at = Timestamp::from_unix_millis(1_795_000_000_000);
        let c = Checkpoint::sign(42, &"ab".repeat(32), at, &k);
        assert_eq!(c.verify(&k.verifying_key()), Ok(()));
        let mut moved = c.clone();
        moved.audit_seq = 41;
        assert!(moved.verify(&k.verifying_key()).is_err());
        let other = SigningKey::from_bytes(&[6; 32]);
        assert!(
            c.verify(&other.verifying_key())
                .unwrap_err()
                .contains("not by the broker")
        );
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Checkpoint>(&json).unwrap(), c);
    }
}
