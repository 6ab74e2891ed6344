//! Durable state behind one trait: actions, votes, keys, the audit chain and history.
//!
//! The broker's single writer turns each batch of accepted operations into a list of
//! [`Mutation`]s and hands it to [`Store::commit`], which applies it in one transaction.
//! SQLite ([`SqliteStore`]) is the embedded backend for one broker; PostgreSQL
//! ([`PgStore`]) is the shared one for several brokers on one database. A shared store
//! ([`Store::shared`]) also opens each batch with [`Store::begin`], which locks the chain
//! head, so that writers on several machines take turns (see docs/broker.md).

use std::sync::Arc;

use crate::broker::live::Event;
use crate::protocol::api::KeyInfo;
use crate::protocol::idempotency;
use crate::protocol::{
    Action, ActionId, DecisionId, Digest, HistoryPage, HistoryQuery, KeyId, SignedDecision,
    Timestamp,
};

pub mod audit;
pub mod audit_actions;
mod history;
pub mod notify;
pub mod pg;
mod schema;
mod sqlite;
mod verified;
mod wal;
mod words;

pub use audit::{AuditEntry, AuditKind, StoredEntry};
pub use pg::PgStore;
pub use pg::url::{PgOptions, PgUrl, PgUrlError};
pub use sqlite::{DB_FILE, SqliteStore};

/// Why the store failed. Messages are for logs; API callers only see `internal`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// A PostgreSQL error that is not about reaching the server.
    #[error("PostgreSQL: {0}")]
    Pg(String),
    /// The CA certificates for `sslmode=require` cannot be used.
    #[error("TLS to PostgreSQL: {0}")]
    PgTls(#[source] PgUrlError),
    /// The database cannot be reached now (down, restarting, failing over, lock wait
    /// timed out): callers get `503 store_unavailable` and may retry.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error(
        "the database schema is version {found}, newer than this broker knows ({known}); \
         upgrade this broker before starting it on this database"
    )]
    SchemaTooNew { found: u32, known: u32 },
    /// A thread the store needs (the WAL checkpointer) could not start.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        what: &'static str,
        source: std::io::Error,
    },
}

impl StoreError {
    /// True when the failure is the database being out of reach, not the request.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// The newest feed event and audit entry, as a shared store holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub event_seq: u64,
    pub audit_seq: u64,
    pub audit_hash: String,
}

/// A feed event another broker committed, with its action as stored now.
#[derive(Debug, Clone)]
pub struct Change {
    pub seq: u64,
    pub groups: Vec<String>,
    pub json: String,
    pub action: Option<Action>,
}

/// One write, applied with the others of its batch in a single transaction.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Insert or replace an action (its full current state) with its digest; `body` is
    /// its JSON, encoded when the batch is staged (see [`Mutation::put_action`]).
    PutAction {
        action: Arc<Action>,
        digest: Digest,
        body: String,
    },
    /// An accepted vote, with the signed decision as received and its JSON (see
    /// [`Mutation::vote`]).
    Vote {
        signed: SignedDecision,
        at: Timestamp,
        json: String,
    },
    /// An audit entry, already sealed onto the chain.
    Audit {
        entry: AuditEntry,
        stored: StoredEntry,
    },
    /// Insert or replace a registered key.
    PutKey(KeyInfo),
    /// A decided action enters history.
    History(HistoryRow),
    /// An execution result arrived for a decided action.
    MarkExecuted(ActionId),
    /// The newest feed event sequence number.
    HeadSeq(u64),
    /// A notification to send (see [`notify`]).
    NotifyEnqueue(notify::NewMessage),
    /// An action's waiting callback, released with the outcome.
    NotifyRelease {
        action_id: ActionId,
        payload: String,
        at: Timestamp,
    },
    /// A feed event, kept so that `resume_after` works across restarts.
    Event(Arc<Event>),
    /// Forget the events numbered `seq` and below (outside the resume window).
    PruneEvents(u64),
    /// An `Idempotency-Key` and the action it created (replaces an expired record).
    Idempotency(idempotency::Record),
    /// Forget idempotency records created before this time (outside the window).
    PruneIdempotency(Timestamp),
}

impl Mutation {
    /// Stores `action` as it stands now. The JSON is encoded here, by whoever stages the
    /// batch, so that the thread which commits (and holds the one write connection) only
    /// binds text.
    pub fn put_action(action: Arc<Action>, digest: Digest) -> Self {
        let body = crate::protocol::encode(action.as_ref());
        Mutation::PutAction {
            action,
            digest,
            body,
        }
    }

    /// Records an accepted vote, encoded here like [`Mutation::put_action`].
    pub fn vote(signed: SignedDecision, at: Timestamp) -> Self {
        let json = crate::protocol::encode(&signed);
        Mutation::Vote { signed, at, json }
    }
}

/// What history shows for one decided action.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub action: Arc<Action>,
    pub decided_at: Timestamp,
    pub decided_by: Vec<String>,
    pub reason: String,
    pub audit_hash: Digest,
}

