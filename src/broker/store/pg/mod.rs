//! The PostgreSQL backend: the store several brokers share.
//!
//! The [`Store`] trait is synchronous (the writer runs on its own thread), so this store
//! owns a small tokio runtime of its own and blocks on it: callers are the writer and
//! committer threads, `spawn_blocking` readers and the CLI, never an async task.
//!
//! Connections: one for the writer (its batches run in one transaction that starts by
//! locking `chain_head`), one unpooled connection that `LISTEN`s for other replicas'
//! commits, and a pool for reads. Notifications only wake a replica: it re-reads the
//! `events` table by sequence number, so a lost notification loses nothing, and it looks
//! on a timer as well.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::StreamExt as _;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::audit::AuditColumns;
use super::verified::VerifiedCache;
use super::{Change, Head, Mutation, Recovered, Store, StoreError, StoredEntry};
use crate::protocol::api::KeyInfo;
use crate::protocol::{Action, ActionId, DecisionId, HistoryPage, HistoryQuery, KeyId, Timestamp};

mod history;
mod notify;
mod schema;
pub mod url;

pub use notify::PgOutbox;
pub use schema::LATEST as SCHEMA_VERSION;
use url::PgOptions;

/// The channel replicas notify on commit (the payload names the committing replica).
const CHANNEL: &str = "signoff_events";

/// A tokio-postgres error as a store error: unreachable or not.
pub(super) fn err(e: tokio_postgres::Error) -> StoreError {
    let text = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut t = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                t.push_str(": ");
                t.push_str(&s.to_string());
                src = s.source();
            }
            t
        }
    };
    if unreachable(&e) {
        StoreError::Unavailable(text)
    } else {
        StoreError::Pg(text)
    }
}

fn unreachable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // Connection exceptions, shutdowns, too many connections, a lock or an idle
        // transaction that timed out: the database, not the request.
        Some(c) => {
            let c = c.code();
            c.starts_with("08")
                || c.starts_with("57P")
                || c == "53300"
                || c == "55P03"
                || c == "25P03"
        }
        // No server answer at all: connecting or I/O failed (not, say, a parameter
        // that did not serialize).
        None => {
            let t = e.to_string();
            t.starts_with("error connecting")
                || t.starts_with("error communicating")
                || t.starts_with("timeout")
                || t.contains("connection closed")
                || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
        }
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => err(e),
        deadpool_postgres::PoolError::Timeout(_) => {
            StoreError::Unavailable("timed out waiting for a database connection".into())
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

type Param = Box<dyn ToSql + Sync + Send>;

fn p<T: ToSql + Sync + Send + 'static>(v: T) -> Param {
    Box::new(v)
}

/// One statement of a batch.
struct Write {
    sql: &'static str,
    params: Vec<Param>,
}

/// The writer's connection and the batch it has open.
#[derive(Default)]
struct WriterConn {
    client: Option<Client>,
    stmts: HashMap<&'static str, Statement>,
    /// The head locked by the open batch (none open: `None`).
    open: Option<Head>,
}

/// PostgreSQL, shared by any number of brokers.
pub struct PgStore {
    rt: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    pool: Pool,
    writer: Mutex<WriterConn>,
    opts: PgOptions,
    /// Names this process in notifications, so it skips its own.
    replica: String,
    verified: VerifiedCache,
    /// The listener's last word on whether the database answers.
    listening: Arc<AtomicBool>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.opts.url)
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // May run on an async thread: never block there.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

const SESSION: &str = "SET lock_timeout = '{lock}ms'; \
                       SET idle_in_transaction_session_timeout = '60s'; \
                       SET statement_timeout = '60s'";

fn session_sql(opts: &PgOptions) -> String {
    SESSION.replace("{lock}", &opts.lock_timeout.as_millis().to_string())
}

/// The TLS connector (used only with `sslmode=require`).
fn tls(opts: &PgOptions) -> Result<MakeRustlsConnect, StoreError> {
    url::tls(opts.ca_file.as_deref()).map_err(StoreError::PgTls)
}

async fn connect(opts: &PgOptions) -> Result<Client, StoreError> {
    let (client, conn) = opts.url.config().connect(tls(opts)?).await.map_err(err)?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "database connection ended");
        }
    });
    client
        .batch_execute(&session_sql(opts))
        .await
        .map_err(err)?;
    Ok(client)
}

