//! The single writer: every state change goes through one thread that owns the write
//! connection and commits in batches (group commit).
//!
//! It takes everything queued (up to a bound), stages each operation against the state
//! as the batch leaves it, writes the whole batch in one transaction, and only then
//! publishes events, wakes long polls and answers callers. A caller's reply therefore
//! means "durable". Signature checks happen before an operation is queued.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};

use super::decide::Rejection;
use super::keys::Keys;
use super::live::{Event, Live, Publish};
use super::metrics::Metrics;
use super::store::audit::seal;
use super::store::{AuditEntry, AuditKind, Mutation, Store, StoreError};
use crate::auth::Principal;
use crate::protocol::api::{KeyInfo, ResultReport};
use crate::protocol::idempotency;
use crate::protocol::row::digest_and_sizes;
use crate::protocol::{
    Action, ActionId, ActionRow, BodySizes, Checkpoint, DecisionId, Digest, ErrorCode, KeyId,
    ServerMsg, SignedDecision, Status, Timestamp,
};

mod commit;
pub mod fault;
mod ops;
mod shared;

/// Why an operation was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A pending-bytes budget is full.
    #[error("{0}")]
    Budget(String),
    /// An `Idempotency-Key` already made an action from another body.
    #[error("{0}")]
    IdempotencyConflict(String),
    #[error("internal error")]
    Internal,
    /// The database is out of reach (a shared store down or failing over).
    #[error("{0}")]
    Unavailable(String),
}

/// A vote that is durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteAck {
    pub status: Status,
    pub audit_hash: Digest,
    /// A signed checkpoint of the audit head after the batch that holds this vote.
    pub checkpoint: Option<Checkpoint>,
}

type Reply<T> = oneshot::Sender<T>;

/// The `Idempotency-Key` of a submission, checked by the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The agent principal that sent it (keys are per agent).
    pub agent: String,
    pub key: String,
    /// SHA-256 of the request's canonical form.
    pub body_hash: Digest,
}

/// A submission's answer: the action, and whether it was created earlier (an
/// `Idempotency-Key` replay) rather than by this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub action: Arc<Action>,
    pub replayed: bool,
}

/// One request to the writer.
pub enum Op {
    Create {
        action: Box<Action>,
        idempotency: Option<IdempotencyKey>,
        /// The requester's callback URL (already checked against the allow-list).
        callback: Option<String>,
        reply: Reply<Result<Created, OpError>>,
    },
    Vote {
        principal: Box<Principal>,
        signed: Box<SignedDecision>,
        reply: Reply<Result<VoteAck, Rejection>>,
    },
    Withdraw {
        id: ActionId,
        by: String,
        reply: Reply<Result<Arc<Action>, OpError>>,
    },
    Report {
        id: ActionId,
        by: String,
        report: ResultReport,
        reply: Reply<Result<Arc<Action>, OpError>>,
    },
    Expire {
        id: ActionId,
    },
    /// An approver says they are looking at a pending action ("bob is looking").
    Claim {
        id: ActionId,
        by: String,
        reply: Reply<Result<Arc<Action>, OpError>>,
    },
    RegisterKey {
        subject: String,
        public_key: String,
        key_id: KeyId,
        label: String,
        reply: Reply<Result<(KeyInfo, bool), OpError>>,
    },
    RevokeKey {
        subject: String,
        key_id: KeyId,
        reply: Reply<Result<KeyInfo, OpError>>,
    },
    /// Another broker may have committed (a shared store noticed): apply its events.
    CatchUp,
    /// Finish what is queued before this, then stop.
    Stop,
}

/// A reply computed while staging, sent only after the batch commits.
enum Done {
    Created(Reply<Result<Created, OpError>>, Result<Created, OpError>),
    Action(
        Reply<Result<Arc<Action>, OpError>>,
        Result<Arc<Action>, OpError>,
    ),
    Vote(
        Reply<Result<VoteAck, Rejection>>,
        Result<VoteAck, Rejection>,
    ),
    Key(
        Reply<Result<(KeyInfo, bool), OpError>>,
        Result<(KeyInfo, bool), OpError>,
    ),
    Revoke(Reply<Result<KeyInfo, OpError>>, Result<KeyInfo, OpError>),
}

/// How a batch ended, for its callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Committed,
    Failed,
    /// The database could not be reached; the message says why (no secrets in it).
    Unavailable(String),
}

