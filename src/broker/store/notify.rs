//! The notification outbox: rows the writer adds in the same transaction as the event
//! that causes them, and the references (a Slack message's channel and `ts`) that let
//! later messages edit the first one.
//!
//! The delivery task works on its own connection (`synchronous=NORMAL`: losing a "done"
//! mark in a power cut only means a message is sent again, which at-least-once allows),
//! so marking deliveries never waits behind, or delays, a decision's commit for long.
//!
//! The delivery task sees the outbox through [`Outbox`]: [`SqliteOutbox`] here, and
//! [`crate::broker::store::pg::PgOutbox`] on PostgreSQL, where several brokers share one
//! outbox and lease the messages they send.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, params};

use super::StoreError;

/// Per sink: the oldest due undelivered message's due time, and how many gave up.
pub type Backlog = Vec<(String, Option<i64>, u64)>;

/// The outbox as the delivery task works on it, whichever store holds it. Calls block:
/// the delivery task makes them from `spawn_blocking`.
pub trait Outbox: Send + Sync + 'static {
    /// Up to `limit` due messages, each the first undelivered one of its stream, leaving
    /// out `busy` (those this process is sending). On a store several brokers share, the
    /// messages are leased to this broker for `lease`: no other takes them until the lease
    /// ends, and a broker that dies with a lease loses it when it ends.
    fn take_due(
        &self,
        now: i64,
        limit: usize,
        busy: &[i64],
        lease: Duration,
    ) -> Result<Vec<Message>, StoreError>;
    /// Final states: `done`, `skipped` (nothing to send any more), `dead` (gave up).
    fn finish(&self, id: i64, state: &str, error: Option<&str>) -> Result<(), StoreError>;
    /// A failed attempt: try again at `next`.
    fn retry(&self, id: i64, next: i64, error: &str) -> Result<(), StoreError>;
    /// The reference a sink kept for an action (Slack's channel and ts), if any.
    fn reference(&self, action_id: &str, sink: &str) -> Result<Option<String>, StoreError>;
    fn put_reference(&self, action_id: &str, sink: &str, r: &str) -> Result<(), StoreError>;
    /// True when the action is stored and still pending.
    fn action_pending(&self, action_id: &str) -> Result<bool, StoreError>;
    /// Per sink: the oldest due undelivered message's due time, and how many gave up.
    fn backlog(&self, now: i64) -> Result<Backlog, StoreError>;
    /// Forgets delivered and skipped messages due before `before`.
    fn prune(&self, before: i64) -> Result<(), StoreError>;
}

/// The outbox in `DIR/signoff.db`, on a connection of its own.
pub struct SqliteOutbox(Mutex<Connection>);

impl SqliteOutbox {
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Ok(Self(Mutex::new(open(data_dir)?)))
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let c = self
            .0
            .lock()
            .map_err(|_| StoreError::Corrupt("notify connection lock poisoned".into()))?;
        f(&c)
    }
}

impl Outbox for SqliteOutbox {
    fn take_due(
        &self,
        now: i64,
        limit: usize,
        busy: &[i64],
        _lease: Duration,
    ) -> Result<Vec<Message>, StoreError> {
        // One broker: what it is sending is `busy`; nothing else sends.
        self.with(|c| due(c, now, limit, busy))
    }
    fn finish(&self, id: i64, state: &str, error: Option<&str>) -> Result<(), StoreError> {
        self.with(|c| finish(c, id, state, error))
    }
    fn retry(&self, id: i64, next: i64, error: &str) -> Result<(), StoreError> {
        self.with(|c| retry(c, id, next, error))
    }
    fn reference(&self, action_id: &str, sink: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| reference(c, action_id, sink))
    }
    fn put_reference(&self, action_id: &str, sink: &str, r: &str) -> Result<(), StoreError> {
        self.with(|c| put_reference(c, action_id, sink, r))
    }
    fn action_pending(&self, action_id: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(
                c.prepare_cached("SELECT status FROM actions WHERE id = ?1")?
                    .query_row(params![action_id], |r| r.get::<_, String>(0))
                    .optional()?
                    .is_some_and(|s| s == "pending"),
            )
        })
    }
    fn backlog(&self, now: i64) -> Result<Backlog, StoreError> {
        self.with(|c| backlog(c, now))
    }
    fn prune(&self, before: i64) -> Result<(), StoreError> {
        self.with(|c| prune(c, before))
    }
}

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS notify_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    sink            TEXT NOT NULL,
    action_id       TEXT NOT NULL,
    stream          TEXT NOT NULL,
    idem_key        TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    url             TEXT,
    only_if_pending INTEGER NOT NULL DEFAULT 0,
    needs_ref       INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox(next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS notify_outbox_stream ON notify_outbox(sink, action_id, stream, id);
CREATE INDEX IF NOT EXISTS notify_outbox_open ON notify_outbox(sink, state, due_at)
    WHERE state IN ('pending', 'dead');
CREATE TABLE IF NOT EXISTS notify_refs (
    action_id TEXT NOT NULL,
    sink      TEXT NOT NULL,
    ref       TEXT NOT NULL,
    PRIMARY KEY (action_id, sink)
) WITHOUT ROWID;
";

/// A message to send, as the writer stages it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub sink: String,
    pub action_id: String,
    /// Messages of one (sink, action, stream) are delivered in order, one at a time.
    pub stream: String,
    /// The idempotency key (`webhook-id`, the outbox's unique key).
    pub key: String,
    /// The [`crate::broker::notify::Notice`] as JSON.
    pub payload: String,
    /// A callback's URL (sinks know their own).
    pub url: Option<String>,
    /// Skipped when the action is decided by the time it is due (escalations).
    pub only_if_pending: bool,
    /// Skipped unless an earlier message of the stream was delivered (updates of a
    /// message that may never have been sent, PagerDuty's resolve).
    pub needs_ref: bool,
    /// `pending`, or `waiting` for a callback released when the action is decided.
    pub waiting: bool,
    pub due_at: i64,
}