impl PgStore {
    /// Connects, migrates the schema to the version this broker writes, and returns the
    /// store. Call from a thread that is not running async tasks.
    pub fn open(opts: PgOptions) -> Result<Self, StoreError> {
        Self::connect_with(opts, true)
    }

    /// Connects to a database that already holds this build's schema, changing nothing
    /// (`signoff audit` on PostgreSQL).
    pub fn open_existing(opts: PgOptions) -> Result<Self, StoreError> {
        Self::connect_with(opts, false)
    }

    fn connect_with(opts: PgOptions, migrate: bool) -> Result<Self, StoreError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("signoff-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Pg(format!("cannot start the database runtime: {e}")))?;
        let handle = rt.handle().clone();
        let pool = {
            let _enter = rt.enter();
            let mgr = Manager::from_config(
                opts.url.config().clone(),
                tls(&opts)?,
                ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                },
            );
            Pool::builder(mgr)
                .max_size(opts.pool_size.max(1))
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(Duration::from_secs(10)))
                .create_timeout(Some(Duration::from_secs(5)))
                .recycle_timeout(Some(Duration::from_secs(5)))
                .build()
                .map_err(|e| StoreError::Pg(format!("connection pool: {e}")))?
        };
        let mut client = handle.block_on(connect(&opts))?;
        if migrate {
            handle.block_on(schema::migrate(&mut client))?;
        } else {
            handle.block_on(schema::check(&client))?;
        }
        let replica = ulid::Ulid::new().to_string();
        Ok(Self {
            rt: Some(rt),
            handle,
            pool,
            writer: Mutex::new(WriterConn {
                client: Some(client),
                ..Default::default()
            }),
            opts,
            replica,
            verified: VerifiedCache::default(),
            listening: Arc::new(AtomicBool::new(true)),
        })
    }

    /// Runs the migrations alone (`signoff broker migrate`); returns the versions before
    /// and after.
    pub fn migrate(opts: &PgOptions) -> Result<(u32, u32), StoreError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Pg(format!("cannot start the database runtime: {e}")))?;
        rt.block_on(async {
            let mut client = connect(opts).await?;
            let before = schema::migrate(&mut client).await?;
            Ok((before as u32, schema::LATEST as u32))
        })
    }

    /// Where it is (no password).
    pub fn url(&self) -> &url::PgUrl {
        &self.opts.url
    }

    fn run<T>(&self, f: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        self.handle.block_on(f)
    }

    async fn reader(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }

    fn writer_conn(&self) -> MutexGuard<'_, WriterConn> {
        // The connection is plain data behind the lock; a panic elsewhere leaves it usable
        // (an open transaction is rolled back on the next begin).
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The writer's client, reconnecting when the last one was lost.
    async fn writer_client<'a>(&self, w: &'a mut WriterConn) -> Result<&'a Client, StoreError> {
        if w.client.as_ref().is_none_or(Client::is_closed) {
            w.client = None;
            w.stmts.clear();
            // Never carry on a batch on a new connection: its statements would run
            // outside the transaction that locked the head.
            if w.open.take().is_some() {
                return Err(StoreError::Unavailable(
                    "the database connection was lost during a batch".into(),
                ));
            }
            w.client = Some(connect(&self.opts).await?);
        }
        w.client
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("no database connection".into()))
    }

    /// Ends whatever transaction the writer's connection may have open (after a failure
    /// nobody knows how far a batch got); drops the connection if that fails.
    fn abort(&self, w: &mut WriterConn) {
        self.handle.block_on(Self::abort_on(w));
    }

    async fn abort_on(w: &mut WriterConn) {
        w.open = None;
        let failed = match w.client.as_ref() {
            Some(c) if !c.is_closed() => c.batch_execute("ROLLBACK").await.is_err(),
            _ => false,
        };
        if failed {
            w.client = None;
            w.stmts.clear();
        }
    }

    async fn begin_on(&self, w: &mut WriterConn) -> Result<Head, StoreError> {
        if w.open.is_some() {
            Self::abort_on(w).await;
        }
        let client = self.writer_client(w).await?;
        client.batch_execute("BEGIN").await.map_err(err)?;
        let row = client
            .query_one(
                "SELECT event_seq, audit_seq, audit_hash FROM chain_head WHERE id = 1 FOR UPDATE",
                &[],
            )
            .await
            .map_err(err)?;
        let head = Head {
            event_seq: row.get::<_, i64>(0) as u64,
            audit_seq: row.get::<_, i64>(1) as u64,
            audit_hash: row.get(2),
        };
        w.open = Some(head.clone());
        Ok(head)
    }

    async fn commit_on(&self, w: &mut WriterConn, batch: &[Mutation]) -> Result<(), StoreError> {
        let head = match w.open.clone() {
            Some(h) => h,
            None => self.begin_on(w).await?,
        };
        if batch.is_empty() {
            let client = self.writer_client(w).await?;
            client.batch_execute("ROLLBACK").await.map_err(err)?;
            return Ok(());
        }
        let (writes, _) = writes(batch, &head, &self.replica)?;
        self.writer_client(w).await?;
        let WriterConn { client, stmts, .. } = w;
        let client = client
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("no database connection".into()))?;
        // Prepare what this connection has not seen yet, then send every statement at
        // once: tokio-postgres pipelines them, in order, in one round trip.
        for x in &writes {
            if !stmts.contains_key(x.sql) {
                let st = client.prepare(x.sql).await.map_err(err)?;
                stmts.insert(x.sql, st);
            }
        }
        let mut futs = Vec::with_capacity(writes.len());
        for x in &writes {
            let st = stmts
                .get(x.sql)
                .ok_or_else(|| corrupt("statement not prepared"))?;
            let refs: Vec<&(dyn ToSql + Sync)> = x
                .params
                .iter()
                .map(|b| b.as_ref() as &(dyn ToSql + Sync))
                .collect();
            futs.push(async move { client.execute(st, &refs).await });
        }
        let result = futures_util::future::try_join_all(futs).await;
        let result = match result {
            Ok(_) => client.batch_execute("COMMIT").await,
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                Err(e)
            }
        };
        result.map_err(err)
    }
}

