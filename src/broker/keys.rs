//! The registered-key cache: every key, by id, kept in step with the store by the writer.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::protocol::KeyId;
use crate::protocol::api::KeyInfo;
use crate::protocol::decision::decode_public_key;

use super::decide::KeyFacts;

#[derive(Debug, Default)]
pub struct Keys {
    by_id: RwLock<HashMap<KeyId, KeyInfo>>,
}

impl Keys {
    pub fn new(keys: Vec<KeyInfo>) -> Self {
        Self {
            by_id: RwLock::new(keys.into_iter().map(|k| (k.key_id.clone(), k)).collect()),
        }
    }

    pub fn get(&self, id: &KeyId) -> Option<KeyInfo> {
        self.by_id.read().ok()?.get(id).cloned()
    }

    /// The key as the decision checks need it.
    pub fn facts(&self, id: &KeyId) -> Option<KeyFacts> {
        let k = self.get(id)?;
        Some(KeyFacts {
            key: decode_public_key(&k.public_key).ok()?,
            subject: k.subject,
            revoked: k.revoked_at.is_some(),
        })
    }

    /// The subject's keys, oldest first.
    pub fn of_subject(&self, subject: &str) -> Vec<KeyInfo> {
        let mut v: Vec<KeyInfo> = self
            .by_id
            .read()
            .map(|m| {
                m.values()
                    .filter(|k| k.subject == subject)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
        v
    }

    pub fn put(&self, keys: impl IntoIterator<Item = KeyInfo>) {
        if let Ok(mut m) = self.by_id.write() {
            for k in keys {
                m.insert(k.key_id.clone(), k);
            }
        }
    }
}