impl NewMessage {
    /// A message due at `due_at`, sent whatever happens meanwhile (no flags set).
    pub fn pending(
        sink: &str,
        action_id: &str,
        stream: &str,
        key: &str,
        payload: String,
        due_at: i64,
    ) -> Self {
        Self {
            sink: sink.into(),
            action_id: action_id.into(),
            stream: stream.into(),
            key: key.into(),
            payload,
            url: None,
            only_if_pending: false,
            needs_ref: false,
            waiting: false,
            due_at,
        }
    }
}

/// A row the delivery task works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub sink: String,
    pub action_id: String,
    pub key: String,
    pub payload: String,
    pub url: Option<String>,
    pub only_if_pending: bool,
    pub needs_ref: bool,
    pub attempts: u32,
    pub due_at: i64,
}

/// Stages one message (inside the writer's transaction).
pub fn insert(tx: &rusqlite::Transaction<'_>, m: &NewMessage) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO notify_outbox
         (sink, action_id, stream, idem_key, payload, url, only_if_pending, needs_ref, state,
          due_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
    )?
    .execute(params![
        m.sink,
        m.action_id,
        m.stream,
        m.key,
        m.payload,
        m.url,
        m.only_if_pending,
        m.needs_ref,
        if m.waiting { "waiting" } else { "pending" },
        m.due_at,
    ])?;
    Ok(())
}

/// Releases an action's waiting callback with the outcome (inside the writer's transaction).
pub fn release(
    tx: &rusqlite::Transaction<'_>,
    action_id: &str,
    payload: &str,
    at: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE notify_outbox SET state = 'pending', payload = ?2, due_at = ?3, next_attempt_at = ?3
         WHERE action_id = ?1 AND state = 'waiting'",
    )?
    .execute(params![action_id, payload, at])?;
    Ok(())
}

/// The delivery task's connection to `DIR/signoff.db`.
pub fn open(data_dir: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(data_dir.join(super::DB_FILE))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;",
    )?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// Due messages, oldest first, each the first undelivered one of its stream, leaving
/// out those already being worked on.
pub fn due(
    c: &Connection,
    now: i64,
    limit: usize,
    busy: &[i64],
) -> Result<Vec<Message>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT o.id, o.sink, o.action_id, o.idem_key, o.payload, o.url, o.only_if_pending,
                o.needs_ref, o.attempts, o.due_at
         FROM notify_outbox o
         WHERE o.state = 'pending' AND o.next_attempt_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM notify_outbox p
                           WHERE p.sink = o.sink AND p.action_id = o.action_id
                             AND p.stream = o.stream AND p.id < o.id
                             AND p.state IN ('pending', 'waiting'))
         ORDER BY o.next_attempt_at, o.id
         LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![now, (limit + busy.len()) as i64], |r| {
            Ok(Message {
                id: r.get(0)?,
                sink: r.get(1)?,
                action_id: r.get(2)?,
                key: r.get(3)?,
                payload: r.get(4)?,
                url: r.get(5)?,
                only_if_pending: r.get(6)?,
                needs_ref: r.get(7)?,
                attempts: r.get::<_, i64>(8)?.max(0) as u32,
                due_at: r.get(9)?,
            })
        })?
        .filter(|m| m.as_ref().map_or(true, |m| !busy.contains(&m.id)))
        .take(limit)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The earliest time a pending message becomes due, if any.
