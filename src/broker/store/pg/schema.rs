//! The PostgreSQL schema, as numbered migrations recorded in `schema_version`.
//!
//! Every broker runs [`migrate`] when it starts (and `signoff broker migrate` runs it
//! alone). It holds a transaction-scoped advisory lock, so replicas starting together
//! apply each migration once, one after the other; a database whose schema is newer than
//! this broker knows is refused rather than written with an older idea of its tables.

use tokio_postgres::Client;

use crate::broker::store::StoreError;
use crate::broker::store::audit::GENESIS;

/// The advisory lock key for migrations ("signoff" in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x0073_6967_6e6f_6666;

/// Migrations in order; `(version, SQL)`. Never edit a released one: add the next.
const MIGRATIONS: &[(i32, &str)] = &[(1, V1), (2, V2)];

/// The schema version this broker writes.
pub const LATEST: i32 = 2;

const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- One row: the newest feed event and audit entry. Every batch locks it first
-- (SELECT ... FOR UPDATE), which makes the audit chain linear and event numbers global.
CREATE TABLE chain_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    event_seq  BIGINT NOT NULL,
    audit_seq  BIGINT NOT NULL,
    audit_hash TEXT NOT NULL
);
CREATE TABLE actions (
    id           TEXT PRIMARY KEY,
    status       TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    digest       TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX actions_pending ON actions(status) WHERE status = 'pending';
CREATE INDEX actions_requester_kind ON actions(requester_id, kind);
CREATE TABLE votes (
    decision_id TEXT PRIMARY KEY,
    action_id   TEXT NOT NULL,
    approver    TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    signed      TEXT NOT NULL
);
CREATE INDEX votes_action ON votes(action_id);
CREATE TABLE keys (
    key_id     TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    public_key TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE audit (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    type      TEXT NOT NULL,
    action_id TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    entry     TEXT NOT NULL
);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX audit_keys ON audit(seq) WHERE type IN ('key_registered', 'key_revoked');
-- Feed events by global sequence number: what other replicas re-read after a NOTIFY.
CREATE TABLE events (
    seq       BIGINT PRIMARY KEY,
    action_id TEXT,
    groups    TEXT NOT NULL,
    body      TEXT NOT NULL
);
-- Idempotency-Key records of agents' submissions (any broker answers a retry).
CREATE TABLE idempotency (
    agent      TEXT NOT NULL,
    key        TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    action_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agent, key)
);
CREATE INDEX idempotency_created ON idempotency(created_at);
-- Ids sort bytewise (COLLATE "C"), as in SQLite: pages and cursors agree.
CREATE TABLE history (
    action_id      TEXT COLLATE "C" PRIMARY KEY,
    decided_at     BIGINT NOT NULL,
    outcome        TEXT NOT NULL,
    risk           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    environment    TEXT NOT NULL,
    requester_id   TEXT NOT NULL,
    requester_name TEXT NOT NULL,
    executed       BOOLEAN NOT NULL DEFAULT FALSE,
    decided_by     TEXT NOT NULL,
    reason         TEXT NOT NULL,
    audit_hash     TEXT NOT NULL,
    words          TSVECTOR NOT NULL
);
CREATE INDEX history_time ON history(decided_at, action_id);
CREATE INDEX history_outcome ON history(outcome, decided_at, action_id);
CREATE INDEX history_risk ON history(risk, decided_at, action_id);
CREATE INDEX history_env ON history(environment, decided_at, action_id);
CREATE INDEX history_kind ON history(kind, decided_at, action_id);
CREATE INDEX history_requester ON history(requester_id, decided_at, action_id);
CREATE INDEX history_requester_name ON history(requester_name, decided_at, action_id);
CREATE INDEX history_executed ON history(executed, decided_at, action_id);
CREATE INDEX history_words ON history USING GIN (words);
CREATE TABLE history_voters (
    approver   TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    action_id  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (approver, decided_at, action_id)
);
"#;

/// Version 2: the notification outbox (docs/notify.md), written in the batch's transaction
/// like the events that cause it, and leased by the broker that sends a row (see
/// `pg/notify.rs`). Times are Unix milliseconds; `lease_until` is on the database's clock.
const V2: &str = r#"
CREATE TABLE notify_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sink            TEXT NOT NULL,
    action_id       TEXT NOT NULL,
    stream          TEXT NOT NULL,
    idem_key        TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    url             TEXT,
    only_if_pending BOOLEAN NOT NULL DEFAULT FALSE,
    needs_ref       BOOLEAN NOT NULL DEFAULT FALSE,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    -- The broker sending it (while lease_until is ahead of the database's clock), or
    -- the one that sent it last.
    lease_owner     TEXT,
    lease_until     BIGINT
);
CREATE INDEX notify_outbox_due ON notify_outbox(next_attempt_at) WHERE state = 'pending';
CREATE INDEX notify_outbox_stream ON notify_outbox(sink, action_id, stream, id);
CREATE INDEX notify_outbox_open ON notify_outbox(sink, state, due_at)
    WHERE state IN ('pending', 'dead');
CREATE INDEX notify_outbox_waiting ON notify_outbox(action_id) WHERE state = 'waiting';
CREATE TABLE notify_refs (
    action_id TEXT NOT NULL,
    sink      TEXT NOT NULL,
    ref       TEXT NOT NULL,
    PRIMARY KEY (action_id, sink)
);
"#;

/// Brings the schema to [`LATEST`]; returns the version found before.
pub async fn migrate(client: &mut Client) -> Result<i32, StoreError> {
    let tx = client.transaction().await.map_err(super::err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(super::err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(super::err)?;
    let found: i32 = tx
        .query_one("SELECT COALESCE(max(version), 0) FROM schema_version", &[])
        .await
        .map_err(super::err)?
        .get(0);
    if found > LATEST {
        return Err(StoreError::SchemaTooNew {
            found: found as u32,
            known: LATEST as u32,
        });
    }
    for (v, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tx.batch_execute(sql).await.map_err(super::err)?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[v])
            .await
            .map_err(super::err)?;
        if *v == 1 {
            tx.execute(
                "INSERT INTO chain_head (id, event_seq, audit_seq, audit_hash) VALUES (1, 0, 0, $1)",
                &[&GENESIS],
            )
            .await
            .map_err(super::err)?;
        }
        tracing::info!(version = v, "database schema migrated");
    }
    tx.commit().await.map_err(super::err)?;
    Ok(found)
}

/// Checks, without changing anything, that the database holds a schema this broker can
/// read (for `signoff audit` on PostgreSQL).
pub async fn check(client: &Client) -> Result<(), StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .map_err(super::err)?
        .get(0);
    if !exists {
        return Err(StoreError::Pg(
            "no signoff schema in this database (a broker creates it when it starts, or run \
             `signoff broker migrate`)"
                .into(),
        ));
    }
    let found: i32 = client
        .query_one("SELECT COALESCE(max(version), 0) FROM schema_version", &[])
        .await
        .map_err(super::err)?
        .get(0);
    if found > LATEST {
        return Err(StoreError::SchemaTooNew {
            found: found as u32,
            known: LATEST as u32,
        });
    }
    if found < LATEST {
        return Err(StoreError::Pg(format!(
            "the schema is at version {found}, older than this build's {LATEST}: run \
             `signoff broker migrate` first"
        )));
    }
    Ok(())
}
