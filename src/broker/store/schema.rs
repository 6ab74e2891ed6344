//! The SQLite schema. Every statement is idempotent, so opening an existing file is safe.

/// Connection settings: WAL, and `synchronous=FULL` so that a commit that returned is on
/// disk before any ack goes out (NORMAL may lose the last commits on power loss).
pub const PRAGMAS: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 10000;
";

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS actions (
    id           TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    digest       TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_pending ON actions(status) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS actions_requester_kind ON actions(requester_id, kind);
CREATE TABLE IF NOT EXISTS votes (
    decision_id TEXT PRIMARY KEY,
    action_id   TEXT NOT NULL,
    approver    TEXT NOT NULL,
    at          INTEGER NOT NULL,
    signed      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS votes_action ON votes(action_id);
CREATE TABLE IF NOT EXISTS keys (
    key_id     TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    public_key TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    type      TEXT NOT NULL,
    action_id TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    entry     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE TABLE IF NOT EXISTS history (
    rid            INTEGER PRIMARY KEY,
    action_id      TEXT NOT NULL UNIQUE,
    decided_at     INTEGER NOT NULL,
    outcome        TEXT NOT NULL,
    risk           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    environment    TEXT NOT NULL,
    requester_id   TEXT NOT NULL,
    requester_name TEXT NOT NULL,
    executed       INTEGER NOT NULL DEFAULT 0,
    decided_by     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    audit_hash     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_time ON history(decided_at, action_id);
CREATE INDEX IF NOT EXISTS history_outcome ON history(outcome, decided_at, action_id);
CREATE INDEX IF NOT EXISTS history_risk ON history(risk, decided_at, action_id);
CREATE INDEX IF NOT EXISTS history_env ON history(environment, decided_at, action_id);
CREATE INDEX IF NOT EXISTS history_kind ON history(kind, decided_at, action_id);
CREATE INDEX IF NOT EXISTS history_requester ON history(requester_id, decided_at, action_id);
CREATE INDEX IF NOT EXISTS history_executed ON history(executed, decided_at, action_id);
CREATE TABLE IF NOT EXISTS history_voters (
    approver   TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    action_id  TEXT NOT NULL,
    PRIMARY KEY (approver, decided_at, action_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    seq      INTEGER PRIMARY KEY,
    audience TEXT NOT NULL,
    msg      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    agent      TEXT NOT NULL,
    key        TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    action_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (agent, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_at);
-- `audit verify` reads each action's approver rows.
CREATE INDEX IF NOT EXISTS history_voters_action ON history_voters(action_id);
CREATE VIRTUAL TABLE IF NOT EXISTS history_fts USING fts5(
    summary, kind, target, requester, approvers, reasons, command,
    tokenize = 'unicode61'
);
";

/// Stores written before `history_voters` kept approvers without the decision time, so an
/// approver filter had to sort every match; this moves them over once and drops the table.
pub const MIGRATE_APPROVERS: &str = "
INSERT OR IGNORE INTO history_voters (approver, decided_at, action_id)
    SELECT ha.approver, h.decided_at, ha.action_id
    FROM history_approvers ha JOIN history h ON h.action_id = ha.action_id;
DROP TABLE history_approvers;
";
