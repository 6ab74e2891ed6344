//! `signoff dev seed`: fills a broker store with generated, signed decision history.
//!
//! Records come from [`Generator`] and go in through [`Store::commit`], the same write path
//! the broker's writer uses, so the audit chain (sealed entry by entry, vote signatures that
//! `signoff audit verify` re-checks), the history rows and the FTS index are all real. One
//! thread generates, signs and seals; the calling thread commits batches in transactions.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use crate::broker::audit_payload;
use crate::broker::store::audit::seal;
use crate::broker::store::{
    AuditEntry, AuditKind, HistoryRow, Mutation, SqliteStore, Store, StoreError,
};
use crate::history::r#gen::{GenConfig, Generator};
use crate::protocol::api::KeyInfo;
use crate::protocol::decision::encode_public_key;
use crate::protocol::person::PersonKey;
use crate::protocol::{ActionId, Digest, HistoryRecord, Status, Timestamp, Verdict};

/// Records per transaction: large enough that fsyncs do not dominate.
const BATCH: usize = 2000;

/// What a seeding run did.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedReport {
    pub decisions: usize,
    pub audit_entries: u64,
    pub secs: f64,
}

impl SeedReport {
    pub fn rows_per_sec(&self) -> f64 {
        self.decisions as f64 / self.secs.max(1e-9)
    }
}

/// The audit chain's head while seeding.
struct Chain {
    seq: u64,
    hash: String,
}

impl Chain {
    /// Seals one entry onto the chain; returns its hash.
    fn push(
        &mut self,
        muts: &mut Vec<Mutation>,
        kind: AuditKind,
        action_id: Option<ActionId>,
        actor: &str,
        at: Timestamp,
        payload: serde_json::Value,
    ) -> Digest {
        self.seq += 1;
        let entry = AuditEntry {
            seq: self.seq,
            at,
            kind,
            action_id,
            actor: actor.to_string(),
            payload,
        };
        let stored = seal(&entry, &self.hash);
        self.hash = stored.hash.clone();
        muts.push(Mutation::Audit { entry, stored });
        // A sealed hash is 64 lowercase hex characters by construction.
        Digest::try_from(self.hash.clone()).unwrap_or_else(|_| Digest::of_bytes(b""))
    }
}

/// Registers every approver key the generator signs with, as the writer would.
fn key_mutations(g: &Generator, chain: &mut Chain, at: Timestamp) -> Vec<Mutation> {
    let mut muts = Vec::new();
    for k in g.approver_keys() {
        let info = KeyInfo {
            key_id: k.key_id.clone(),
            subject: k.subject.to_string(),
            public_key: encode_public_key(&k.key.verifying_key()),
            label: "seeded".into(),
            created_at: at,
            revoked_at: None,
        };
        let payload = audit_payload::key_registered(&info);
        chain.push(
            &mut muts,
            AuditKind::KeyRegistered,
            None,
            k.subject,
            at,
            payload,
        );
        muts.push(Mutation::PutKey(info));
    }
    muts
}

