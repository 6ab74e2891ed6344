//! The wire protocol v2: the action model, every websocket message, the canonical form and
//! digest, and signed decisions. No I/O lives here, so every rule can be tested directly.

pub mod action;
pub mod api;
pub mod canonical;
pub mod checkpoint;
pub mod decision;
pub mod ed25519;
pub mod error;
pub mod history;
pub mod idempotency;
pub mod ids;
pub mod messages;
pub mod person;
pub mod row;
pub mod strict;
pub mod time;
pub mod validate;

pub use action::*;
pub use canonical::{Digest, canonical_json, digest_of};
pub use checkpoint::{AuditKey, Checkpoint};
pub use decision::{Decision, DecisionId, KeyId, SignedDecision, Verdict, VerifyError};
pub use error::{ErrorCode, ProtocolError};
pub use history::{HistoryCursor, HistoryPage, HistoryQuery, HistoryRecord};
pub use messages::{ClientMsg, ServerMsg, decode_client, decode_server, encode};
pub use row::{ActionRow, BodySizes, RowVote};
pub use time::Timestamp;

/// The protocol version spoken by this build. A hello with any other version is refused.
pub const PROTOCOL_VERSION: u32 = 2;

/// Size limits, checked before anything is parsed.
pub mod limits {
    /// Largest websocket frame a client may send (a decision or a history query).
    pub const MAX_CLIENT_FRAME: usize = 64 * 1024;
    /// Largest websocket frame the server sends: one full action (`action`, at most
    /// [`MAX_ACTION_BYTES`] as submitted plus what the broker adds) or one snapshot page.
    pub const MAX_SERVER_FRAME: usize = 4 * 1024 * 1024;
    /// A snapshot page holds rows up to this many bytes of JSON (always at least one row;
    /// a row is far smaller, see `docs/protocol.md`).
    pub const MAX_SNAPSHOT_PAGE: usize = 256 * 1024;
    /// Default budget of pending bytes (the canonical size of pending actions) per requester.
    pub const DEFAULT_PENDING_BYTES_PER_REQUESTER: u64 = 32 * 1024 * 1024;
    /// Default budget of pending bytes for the whole broker.
    pub const DEFAULT_PENDING_BYTES_TOTAL: u64 = 256 * 1024 * 1024;
    /// Largest action request body accepted over HTTP.
    pub const MAX_ACTION_BYTES: usize = 2 * 1024 * 1024;
    /// Largest unified diff, or before/after document, in an action.
    pub const MAX_DIFF_BYTES: usize = 1024 * 1024;
    /// Largest short field (kind, summary, names, target parts).
    pub const MAX_SHORT_FIELD: usize = 512;
    /// Largest long text field (justification, a context value, a reason).
    pub const MAX_TEXT_FIELD: usize = 16 * 1024;
    /// Largest command (text, or all argv elements together).
    pub const MAX_COMMAND_BYTES: usize = 64 * 1024;
    /// Most context entries in one action.
    pub const MAX_CONTEXT_ENTRIES: usize = 64;
    /// Most argv elements in one command.
    pub const MAX_ARGV: usize = 4096;
}
