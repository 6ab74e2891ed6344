//! The writer's pipeline against a real SQLite store that can be made to fail a commit.

use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::broker::store::{Recovered, SqliteStore};
use crate::console::fixtures::action;
use crate::protocol::{HistoryPage, HistoryQuery, RiskLevel};

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

fn create(tx: &mpsc::Sender<Op>, n: u8) -> oneshot::Receiver<Result<Arc<Action>, OpError>> {
    let (reply, rx) = oneshot::channel();
    let a = action(n, "db.export", "customers", "production", RiskLevel::High);
    tx.blocking_send(Op::Create {
        action: Box::new(a),
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
    assert!(live.pending(&crate::console::fixtures::id(1)).is_some());
    assert!(live.pending(&crate::console::fixtures::id(2)).is_none());
    assert!(live.pending(&crate::console::fixtures::id(3)).is_some());
    let summary = crate::broker::cli::verify(dir.path()).unwrap();
    assert!(summary.contains("audit log OK: 2 entries"), "{summary}");
}
