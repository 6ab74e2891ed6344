//! Portable receipts: everything an auditor needs to check one action offline.
//!
//! `signoff audit receipt ACTION_ID` gathers the action's audit entries (creation, votes,
//! outcome, execution) and the `key_registered` / `key_revoked` entries of the keys its
//! votes were signed with, exactly as stored (canonical bytes and chain hashes), and signs
//! one checkpoint per entry with the broker's audit key. `signoff audit verify-receipt`
//! recomputes each entry's hash, checks its checkpoint, every vote signature, the action's
//! digest and the outcome the votes imply — with no database and no network.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::audit_error::AuditError;
use super::store::audit::{AuditEntry, AuditKind, StoredEntry, Verifier};
use super::store::{SqliteStore, Store};
use crate::protocol::checkpoint::AuditKey;
use crate::protocol::decision::decode_public_key;
use crate::protocol::{ActionId, Checkpoint, SignedDecision, Status, Timestamp};

/// The receipt format's name and version.
pub const RECEIPT_FORMAT: &str = "signoff.audit.receipt.v1";

/// One action's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub format: String,
    pub action_id: ActionId,
    /// The broker's audit key (compare its `key_id` with the published one).
    pub audit_key: AuditKey,
    /// The entries, in chain order, as stored: `seq`, `prev_hash`, `hash`, `canonical`.
    pub entries: Vec<StoredEntry>,
    /// One checkpoint per entry: the log held that entry with that hash.
    pub checkpoints: Vec<Checkpoint>,
    pub issued_at: Timestamp,
}

/// What a verified receipt shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub status: Status,
    pub votes: u64,
    pub entries: usize,
    pub key_id: String,
}

/// Builds the receipt for `id` from a data directory (needs its audit key).
pub fn build(dir: &Path, id: ActionId) -> Result<Receipt, AuditError> {
    let key = super::audit_key::load(dir)
        .map_err(|source| AuditError::AuditKey {
            dir: dir.to_path_buf(),
            source,
        })?
        .ok_or_else(|| AuditError::NoAuditKey(dir.to_path_buf()))?;
    let store = SqliteStore::open(dir).map_err(|source| AuditError::Open {
        dir: dir.to_path_buf(),
        source,
    })?;
    let mut all: Vec<(StoredEntry, AuditEntry)> = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .audit_entries(after, 10_000)
            .map_err(AuditError::Read)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for mut e in page {
            let entry: AuditEntry = serde_json::from_str(&e.canonical)
                .map_err(|source| AuditError::Entry { seq: e.seq, source })?;
            e.columns = None;
            all.push((e, entry));
        }
    }
    let mine: Vec<&AuditEntry> = all
        .iter()
        .map(|(_, a)| a)
        .filter(|a| a.action_id == Some(id))
        .collect();
    if mine.is_empty() {
        return Err(AuditError::Argument(format!(
            "no audit entries for action {id}"
        )));
    }
    let key_ids: Vec<String> = mine
        .iter()
        .filter(|a| a.kind == AuditKind::Vote)
        .filter_map(|a| a.payload.get("decision").cloned())
        .filter_map(|v| serde_json::from_value::<SignedDecision>(v).ok())
        .map(|s| s.decision.key_id.0)
        .collect();
    let last_seq = mine.iter().map(|a| a.seq).max().unwrap_or(0);
    let entries: Vec<StoredEntry> = all
        .into_iter()
        .filter(|(_, a)| {
            a.action_id == Some(id)
                || (matches!(a.kind, AuditKind::KeyRegistered | AuditKind::KeyRevoked)
                    && a.seq <= last_seq
                    && a.payload
                        .get("key_id")
                        .and_then(|k| k.as_str())
                        .is_some_and(|k| key_ids.iter().any(|w| w == k)))
        })
        .map(|(s, _)| s)
        .collect();
    let now = Timestamp::now();
    let checkpoints = entries
        .iter()
        .map(|e| Checkpoint::sign(e.seq, &e.hash, now, &key))
        .collect();
    Ok(Receipt {
        format: RECEIPT_FORMAT.into(),
        action_id: id,
        audit_key: super::audit_key::public(&key),
        entries,
        checkpoints,
        issued_at: now,
    })
}

/// Checks a receipt offline; `pinned` is the broker's key as the auditor knows it.
pub fn verify(r: &Receipt, pinned: Option<&AuditKey>) -> Result<Verified, String> {
    if r.format != RECEIPT_FORMAT {
        return Err(format!("unknown receipt format {:?}", r.format));
    }
    if let Some(p) = pinned
        && p != &r.audit_key
    {
        return Err(format!(
            "the receipt is signed by audit key {}, not by the pinned key {}",
            r.audit_key.key_id, p.key_id
        ));
    }
    let key = decode_public_key(&r.audit_key.public_key).map_err(|e| format!("audit key: {e}"))?;
    if r.entries.len() != r.checkpoints.len() {
        return Err("every entry needs its checkpoint".into());
    }
    let mut v = Verifier::new();
    for (e, c) in r.entries.iter().zip(&r.checkpoints) {
        c.verify(&key)
            .map_err(|m| format!("entry {}: {m}", e.seq))?;
        if c.audit_seq != e.seq || c.head_hash != e.hash {
            return Err(format!(
                "entry {}: its checkpoint vouches for another entry",
                e.seq
            ));
        }
        v.push_detached(e).map_err(|e| e.to_string())?;
    }
    let t = v
        .ledger
        .actions
        .get(&r.action_id)
        .ok_or("the receipt holds no action_created entry for its action")?;
    Ok(Verified {
        status: t.status,
        votes: v.votes,
        entries: r.entries.len(),
        key_id: r.audit_key.key_id.to_string(),
    })
}
