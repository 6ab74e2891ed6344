//! The committer: the second half of the writer's pipeline.
//!
//! The writer stages batch N+1 while this thread writes batch N and waits for its fsync,
//! so staging (JSON, hashing, checks) overlaps the disk. Only after a batch is durable
//! does this thread publish its events, wake long polls and answer its callers; then it
//! tells the writer whether it committed, because the next batch was staged on top of it.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, SyncSender};

use tokio::sync::Notify;

use super::{Done, Outcome};
use crate::broker::keys::Keys;
use crate::broker::live::{Live, Publish};
use crate::broker::metrics::Metrics;
use crate::broker::store::{Mutation, Store, StoreError};
use crate::protocol::Status;
use crate::protocol::api::KeyInfo;

/// One staged batch, ready to be written.
pub(super) struct Commit {
    pub muts: Vec<Mutation>,
    pub publish: Publish,
    pub done: Vec<Done>,
    pub keys: Vec<KeyInfo>,
    pub outcomes: Vec<Status>,
    pub created: u64,
    pub ops: usize,
    /// Signed over the audit head after this batch; published once it is durable.
    pub checkpoint: Option<crate::protocol::Checkpoint>,
    /// Whether it committed, for the writer (which may have staged on top of it).
    pub result: SyncSender<Settled>,
}

/// How a batch ended, for the writer, with what is left of it.
pub(super) struct Settled {
    pub committed: bool,
    /// The batch's mutations, freed by the writer: they were allocated there, and
    /// freeing them here would put that work (and glibc's cross-thread frees) on the one
    /// thread every ack waits for.
    pub leftovers: Vec<Mutation>,
    /// The pending actions the batch decided, as the live view held them.
    pub removed: crate::broker::live::Removed,
}

/// What the committer publishes to after a commit.
pub(super) struct Sinks {
    pub store: Arc<dyn Store>,
    pub live: Arc<Live>,
    pub keys: Arc<Keys>,
    pub metrics: Arc<Metrics>,
    pub new_action: Arc<Notify>,
    pub checkpoint: crate::broker::audit_key::Latest,
}

/// Commits batches in order until the writer hangs up.
pub(super) fn run(s: Sinks, rx: Receiver<Commit>) {
    // However this thread ends (the writer hung up, or a panic), no write succeeds after.
    let _down = super::DownOnDrop(s.metrics.clone());
    // A shared store has a transaction open for every batch, written or not.
    let shared = s.store.shared();
    for c in rx {
        super::fault::before_commit(c.created);
        let outcome = if c.muts.is_empty() && !shared {
            Outcome::Committed
        } else {
            match s.store.commit(&c.muts) {
                Ok(()) => Outcome::Committed,
                Err(StoreError::Unavailable(why)) => {
                    tracing::error!(error = %why, ops = c.ops, "database unavailable; batch refused");
                    Outcome::Unavailable(why)
                }
                Err(e) => {
                    tracing::error!(error = %e, ops = c.ops, "commit failed; batch refused");
                    Outcome::Failed
                }
            }
        };
        let committed = outcome == Outcome::Committed;
        let mut removed = crate::broker::live::Removed::default();
        if committed {
            super::fault::after_commit(c.created);
            s.metrics.commits.fetch_add(1, Relaxed);
            s.metrics.committed_ops.fetch_add(c.ops as u64, Relaxed);
            s.metrics.actions_created.fetch_add(c.created, Relaxed);
            for st in &c.outcomes {
                s.metrics.outcome(*st);
            }
            s.keys.put(c.keys);
            if let Some(cp) = c.checkpoint {
                s.checkpoint.publish(cp);
            }
            removed = s.live.publish(c.publish);
            if c.created > 0 {
                s.new_action.notify_one();
            }
        }
        // The writer hears first, so a caller who reacts to its answer with a new
        // operation finds the writer already knowing how this batch ended. (It may be
        // gone after a stop; nothing is waiting then.)
        let _ = c.result.send(Settled {
            committed,
            leftovers: c.muts,
            removed,
        });
        for d in c.done {
            d.send(&outcome);
        }
    }
}
