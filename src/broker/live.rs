//! The live view: pending actions, the numbered event stream and long-poll wake-ups.
//!
//! One mutex guards the pending map, the resume ring and the broadcast sender together,
//! so a subscriber's snapshot (or replay) and its live stream meet at exactly one sequence
//! number: nothing missed, nothing twice. The writer publishes after each commit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{broadcast, watch};

use super::decide::may_decide;
use crate::protocol::row::digest_and_sizes;
use crate::protocol::{Action, ActionId, ActionRow, ServerMsg, Status, encode};

/// One feed event, encoded once for every subscriber.
#[derive(Debug)]
pub struct Event {
    pub seq: u64,
    /// The action's approver groups: who may see this event (empty: everyone).
    pub groups: Vec<String>,
    pub json: String,
}

impl Event {
    pub fn new(msg: &ServerMsg, groups: Vec<String>) -> Self {
        Self {
            seq: msg.seq().unwrap_or(0),
            groups,
            json: encode(msg),
        }
    }

    pub fn visible_to(&self, groups: &[String]) -> bool {
        may_decide(groups, &self.groups)
    }
}

/// What a new subscriber gets before live events.
pub enum Start {
    /// Every event after `after` up to the head, in order, for every group: the feed
    /// forwards the visible ones and accounts for the rest as `skipped`.
    Replay { after: u64, events: Vec<Arc<Event>> },
    /// A fresh snapshot at `seq`: the encoded rows this subscriber may see, by id.
    Snapshot { seq: u64, rows: Vec<Arc<str>> },
}

/// Pending actions that left the live view, handed back to be freed elsewhere (see
/// [`Live::publish`]).
#[derive(Default)]
pub struct Removed {
    /// Only held, to be dropped where the holder chooses.
    _slots: Vec<Slot>,
}

/// A pending action with its row, encoded once for every snapshot.
struct Slot {
    action: Arc<Action>,
    row_json: Arc<str>,
    /// The canonical size of the action (what the pending-bytes budgets count).
    bytes: u64,
}

struct Inner {
    head_seq: u64,
    pending: HashMap<ActionId, Slot>,
    ring: VecDeque<Arc<Event>>,
    waiters: HashMap<ActionId, watch::Sender<Status>>,
    /// Pending bytes, in total and per requester id.
    bytes_total: u64,
    bytes_by: HashMap<String, u64>,
}

impl Inner {
    fn insert(&mut self, action: Arc<Action>, row: &ActionRow) -> Option<Slot> {
        let bytes = row.sizes.action;
        let old = self.remove(&action.id);
        *self
            .bytes_by
            .entry(action.requester.id.clone())
            .or_default() += bytes;
        self.bytes_total += bytes;
        let slot = Slot {
            row_json: encode(row).into(),
            action,
            bytes,
        };
        self.pending.insert(slot.action.id, slot);
        old
    }

    fn remove(&mut self, id: &ActionId) -> Option<Slot> {
        let old = self.pending.remove(id)?;
        self.bytes_total = self.bytes_total.saturating_sub(old.bytes);
        let who = &old.action.requester.id;
        if let Some(b) = self.bytes_by.get_mut(who) {
            *b = b.saturating_sub(old.bytes);
            if *b == 0 {
                self.bytes_by.remove(who);
            }
        }
        Some(old)
    }
}

/// Shared live state.
pub struct Live {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Event>>,
    resume_window: usize,
}

/// What one committed batch changes.
#[derive(Default)]
pub struct Publish {
    /// Pending actions created or changed, each with its row.
    pub upsert: Vec<(Arc<Action>, ActionRow)>,
    pub remove: Vec<(ActionId, Status)>,
    pub events: Vec<Arc<Event>>,
    pub head_seq: u64,
}

/// The events after `n` when `ring` still holds every one of them (`head` is the newest
/// number); `None` when `n` is too old or from the future (another numbering). This is
/// the one place that decides "replay or snapshot", so a durable event store can back it.
pub fn replay_after(ring: &VecDeque<Arc<Event>>, n: u64, head: u64) -> Option<Vec<Arc<Event>>> {
    if n > head {
        return None;
    }
    let oldest = ring.front().map_or(head + 1, |e| e.seq);
    if n + 1 < oldest {
        return None;
    }
    Some(ring.iter().filter(|e| e.seq > n).cloned().collect())
}

impl Live {
    pub fn new(pending: Vec<Action>, head_seq: u64, queue_depth: usize, resume: usize) -> Self {
        let (tx, _) = broadcast::channel(queue_depth.max(1));
        let mut inner = Inner {
            head_seq,
            pending: HashMap::new(),
            ring: VecDeque::new(),
            waiters: HashMap::new(),
            bytes_total: 0,
            bytes_by: HashMap::new(),
        };
        for a in pending {
            let (digest, sizes) = digest_and_sizes(&a);
            let row = ActionRow::of(&a, digest, sizes);
            let _ = inner.insert(Arc::new(a), &row);
        }
        Self {
            inner: Mutex::new(inner),
            tx,
            resume_window: resume,
        }
    }

