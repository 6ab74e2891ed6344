//! The SQLite backend: one writer connection, a small pool of reader connections.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension as _, params};

use super::audit::GENESIS;
use super::schema::{MIGRATE_APPROVERS, PRAGMAS, SCHEMA};
use super::{Mutation, Recovered, Store, StoreError};
use crate::broker::live::Event;
use crate::protocol::api::KeyInfo;
use crate::protocol::idempotency::Record;
use crate::protocol::{
    Action, ActionId, DecisionId, Digest, HistoryPage, HistoryQuery, KeyId, Timestamp,
};

/// The file name of the database inside the data directory.
pub const DB_FILE: &str = "signoff.db";

/// SQLite in WAL mode with `synchronous=FULL`.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    verified: super::verified::VerifiedCache,
    /// Copies the WAL back into the database, so the write connection never does.
    checkpointer: super::wal::Checkpointer,
}

/// Settings of the one write connection only: a larger page cache (the indexes it
/// updates on every commit stay in memory instead of being read back from the file), and
/// a WAL file trimmed back after a burst made it long.
const WRITER_PRAGMAS: &str = "
PRAGMA cache_size = -32768;
PRAGMA journal_size_limit = 67108864;
";

impl SqliteStore {
    /// Opens (creating if needed) `DIR/signoff.db`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let mut conn = open_conn(&path)?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(super::notify::SCHEMA)?;
        migrate(&mut conn)?;
        conn.execute_batch(WRITER_PRAGMAS)?;
        let checkpointer = super::wal::Checkpointer::start(&path, open_conn).map_err(|source| {
            StoreError::Thread {
                what: "WAL checkpoint",
                source,
            }
        })?;
        super::wal::hand_over(&conn)?;
        Ok(Self {
            path,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            verified: Default::default(),
            checkpointer,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a pooled reader connection.
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().ok().and_then(|mut p| p.pop());
        let conn = match pooled {
            Some(c) => c,
            None => open_conn(&self.path)?,
        };
        let out = f(&conn);
        if let Ok(mut p) = self.readers.lock()
            && p.len() < 8
        {
            p.push(conn);
        }
        out
    }

    fn writer(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.writer
            .lock()
            .map_err(|_| StoreError::Corrupt("writer connection lock poisoned".into()))
    }
}

fn open_conn(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.execute_batch(PRAGMAS)?;
    Ok(conn)
}

/// One-time moves of data written by older versions of the schema.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let old_approvers = conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'history_approvers'")?
        .exists([])?;
    if old_approvers {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(MIGRATE_APPROVERS)?;
        tx.commit()?;
    }
    Ok(())
}

pub(super) fn parse_action(body: &str) -> Result<Action, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("action row: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    crate::protocol::encode(v)
}