/// The message a caller gets when the store is out of reach.
pub(crate) fn unavailable_message(why: &str) -> String {
    format!("the broker's database is unavailable ({why}); retry shortly")
}

impl Outcome {
    fn op_error(&self) -> OpError {
        match self {
            Outcome::Unavailable(why) => OpError::Unavailable(unavailable_message(why)),
            _ => OpError::Internal,
        }
    }

    fn rejection(&self) -> Rejection {
        match self {
            Outcome::Unavailable(why) => (ErrorCode::StoreUnavailable, unavailable_message(why)),
            _ => (
                ErrorCode::Internal,
                "the decision could not be stored".into(),
            ),
        }
    }
}

impl Done {
    fn send(self, outcome: &Outcome) {
        let ok = *outcome == Outcome::Committed;
        // A caller that went away (closed connection) no longer needs the answer.
        match self {
            Done::Created(r, v) => {
                let _ = r.send(if ok {
                    v
                } else {
                    v.and(Err(outcome.op_error()))
                });
            }
            Done::Action(r, v) => {
                let _ = r.send(if ok {
                    v
                } else {
                    v.and(Err(outcome.op_error()))
                });
            }
            Done::Vote(r, v) => {
                let _ = r.send(if ok {
                    v
                } else {
                    v.and(Err(outcome.rejection()))
                });
            }
            Done::Key(r, v) => {
                let _ = r.send(if ok {
                    v
                } else {
                    v.and(Err(outcome.op_error()))
                });
            }
            Done::Revoke(r, v) => {
                let _ = r.send(if ok {
                    v
                } else {
                    v.and(Err(outcome.op_error()))
                });
            }
        }
    }
}

/// Answers an operation that was never staged (the store could not open its batch).
fn refuse(op: Op, outcome: &Outcome) {
    match op {
        Op::Create { reply, .. } => {
            let _ = reply.send(Err(outcome.op_error()));
        }
        Op::Withdraw { reply, .. } | Op::Report { reply, .. } | Op::Claim { reply, .. } => {
            let _ = reply.send(Err(outcome.op_error()));
        }
        Op::Vote { reply, .. } => {
            let _ = reply.send(Err(outcome.rejection()));
        }
        Op::RegisterKey { reply, .. } => {
            let _ = reply.send(Err(outcome.op_error()));
        }
        Op::RevokeKey { reply, .. } => {
            let _ = reply.send(Err(outcome.op_error()));
        }
        Op::Expire { .. } | Op::CatchUp | Op::Stop => {}
    }
}

/// Everything one batch changes, staged before the commit.
#[derive(Default)]
struct Batch {
    muts: Vec<Mutation>,
    touched: HashMap<ActionId, Arc<Action>>,
    decisions: HashSet<DecisionId>,
    keys: HashMap<KeyId, KeyInfo>,
    /// Idempotency records made by this batch, by (agent, key).
    idempotency: HashMap<(String, String), idempotency::Record>,
    publish: Publish,
    done: Vec<Done>,
    outcomes: Vec<Status>,
    created: u64,
    /// Pending bytes this batch adds, per requester and in total (not yet in `live`).
    bytes_by: HashMap<String, u64>,
    bytes_total: u64,
}

/// Pending-bytes budgets (see `docs/protocol.md`, size limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    pub per_requester: u64,
    pub total: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        use crate::protocol::limits::{
            DEFAULT_PENDING_BYTES_PER_REQUESTER, DEFAULT_PENDING_BYTES_TOTAL,
        };
        Self {
            per_requester: DEFAULT_PENDING_BYTES_PER_REQUESTER,
            total: DEFAULT_PENDING_BYTES_TOTAL,
        }
    }
}

/// What the batch being committed changed, for staging the next one on top of it.
struct Committing {
    result: std::sync::mpsc::Receiver<commit::Settled>,
    /// Chain heads (event seq, audit seq, audit hash) from before it.
    saved: (u64, u64, String),
    touched: HashMap<ActionId, Arc<Action>>,
    decisions: HashSet<DecisionId>,
    keys: HashMap<KeyId, KeyInfo>,
    idempotency: HashMap<(String, String), idempotency::Record>,
    bytes_by: HashMap<String, u64>,
    bytes_total: u64,
}

