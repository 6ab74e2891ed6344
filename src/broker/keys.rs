//! The registered-key cache: every key, by id, kept in step with the store by the writer.
//!
//! Each key is decoded and checked (canonical, prime order: see
//! [`decode_public_key`]) once, when it enters the cache: the check is a scalar
//! multiplication, as dear as a signature verification, and decisions look their key up
//! one by one (it was a third of the connection tasks' time in the throughput bench).

use std::collections::HashMap;
use std::sync::RwLock;

use ed25519_dalek::VerifyingKey;

use crate::protocol::KeyId;
use crate::protocol::api::KeyInfo;
use crate::protocol::decision::decode_public_key;

use super::decide::KeyFacts;

#[derive(Debug, Default)]
pub struct Keys {
    by_id: RwLock<HashMap<KeyId, Cached>>,
}

/// A key as registered, and as decoded for the checks (`None`: it does not decode or is
/// weak, so no decision can be checked against it).
#[derive(Debug, Clone)]
struct Cached {
    info: KeyInfo,
    key: Option<VerifyingKey>,
}

impl Cached {
    fn of(info: KeyInfo) -> (KeyId, Self) {
        let key = decode_public_key(&info.public_key).ok();
        (info.key_id.clone(), Self { info, key })
    }
}

impl Keys {
    pub fn new(keys: Vec<KeyInfo>) -> Self {
        Self {
            by_id: RwLock::new(keys.into_iter().map(Cached::of).collect()),
        }
    }

    pub fn get(&self, id: &KeyId) -> Option<KeyInfo> {
        self.by_id.read().ok()?.get(id).map(|c| c.info.clone())
    }

    /// The key as the decision checks need it.
    pub fn facts(&self, id: &KeyId) -> Option<KeyFacts> {
        let m = self.by_id.read().ok()?;
        let c = m.get(id)?;
        Some(KeyFacts {
            key: c.key?,
            subject: c.info.subject.clone(),
            revoked: c.info.revoked_at.is_some(),
        })
    }

    /// The subject's keys, oldest first.
    pub fn of_subject(&self, subject: &str) -> Vec<KeyInfo> {
        let mut v: Vec<KeyInfo> = self
            .by_id
            .read()
            .map(|m| {
                m.values()
                    .filter(|c| c.info.subject == subject)
                    .map(|c| c.info.clone())
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
        v
    }

    pub fn put(&self, keys: impl IntoIterator<Item = KeyInfo>) {
        // Decoded before the lock is taken: readers never wait for the check.
        let cached: Vec<(KeyId, Cached)> = keys.into_iter().map(Cached::of).collect();
        if let Ok(mut m) = self.by_id.write() {
            m.extend(cached);
        }
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::protocol::Timestamp;
    use crate::protocol::decision::encode_public_key;

    fn info(id: &str, subject: &str, public_key: String) -> KeyInfo {
        KeyInfo {
            key_id: KeyId(id.into()),
            subject: subject.into(),
            public_key,
            label: "laptop".into(),
            created_at: Timestamp::from_unix_millis(1),
            revoked_at: None,
        }
    }

    #[test]
    fn keys_are_checked_once_on_entry_and_a_weak_one_checks_nothing() {
        use base64::Engine as _;
        let good = SigningKey::from_bytes(&[7; 32]).verifying_key();
        // The identity point: a weak key, for which any signature would hold.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = base64::engine::general_purpose::STANDARD.encode(identity);
        let keys = Keys::new(vec![info("k1", "alice", encode_public_key(&good))]);
        keys.put([info("k2", "mallory", weak)]);

        let facts = keys.facts(&KeyId("k1".into())).expect("a good key");
        assert_eq!((facts.key, facts.subject.as_str()), (good, "alice"));
        assert!(
            keys.get(&KeyId("k2".into())).is_some(),
            "listed as registered"
        );
        assert_eq!(
            keys.facts(&KeyId("k2".into())),
            None,
            "but never used for a check"
        );
        assert_eq!(keys.facts(&KeyId("k3".into())), None);
    }
}