/// The action a feed event (as encoded) is about, for joining it with its row.
fn event_action(json: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Row {
        id: String,
    }
    #[derive(serde::Deserialize)]
    struct Msg {
        row: Option<Row>,
    }
    serde_json::from_str::<Msg>(json).ok()?.row.map(|r| r.id)
}

/// The statements for a batch and the head after it. Refuses a batch that does not
/// continue the locked head: the audit chain stays linear whatever the writer did.
fn writes(
    batch: &[Mutation],
    head: &Head,
    replica: &str,
) -> Result<(Vec<Write>, Head), StoreError> {
    let mut out = Vec::with_capacity(batch.len() + 2);
    let mut next = head.clone();
    let mut events = false;
    for m in batch {
        match m {
            Mutation::PutAction {
                action: a,
                digest,
                body,
            } => out.push(Write {
                sql: "INSERT INTO actions
                      (id, status, requester_id, kind, created_at, expires_at, digest, body)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                      ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                      digest = excluded.digest, body = excluded.body",
                params: vec![
                    p(a.id.to_string()),
                    p(a.status.as_str().to_string()),
                    p(a.requester.id.clone()),
                    p(a.kind.clone()),
                    p(a.created_at.unix_millis()),
                    p(a.expires_at.unix_millis()),
                    p(digest.as_str().to_string()),
                    p(body.clone()),
                ],
            }),
            Mutation::Vote { signed, at, json } => {
                let d = &signed.decision;
                out.push(Write {
                    sql: "INSERT INTO votes (decision_id, action_id, approver, key_id, at, signed)
                          VALUES ($1, $2, $3, $4, $5, $6)",
                    params: vec![
                        p(d.decision_id.to_string()),
                        p(d.action_id.to_string()),
                        p(d.approver.clone()),
                        p(d.key_id.0.clone()),
                        p(at.unix_millis()),
                        p(json.clone()),
                    ],
                });
            }
            Mutation::Audit { entry, stored } => {
                if stored.seq != next.audit_seq + 1 || stored.prev_hash != next.audit_hash {
                    return Err(StoreError::Pg(format!(
                        "audit entry {} does not continue the stored chain at {}: the batch \
                         was staged on another head",
                        stored.seq, next.audit_seq
                    )));
                }
                next.audit_seq = stored.seq;
                next.audit_hash = stored.hash.clone();
                out.push(Write {
                    sql: "INSERT INTO audit (seq, at, type, action_id, prev_hash, hash, entry)
                          VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    params: vec![
                        p(stored.seq as i64),
                        p(entry.at.unix_millis()),
                        p(entry.kind.as_str().to_string()),
                        p(entry.action_id.map(|i| i.to_string())),
                        p(stored.prev_hash.clone()),
                        p(stored.hash.clone()),
                        p(stored.canonical.clone()),
                    ],
                });
            }
            Mutation::PutKey(k) => out.push(Write {
                sql: "INSERT INTO keys (key_id, subject, public_key, label, created_at, revoked_at)
                      VALUES ($1, $2, $3, $4, $5, $6)
                      ON CONFLICT (key_id) DO UPDATE SET subject = excluded.subject,
                      public_key = excluded.public_key, label = excluded.label,
                      created_at = excluded.created_at, revoked_at = excluded.revoked_at",
                params: vec![
                    p(k.key_id.0.clone()),
                    p(k.subject.clone()),
                    p(k.public_key.clone()),
                    p(k.label.clone()),
                    p(k.created_at.unix_millis()),
                    p(k.revoked_at.map(Timestamp::unix_millis)),
                ],
            }),
            Mutation::History(row) => out.extend(history::insert(row)),
            Mutation::MarkExecuted(id) => out.push(Write {
                sql: "UPDATE history SET executed = TRUE WHERE action_id = $1",
                params: vec![p(id.to_string())],
            }),
            Mutation::HeadSeq(seq) => {
                if *seq < next.event_seq {
                    return Err(StoreError::Pg(format!(
                        "event {seq} is behind the stored head {}",
                        next.event_seq
                    )));
                }
                next.event_seq = *seq;
            }
            Mutation::Event(e) => {
                if e.seq <= head.event_seq {
                    return Err(StoreError::Pg(format!(
                        "event {} is not after the stored head {}: the batch was staged on \
                         another head",
                        e.seq, head.event_seq
                    )));
                }
                events = true;
                out.push(Write {
                    sql: "INSERT INTO events (seq, action_id, groups, body) VALUES ($1, $2, $3, $4)",
                    params: vec![
                        p(e.seq as i64),
                        p(event_action(&e.json)),
                        p(crate::protocol::encode(&e.groups)),
                        p(e.json.clone()),
                    ],
                });
            }
            Mutation::PruneEvents(upto) => out.push(Write {
                sql: "DELETE FROM events WHERE seq <= $1",
                params: vec![p(*upto as i64)],
            }),
            Mutation::Idempotency(r) => out.push(Write {
                sql: "INSERT INTO idempotency (agent, key, body_hash, action_id, created_at)
                      VALUES ($1, $2, $3, $4, $5)
                      ON CONFLICT (agent, key) DO UPDATE SET body_hash = excluded.body_hash,
                      action_id = excluded.action_id, created_at = excluded.created_at",
                params: vec![
                    p(r.agent.clone()),
                    p(r.key.clone()),
                    p(r.body_hash.as_str().to_string()),
                    p(r.action_id.to_string()),
                    p(r.created_at.unix_millis()),
                ],
            }),
            Mutation::PruneIdempotency(before) => out.push(Write {
                sql: "DELETE FROM idempotency WHERE created_at < $1",
                params: vec![p(before.unix_millis())],
            }),
            // The outbox: in the same transaction as the event that causes it.
            Mutation::NotifyEnqueue(m) => out.push(Write {
                sql: "INSERT INTO notify_outbox
                      (sink, action_id, stream, idem_key, payload, url, only_if_pending,
                       needs_ref, state, due_at, next_attempt_at)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
                      ON CONFLICT (idem_key) DO NOTHING",
                params: vec![
                    p(m.sink.clone()),
                    p(m.action_id.clone()),
                    p(m.stream.clone()),
                    p(m.key.clone()),
                    p(m.payload.clone()),
                    p(m.url.clone()),
                    p(m.only_if_pending),
                    p(m.needs_ref),
                    p(if m.waiting { "waiting" } else { "pending" }.to_string()),
                    p(m.due_at),
                ],
            }),
            Mutation::NotifyRelease {
                action_id,
                payload,
                at,
            } => out.push(Write {
                sql: "UPDATE notify_outbox SET state = 'pending', payload = $2, due_at = $3,
                      next_attempt_at = $3 WHERE action_id = $1 AND state = 'waiting'",
                params: vec![
                    p(action_id.to_string()),
                    p(payload.clone()),
                    p(at.unix_millis()),
                ],
            }),
        }
    }
    out.push(Write {
        sql: "UPDATE chain_head SET event_seq = $1, audit_seq = $2, audit_hash = $3 WHERE id = 1",
        params: vec![
            p(next.event_seq as i64),
            p(next.audit_seq as i64),
            p(next.audit_hash.clone()),
        ],
    });
    if events {
        // Delivered at commit, to every replica listening; only a wake-up.
        out.push(Write {
            sql: "SELECT pg_notify('signoff_events', $1)",
            params: vec![p(replica.to_string())],
        });
    }
    Ok((out, next))
}