fn apply(tx: &rusqlite::Transaction<'_>, m: &Mutation) -> Result<(), StoreError> {
    match m {
        Mutation::PutAction {
            action: a,
            digest,
            body,
        } => {
            // An upsert, not `INSERT OR REPLACE`: a vote or an outcome then rewrites the
            // row in place instead of deleting it and every index entry and adding them
            // back. The other columns never change after creation.
            tx.prepare_cached(
                "INSERT INTO actions
                 (id, status, requester_id, kind, created_at, expires_at, digest, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                 digest = excluded.digest, body = excluded.body",
            )?
            .execute(params![
                a.id.to_string(),
                a.status.as_str(),
                a.requester.id,
                a.kind,
                a.created_at.unix_millis(),
                a.expires_at.unix_millis(),
                digest.as_str(),
                body,
            ])?;
        }
        Mutation::Vote { signed, at, json } => {
            let d = &signed.decision;
            tx.prepare_cached(
                "INSERT INTO votes (decision_id, action_id, approver, at, signed)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                d.decision_id.to_string(),
                d.action_id.to_string(),
                d.approver,
                at.unix_millis(),
                json,
            ])?;
        }
        Mutation::Audit { entry, stored } => {
            tx.prepare_cached(
                "INSERT INTO audit (seq, at, type, action_id, prev_hash, hash, entry)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                stored.seq as i64,
                entry.at.unix_millis(),
                entry.kind.as_str(),
                entry.action_id.map(|i| i.to_string()),
                stored.prev_hash,
                stored.hash,
                stored.canonical,
            ])?;
        }
        Mutation::PutKey(k) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO keys
                 (key_id, subject, public_key, label, created_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                k.key_id.0,
                k.subject,
                k.public_key,
                k.label,
                k.created_at.unix_millis(),
                k.revoked_at.map(Timestamp::unix_millis),
            ])?;
        }
        Mutation::History(row) => super::history::insert(tx, row)?,
        Mutation::MarkExecuted(id) => {
            tx.prepare_cached("UPDATE history SET executed = 1 WHERE action_id = ?1")?
                .execute(params![id.to_string()])?;
        }
        Mutation::Event(e) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO events (seq, audience, msg) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![e.seq as i64, to_json(&e.groups), e.json])?;
        }
        Mutation::PruneEvents(upto) => {
            tx.prepare_cached("DELETE FROM events WHERE seq <= ?1")?
                .execute(params![*upto as i64])?;
        }
        Mutation::Idempotency(r) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO idempotency (agent, key, body_hash, action_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                r.agent,
                r.key,
                r.body_hash.as_str(),
                r.action_id.to_string(),
                r.created_at.unix_millis(),
            ])?;
        }
        Mutation::PruneIdempotency(before) => {
            tx.prepare_cached("DELETE FROM idempotency WHERE created_at < ?1")?
                .execute(params![before.unix_millis()])?;
        }
        Mutation::HeadSeq(seq) => {
            tx.prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('head_seq', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![seq.to_string()])?;
        }
        Mutation::NotifyEnqueue(m) => super::notify::insert(tx, m)?,
        Mutation::NotifyRelease {
            action_id,
            payload,
            at,
        } => super::notify::release(tx, &action_id.to_string(), payload, at.unix_millis())?,
    }
    Ok(())
}

impl Store for SqliteStore {
    fn recover(&self) -> Result<Recovered, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT body FROM actions WHERE status = 'pending'")?;
            let pending = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .map(|b| parse_action(&b?))
                .collect::<Result<Vec<_>, _>>()?;
            let head_seq: Option<String> = c
                .query_row("SELECT value FROM meta WHERE key = 'head_seq'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            let head_seq = head_seq.and_then(|s| s.parse().ok()).unwrap_or(0);
            let (audit_seq, audit_hash) = c
                .query_row(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
                )
                .optional()?
                .unwrap_or((0, GENESIS.to_string()));
            let mut stmt = c.prepare(
                "SELECT key_id, subject, public_key, label, created_at, revoked_at FROM keys",
            )?;
            let keys = stmt
                .query_map([], |r| {
                    Ok(KeyInfo {
                        key_id: KeyId(r.get(0)?),
                        subject: r.get(1)?,
                        public_key: r.get(2)?,
                        label: r.get(3)?,
                        created_at: Timestamp::from_unix_millis(r.get(4)?),
                        revoked_at: r.get::<_, Option<i64>>(5)?.map(Timestamp::from_unix_millis),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Recovered {
                pending,
                head_seq,
                audit_seq,
                audit_hash,
                keys,
            })
        })
    }

    fn commit(&self, batch: &[Mutation]) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for m in batch {
            apply(&tx, m)?;
        }
        // Clear a figure an earlier commit on this thread left unread (one that failed
        // after the hook ran): what is read below is this commit's alone.
        super::wal::frames_after_commit();
        tx.commit()?;
        self.checkpointer
            .committed(super::wal::frames_after_commit());
        Ok(())
    }

    fn action(&self, id: &ActionId) -> Result<Option<Action>, StoreError> {
        self.read(|c| {
            let body: Option<String> = c
                .prepare_cached("SELECT body FROM actions WHERE id = ?1")?
                .query_row(params![id.to_string()], |r| r.get(0))
                .optional()?;
            body.map(|b| parse_action(&b)).transpose()
        })
    }

