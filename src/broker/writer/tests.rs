//! The writer's pipeline against a real SQLite store that can be made to fail a commit.

use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::broker::store::{Recovered, SqliteStore};
use crate::protocol::{Digest, Timestamp};
use crate::protocol::{HistoryPage, HistoryQuery, RiskLevel};

/// A test action id: a ULID from a fixed time and `n`.
fn id(n: u8) -> ActionId {
    ActionId(ulid::Ulid::from_parts(1_795_000_000_000, u128::from(n)))
}

/// The protocol's sample action as action `n`, pending for the next 15 minutes. (The
/// broker's tests build on the protocol's fixtures, never on the console's.)
fn action(n: u8, kind: &str, resource: &str, env: &str, level: RiskLevel) -> Action {
    let mut a = crate::protocol::action::fixtures::action();
    a.id = id(n);
    a.kind = kind.into();
    a.target.resource = resource.into();
    a.target.environment = env.into();
    a.risk.level = level;
    a.created_at = Timestamp::now();
    a.expires_at = Timestamp::now().plus_secs(900);
    a
}

/// A real store whose next commit fails when asked to.
struct Flaky {
    inner: SqliteStore,
    fail_next: AtomicBool,
}

impl Store for Flaky {
    fn recover(&self) -> Result<Recovered, StoreError> {
        self.inner.recover()
    }
    fn commit(&self, batch: &[Mutation]) -> Result<(), StoreError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Corrupt("disk full (simulated)".into()));
        }
        self.inner.commit(batch)
    }
    fn action(&self, id: &ActionId) -> Result<Option<Action>, StoreError> {
        self.inner.action(id)
    }
    fn decision_seen(&self, id: &DecisionId) -> Result<bool, StoreError> {
        self.inner.decision_seen(id)
    }
    fn has_requested_kind(&self, requester: &str, kind: &str) -> Result<bool, StoreError> {
        self.inner.has_requested_kind(requester, kind)
    }
    fn history(&self, q: &HistoryQuery) -> Result<HistoryPage, StoreError> {
        self.inner.history(q)
    }
    fn audit_entries(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<crate::broker::store::StoredEntry>, StoreError> {
        self.inner.audit_entries(after, limit)
    }
    fn events_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<crate::broker::live::Event>, StoreError> {
        self.inner.events_after(after, limit)
    }
    fn idempotency(
        &self,
        agent: &str,
        key: &str,
    ) -> Result<Option<crate::protocol::idempotency::Record>, StoreError> {
        self.inner.idempotency(agent, key)
    }
    fn stored_ids(
        &self,
        table: crate::broker::store::IdTable,
        after: Option<&ActionId>,
        limit: usize,
    ) -> Result<Vec<ActionId>, StoreError> {
        self.inner.stored_ids(table, after, limit)
    }
    fn history_entry(
        &self,
        id: &ActionId,
    ) -> Result<Option<crate::broker::store::StoredHistory>, StoreError> {
        self.inner.history_entry(id)
    }
}

fn create(tx: &mpsc::Sender<Op>, n: u8) -> oneshot::Receiver<Result<Created, OpError>> {
    let (reply, rx) = oneshot::channel();
    let a = action(n, "db.export", "customers", "production", RiskLevel::High);
    tx.blocking_send(Op::Create {
        callback: None,
        action: Box::new(a),
        idempotency: None,
        reply,
    })
    .unwrap();
    rx
}

/// A failed commit refuses its batch and rolls the chain heads back, so the next
/// commit continues the audit chain without a gap and `audit verify` passes.
#[test]
fn a_failed_commit_is_refused_and_the_chain_continues_without_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Flaky {
        inner: SqliteStore::open(dir.path()).unwrap(),
        fail_next: AtomicBool::new(false),
    });
    let parts = Parts {
        store: store.clone(),
        live: Arc::new(Live::new(Vec::new(), 0, 64, 64)),
        keys: Arc::new(Keys::new(Vec::new())),
        metrics: Arc::new(Metrics::default()),
        new_action: Arc::new(Notify::new()),
        audit_key: Arc::new(ed25519_dalek::SigningKey::from_bytes(&[8; 32])),
        checkpoint: Default::default(),
        budgets: Default::default(),
        events_kept: 64,
        clock: wall_clock(),
    };
    let live = parts.live.clone();
    let writer = Writer::new(parts, 0, 0, crate::broker::store::audit::GENESIS.into(), 64);
    let (tx, rx) = mpsc::channel(64);
    let thread = std::thread::spawn(move || writer.run(rx));

    assert!(create(&tx, 1).blocking_recv().unwrap().is_ok());
    store.fail_next.store(true, Ordering::SeqCst);
    assert_eq!(
        create(&tx, 2).blocking_recv().unwrap().unwrap_err(),
        OpError::Internal
    );
    assert!(create(&tx, 3).blocking_recv().unwrap().is_ok());
    tx.blocking_send(Op::Stop).unwrap();
    thread.join().unwrap();

    // Only the committed actions are pending; the refused one left nothing behind.
    assert!(live.pending(&id(1)).is_some());
    assert!(live.pending(&id(2)).is_none());
    assert!(live.pending(&id(3)).is_some());
    let summary = crate::broker::cli::verify(dir.path()).unwrap();
    assert!(summary.contains("audit log OK: 2 entries"), "{summary}");
}