    /// Fills the resume ring with events kept by the store (after a restart), so a client
    /// resuming within the window gets a replay, not a snapshot. Only the contiguous run
    /// ending at the head is kept: the ring must hold every event from its oldest on.
    /// Returns how many events are replayable.
    pub fn restore(&self, events: Vec<Event>) -> usize {
        let mut g = self.lock();
        let head = g.head_seq;
        let mut run: VecDeque<Arc<Event>> = VecDeque::new();
        for e in events.into_iter().filter(|e| e.seq <= head) {
            if run.back().is_some_and(|last| last.seq + 1 != e.seq) {
                run.clear();
            }
            run.push_back(Arc::new(e));
        }
        if run.back().is_none_or(|last| last.seq != head) {
            run.clear();
        }
        while run.len() > self.resume_window {
            run.pop_front();
        }
        g.ring = run;
        g.ring.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn head_seq(&self) -> u64 {
        self.lock().head_seq
    }

    pub fn pending(&self, id: &ActionId) -> Option<Arc<Action>> {
        self.lock().pending.get(id).map(|s| s.action.clone())
    }

    pub fn pending_count(&self) -> usize {
        self.lock().pending.len()
    }

    /// Every pending action (for the expiry task).
    pub fn all_pending(&self) -> Vec<Arc<Action>> {
        self.lock()
            .pending
            .values()
            .map(|s| s.action.clone())
            .collect()
    }

    /// Pending bytes held for `requester`, and in total (committed actions only).
    pub fn pending_bytes(&self, requester: &str) -> (u64, u64) {
        let g = self.lock();
        (
            g.bytes_by.get(requester).copied().unwrap_or(0),
            g.bytes_total,
        )
    }

    /// Applies a committed batch: state first, then events, then wake-ups. Returns the
    /// entries it replaced or removed, for the caller to free later: on the commit
    /// thread, freeing them would delay the next commit.
    pub fn publish(&self, p: Publish) -> Removed {
        let mut g = self.lock();
        let mut removed = Vec::with_capacity(p.remove.len());
        for (a, row) in p.upsert {
            removed.extend(g.insert(a, &row));
        }
        for (id, status) in p.remove {
            removed.extend(g.remove(&id));
            if let Some(w) = g.waiters.remove(&id) {
                let _ = w.send(status);
            }
        }
        for e in p.events {
            g.ring.push_back(e.clone());
            if g.ring.len() > self.resume_window {
                g.ring.pop_front();
            }
            // No receivers is fine: nobody is connected.
            let _ = self.tx.send(e);
        }
        g.head_seq = g.head_seq.max(p.head_seq);
        Removed { _slots: removed }
    }

    /// Subscribes: a replay of the events after `resume_after` when they are all still
    /// held (see [`replay_after`]), otherwise a snapshot of the pending actions visible
    /// to `groups`, sorted by id.
    pub fn subscribe(
        &self,
        resume_after: Option<u64>,
        groups: &[String],
    ) -> (broadcast::Receiver<Arc<Event>>, Start, u64) {
        let g = self.lock();
        let rx = self.tx.subscribe();
        let head = g.head_seq;
        if let Some(n) = resume_after
            && let Some(events) = replay_after(&g.ring, n, head)
        {
            return (rx, Start::Replay { after: n, events }, head);
        }
        let mut visible: Vec<(&ActionId, &Slot)> = g
            .pending
            .iter()
            .filter(|(_, s)| may_decide(groups, &s.action.policy.approver_groups))
            .collect();
        visible.sort_by_key(|(id, _)| **id);
        let rows = visible
            .into_iter()
            .map(|(_, s)| s.row_json.clone())
            .collect();
        (rx, Start::Snapshot { seq: head, rows }, head)
    }

    /// A receiver that changes when the action leaves the pending set, whether or not it
    /// is pending here yet (another broker created it; its events are on their way). The
    /// caller checks the stored status after this, and calls [`Live::unwatch_idle`] when
    /// done waiting.
    pub fn watch_any(&self, id: &ActionId) -> watch::Receiver<Status> {
        self.lock()
            .waiters
            .entry(*id)
            .or_insert_with(|| watch::channel(Status::Pending).0)
            .subscribe()
    }

    /// Forgets the waiter for `id` when nobody waits any more.
    pub fn unwatch_idle(&self, id: &ActionId) {
        let mut g = self.lock();
        if g.waiters.get(id).is_some_and(|w| w.receiver_count() == 0) {
            g.waiters.remove(id);
        }
    }

    /// A receiver that changes when the action leaves the pending set; `None` when it is
    /// not pending now.
    pub fn watch(&self, id: &ActionId) -> Option<watch::Receiver<Status>> {
        let mut g = self.lock();
        if !g.pending.contains_key(id) {
            return None;
        }
        Some(
            g.waiters
                .entry(*id)
                .or_insert_with(|| watch::channel(Status::Pending).0)
                .subscribe(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::action::fixtures;

    fn event(seq: u64, groups: &[&str]) -> Arc<Event> {
        let msg = ServerMsg::Resolved {
            seq,
            row: ActionRow::compute(&fixtures::action()),
            decided_by: vec!["system".into()],
            reason: "expired".into(),
        };
        Arc::new(Event::new(
            &msg,
            groups.iter().map(|g| g.to_string()).collect(),
        ))
    }

    #[test]
    fn resume_replays_exactly_the_missed_events_or_falls_back_to_a_snapshot() {
        let live = Live::new(vec![fixtures::action()], 10, 16, 3);
        let publish = |seqs: &[u64]| {
            live.publish(Publish {
                events: seqs.iter().map(|s| event(*s, &[])).collect(),
                head_seq: *seqs.last().unwrap(),
                ..Default::default()
            })
        };
        publish(&[11, 12, 13, 14]);
        let (_, start, head) = live.subscribe(Some(12), &[]);
        assert_eq!(head, 14);
        match start {
            Start::Replay { after, events } => {
                assert_eq!(after, 12);
                assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [13, 14]);
            }
            Start::Snapshot { .. } => panic!("expected a replay"),
        }
        // The ring holds 12..=14 only: resuming after 10 must give a snapshot.
        let (_, start, _) = live.subscribe(Some(10), &[]);
        assert!(matches!(start, Start::Snapshot { seq: 14, .. }));
        // Up to date: an empty replay.
        let (_, start, _) = live.subscribe(Some(14), &[]);
        assert!(matches!(start, Start::Replay { ref events, .. } if events.is_empty()));
        // From the future (another database): a snapshot.
        let (_, start, _) = live.subscribe(Some(99), &[]);
        assert!(matches!(start, Start::Snapshot { .. }));
    }

    fn kept(seq: u64) -> Event {
        Arc::try_unwrap(event(seq, &[])).unwrap()
    }

    #[test]
    fn a_restored_ring_replays_across_a_restart_when_it_reaches_the_head() {
        let live = Live::new(Vec::new(), 14, 16, 3);
        assert_eq!(live.restore((9..=14).map(kept).collect()), 3);
        let (_, start, _) = live.subscribe(Some(11), &[]);
        match start {
            Start::Replay { events, .. } => {
                assert_eq!(
                    events.iter().map(|e| e.seq).collect::<Vec<_>>(),
                    [12, 13, 14]
                )
            }
            Start::Snapshot { .. } => panic!("expected a replay"),
        }
        let (_, start, _) = live.subscribe(Some(10), &[]);
        assert!(matches!(start, Start::Snapshot { .. }));
        // A hole: only the run after it counts.
        let live = Live::new(Vec::new(), 14, 16, 10);
        assert_eq!(live.restore([10, 11, 13, 14].map(kept).into()), 2);
        assert!(matches!(
            live.subscribe(Some(12), &[]).1,
            Start::Replay { .. }
        ));
        assert!(matches!(
            live.subscribe(Some(11), &[]).1,
            Start::Snapshot { .. }
        ));
        // Events that stop short of the head cannot be replayed at all.
        let live = Live::new(Vec::new(), 14, 16, 10);
        assert_eq!(live.restore([11, 12].map(kept).into()), 0);
        assert!(matches!(
            live.subscribe(Some(12), &[]).1,
            Start::Snapshot { .. }
        ));
    }

    #[test]
    fn snapshot_and_events_are_filtered_by_group() {
        let live = Live::new(vec![fixtures::action()], 0, 16, 16);
        let (_, start, _) = live.subscribe(None, &["dba".into()]);
        assert!(matches!(start, Start::Snapshot { ref rows, .. } if rows.is_empty()));
        let (_, start, _) = live.subscribe(None, &["sre".into()]);
        assert!(matches!(start, Start::Snapshot { ref rows, .. } if rows.len() == 1));
        assert!(event(1, &["sre"]).visible_to(&["sre".into()]));
        assert!(!event(1, &["sre"]).visible_to(&["dba".into()]));
        assert!(event(1, &[]).visible_to(&[]));
    }

    #[test]
    fn watchers_wake_when_the_action_leaves() {
        let a = fixtures::action();
        let live = Live::new(vec![a.clone()], 0, 16, 16);
        let mut rx = live.watch(&a.id).unwrap();
        live.publish(Publish {
            remove: vec![(a.id, Status::Approved)],
            ..Default::default()
        });
        assert!(rx.has_changed().unwrap_or(true));
        assert_eq!(*rx.borrow_and_update(), Status::Approved);
        assert!(live.watch(&a.id).is_none());
    }

    #[test]
    fn pending_bytes_are_counted_per_requester_and_in_total() {
        let a = fixtures::action();
        let size = ActionRow::compute(&a).sizes.action;
        let live = Live::new(vec![a.clone()], 0, 16, 16);
        assert_eq!(live.pending_bytes(&a.requester.id), (size, size));
        assert_eq!(live.pending_bytes("someone-else"), (0, size));
        live.publish(Publish {
            remove: vec![(a.id, Status::Withdrawn)],
            ..Default::default()
        });
        assert_eq!(live.pending_bytes(&a.requester.id), (0, 0));
    }
}