    fn decision_seen(&self, id: &DecisionId) -> Result<bool, StoreError> {
        // A reader, so the check never waits for a commit in progress; the writer itself
        // knows the decisions of the batch being committed.
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT 1 FROM votes WHERE decision_id = ?1")?
                    .exists(params![id.to_string()])?,
            )
        })
    }

    fn has_requested_kind(&self, requester: &str, kind: &str) -> Result<bool, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT 1 FROM actions WHERE requester_id = ?1 AND kind = ?2 LIMIT 1",
            )?
            .exists(params![requester, kind])?)
        })
    }

    fn history(&self, q: &HistoryQuery) -> Result<HistoryPage, StoreError> {
        self.read(|c| super::history::query(c, q, &self.verified))
    }

    fn audit_entries(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<super::StoredEntry>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, prev_hash, hash, entry, at, type, action_id
                 FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![after as i64, limit as i64], |r| {
                    Ok(super::StoredEntry {
                        seq: r.get::<_, i64>(0)? as u64,
                        prev_hash: r.get(1)?,
                        hash: r.get(2)?,
                        canonical: r.get(3)?,
                        columns: Some(super::audit::AuditColumns {
                            at_millis: r.get(4)?,
                            kind: r.get(5)?,
                            action_id: r.get(6)?,
                        }),
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn stored_ids(
        &self,
        table: super::IdTable,
        after: Option<&ActionId>,
        limit: usize,
    ) -> Result<Vec<ActionId>, StoreError> {
        let sql = match table {
            super::IdTable::Actions => "SELECT id FROM actions WHERE id > ?1 ORDER BY id LIMIT ?2",
            super::IdTable::History => {
                "SELECT action_id FROM history WHERE action_id > ?1 ORDER BY action_id LIMIT ?2"
            }
        };
        let after = after.map(ToString::to_string).unwrap_or_default();
        self.read(|c| {
            let ids = c
                .prepare_cached(sql)?
                .query_map(params![after, limit as i64], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            ids.into_iter()
                .map(|s| {
                    s.parse::<ActionId>()
                        .map_err(|_| StoreError::Corrupt(format!("action id {s:?}")))
                })
                .collect()
        })
    }

    fn history_entry(&self, id: &ActionId) -> Result<Option<super::StoredHistory>, StoreError> {
        let id = id.to_string();
        self.read(|c| {
            let row = c
                .prepare_cached(
                    "SELECT decided_at, outcome, risk, kind, environment, requester_id,
                            requester_name, executed, decided_by, reason, audit_hash
                     FROM history WHERE action_id = ?1",
                )?
                .query_row(params![id], |r| {
                    Ok(super::StoredHistory {
                        decided_at: Timestamp::from_unix_millis(r.get(0)?),
                        outcome: r.get(1)?,
                        risk: r.get(2)?,
                        kind: r.get(3)?,
                        environment: r.get(4)?,
                        requester_id: r.get(5)?,
                        requester_name: r.get(6)?,
                        executed: r.get(7)?,
                        decided_by: r.get(8)?,
                        reason: r.get(9)?,
                        audit_hash: r.get(10)?,
                        voters: Vec::new(),
                    })
                })
                .optional()?;
            let Some(mut row) = row else {
                return Ok(None);
            };
            row.voters = c
                .prepare_cached(
                    "SELECT approver FROM history_voters WHERE action_id = ?1 ORDER BY approver",
                )?
                .query_map(params![id], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(row))
        })
    }

    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, audience, msg FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![after as i64, limit as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(seq, audience, msg)| {
                    let groups: Vec<String> = serde_json::from_str(&audience)
                        .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
                    Ok(Event {
                        seq: seq as u64,
                        groups,
                        json: msg,
                    })
                })
                .collect()
        })
    }

    fn idempotency(&self, agent: &str, key: &str) -> Result<Option<Record>, StoreError> {
        self.read(|c| {
            let row = c
                .prepare_cached(
                    "SELECT body_hash, action_id, created_at FROM idempotency
                     WHERE agent = ?1 AND key = ?2",
                )?
                .query_row(params![agent, key], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .optional()?;
            let Some((hash, id, at)) = row else {
                return Ok(None);
            };
            let corrupt = |what: &str| StoreError::Corrupt(format!("idempotency record: {what}"));
            Ok(Some(Record {
                agent: agent.to_string(),
                key: key.to_string(),
                body_hash: Digest::try_from(hash).map_err(|e| corrupt(&e))?,
                action_id: id.parse().map_err(|_| corrupt("bad action id"))?,
                created_at: Timestamp::from_unix_millis(at),
            }))
        })
    }
}