/// The mutations one decided action leaves behind: creation, each signed vote, the
/// outcome, the history row and, when it ran, the execution report.
fn record_mutations(g: &Generator, r: &HistoryRecord, chain: &mut Chain, muts: &mut Vec<Mutation>) {
    let done = &r.action;
    let mut pending = done.clone();
    pending.status = Status::Pending;
    pending.votes.clear();
    pending.execution = None;
    let id = Some(done.id);
    let requester = done.requester.id.as_str();
    let payload = audit_payload::action_created(&pending, &r.digest);
    chain.push(
        muts,
        AuditKind::ActionCreated,
        id,
        requester,
        done.created_at,
        payload,
    );
    let mut approvals = 0;
    for signed in g.signed_votes(r) {
        let d = &signed.decision;
        // The person as the broker records them (every generated vote names one).
        let person = done
            .votes
            .iter()
            .find(|v| v.decision_id == d.decision_id)
            .map_or_else(
                || PersonKey::legacy_subject(&d.approver),
                |v| v.person_key(),
            );
        let status_after = match d.verdict {
            Verdict::Deny => Status::Denied,
            Verdict::Approve => {
                approvals += 1;
                if approvals >= done.policy.approvals_required.max(1) {
                    Status::Approved
                } else {
                    Status::Pending
                }
            }
        };
        let at = d.issued_at;
        let approver = d.approver.clone();
        let payload = audit_payload::vote(&signed, status_after, &person);
        muts.push(Mutation::vote(signed, at));
        chain.push(muts, AuditKind::Vote, id, &approver, at, payload);
    }
    let (kind, actor) = match done.status {
        Status::Withdrawn => (AuditKind::Withdrawal, requester.to_string()),
        Status::Expired => (AuditKind::Outcome, "system".to_string()),
        _ => (
            AuditKind::Outcome,
            done.votes
                .last()
                .map(|v| v.approver.clone())
                .unwrap_or_default(),
        ),
    };
    let payload = audit_payload::outcome(done.status, &r.decided_by, &r.reason, done.approvals());
    let hash = chain.push(muts, kind, id, &actor, r.decided_at, payload);
    if let Some(exec) = &done.execution {
        let payload = audit_payload::execution(exec, &r.digest);
        chain.push(
            muts,
            AuditKind::Execution,
            id,
            requester,
            exec.reported_at,
            payload,
        );
    }
    let action = Arc::new(done.clone());
    muts.push(Mutation::put_action(action.clone(), r.digest.clone()));
    muts.push(Mutation::History(HistoryRow {
        action,
        decided_at: r.decided_at,
        decided_by: r.decided_by.clone(),
        reason: r.reason.clone(),
        audit_hash: hash,
    }));
}

/// Fills the (empty) store in `data_dir` with `config.count` decisions, oldest first.
/// `progress` sees the number of decisions committed so far after every batch.
pub fn seed(
    data_dir: &Path,
    config: GenConfig,
    progress: impl FnMut(usize),
) -> Result<SeedReport, StoreError> {
    let store = SqliteStore::open(data_dir)?;
    seed_into(&store, &data_dir.display().to_string(), config, progress)
}

