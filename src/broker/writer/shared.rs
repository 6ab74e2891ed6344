//! The writer on a store several brokers share (PostgreSQL).
//!
//! One broker's writer stages a batch on what it holds in memory. With several, memory
//! may be behind: another broker may have created, decided or keyed something since. So
//! each batch starts with [`Store::begin`](crate::broker::store::Store::begin), which
//! opens a transaction and locks the stored chain head; the writer catches its memory up
//! to that head (other brokers' events, in order, into the live view and the feeds), then
//! stages every operation against the rows as stored (each action re-read and locked in
//! the same transaction), numbers events and audit entries from the stored head, and
//! commits. Brokers take turns on the head, so the audit chain stays one line and event
//! numbers are global. Between batches, a notification from the store (or a timer) queues
//! an [`Op::CatchUp`](super::Op::CatchUp), so feeds and long polls on every broker hear
//! of every commit.

use std::collections::HashMap;
use std::sync::Arc;

use super::Writer;
use crate::broker::live::{Event, Publish};
use crate::broker::store::{Head, StoreError};
use crate::protocol::row::digest_and_sizes;
use crate::protocol::{Action, ActionId, ActionRow, Status};

/// Most events read back in one go.
const PAGE: usize = 2_000;

impl Writer {
    /// Opens a batch: locks the stored head and brings memory up to it.
    pub(super) fn begin_shared(&mut self) -> Result<(), StoreError> {
        let head = self.store.begin()?;
        if let Err(e) = self.catch_up(Some(&head)) {
            self.store.rollback();
            return Err(e);
        }
        Ok(())
    }

    /// Applies the events other brokers committed after ours, up to `head` (or to the
    /// stored head, read now). Keys they registered or revoked come along.
    pub(super) fn catch_up(&mut self, head: Option<&Head>) -> Result<(), StoreError> {
        let head = match head {
            Some(h) => h.clone(),
            None => match self.store.head()? {
                Some(h) => h,
                None => return Ok(()),
            },
        };
        if head.audit_seq > self.audit_seq {
            let keys = self.store.keys_after(self.audit_seq)?;
            self.keys.put(keys);
        }
        while self.head_seq < head.event_seq {
            let changes = self.store.changes_after(self.head_seq, PAGE)?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                break;
            };
            if changes.first().is_some_and(|c| c.seq != self.head_seq + 1) {
                // Pruned while this broker was away: the feed skips the gap; the state
                // below is still the stored one.
                tracing::warn!(
                    from = self.head_seq + 1,
                    to = changes.first().map_or(0, |c| c.seq),
                    "events no longer stored; feeds resuming across them get a snapshot"
                );
            }
            let mut p = Publish::default();
            let mut latest: HashMap<ActionId, Action> = HashMap::new();
            for c in changes {
                p.events.push(Arc::new(Event {
                    seq: c.seq,
                    groups: c.groups,
                    json: c.json,
                }));
                if let Some(a) = c.action {
                    latest.insert(a.id, a);
                }
            }
            for (id, a) in latest {
                if a.status == Status::Pending {
                    let (digest, sizes) = self
                        .digests
                        .entry(id)
                        .or_insert_with(|| digest_and_sizes(&a))
                        .clone();
                    let row = ActionRow::of(&a, digest, sizes);
                    p.upsert.push((Arc::new(a), row));
                } else {
                    self.digests.remove(&id);
                    p.remove.push((id, a.status));
                }
            }
            p.head_seq = last;
            self.head_seq = last;
            let created = !p.upsert.is_empty();
            self.live.publish(p);
            if created {
                // The expiry task learns of the new deadlines.
                self.new_action.notify_one();
            }
        }
        if self.head_seq < head.event_seq {
            self.head_seq = head.event_seq;
            self.live.publish(Publish {
                head_seq: head.event_seq,
                ..Default::default()
            });
        }
        self.audit_seq = head.audit_seq;
        self.audit_hash = head.audit_hash;
        Ok(())
    }
}