fn key_row(r: &tokio_postgres::Row) -> KeyInfo {
    KeyInfo {
        key_id: KeyId(r.get(0)),
        subject: r.get(1),
        public_key: r.get(2),
        label: r.get(3),
        created_at: Timestamp::from_unix_millis(r.get(4)),
        revoked_at: r.get::<_, Option<i64>>(5).map(Timestamp::from_unix_millis),
    }
}

const KEY_COLUMNS: &str = "key_id, subject, public_key, label, created_at, revoked_at";

impl Store for PgStore {
    fn recover(&self) -> Result<Recovered, StoreError> {
        self.run(async {
            let mut c = self.reader().await?;
            // One snapshot: the pending set as of the head it is read with.
            let tx = c
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(err)?;
            let pending = tx
                .query("SELECT body FROM actions WHERE status = 'pending'", &[])
                .await
                .map_err(err)?
                .iter()
                .map(|r| super::sqlite::parse_action(r.get(0)))
                .collect::<Result<Vec<_>, _>>()?;
            let head = tx
                .query_one(
                    "SELECT event_seq, audit_seq, audit_hash FROM chain_head WHERE id = 1",
                    &[],
                )
                .await
                .map_err(err)?;
            let keys = tx
                .query(&format!("SELECT {KEY_COLUMNS} FROM keys"), &[])
                .await
                .map_err(err)?
                .iter()
                .map(key_row)
                .collect();
            tx.commit().await.map_err(err)?;
            Ok(Recovered {
                pending,
                head_seq: head.get::<_, i64>(0) as u64,
                audit_seq: head.get::<_, i64>(1) as u64,
                audit_hash: head.get(2),
                keys,
            })
        })
    }