fn parts_over(store: Arc<dyn Store>, events_kept: usize) -> Parts {
    parts_at(store, events_kept, wall_clock())
}

fn parts_at(store: Arc<dyn Store>, events_kept: usize, clock: Clock) -> Parts {
    Parts {
        store,
        live: Arc::new(Live::new(Vec::new(), 0, 64, 64)),
        keys: Arc::new(Keys::new(Vec::new())),
        metrics: Arc::new(Metrics::default()),
        new_action: Arc::new(Notify::new()),
        audit_key: Arc::new(ed25519_dalek::SigningKey::from_bytes(&[8; 32])),
        checkpoint: Default::default(),
        budgets: Default::default(),
        events_kept,
        clock,
    }
}

/// A submission of action `n` (created now) with `key`, whose body is `body`.
fn keyed(n: u8, key: &str, body: &str) -> (Op, oneshot::Receiver<Result<Created, OpError>>) {
    let (reply, rx) = oneshot::channel();
    let mut a = action(n, "db.export", "customers", "production", RiskLevel::High);
    a.created_at = Timestamp::now();
    a.expires_at = a.created_at.plus_secs(900);
    let op = Op::Create {
        callback: None,
        idempotency: Some(IdempotencyKey {
            agent: a.requester.id.clone(),
            key: key.into(),
            body_hash: Digest::of_bytes(body.as_bytes()),
        }),
        action: Box::new(a),
        reply,
    };
    (op, rx)
}

fn outcome(d: &Done) -> Result<(ActionId, bool), OpError> {
    match d {
        Done::Created(_, r) => r.clone().map(|c| (c.action.id, c.replayed)),
        _ => panic!("not a submission"),
    }
}

/// Two submissions with one key make one action even when neither is committed yet:
/// the second finds the first in the batch being staged, or in the batch in flight.
#[test]
fn a_key_is_deduplicated_against_staged_and_in_flight_batches() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let mut w = Writer::new(
        parts_over(store, 64),
        0,
        0,
        crate::broker::store::audit::GENESIS.into(),
        64,
    );

    // One batch: the same key and body twice, then another body, then another key.
    let mut b = Batch::default();
    for (n, key, body) in [(1, "k", "A"), (2, "k", "A"), (3, "k", "B"), (4, "k2", "A")] {
        w.stage(&mut b, keyed(n, key, body).0);
    }
    let got: Vec<_> = b.done.iter().map(outcome).collect();
    assert_eq!(got[0], Ok((id(1), false)));
    assert_eq!(
        got[1],
        Ok((id(1), true)),
        "same key, same body: the first action"
    );
    assert!(
        matches!(&got[2], Err(OpError::IdempotencyConflict(m)) if m.contains(&id(1).to_string())),
        "{:?}",
        got[2]
    );
    assert_eq!(got[3], Ok((id(4), false)));
    let records = b
        .muts
        .iter()
        .filter(|m| matches!(m, Mutation::Idempotency(_)))
        .count();
    assert_eq!(records, 2, "one record per key");
    assert_eq!(b.created, 2);

    // In flight: the batch is handed to a committer that has not committed it.
    let (to_committer, batches) = std::sync::mpsc::sync_channel(1);
    let (op, _rx) = keyed(5, "k3", "A");
    w.process(vec![op], &to_committer);
    let mut b = Batch::default();
    w.stage(&mut b, keyed(6, "k3", "A").0);
    w.stage(&mut b, keyed(7, "k3", "B").0);
    assert_eq!(outcome(&b.done[0]), Ok((id(5), true)));
    assert!(matches!(
        outcome(&b.done[1]),
        Err(OpError::IdempotencyConflict(_))
    ));
    assert_eq!(b.created, 0);
    drop(batches);
}

