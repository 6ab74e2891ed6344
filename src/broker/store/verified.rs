//! Remembered signature checks, so that loading a history page does not redo Ed25519.
//!
//! Every history record re-checks its votes against the registered keys. A check depends
//! only on the stored signed decision and the public key, so its result is remembered under
//! the SHA-256 of exactly those bytes: an edit to either (a tampered row, another key) is a
//! different entry and is checked afresh. Bounded: past the limit the memory starts over.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

/// Most remembered results (about 40 bytes each).
const LIMIT: usize = 250_000;

#[derive(Debug, Default)]
pub struct VerifiedCache {
    seen: Mutex<HashMap<[u8; 32], bool>>,
}

impl VerifiedCache {
    /// The result of `verify()` for this signed decision and key, computed once.
    pub fn check(&self, signed: &str, public_key: &str, verify: impl FnOnce() -> bool) -> bool {
        let mut h = Sha256::new();
        h.update((signed.len() as u64).to_le_bytes());
        h.update(signed.as_bytes());
        h.update(public_key.as_bytes());
        let key: [u8; 32] = h.finalize().into();
        if let Some(v) = self.seen.lock().ok().and_then(|m| m.get(&key).copied()) {
            return v;
        }
        let v = verify();
        if let Ok(mut m) = self.seen.lock() {
            if m.len() >= LIMIT {
                m.clear();
            }
            m.insert(key, v);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_exact_content() {
        let c = VerifiedCache::default();
        assert!(c.check("{\"a\":1}", "key", || true));
        // Same bytes: remembered, the check does not run again.
        assert!(c.check("{\"a\":1}", "key", || panic!("checked twice")));
        // Edited content or another key: checked afresh.
        assert!(!c.check("{\"a\":2}", "key", || false));
        assert!(!c.check("{\"a\":1}", "other", || false));
    }
}