    fn commit(&self, batch: &[Mutation]) -> Result<(), StoreError> {
        let mut w = self.writer_conn();
        let r = self.run(self.commit_on(&mut w, batch));
        if r.is_err() {
            self.abort(&mut w);
        }
        w.open = None;
        r
    }

    fn action(&self, id: &ActionId) -> Result<Option<Action>, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached("SELECT body FROM actions WHERE id = $1")
                .await
                .map_err(err)?;
            c.query_opt(&st, &[&id.to_string()])
                .await
                .map_err(err)?
                .map(|r| super::sqlite::parse_action(r.get(0)))
                .transpose()
        })
    }

    fn decision_seen(&self, id: &DecisionId) -> Result<bool, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached("SELECT 1 FROM votes WHERE decision_id = $1")
                .await
                .map_err(err)?;
            Ok(c.query_opt(&st, &[&id.to_string()])
                .await
                .map_err(err)?
                .is_some())
        })
    }

    fn has_requested_kind(&self, requester: &str, kind: &str) -> Result<bool, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached(
                    "SELECT 1 FROM actions WHERE requester_id = $1 AND kind = $2 LIMIT 1",
                )
                .await
                .map_err(err)?;
            Ok(c.query_opt(&st, &[&requester, &kind])
                .await
                .map_err(err)?
                .is_some())
        })
    }

    fn history(&self, q: &HistoryQuery) -> Result<HistoryPage, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            history::query(&c, q, &self.verified).await
        })
    }

    fn audit_entries(&self, after: u64, limit: usize) -> Result<Vec<StoredEntry>, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached(
                    "SELECT seq, prev_hash, hash, entry, at, type, action_id
                     FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .await
                .map_err(err)?;
            let rows = c
                .query(&st, &[&(after as i64), &(limit as i64)])
                .await
                .map_err(err)?;
            Ok(rows
                .iter()
                .map(|r| StoredEntry {
                    seq: r.get::<_, i64>(0) as u64,
                    prev_hash: r.get(1),
                    hash: r.get(2),
                    canonical: r.get(3),
                    columns: Some(AuditColumns {
                        at_millis: r.get(4),
                        kind: r.get(5),
                        action_id: r.get(6),
                    }),
                })
                .collect())
        })
    }

    fn events_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<crate::broker::live::Event>, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached(
                    "SELECT seq, groups, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .await
                .map_err(err)?;
            c.query(&st, &[&(after as i64), &(limit as i64)])
                .await
                .map_err(err)?
                .iter()
                .map(|r| {
                    Ok(crate::broker::live::Event {
                        seq: r.get::<_, i64>(0) as u64,
                        groups: serde_json::from_str(r.get::<_, &str>(1))
                            .map_err(|e| corrupt(format!("event groups: {e}")))?,
                        json: r.get(2),
                    })
                })
                .collect()
        })
    }

    fn idempotency(
        &self,
        agent: &str,
        key: &str,
    ) -> Result<Option<crate::protocol::idempotency::Record>, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached(
                    "SELECT body_hash, action_id, created_at FROM idempotency
                     WHERE agent = $1 AND key = $2",
                )
                .await
                .map_err(err)?;
            let Some(r) = c.query_opt(&st, &[&agent, &key]).await.map_err(err)? else {
                return Ok(None);
            };
            let hash: String = r.get(0);
            let id: &str = r.get(1);
            Ok(Some(crate::protocol::idempotency::Record {
                agent: agent.to_string(),
                key: key.to_string(),
                body_hash: crate::protocol::Digest::try_from(hash)
                    .map_err(|_| corrupt("idempotency body_hash"))?,
                action_id: id
                    .parse()
                    .map_err(|_| corrupt(format!("idempotency action id {id:?}")))?,
                created_at: Timestamp::from_unix_millis(r.get(2)),
            }))
        })
    }

    fn stored_ids(
        &self,
        table: super::IdTable,
        after: Option<&ActionId>,
        limit: usize,
    ) -> Result<Vec<ActionId>, StoreError> {
        // Bytewise order, as SQLite's, whatever the database's collation.
        let sql = match table {
            super::IdTable::Actions => {
                "SELECT id FROM actions WHERE id COLLATE \"C\" > $1
                 ORDER BY id COLLATE \"C\" LIMIT $2"
            }
            super::IdTable::History => {
                "SELECT action_id FROM history WHERE action_id > $1 ORDER BY action_id LIMIT $2"
            }
        };
        let after = after.map(ToString::to_string).unwrap_or_default();
        self.run(async {
            let c = self.reader().await?;
            let st = c.prepare_cached(sql).await.map_err(err)?;
            c.query(&st, &[&after, &(limit as i64)])
                .await
                .map_err(err)?
                .iter()
                .map(|r| {
                    let s: &str = r.get(0);
                    s.parse::<ActionId>()
                        .map_err(|_| corrupt(format!("action id {s:?}")))
                })
                .collect()
        })
    }

    fn history_entry(&self, id: &ActionId) -> Result<Option<super::StoredHistory>, StoreError> {
        let id = id.to_string();
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached(
                    "SELECT decided_at, outcome, risk, kind, environment, requester_id,
                            requester_name, executed, decided_by, reason, audit_hash
                     FROM history WHERE action_id = $1",
                )
                .await
                .map_err(err)?;
            let Some(r) = c.query_opt(&st, &[&id]).await.map_err(err)? else {
                return Ok(None);
            };
            let st = c
                .prepare_cached(
                    "SELECT approver FROM history_voters WHERE action_id = $1
                     ORDER BY approver COLLATE \"C\"",
                )
                .await
                .map_err(err)?;
            let voters = c
                .query(&st, &[&id])
                .await
                .map_err(err)?
                .iter()
                .map(|v| v.get(0))
                .collect();
            Ok(Some(super::StoredHistory {
                decided_at: Timestamp::from_unix_millis(r.get(0)),
                outcome: r.get(1),
                risk: r.get(2),
                kind: r.get(3),
                environment: r.get(4),
                requester_id: r.get(5),
                requester_name: r.get(6),
                executed: r.get(7),
                decided_by: r.get(8),
                reason: r.get(9),
                audit_hash: r.get(10),
                voters,
            }))
        })
    }

    fn shared(&self) -> bool {
        true
    }

    fn begin(&self) -> Result<Head, StoreError> {
        let mut w = self.writer_conn();
        let r = self.run(self.begin_on(&mut w));
        if r.is_err() {
            self.abort(&mut w);
        }
        r
    }

    fn rollback(&self) {
        let mut w = self.writer_conn();
        self.abort(&mut w);
    }

    fn action_for_update(&self, id: &ActionId) -> Result<Option<Action>, StoreError> {
        let mut w = self.writer_conn();
        if w.open.is_none() {
            drop(w);
            return self.action(id);
        }
        self.run(async {
            const SQL: &str = "SELECT body FROM actions WHERE id = $1 FOR UPDATE";
            if !w.stmts.contains_key(SQL) {
                let c = self.writer_client(&mut w).await?;
                let st = c.prepare(SQL).await.map_err(err)?;
                w.stmts.insert(SQL, st);
            }
            let (Some(c), Some(st)) = (w.client.as_ref(), w.stmts.get(SQL)) else {
                return Err(StoreError::Unavailable("no database connection".into()));
            };
            c.query_opt(st, &[&id.to_string()])
                .await
                .map_err(err)?
                .map(|r| super::sqlite::parse_action(r.get(0)))
                .transpose()
        })
    }

    fn head(&self) -> Result<Option<Head>, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let r = c
                .query_one(
                    "SELECT event_seq, audit_seq, audit_hash FROM chain_head WHERE id = 1",
                    &[],
                )
                .await
                .map_err(err)?;
            Ok(Some(Head {
                event_seq: r.get::<_, i64>(0) as u64,
                audit_seq: r.get::<_, i64>(1) as u64,
                audit_hash: r.get(2),
            }))
        })
    }

    fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached(
                    "SELECT e.seq, e.groups, e.body, a.body FROM events e
                     LEFT JOIN actions a ON a.id = e.action_id
                     WHERE e.seq > $1 ORDER BY e.seq LIMIT $2",
                )
                .await
                .map_err(err)?;
            let rows = c
                .query(&st, &[&(after as i64), &(limit as i64)])
                .await
                .map_err(err)?;
            rows.iter()
                .map(|r| {
                    let groups: Vec<String> = serde_json::from_str(r.get::<_, &str>(1))
                        .map_err(|e| corrupt(format!("event groups: {e}")))?;
                    Ok(Change {
                        seq: r.get::<_, i64>(0) as u64,
                        groups,
                        json: r.get(2),
                        action: r
                            .get::<_, Option<&str>>(3)
                            .map(super::sqlite::parse_action)
                            .transpose()?,
                    })
                })
                .collect()
        })
    }

    fn keys_after(&self, audit_seq: u64) -> Result<Vec<KeyInfo>, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached(&format!(
                    "SELECT {KEY_COLUMNS} FROM keys WHERE key_id IN (
                         SELECT entry::jsonb -> 'payload' ->> 'key_id' FROM audit
                         WHERE seq > $1 AND type IN ('key_registered', 'key_revoked'))"
                ))
                .await
                .map_err(err)?;
            Ok(c.query(&st, &[&(audit_seq as i64)])
                .await
                .map_err(err)?
                .iter()
                .map(key_row)
                .collect())
        })
    }

    fn key(&self, id: &KeyId) -> Result<Option<KeyInfo>, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            let st = c
                .prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = $1"))
                .await
                .map_err(err)?;
            Ok(c.query_opt(&st, &[&id.0])
                .await
                .map_err(err)?
                .map(|r| key_row(&r)))
        })
    }

    fn watch(&self, wake: Arc<dyn Fn() + Send + Sync>) {
        let poll = self.opts.poll_interval;
        let tick = wake.clone();
        self.handle.spawn(async move {
            let mut t = tokio::time::interval(poll);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                t.tick().await;
                tick();
            }
        });
        let opts = self.opts.clone();
        let me = self.replica.clone();
        let listening = self.listening.clone();
        self.handle.spawn(listen(opts, me, listening, wake));
    }

    fn health(&self) -> Result<(), StoreError> {
        self.run(async {
            let check = async {
                let c = self.reader().await?;
                c.simple_query("SELECT 1").await.map_err(err)?;
                Ok::<(), StoreError>(())
            };
            match tokio::time::timeout(Duration::from_secs(3), check).await {
                Ok(r) => r,
                Err(_) => Err(StoreError::Unavailable(
                    "the database did not answer within 3 s".into(),
                )),
            }
        })
    }

    fn claim(&self, key: &str, value: &str) -> Result<String, StoreError> {
        self.run(async {
            let c = self.reader().await?;
            c.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[&key, &value],
            )
            .await
            .map_err(err)?;
            let r = c
                .query_one("SELECT value FROM meta WHERE key = $1", &[&key])
                .await
                .map_err(err)?;
            Ok(r.get(0))
        })
    }
}

