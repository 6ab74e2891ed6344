//! The hash-chained audit log: entries, their hashes, and verification of a whole chain.
//!
//! `hash = SHA-256(prev_hash ‖ canonical(entry))`, where `prev_hash` is the previous
//! entry's hash as 64 lowercase hex ASCII bytes (64 zeros for the first entry) and
//! `canonical(entry)` is the RFC 8785 form of [`AuditEntry`]. Pure: the store hands rows in.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::protocol::decision::decode_public_key;
use crate::protocol::{ActionId, KeyId, SignedDecision, Timestamp, canonical_json};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    ActionCreated,
    Vote,
    Outcome,
    Withdrawal,
    Execution,
    KeyRegistered,
    KeyRevoked,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::ActionCreated => "action_created",
            AuditKind::Vote => "vote",
            AuditKind::Outcome => "outcome",
            AuditKind::Withdrawal => "withdrawal",
            AuditKind::Execution => "execution",
            AuditKind::KeyRegistered => "key_registered",
            AuditKind::KeyRevoked => "key_revoked",
        }
    }
}

/// One audit entry, exactly as hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: Timestamp,
    #[serde(rename = "type")]
    pub kind: AuditKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<ActionId>,
    /// Who caused it: an agent or approver subject, or `system`.
    pub actor: String,
    /// Type-specific content; a vote carries the full signed decision.
    pub payload: serde_json::Value,
}

/// An entry as stored: the canonical bytes and the chain hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEntry {
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    /// RFC 8785 canonical JSON of the [`AuditEntry`].
    pub canonical: String,
    /// The row's other columns as read back from the database (absent when sealed in
    /// memory): each must equal the field of the hashed entry it copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<AuditColumns>,
}

/// The audit table's copies of hashed fields, kept for queries (`at`, `type`, `action_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditColumns {
    pub at_millis: i64,
    pub kind: String,
    pub action_id: Option<String>,
}

/// `SHA-256(prev_hash_hex ‖ canonical)`, hex.
pub fn chain_hash(prev_hash: &str, canonical: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical);
    hex::encode(h.finalize())
}

/// The canonical form of `entry`: [`canonical_json`], written field by field. The
/// writer seals every entry on its one thread, and going through a `serde_json::Value`
/// of the whole entry would copy the payload (a whole signed decision) first.
pub fn canonical_entry(entry: &AuditEntry) -> Vec<u8> {
    use crate::protocol::canonical::{EXACT_INTEGER, write_simple, write_string};
    // Every field named: one added to `AuditEntry` must be written here too, or the
    // hash would stop covering it (this fails to compile instead).
    let AuditEntry {
        seq,
        at,
        kind,
        action_id,
        actor,
        payload,
    } = entry;
    let mut out = Vec::with_capacity(768);
    // Keys in JCS order (UTF-16 code units; all ASCII here).
    out.push(b'{');
    if let Some(id) = action_id {
        out.extend_from_slice(b"\"action_id\":");
        write_string(&id.to_string(), &mut out);
        out.push(b',');
    }
    out.extend_from_slice(b"\"actor\":");
    write_string(actor, &mut out);
    out.extend_from_slice(b",\"at\":");
    write_string(&at.to_string(), &mut out);
    out.extend_from_slice(b",\"payload\":");
    if *seq > EXACT_INTEGER || !write_simple(payload, &mut out) {
        return canonical_json(entry);
    }
    out.extend_from_slice(b",\"seq\":");
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(b",\"type\":");
    write_string(kind.as_str(), &mut out);
    out.push(b'}');
    out
}

/// Seals `entry` onto a chain whose last hash is `prev_hash`.
pub fn seal(entry: &AuditEntry, prev_hash: &str) -> StoredEntry {
    let canonical = canonical_entry(entry);
    let hash = chain_hash(prev_hash, &canonical);
    // JSON written from Rust strings is UTF-8; the lossy path is never taken.
    let canonical = String::from_utf8(canonical)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    StoredEntry {
        seq: entry.seq,
        prev_hash: prev_hash.to_string(),
        hash,
        canonical,
        columns: None,
    }
}

/// The first bad entry found by [`Verifier`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq}: {what}")]
pub struct ChainError {
    pub seq: u64,
    pub what: String,
}

#[derive(Debug, Clone)]
struct KnownKey {
    subject: String,
    public_key: String,
    revoked_at: Option<Timestamp>,
}

/// Checks a chain entry by entry, in order: sequence, link, hash, canonical form, and
/// every vote's signature against the key as registered earlier in the same chain.
#[derive(Debug, Default)]
pub struct Verifier {
    prev_seq: u64,
    prev_hash: Option<String>,
    keys: HashMap<String, KnownKey>,
    /// Every action's digest, votes and outcome as the chain builds them.
    pub ledger: super::audit_actions::Ledger,
    pub entries: u64,
    pub votes: u64,
    /// The last verified entry's hash (the genesis value before any).
    pub head: String,
}

impl Verifier {
    pub fn new() -> Self {
        Self {
            head: GENESIS.to_string(),
            ..Self::default()
        }
    }

