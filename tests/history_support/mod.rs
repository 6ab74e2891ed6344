//! Generated, signed history written straight into a broker's SQLite store, for the
//! history tests of the console and of `signoff history` (the approvers' keys, every
//! signed vote, the history rows).

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use signoff::broker::store::{HistoryRow, Mutation, SqliteStore, Store as _};
use signoff::history::{GenConfig, Generator};
use signoff::protocol::HistoryRecord;
use signoff::protocol::api::KeyInfo;
use signoff::protocol::decision::encode_public_key;

/// Writes `count` generated records into the store in `dir`; returns them newest first.
pub fn seed(dir: &Path, count: usize) -> Vec<HistoryRecord> {
    seed_edited(dir, count, |_| {})
}

/// Like [`seed`], with `edit` applied to the generated records before they are stored
/// (for example, a rare word in one reason). Only the history row takes the edit; the
/// signed votes stay as generated.
pub fn seed_edited(
    dir: &Path,
    count: usize,
    edit: impl FnOnce(&mut [HistoryRecord]),
) -> Vec<HistoryRecord> {
    let g = Generator::new(GenConfig {
        count,
        ..GenConfig::default()
    });
    let mut records = g.records();
    edit(&mut records);
    let store = SqliteStore::open(dir).expect("store opens");
    let mut batch: Vec<Mutation> = g
        .approver_keys()
        .iter()
        .map(|k| {
            Mutation::PutKey(KeyInfo {
                key_id: k.key_id.clone(),
                subject: k.subject.into(),
                public_key: encode_public_key(&k.key.verifying_key()),
                label: "seed".into(),
                created_at: GenConfig::default().end.plus_secs(-200 * 86_400),
                revoked_at: None,
            })
        })
        .collect();
    for r in &records {
        batch.push(Mutation::put_action(
            Arc::new(r.action.clone()),
            r.digest.clone(),
        ));
        for (signed, vote) in g.signed_votes(r).into_iter().zip(&r.action.votes) {
            batch.push(Mutation::vote(signed, vote.at));
        }
        batch.push(Mutation::History(HistoryRow {
            action: Arc::new(r.action.clone()),
            decided_at: r.decided_at,
            decided_by: r.decided_by.clone(),
            reason: r.reason.clone(),
            audit_hash: r.audit_hash.clone(),
        }));
    }
    store.commit(&batch).expect("seed commits");
    records
}
