//! The notification outbox on PostgreSQL, shared by every broker on the database.
//!
//! The writer adds rows in the batch's transaction (see `writes` in the parent module),
//! like every other mutation. Any broker's delivery task may send any row, so a row is
//! *leased* before it is sent: [`PgOutbox::take_due`] picks due rows with
//! `FOR UPDATE SKIP LOCKED` (two brokers looking at once never pick the same row) and
//! stamps them with this broker's id and a lease end on the database's clock. Until the
//! lease ends, no other broker takes the row; when it ends without a final mark (the
//! broker died, or lost the database), the next broker to look takes it over and sends it
//! again with the same idempotency key. Marks are fenced: a broker whose lease was taken
//! over cannot mark the row any more (its late "done" is dropped; the message is sent
//! again by the new holder, which at-least-once allows).
//!
//! A marked row keeps `lease_owner`: the broker that sent it last (for operators reading
//! the table; only `lease_until` says whether a lease is held).
//!
//! Messages of one stream (sink, action, stream) still go one at a time, in order: a row
//! is due only when no earlier row of its stream is pending, leased or not.

use std::sync::Arc;
use std::time::Duration;

use super::{PgStore, err, p};
use crate::broker::store::StoreError;
use crate::broker::store::notify::{Backlog, Message, Outbox};

/// The database's clock in Unix milliseconds: leases are compared on one clock, whatever
/// the brokers' clocks say.
const DB_NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// The outbox of a [`PgStore`], as this broker's delivery task works on it.
pub struct PgOutbox {
    store: Arc<PgStore>,
}

impl PgStore {
    /// The outbox, for the delivery task (leases carry this broker's replica id).
    pub fn outbox(self: &Arc<Self>) -> PgOutbox {
        PgOutbox {
            store: self.clone(),
        }
    }
}

fn message(r: &tokio_postgres::Row) -> Message {
    Message {
        id: r.get(0),
        sink: r.get(1),
        action_id: r.get(2),
        key: r.get(3),
        payload: r.get(4),
        url: r.get(5),
        only_if_pending: r.get(6),
        needs_ref: r.get(7),
        attempts: r.get::<_, i32>(8).max(0) as u32,
        due_at: r.get(9),
    }
}

impl PgOutbox {
    /// Runs one statement on a pooled connection; the number of rows it changed.
    fn execute(&self, sql: &str, params: &[super::Param]) -> Result<u64, StoreError> {
        let s = &self.store;
        s.run(async {
            let c = s.reader().await?;
            let st = c.prepare_cached(sql).await.map_err(err)?;
            let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|b| b.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
                .collect();
            c.execute(&st, &refs).await.map_err(err)
        })
    }

    fn lost_lease(&self, n: u64, id: i64) {
        if n == 0 {
            tracing::warn!(
                message_id = id,
                "notify: another broker took this message over (the lease ended first); it \
                 sends it again with the same key"
            );
        }
    }
}