/// Where the writer reads the time: the wall clock in the broker, a fixed or stepped
/// one in tests. Read once per staged operation (and once per batch for its checkpoint
/// and the idempotency window), never elsewhere.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The wall clock.
pub fn wall_clock() -> Clock {
    Arc::new(Timestamp::now)
}

/// The writer's own state: chain heads and the shared views it keeps current.
pub struct Writer {
    store: Arc<dyn Store>,
    live: Arc<Live>,
    keys: Arc<Keys>,
    metrics: Arc<Metrics>,
    new_action: Arc<Notify>,
    head_seq: u64,
    audit_seq: u64,
    audit_hash: String,
    max_batch: usize,
    /// Digests and sizes of pending actions. The fields a digest covers never change
    /// after creation, and computing one means the canonical form of the whole action.
    digests: HashMap<ActionId, (Digest, BodySizes)>,
    committing: Option<Committing>,
    /// Signs a checkpoint of the audit head after every batch that appends to it.
    audit_key: Arc<ed25519_dalek::SigningKey>,
    checkpoint: super::audit_key::Latest,
    budgets: Budgets,
    /// Stages notification outbox rows beside the events that cause them.
    notify: Option<Arc<crate::broker::notify::Plan>>,
    /// Several brokers write the store: each batch is staged inside the store's
    /// transaction, on the state as stored (see [`Writer::begin_shared`]).
    shared: bool,
    /// Set by the store's wake-up, cleared when the writer catches up.
    wake: Arc<std::sync::atomic::AtomicBool>,
    /// How many recent feed events the store keeps for `resume_after`.
    events_kept: u64,
    clock: Clock,
    /// What is left of committed batches, freed once the next batch is on its way to the
    /// committer (freeing it first would leave the committer idle meanwhile).
    leftovers: Vec<(Vec<Mutation>, super::live::Removed)>,
}

/// Marks the writer down (see [`Metrics::writer_down`]) when the thread holding it ends,
/// normally or by a panic.
struct DownOnDrop(Arc<Metrics>);

impl Drop for DownOnDrop {
    fn drop(&mut self) {
        self.0
            .writer_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if std::thread::panicking() {
            tracing::error!(
                thread = std::thread::current().name().unwrap_or("?"),
                "a writer thread panicked: no write can succeed; /healthz answers 503"
            );
        }
    }
}

/// Shared pieces the writer updates.
pub struct Parts {
    pub store: Arc<dyn Store>,
    pub live: Arc<Live>,
    pub keys: Arc<Keys>,
    pub metrics: Arc<Metrics>,
    pub new_action: Arc<Notify>,
    /// The broker's audit signing key (see [`crate::broker::audit_key`]).
    pub audit_key: Arc<ed25519_dalek::SigningKey>,
    /// The latest checkpoint, published once its batch is durable.
    pub checkpoint: super::audit_key::Latest,
    pub budgets: Budgets,
    /// How many recent feed events the store keeps (the resume window).
    pub events_kept: usize,
    /// Where the writer reads the time ([`wall_clock`] in the broker).
    pub clock: Clock,
}

impl Writer {
    pub fn new(
        p: Parts,
        head_seq: u64,
        audit_seq: u64,
        audit_hash: String,
        max_batch: usize,
    ) -> Self {
        let shared = p.store.shared();
        Self {
            shared,
            wake: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            store: p.store,
            live: p.live,
            keys: p.keys,
            metrics: p.metrics,
            new_action: p.new_action,
            head_seq,
            audit_seq,
            audit_hash,
            max_batch: max_batch.max(1),
            digests: HashMap::new(),
            committing: None,
            audit_key: p.audit_key,
            checkpoint: p.checkpoint,
            budgets: p.budgets,
            notify: None,
            events_kept: p.events_kept as u64,
            clock: p.clock,
            leftovers: Vec::new(),
        }
    }

    /// The time, from the writer's clock.
    fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Stages notifications with `plan` (see [`crate::broker::notify`]).
    pub fn with_notify(mut self, plan: Option<Arc<crate::broker::notify::Plan>>) -> Self {
        self.notify = plan;
        self
    }