/// Keys are durable: a writer started over the same store (a restarted broker) answers
/// a retried submission with the action made before the restart.
#[test]
fn a_key_survives_a_restart_of_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let run = |ops: Vec<(Op, oneshot::Receiver<Result<Created, OpError>>)>| {
        let store = SqliteStore::open(dir.path()).unwrap();
        let rec = store.recover().unwrap();
        let w = Writer::new(
            parts_over(Arc::new(store), 3),
            rec.head_seq,
            rec.audit_seq,
            rec.audit_hash,
            64,
        );
        let (tx, rx) = mpsc::channel(64);
        let thread = std::thread::spawn(move || w.run(rx));
        let mut out = Vec::new();
        for (op, reply) in ops {
            tx.blocking_send(op).unwrap();
            out.push(
                reply
                    .blocking_recv()
                    .unwrap()
                    .map(|c| (c.action.id, c.replayed)),
            );
        }
        tx.blocking_send(Op::Stop).unwrap();
        thread.join().unwrap();
        out
    };
    assert_eq!(run(vec![keyed(1, "ci-42", "A")]), [Ok((id(1), false))]);
    let again = run(vec![keyed(2, "ci-42", "A"), keyed(3, "ci-42", "B")]);
    assert_eq!(again[0], Ok((id(1), true)));
    assert!(matches!(again[1], Err(OpError::IdempotencyConflict(_))));
    let store = SqliteStore::open(dir.path()).unwrap();
    assert!(store.action(&id(2)).unwrap().is_none(), "no second action");
    assert_eq!(store.recover().unwrap().pending.len(), 1);
    // The events went into the store with their batches, with who may see them.
    let kept = store.events_after(0, 10).unwrap();
    assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), [1]);
    assert!(
        kept[0].json.contains("\"type\":\"pending\""),
        "{}",
        kept[0].json
    );
    let groups = store
        .action(&id(1))
        .unwrap()
        .unwrap()
        .policy
        .approver_groups;
    assert!(!groups.is_empty());
    assert_eq!(kept[0].groups, groups);

    // Only the newest `events_kept` (3 here) stay: older ones leave with later batches.
    let more = run((4..=8).map(|n| keyed(n, &format!("k{n}"), "A")).collect());
    assert!(more.iter().all(|r| matches!(r, Ok((_, false)))));
    let kept = store.events_after(0, 10).unwrap();
    assert_eq!(kept.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5, 6]);
}

/// A clock the test sets: the writer reads the time only from it.
fn stepped(at: i64) -> (Arc<std::sync::atomic::AtomicI64>, Clock) {
    let t = Arc::new(std::sync::atomic::AtomicI64::new(at));
    let read = t.clone();
    let clock: Clock = Arc::new(move || Timestamp::from_unix_millis(read.load(Ordering::SeqCst)));
    (t, clock)
}

/// Every time the writer stages comes from its clock: expiry is decided at the clock's
/// time (not a millisecond early), and the audit entries, the vote-free outcome, the
/// key registration and the batch's checkpoint carry that time.
#[test]
fn staging_reads_the_time_from_the_writers_clock() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let created = 1_795_000_000_000;
    let (t, clock) = stepped(created);
    let mut w = Writer::new(
        parts_at(store.clone(), 64, clock),
        0,
        0,
        crate::broker::store::audit::GENESIS.into(),
        64,
    );
    let (to_committer, batches) = std::sync::mpsc::sync_channel(1);
    // A committer that only writes: the test reads the store, not the live views.
    let committer = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for c in batches {
            let c: commit::Commit = c;
            store.commit(&c.muts).unwrap();
            seen.push(c.checkpoint.clone());
            let _ = c.result.send(commit::Settled {
                committed: true,
                leftovers: c.muts,
                removed: Default::default(),
            });
        }
        seen
    });
    let mut a = action(1, "db.export", "customers", "production", RiskLevel::High);
    a.created_at = Timestamp::from_unix_millis(created);
    a.expires_at = a.created_at.plus_secs(900);
    let (reply, _created) = oneshot::channel();
    let create = Op::Create {
        callback: None,
        action: Box::new(a.clone()),
        idempotency: None,
        reply,
    };
    let (reply, _key) = oneshot::channel();
    let key = Op::RegisterKey {
        subject: "alice".into(),
        public_key: "AAAA".into(),
        key_id: KeyId("k-alice".into()),
        label: "laptop".into(),
        reply,
    };
    w.process(vec![create, key], &to_committer);
    // One millisecond before the expiry the writer's clock says it is still pending.
    t.store(a.expires_at.unix_millis() - 1, Ordering::SeqCst);
    w.process(vec![Op::Expire { id: a.id }], &to_committer);
    let still = w.get(&Batch::default(), &a.id).unwrap().unwrap();
    assert_eq!(still.status, Status::Pending);
    let expired_at = a.expires_at.unix_millis();
    t.store(expired_at, Ordering::SeqCst);
    w.process(vec![Op::Expire { id: a.id }], &to_committer);
    w.settle();
    drop(to_committer);
    let checkpoints = committer.join().unwrap();
    let stamps: Vec<i64> = checkpoints
        .iter()
        .flatten()
        .map(|c| c.at.unix_millis())
        .collect();
    assert_eq!(
        stamps,
        [created, expired_at],
        "a checkpoint per batch that audits"
    );

    let dir_store = SqliteStore::open(dir.path()).unwrap();
    let entries = dir_store.audit_entries(0, 10).unwrap();
    let at: Vec<(&str, i64)> = entries
        .iter()
        .map(|e| {
            let entry: crate::broker::store::AuditEntry =
                serde_json::from_str(&e.canonical).unwrap();
            (entry.kind.as_str(), entry.at.unix_millis())
        })
        .collect();
    assert_eq!(
        at,
        [
            ("action_created", created),
            ("key_registered", created),
            ("outcome", expired_at),
        ]
    );
    let expired = dir_store.action(&a.id).unwrap().unwrap();
    assert_eq!(expired.status, Status::Expired);
}