/// Listens for other replicas' commits on its own connection, reconnecting with a
/// backoff; wakes the writer on each notification and after each (re)connection (what
/// was committed while it was away is read back by sequence number, not from here).
async fn listen(
    opts: PgOptions,
    me: String,
    listening: Arc<AtomicBool>,
    wake: Arc<dyn Fn() + Send + Sync>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let connected = match tls(&opts) {
            Ok(t) => opts.url.config().connect(t).await.map_err(err),
            Err(e) => Err(e),
        };
        match connected {
            Ok((client, mut conn)) => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
                let driver = tokio::spawn(async move {
                    let mut messages =
                        futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
                    while let Some(m) = messages.next().await {
                        match m {
                            Ok(AsyncMessage::Notification(n)) => {
                                if tx.send(n.payload().to_string()).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "database listener connection lost");
                                break;
                            }
                        }
                    }
                });
                if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    tracing::warn!(error = %err(e), "LISTEN failed");
                    driver.abort();
                } else {
                    if !listening.swap(true, Ordering::Relaxed) {
                        tracing::info!("database reachable again; listening for other replicas");
                    }
                    backoff = Duration::from_millis(100);
                    wake();
                    while let Some(from) = rx.recv().await {
                        if from != me {
                            wake();
                        }
                    }
                    driver.abort();
                }
            }
            Err(e) => {
                if listening.swap(false, Ordering::Relaxed) {
                    tracing::warn!(error = %crate::report::one_line(&e), "cannot listen for other replicas; retrying");
                }
            }
        }
        listening.store(false, Ordering::Relaxed);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::store::audit::GENESIS;

    #[test]
    fn a_batch_must_continue_the_locked_head() {
        use crate::broker::store::audit::{AuditEntry, AuditKind, seal};
        let head = Head {
            event_seq: 7,
            audit_seq: 3,
            audit_hash: GENESIS.to_string(),
        };
        let entry = |seq| AuditEntry {
            seq,
            at: Timestamp::from_unix_millis(1),
            kind: AuditKind::KeyRevoked,
            action_id: None,
            actor: "x".into(),
            payload: serde_json::json!({}),
        };
        let e = entry(4);
        let ok = [Mutation::Audit {
            stored: seal(&e, GENESIS),
            entry: e,
        }];
        let (_, next) = writes(&ok, &head, "r").unwrap();
        assert_eq!(next.audit_seq, 4);
        let e = entry(5);
        let stale = [Mutation::Audit {
            stored: seal(&e, GENESIS),
            entry: e,
        }];
        assert!(writes(&stale, &head, "r").is_err());
        let old_event = [Mutation::Event(Arc::new(crate::broker::live::Event {
            seq: 7,
            groups: vec![],
            json: "{}".into(),
        }))];
        assert!(writes(&old_event, &head, "r").is_err());
    }

    #[test]
    fn events_name_their_action() {
        let a = crate::protocol::action::fixtures::action();
        let msg = crate::protocol::ServerMsg::Pending {
            seq: 3,
            row: crate::protocol::ActionRow::compute(&a),
        };
        let json = crate::protocol::encode(&msg);
        assert_eq!(event_action(&json), Some(a.id.to_string()));
        assert_eq!(event_action("{\"type\":\"skipped\"}"), None);
    }
}