/// [`seed`] into any (empty) store; `name` says which in messages.
pub fn seed_into(
    store: &dyn Store,
    name: &str,
    config: GenConfig,
    mut progress: impl FnMut(usize),
) -> Result<SeedReport, StoreError> {
    let head = store.recover()?;
    if head.audit_seq > 0 {
        return Err(StoreError::InvalidQuery(format!(
            "the store in {name} already holds {} audit entries; seed an empty data directory or database",
            head.audit_seq
        )));
    }
    let started = Instant::now();
    let count = config.count;
    let (tx, rx) = sync_channel::<Vec<Mutation>>(4);
    let producer = std::thread::spawn(move || {
        let g = Generator::new(config);
        let mut chain = Chain {
            seq: 0,
            hash: head.audit_hash,
        };
        let span_ms = i64::from(config.span_days) * 86_400_000;
        let keys_at = Timestamp::from_unix_millis(config.end.unix_millis() - span_ms - 86_400_000);
        if tx.send(key_mutations(&g, &mut chain, keys_at)).is_err() {
            return chain.seq;
        }
        let mut muts = Vec::new();
        for i in (0..count).rev() {
            record_mutations(&g, &g.record(i), &mut chain, &mut muts);
            if (count - i).is_multiple_of(BATCH) && tx.send(std::mem::take(&mut muts)).is_err() {
                return chain.seq;
            }
        }
        if !muts.is_empty() {
            let _ = tx.send(muts);
        }
        chain.seq
    });
    let mut committed = 0usize;
    let mut first = true;
    for batch in rx {
        store.commit(&batch)?;
        if first {
            first = false;
            continue;
        }
        committed = (committed + BATCH).min(count);
        progress(committed);
    }
    let audit_entries = producer
        .join()
        .map_err(|_| StoreError::Corrupt("the generator thread panicked".into()))?;
    Ok(SeedReport {
        decisions: count,
        audit_entries,
        secs: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(count: usize) -> GenConfig {
        GenConfig {
            count,
            ..GenConfig::default()
        }
    }

    #[test]
    fn seeded_store_has_every_decision_and_a_chain_that_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let report = seed(dir.path(), config(300), |_| {}).unwrap();
        assert_eq!(report.decisions, 300);
        let summary = crate::broker::cli::verify(dir.path()).unwrap();
        assert!(summary.starts_with("audit log OK"), "{summary}");
        let store = SqliteStore::open(dir.path()).unwrap();
        let q = crate::protocol::HistoryQuery {
            limit: Some(500),
            ..Default::default()
        };
        let page = store.history(&q).unwrap();
        assert_eq!(page.records.len(), 300);
        assert!(
            page.records
                .iter()
                .all(|r| r.signatures_verified.iter().all(|v| *v))
        );
        let g = Generator::new(config(300));
        assert_eq!(page.records[0].action.id, g.record(0).action.id);
    }

    /// A store from before `history_voters` is moved over on open, once.
    #[test]
    fn old_approver_table_is_migrated_on_open() {
        let dir = tempfile::tempdir().unwrap();
        seed(dir.path(), config(50), |_| {}).unwrap();
        let db = dir.path().join(crate::broker::store::DB_FILE);
        let count = |sql: &str| -> i64 {
            let c = rusqlite::Connection::open(&db).unwrap();
            c.query_row(sql, [], |r| r.get(0)).unwrap()
        };
        let voters = count("SELECT count(*) FROM history_voters");
        assert!(voters > 30);
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(
                "CREATE TABLE history_approvers (approver TEXT NOT NULL, action_id TEXT NOT NULL,
                 PRIMARY KEY (approver, action_id)) WITHOUT ROWID;
                 INSERT INTO history_approvers SELECT approver, action_id FROM history_voters;
                 DELETE FROM history_voters;",
            )
            .unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(count("SELECT count(*) FROM history_voters"), voters);
        let old = "SELECT count(*) FROM sqlite_master WHERE name = 'history_approvers'";
        assert_eq!(count(old), 0);
        let who = Generator::new(config(50)).record(0).action.votes[0]
            .approver
            .clone();
        let q = crate::protocol::HistoryQuery {
            approver: Some(who.clone()),
            ..Default::default()
        };
        let page = store.history(&q).unwrap();
        assert!(!page.records.is_empty());
        assert!(
            page.records
                .iter()
                .all(|r| r.action.votes.iter().any(|v| v.approver == who))
        );
    }

    /// A seeded store is what a broker writes: every vote names its person (none in the
    /// legacy form the verifier still accepts from old logs), and the log verifies.
    #[test]
    fn seeded_votes_carry_the_person_and_the_log_verifies() {
        let dir = tempfile::tempdir().unwrap();
        seed(dir.path(), config(200), |_| {}).unwrap();
        let summary = crate::broker::cli::verify(dir.path()).unwrap();
        assert!(summary.starts_with("audit log OK"), "{summary}");
        let store = SqliteStore::open(dir.path()).unwrap();
        let entries = store.audit_entries(0, 100_000).unwrap();
        let votes: Vec<AuditEntry> = entries
            .iter()
            .map(|e| serde_json::from_str::<AuditEntry>(&e.canonical).unwrap())
            .filter(|e| e.kind == AuditKind::Vote)
            .collect();
        assert!(votes.len() > 100, "{} votes", votes.len());
        for v in &votes {
            let person: PersonKey =
                serde_json::from_value(v.payload["person"].clone()).expect("a person");
            assert_eq!(person.issuer.as_deref(), Some("static"));
            assert_eq!(person.email.as_deref(), Some(v.actor.as_str()));
        }
        // And the history's votes carry the same person as the log.
        let page = store
            .history(&crate::protocol::HistoryQuery {
                limit: Some(500),
                ..Default::default()
            })
            .unwrap();
        assert!(
            page.records
                .iter()
                .flat_map(|r| &r.action.votes)
                .all(|v| v.person.is_some())
        );
    }

    #[test]
    fn seeding_a_store_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        seed(dir.path(), config(10), |_| {}).unwrap();
        let err = seed(dir.path(), config(10), |_| {}).unwrap_err();
        assert!(
            err.to_string().contains("seed an empty data directory"),
            "{err}"
        );
    }
}