/// Everything a starting broker needs from disk.
#[derive(Debug, Clone, Default)]
pub struct Recovered {
    pub pending: Vec<Action>,
    pub head_seq: u64,
    pub audit_seq: u64,
    /// The last audit hash (the genesis value for an empty log).
    pub audit_hash: String,
    pub keys: Vec<KeyInfo>,
}

/// A history row as stored, every column, so `audit verify` can hold each against what
/// the chain and the action's content say (an operator who edits `outcome` or `decided_by`
/// would otherwise change what history shows and filters on, undetected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHistory {
    pub decided_at: Timestamp,
    pub outcome: String,
    pub risk: String,
    pub kind: String,
    pub environment: String,
    pub requester_id: String,
    pub requester_name: String,
    pub executed: bool,
    /// As stored: a JSON array of strings.
    pub decided_by: String,
    pub reason: String,
    pub audit_hash: String,
    /// The approver index rows for this action, sorted.
    pub voters: Vec<String>,
}

/// Which table [`Store::stored_ids`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTable {
    Actions,
    History,
}

/// The broker's durable state.
pub trait Store: Send + Sync + 'static {
    /// Pending actions, sequence numbers, the audit chain head and keys.
    fn recover(&self) -> Result<Recovered, StoreError>;
    /// Applies a batch atomically and durably; after `Ok` the batch survives a crash.
    fn commit(&self, batch: &[Mutation]) -> Result<(), StoreError>;
    /// Any action, in any state.
    fn action(&self, id: &ActionId) -> Result<Option<Action>, StoreError>;
    /// True when a vote with this decision id was ever recorded.
    fn decision_seen(&self, id: &DecisionId) -> Result<bool, StoreError>;
    /// True when `requester` asked for `kind` before.
    fn has_requested_kind(&self, requester: &str, kind: &str) -> Result<bool, StoreError>;
    /// One page of history, newest first. The query must be validated already.
    fn history(&self, q: &HistoryQuery) -> Result<HistoryPage, StoreError>;
    /// Audit entries with `seq > after`, in order, at most `limit`.
    fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<StoredEntry>, StoreError>;
    /// Kept feed events with `seq > after`, in order, at most `limit` (only those still
    /// inside the resume window are kept; see [`Mutation::PruneEvents`]).
    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError>;
    /// The idempotency record of `agent`'s `key`, whatever its age.
    fn idempotency(
        &self,
        agent: &str,
        key: &str,
    ) -> Result<Option<idempotency::Record>, StoreError>;
    /// The ids in `table` greater than `after`, in order, at most `limit` (for verify).
    fn stored_ids(
        &self,
        table: IdTable,
        after: Option<&ActionId>,
        limit: usize,
    ) -> Result<Vec<ActionId>, StoreError>;
    /// The history row of one action, every column (for verify).
    fn history_entry(&self, id: &ActionId) -> Result<Option<StoredHistory>, StoreError>;

    // Several brokers on one store. The defaults describe a store with one writer.

    /// True when several brokers may write this store at once: the writer then stages
    /// each batch inside [`Store::begin`]'s transaction, against the stored state.
    fn shared(&self) -> bool {
        false
    }
    /// Opens the next batch's transaction and locks the chain head until
    /// [`Store::commit`] or [`Store::rollback`]; returns the head as stored.
    fn begin(&self) -> Result<Head, StoreError> {
        Err(StoreError::Corrupt(
            "begin: this store has one writer".into(),
        ))
    }
    /// Ends a batch opened with [`Store::begin`] without writing it.
    fn rollback(&self) {}
    /// The action as stored, locked until the open batch ends (shared stores).
    fn action_for_update(&self, id: &ActionId) -> Result<Option<Action>, StoreError> {
        self.action(id)
    }
    /// The head as stored, without locking it.
    fn head(&self) -> Result<Option<Head>, StoreError> {
        Ok(None)
    }
    /// Feed events with `seq > after`, in order, at most `limit`, each with its action
    /// as stored now.
    fn changes_after(&self, _after: u64, _limit: usize) -> Result<Vec<Change>, StoreError> {
        Ok(Vec::new())
    }
    /// Keys registered or revoked by audit entries after `audit_seq`, as stored now.
    fn keys_after(&self, _audit_seq: u64) -> Result<Vec<KeyInfo>, StoreError> {
        Ok(Vec::new())
    }
    /// One registered key, as stored now.
    fn key(&self, _id: &KeyId) -> Result<Option<KeyInfo>, StoreError> {
        Ok(None)
    }
    /// Calls `wake` whenever another broker may have committed (a notification, or a
    /// periodic look), for as long as the store lives.
    fn watch(&self, _wake: Arc<dyn Fn() + Send + Sync>) {}
    /// Whether the store answers now (`/healthz`).
    fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Records `value` under `key` unless a value is recorded already; returns the
    /// recorded one (so replicas can check they share a setting, e.g. the audit key).
    fn claim(&self, _key: &str, value: &str) -> Result<String, StoreError> {
        Ok(value.to_string())
    }
}