    /// The flag a shared store's wake-up sets before it queues an [`Op::CatchUp`] (so
    /// that a burst of notifications queues one).
    pub fn wake_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.wake.clone()
    }

    /// Runs until [`Op::Stop`] or until every sender is gone. Blocking: run on a thread.
    /// Commits happen on a second thread ([`commit`]), one batch behind the staging.
    pub fn run(mut self, mut rx: mpsc::Receiver<Op>) {
        let _down = DownOnDrop(self.metrics.clone());
        let (to_committer, batches) = std::sync::mpsc::sync_channel::<commit::Commit>(1);
        let sinks = commit::Sinks {
            store: self.store.clone(),
            live: self.live.clone(),
            keys: self.keys.clone(),
            metrics: self.metrics.clone(),
            new_action: self.new_action.clone(),
            checkpoint: self.checkpoint.clone(),
        };
        let committer = std::thread::Builder::new()
            .name("signoff-commit".into())
            .spawn(move || commit::run(sinks, batches));
        let committer = match committer {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot start the commit thread");
                return;
            }
        };
        let mut stop = false;
        while !stop {
            let first = match rx.try_recv() {
                Ok(op) => op,
                Err(_) => {
                    // Idle: free what committed batches left rather than hold it until
                    // the next one.
                    self.settle_if_done();
                    self.leftovers.clear();
                    let Some(op) = rx.blocking_recv() else {
                        break;
                    };
                    op
                }
            };
            // Sized once: ops are large, and a batch can hold thousands.
            let mut ops = Vec::with_capacity(rx.len().min(self.max_batch) + 1);
            ops.push(first);
            while ops.len() < self.max_batch {
                match rx.try_recv() {
                    Ok(op) => ops.push(op),
                    Err(_) => break,
                }
            }
            if let Some(i) = ops.iter().position(|o| matches!(o, Op::Stop)) {
                ops.truncate(i);
                stop = true;
            }
            let before = ops.len();
            ops.retain(|o| !matches!(o, Op::CatchUp));
            if ops.len() != before {
                self.wake.store(false, std::sync::atomic::Ordering::SeqCst);
                if ops.is_empty() && self.shared {
                    self.settle();
                    if let Err(e) = self.catch_up(None) {
                        tracing::warn!(error = %e, "cannot read other brokers' events");
                    }
                }
            }
            if !ops.is_empty() {
                self.process(ops, &to_committer);
            }
        }
        self.settle();
        drop(to_committer);
        let _ = committer.join();
        tracing::debug!("writer stopped");
    }

    /// Waits for the batch in flight; on failure, rolls the chain heads back to before it.
    /// Returns whether it committed (true when none was in flight).
    fn settle(&mut self) -> bool {
        let Some(f) = self.committing.take() else {
            return true;
        };
        let committed = match f.result.recv() {
            Ok(settled) => {
                self.leftovers.push((settled.leftovers, settled.removed));
                settled.committed
            }
            Err(_) => false,
        };
        if !committed {
            (self.head_seq, self.audit_seq, self.audit_hash) = f.saved;
        }
        committed
    }

    /// Settles the batch in flight if its commit has already finished, without waiting,
    /// so that the next batch is staged on what is really stored.
    fn settle_if_done(&mut self) {
        use std::sync::mpsc::TryRecvError;
        let committed = match self.committing.as_ref().map(|f| f.result.try_recv()) {
            None | Some(Err(TryRecvError::Empty)) => return,
            Some(Ok(settled)) => {
                self.leftovers.push((settled.leftovers, settled.removed));
                settled.committed
            }
            Some(Err(TryRecvError::Disconnected)) => false,
        };
        if let Some(f) = self.committing.take()
            && !committed
        {
            (self.head_seq, self.audit_seq, self.audit_hash) = f.saved;
        }
    }

    fn process(&mut self, ops: Vec<Op>, committer: &std::sync::mpsc::SyncSender<commit::Commit>) {
        if self.shared {
            // One batch at a time: the open transaction holds the chain head.
            self.settle();
            if let Err(e) = self.begin_shared() {
                tracing::warn!(error = %e, ops = ops.len(), "cannot open a batch; refused");
                let outcome = match e {
                    StoreError::Unavailable(why) => Outcome::Unavailable(why),
                    _ => Outcome::Failed,
                };
                for op in ops {
                    refuse(op, &outcome);
                }
                return;
            }
        }
        self.process_staged(ops, committer);
        if self.shared {
            self.settle();
        }
    }

    fn process_staged(
        &mut self,
        ops: Vec<Op>,
        committer: &std::sync::mpsc::SyncSender<commit::Commit>,
    ) {
        self.settle_if_done();
        let saved = (self.head_seq, self.audit_seq, self.audit_hash.clone());
        let mut b = Batch::default();
        let n = ops.len();
        for op in ops {
            self.stage(&mut b, op);
        }
        // This batch was staged on top of the one in flight: if that one failed, so does
        // this one (its chain links and checks assumed the other was stored); `settle`
        // has rolled the chain heads back to before both.
        if !self.settle() {
            for d in b.done {
                d.send(&Outcome::Failed);
            }
            return;
        }
        if !b.publish.events.is_empty() {
            // Kept with the state change they announce, so a restarted broker can replay
            // them to a client that resumes (see `Live::restore`).
            for e in &b.publish.events {
                b.muts.push(Mutation::Event(e.clone()));
            }
            if let Some(upto) = self.head_seq.checked_sub(self.events_kept) {
                b.muts.push(Mutation::PruneEvents(upto));
            }
        }
        if !b.idempotency.is_empty() {
            // First in the batch, so it never removes a record this batch adds.
            let before = self.now().plus_secs(-idempotency::WINDOW_SECS);
            b.muts.insert(0, Mutation::PruneIdempotency(before));
        }
        if !b.muts.is_empty() {
            b.muts.push(Mutation::HeadSeq(self.head_seq));
        }
        if let Some(p) = &self.notify {
            p.wake();
        }
        let checkpoint = (self.audit_seq != saved.1).then(|| {
            Checkpoint::sign(
                self.audit_seq,
                &self.audit_hash,
                self.now(),
                &self.audit_key,
            )
        });
        if let Some(cp) = &checkpoint {
            for d in &mut b.done {
                if let Done::Vote(_, Ok(ack)) = d {
                    ack.checkpoint = Some(cp.clone());
                }
            }
        }
        b.publish.head_seq = self.head_seq;
        let (result, result_rx) = std::sync::mpsc::sync_channel(1);
        self.committing = Some(Committing {
            result: result_rx,
            saved,
            touched: std::mem::take(&mut b.touched),
            decisions: std::mem::take(&mut b.decisions),
            keys: b.keys.clone(),
            idempotency: std::mem::take(&mut b.idempotency),
            bytes_by: std::mem::take(&mut b.bytes_by),
            bytes_total: b.bytes_total,
        });
        let c = commit::Commit {
            muts: b.muts,
            publish: b.publish,
            done: b.done,
            keys: b.keys.into_values().collect(),
            outcomes: b.outcomes,
            created: b.created,
            ops: n,
            checkpoint,
            result,
        };
        let sent = committer.send(c);
        // The committer has its next batch: now free the last one's remains.
        self.leftovers.clear();
        if let Err(std::sync::mpsc::SendError(c)) = sent {
            tracing::error!("the commit thread is gone; batch refused");
            if let Some(f) = self.committing.take() {
                (self.head_seq, self.audit_seq, self.audit_hash) = f.saved;
            }
            if self.shared {
                self.store.rollback();
            }
            for d in c.done {
                d.send(&Outcome::Failed);
            }
        }
    }

    /// The action as this batch leaves it: staged, else as the batch in flight left it,
    /// else pending, else stored.
    fn get(&self, b: &Batch, id: &ActionId) -> Result<Option<Arc<Action>>, StoreError> {
        if let Some(a) = b.touched.get(id) {
            return Ok(Some(a.clone()));
        }
        if self.shared {
            // Another broker may have changed it: the stored row, locked for this batch.
            return Ok(self.store.action_for_update(id)?.map(Arc::new));
        }
        if let Some(a) = self.committing.as_ref().and_then(|f| f.touched.get(id)) {
            return Ok(Some(a.clone()));
        }
        if let Some(a) = self.live.pending(id) {
            return Ok(Some(a));
        }
        Ok(self.store.action(id)?.map(Arc::new))
    }

    /// The action's digest: cached while it is pending (computed once after a restart).
    fn digest(&mut self, a: &Action) -> Digest {
        self.digest_and_sizes(a).0
    }

    /// The action's digest and sizes, cached like [`Writer::digest`].
    fn digest_and_sizes(&mut self, a: &Action) -> (Digest, BodySizes) {
        if a.status != Status::Pending {
            return self
                .digests
                .get(&a.id)
                .cloned()
                .unwrap_or_else(|| digest_and_sizes(a));
        }
        self.digests
            .entry(a.id)
            .or_insert_with(|| digest_and_sizes(a))
            .clone()
    }

    /// The feed row of `a`.
    fn row(&mut self, a: &Action) -> ActionRow {
        let (digest, sizes) = self.digest_and_sizes(a);
        ActionRow::of(a, digest, sizes)
    }

    /// Refuses `bytes` more pending for `requester` when a budget would overflow: what
    /// is committed (`live`), plus the batch in flight, plus this batch.
    fn check_budget(&self, b: &Batch, requester: &str, bytes: u64) -> Result<(), OpError> {
        let (mine, total) = self.live.pending_bytes(requester);
        let f = self.committing.as_ref();
        let mine = mine
            + f.and_then(|f| f.bytes_by.get(requester))
                .copied()
                .unwrap_or(0)
            + b.bytes_by.get(requester).copied().unwrap_or(0);
        let total = total + f.map_or(0, |f| f.bytes_total) + b.bytes_total;
        let limits = self.budgets;
        if mine + bytes > limits.per_requester {
            return Err(OpError::Budget(format!(
                "{requester} already has {mine} bytes of actions pending; this one ({bytes} bytes) \
                 would pass the per-requester budget of {} bytes; wait for decisions or withdraw some",
                limits.per_requester
            )));
        }
        if total + bytes > limits.total {
            return Err(OpError::Budget(format!(
                "the broker holds {total} bytes of pending actions; this one ({bytes} bytes) \
                 would pass its budget of {} bytes; retry once some are decided",
                limits.total
            )));
        }
        Ok(())
    }

    /// Seals an audit entry onto the chain; returns its hash.
    fn audit(
        &mut self,
        b: &mut Batch,
        kind: AuditKind,
        action_id: Option<ActionId>,
        actor: &str,
        at: Timestamp,
        payload: Value,
    ) -> Digest {
        self.audit_seq += 1;
        let entry = AuditEntry {
            seq: self.audit_seq,
            at,
            kind,
            action_id,
            actor: actor.to_string(),
            payload,
        };
        let stored = seal(&entry, &self.audit_hash);
        self.audit_hash = stored.hash.clone();
        b.muts.push(Mutation::Audit { entry, stored });
        // The hash is 64 lowercase hex characters by construction.
        Digest::try_from(self.audit_hash.clone()).unwrap_or_else(|_| Digest::of_bytes(b""))
    }

    /// Numbers a feed event and stages it for publication.
    fn event(&mut self, b: &mut Batch, make: impl FnOnce(u64) -> ServerMsg, groups: &[String]) {
        self.head_seq += 1;
        let msg = make(self.head_seq);
        b.publish
            .events
            .push(Arc::new(Event::new(&msg, groups.to_vec())));
    }

    fn stage(&mut self, b: &mut Batch, op: Op) {
        match op {
            Op::Create {
                action,
                idempotency,
                callback,
                reply,
            } => {
                let r = self.create_keyed(b, *action, idempotency, callback.as_deref());
                b.done.push(Done::Created(reply, r));
            }
            Op::Vote {
                principal,
                signed,
                reply,
            } => {
                let r = self.vote(b, &principal, *signed);
                b.done.push(Done::Vote(reply, r));
            }
            Op::Withdraw { id, by, reply } => {
                let r = self.withdraw(b, id, &by);
                b.done.push(Done::Action(reply, r));
            }
            Op::Report {
                id,
                by,
                report,
                reply,
            } => {
                let r = self.report(b, id, &by, report);
                b.done.push(Done::Action(reply, r));
            }
            Op::Claim { id, by, reply } => {
                let r = self.claim(b, id, by);
                b.done.push(Done::Action(reply, r));
            }
            Op::Expire { id } => {
                if let Err(e) = self.expire(b, id) {
                    tracing::error!(error = %e, action = %id, "expiry failed");
                }
            }
            Op::RegisterKey {
                subject,
                public_key,
                key_id,
                label,
                reply,
            } => {
                let r = self.register_key(b, subject, public_key, key_id, label);
                b.done.push(Done::Key(reply, r));
            }
            Op::RevokeKey {
                subject,
                key_id,
                reply,
            } => {
                let r = self.revoke_key(b, &subject, &key_id);
                b.done.push(Done::Revoke(reply, r));
            }
            Op::CatchUp | Op::Stop => {}
        }
    }
}

#[cfg(test)]
mod tests;
