//! The broker's own Ed25519 key for signing audit checkpoints.
//!
//! Kept in the data directory as `audit-key.json` (mode 0600, the same file format as a
//! console's device key), created on first start. Its public half is published at
//! `GET /v1/audit/key`. Losing it only means new checkpoints are signed by a new key;
//! replacing it does not make old checkpoints verify against a rewritten log.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

use crate::identity::DeviceKey;
use crate::identity::device_key::KeyError;
use crate::protocol::checkpoint::AuditKey;
use crate::protocol::decision::encode_public_key;
use crate::protocol::{Checkpoint, KeyId};

/// The key file's name inside the data directory.
pub const AUDIT_KEY_FILE: &str = "audit-key.json";

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(AUDIT_KEY_FILE)
}

/// Loads the broker's audit key, creating it (0600) on first use.
pub fn load_or_create(data_dir: &Path) -> Result<SigningKey, KeyError> {
    let p = path(data_dir);
    if let Some(k) = DeviceKey::load(&p)? {
        return Ok(k.signing_key().clone());
    }
    let k = DeviceKey::generate()?;
    k.save(&p)?;
    Ok(k.signing_key().clone())
}

/// Loads the key without creating one (for `signoff audit verify`).
pub fn load(data_dir: &Path) -> Result<Option<SigningKey>, KeyError> {
    Ok(DeviceKey::load(&path(data_dir))?.map(|k| k.signing_key().clone()))
}

/// The public half, as published.
pub fn public(key: &SigningKey) -> AuditKey {
    AuditKey {
        key_id: KeyId::of(&key.verifying_key()),
        public_key: encode_public_key(&key.verifying_key()),
    }
}

/// A checkpoint of the head recovered at start (none for an empty log).
pub fn initial(key: &SigningKey, audit_seq: u64, audit_hash: &str) -> Option<Checkpoint> {
    (audit_seq > 0).then(|| {
        Checkpoint::sign(
            audit_seq,
            audit_hash,
            crate::protocol::Timestamp::now(),
            key,
        )
    })
}

/// The latest signed checkpoint, shared by the committer (which publishes one after each
/// durable batch that grows the log), `GET /v1/audit/checkpoint` and every feed (which
/// waits for a newer one to send).
#[derive(Clone, Default)]
pub struct Latest(std::sync::Arc<tokio::sync::watch::Sender<Option<Checkpoint>>>);

impl Latest {
    pub fn new(initial: Option<Checkpoint>) -> Self {
        Self(std::sync::Arc::new(tokio::sync::watch::Sender::new(
            initial,
        )))
    }

    pub fn get(&self) -> Option<Checkpoint> {
        self.0.borrow().clone()
    }

    pub fn publish(&self, c: Checkpoint) {
        self.0.send_replace(Some(c));
    }

    /// A receiver that sees the current value as already seen.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Option<Checkpoint>> {
        self.0.subscribe()
    }
}