    /// Checks the next stored entry.
    pub fn push(&mut self, e: &StoredEntry) -> Result<(), ChainError> {
        let bad = |what: String| ChainError { seq: e.seq, what };
        let expected_seq = self.prev_seq + 1;
        if e.seq != expected_seq {
            return Err(bad(format!("sequence gap: expected entry {expected_seq}")));
        }
        let expected_prev = self.prev_hash.as_deref().unwrap_or(GENESIS);
        if e.prev_hash != expected_prev {
            return Err(bad(format!(
                "prev_hash {} does not link to the previous entry's hash {}",
                short(&e.prev_hash),
                short(expected_prev)
            )));
        }
        self.push_detached(e)
    }

    /// Every check of [`Verifier::push`] except the link to the previous entry: for a
    /// receipt, whose entries are a selection of the chain, each vouched for by its own
    /// signed checkpoint instead. Entries must still come in increasing `seq` order.
    pub fn push_detached(&mut self, e: &StoredEntry) -> Result<(), ChainError> {
        let bad = |what: String| ChainError { seq: e.seq, what };
        if e.seq <= self.prev_seq {
            return Err(bad(format!("out of order after entry {}", self.prev_seq)));
        }
        let recomputed = chain_hash(&e.prev_hash, e.canonical.as_bytes());
        if recomputed != e.hash {
            return Err(bad(format!(
                "content does not match its hash (stored {}, recomputed {})",
                short(&e.hash),
                short(&recomputed)
            )));
        }
        let entry: AuditEntry = serde_json::from_str(&e.canonical)
            .map_err(|err| bad(format!("content is not an audit entry: {err}")))?;
        if entry.seq != e.seq {
            return Err(bad(format!("content says seq {}", entry.seq)));
        }
        if canonical_json(&entry) != e.canonical.as_bytes() {
            return Err(bad("content is not in canonical form".into()));
        }
        if let Some(c) = &e.columns {
            check_columns(c, &entry).map_err(bad)?;
        }
        self.check_payload(&entry).map_err(bad)?;
        self.ledger.push(&entry).map_err(bad)?;
        if let (AuditKind::Outcome | AuditKind::Withdrawal, Some(id)) =
            (entry.kind, entry.action_id)
        {
            self.ledger.outcome_hash(&id, &e.hash);
        }
        self.prev_seq = e.seq;
        self.prev_hash = Some(e.hash.clone());
        self.head = e.hash.clone();
        self.entries += 1;
        Ok(())
    }

    /// The sequence number of the last verified entry (0 before any).
    pub fn seq(&self) -> u64 {
        self.prev_seq
    }

    fn check_payload(&mut self, entry: &AuditEntry) -> Result<(), String> {
        let p = &entry.payload;
        let text = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_string);
        match entry.kind {
            AuditKind::KeyRegistered => {
                let (Some(id), Some(subject), Some(public_key)) =
                    (text("key_id"), text("subject"), text("public_key"))
                else {
                    return Err("key_registered lacks key_id, subject or public_key".into());
                };
                let key = decode_public_key(&public_key).map_err(|e| e.to_string())?;
                if KeyId::of(&key).0 != id {
                    return Err(format!("key id {id} does not match its public key"));
                }
                self.keys.insert(
                    id,
                    KnownKey {
                        subject,
                        public_key,
                        revoked_at: None,
                    },
                );
            }
            AuditKind::KeyRevoked => {
                let id = text("key_id").ok_or("key_revoked lacks key_id")?;
                let k = self
                    .keys
                    .get_mut(&id)
                    .ok_or_else(|| format!("revokes key {id}, which was never registered"))?;
                k.revoked_at = Some(entry.at);
            }
            AuditKind::Vote => {
                let signed: SignedDecision = p
                    .get("decision")
                    .cloned()
                    .ok_or("vote lacks its signed decision".to_string())
                    .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))?;
                let d = &signed.decision;
                let k = self.keys.get(&d.key_id.0).ok_or_else(|| {
                    format!("vote is signed with key {}, never registered", d.key_id)
                })?;
                if k.subject != d.approver {
                    return Err(format!(
                        "key {} belongs to {:?}, not to approver {:?}",
                        d.key_id, k.subject, d.approver
                    ));
                }
                if k.revoked_at.is_some_and(|r| r <= entry.at) {
                    return Err(format!("vote uses key {}, revoked before it", d.key_id));
                }
                let key = decode_public_key(&k.public_key).map_err(|e| e.to_string())?;
                signed
                    .verify(&key)
                    .map_err(|e| format!("vote signature: {e}"))?;
                if entry.action_id != Some(d.action_id) {
                    return Err("vote is filed under another action".into());
                }
                self.ledger.vote(entry, &signed)?;
                self.votes += 1;
            }
            _ => {}
        }
        Ok(())
    }
}

/// The row's `at`, `type` and `action_id` columns must say what the hashed entry says.
fn check_columns(c: &AuditColumns, entry: &AuditEntry) -> Result<(), String> {
    if c.at_millis != entry.at.unix_millis() {
        return Err(format!(
            "column at ({}) differs from the hashed entry's at ({})",
            Timestamp::from_unix_millis(c.at_millis),
            entry.at
        ));
    }
    if c.kind != entry.kind.as_str() {
        return Err(format!(
            "column type {:?} differs from the hashed entry's type {:?}",
            c.kind,
            entry.kind.as_str()
        ));
    }
    let id = entry.action_id.map(|i| i.to_string());
    if c.action_id != id {
        return Err(format!(
            "column action_id {:?} differs from the hashed entry's action_id {:?}",
            c.action_id, id
        ));
    }
    Ok(())
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