pub fn next_due(c: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(
        c.prepare_cached("SELECT MIN(next_attempt_at) FROM notify_outbox WHERE state = 'pending'")?
            .query_row([], |r| r.get::<_, Option<i64>>(0))?,
    )
}

/// Final states: `done`, `skipped` (nothing to send any more), `dead` (gave up).
pub fn finish(c: &Connection, id: i64, state: &str, error: Option<&str>) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE notify_outbox SET state = ?2, attempts = attempts + (?2 != 'skipped'),
         last_error = ?3 WHERE id = ?1",
    )?
    .execute(params![id, state, error])?;
    Ok(())
}

/// A failed attempt: try again at `next`.
pub fn retry(c: &Connection, id: i64, next: i64, error: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE notify_outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, next, error])?;
    Ok(())
}

/// The reference a sink kept for an action (Slack's channel and ts), if any.
pub fn reference(
    c: &Connection,
    action_id: &str,
    sink: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        c.prepare_cached("SELECT ref FROM notify_refs WHERE action_id = ?1 AND sink = ?2")?
            .query_row(params![action_id, sink], |r| r.get(0))
            .optional()?,
    )
}

pub fn put_reference(
    c: &Connection,
    action_id: &str,
    sink: &str,
    r: &str,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO notify_refs (action_id, sink, ref) VALUES (?1, ?2, ?3)
         ON CONFLICT(action_id, sink) DO UPDATE SET ref = excluded.ref",
    )?
    .execute(params![action_id, sink, r])?;
    Ok(())
}

/// Per sink: the oldest due undelivered message's due time, and how many gave up.
pub fn backlog(c: &Connection, now: i64) -> Result<Backlog, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT sink,
                MIN(CASE WHEN state = 'pending' AND due_at <= ?1 THEN due_at END),
                SUM(state = 'dead')
         FROM notify_outbox WHERE state IN ('pending', 'dead') GROUP BY sink",
    )?;
    let rows = stmt
        .query_map(params![now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Forgets delivered and skipped messages due before `before` (given-up ones stay, for
/// an operator to read).
pub fn prune(c: &Connection, before: i64) -> Result<(), StoreError> {
    c.prepare_cached(
        "DELETE FROM notify_outbox WHERE state IN ('done', 'skipped') AND due_at < ?1",
    )?
    .execute(params![before])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(key: &str, stream: &str, due: i64) -> NewMessage {
        NewMessage::pending("s", "A", stream, key, "{}".into(), due)
    }

    #[test]
    fn one_message_per_stream_at_a_time_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = open(dir.path()).unwrap();
        let tx = c.transaction().unwrap();
        insert(&tx, &msg("a.1", "msg", 10)).unwrap();
        insert(&tx, &msg("a.2", "msg", 10)).unwrap();
        insert(&tx, &msg("a.1", "msg", 10)).unwrap(); // the same key twice: kept once
        insert(&tx, &msg("esc", "escalate", 50)).unwrap();
        let mut cb = msg("cb", "callback", 10);
        cb.waiting = true;
        insert(&tx, &cb).unwrap();
        tx.commit().unwrap();
        let keys = |c: &Connection, now| -> Vec<String> {
            due(c, now, 10, &[])
                .unwrap()
                .into_iter()
                .map(|m| m.key)
                .collect()
        };
        assert_eq!(
            keys(&c, 20),
            vec!["a.1"],
            "a.2 waits for a.1; esc is not due; cb waits"
        );
        let first = due(&c, 20, 10, &[]).unwrap()[0].id;
        assert!(
            due(&c, 20, 10, &[first]).unwrap().is_empty(),
            "busy rows are left out"
        );
        retry(&c, first, 30, "HTTP 500").unwrap();
        assert!(
            keys(&c, 20).is_empty(),
            "retry later, and a.2 still waits behind it"
        );
        assert_eq!(keys(&c, 60), vec!["a.1", "esc"]);
        finish(&c, first, "done", None).unwrap();
        assert_eq!(keys(&c, 60), vec!["a.2", "esc"]);
        let tx = c.transaction().unwrap();
        release(&tx, "A", "{\"x\":1}", 70).unwrap();
        tx.commit().unwrap();
        assert!(keys(&c, 80).contains(&"cb".to_string()));
        put_reference(&c, "A", "s", "C1/1.2").unwrap();
        put_reference(&c, "A", "s", "C1/1.3").unwrap();
        assert_eq!(reference(&c, "A", "s").unwrap().as_deref(), Some("C1/1.3"));
        let b = backlog(&c, 80).unwrap();
        assert_eq!(b, vec![("s".to_string(), Some(10), 0)]);
    }
}