impl Outbox for PgOutbox {
    fn take_due(
        &self,
        now: i64,
        limit: usize,
        busy: &[i64],
        lease: Duration,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = format!(
            "WITH c AS (
                 SELECT o.id FROM notify_outbox o
                 WHERE o.state = 'pending' AND o.next_attempt_at <= $1
                   AND (o.lease_until IS NULL OR o.lease_until < {DB_NOW_MS})
                   AND NOT (o.id = ANY($3))
                   AND NOT EXISTS (SELECT 1 FROM notify_outbox q
                                   WHERE q.sink = o.sink AND q.action_id = o.action_id
                                     AND q.stream = o.stream AND q.id < o.id
                                     AND q.state IN ('pending', 'waiting'))
                 ORDER BY o.next_attempt_at, o.id
                 LIMIT $2
                 FOR UPDATE OF o SKIP LOCKED)
             UPDATE notify_outbox o SET lease_owner = $4, lease_until = {DB_NOW_MS} + $5
             FROM c WHERE o.id = c.id
             RETURNING o.id, o.sink, o.action_id, o.idem_key, o.payload, o.url,
                       o.only_if_pending, o.needs_ref, o.attempts, o.due_at, o.next_attempt_at"
        );
        let s = &self.store;
        let busy = busy.to_vec();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 4);
        s.run(async {
            let c = s.reader().await?;
            let st = c.prepare_cached(&sql).await.map_err(err)?;
            let mut rows: Vec<(i64, Message)> = c
                .query(&st, &[&now, &(limit as i64), &busy, &s.replica, &lease_ms])
                .await
                .map_err(err)?
                .iter()
                .map(|r| (r.get(10), message(r)))
                .collect();
            rows.sort_by_key(|(next, m)| (*next, m.id));
            Ok(rows.into_iter().map(|(_, m)| m).collect())
        })
    }

    fn finish(&self, id: i64, state: &str, error: Option<&str>) -> Result<(), StoreError> {
        let n = self.execute(
            "UPDATE notify_outbox SET state = $2,
                 attempts = attempts + CASE WHEN $2 = 'skipped' THEN 0 ELSE 1 END,
                 last_error = $3, lease_until = NULL
             WHERE id = $1 AND lease_owner = $4",
            &[
                p(id),
                p(state.to_string()),
                p(error.map(str::to_string)),
                p(self.store.replica.clone()),
            ],
        )?;
        self.lost_lease(n, id);
        Ok(())
    }

    fn retry(&self, id: i64, next: i64, error: &str) -> Result<(), StoreError> {
        let n = self.execute(
            "UPDATE notify_outbox SET attempts = attempts + 1, next_attempt_at = $2,
                 last_error = $3, lease_until = NULL
             WHERE id = $1 AND lease_owner = $4",
            &[
                p(id),
                p(next),
                p(error.to_string()),
                p(self.store.replica.clone()),
            ],
        )?;
        self.lost_lease(n, id);
        Ok(())
    }

    fn reference(&self, action_id: &str, sink: &str) -> Result<Option<String>, StoreError> {
        let s = &self.store;
        s.run(async {
            let c = s.reader().await?;
            let st = c
                .prepare_cached("SELECT ref FROM notify_refs WHERE action_id = $1 AND sink = $2")
                .await
                .map_err(err)?;
            Ok(c.query_opt(&st, &[&action_id, &sink])
                .await
                .map_err(err)?
                .map(|r| r.get(0)))
        })
    }

    fn put_reference(&self, action_id: &str, sink: &str, r: &str) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO notify_refs (action_id, sink, ref) VALUES ($1, $2, $3)
             ON CONFLICT (action_id, sink) DO UPDATE SET ref = excluded.ref",
            &[
                p(action_id.to_string()),
                p(sink.to_string()),
                p(r.to_string()),
            ],
        )?;
        Ok(())
    }

    fn action_pending(&self, action_id: &str) -> Result<bool, StoreError> {
        let s = &self.store;
        s.run(async {
            let c = s.reader().await?;
            let st = c
                .prepare_cached("SELECT status FROM actions WHERE id = $1")
                .await
                .map_err(err)?;
            Ok(c.query_opt(&st, &[&action_id])
                .await
                .map_err(err)?
                .is_some_and(|r| r.get::<_, &str>(0) == "pending"))
        })
    }

    fn backlog(&self, now: i64) -> Result<Backlog, StoreError> {
        let s = &self.store;
        s.run(async {
            let c = s.reader().await?;
            let st = c
                .prepare_cached(
                    "SELECT sink,
                            MIN(CASE WHEN state = 'pending' AND due_at <= $1 THEN due_at END),
                            COUNT(*) FILTER (WHERE state = 'dead')
                     FROM notify_outbox WHERE state IN ('pending', 'dead') GROUP BY sink",
                )
                .await
                .map_err(err)?;
            Ok(c.query(&st, &[&now])
                .await
                .map_err(err)?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get::<_, i64>(2).max(0) as u64))
                .collect())
        })
    }

    fn prune(&self, before: i64) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM notify_outbox WHERE state IN ('done', 'skipped') AND due_at < $1",
            &[p(before)],
        )?;
        Ok(())
    }
}
