//! The live view: pending actions, the numbered event stream and long-poll wake-ups.
//!
//! One mutex guards the pending map, the resume ring and the broadcast sender together,
//! so a subscriber's snapshot (or replay) and its live stream meet at exactly one sequence
//! number: nothing missed, nothing twice. The writer publishes after each commit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{broadcast, watch};

use super::decide::may_decide;
use crate::protocol::{Action, ActionId, ServerMsg, Status, encode};

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
    /// Events after the client's `resume_after`, in order.
    Replay(Vec<Arc<Event>>),
    /// A fresh snapshot at `seq`.
    Snapshot { seq: u64, actions: Vec<Arc<Action>> },
}

struct Inner {
    head_seq: u64,
    pending: HashMap<ActionId, Arc<Action>>,
    ring: VecDeque<Arc<Event>>,
    waiters: HashMap<ActionId, watch::Sender<Status>>,
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
    pub upsert: Vec<Arc<Action>>,
    pub remove: Vec<(ActionId, Status)>,
    pub events: Vec<Arc<Event>>,
    pub head_seq: u64,
}

impl Live {
    pub fn new(pending: Vec<Action>, head_seq: u64, queue_depth: usize, resume: usize) -> Self {
        let (tx, _) = broadcast::channel(queue_depth.max(1));
        let pending = pending.into_iter().map(|a| (a.id, Arc::new(a))).collect();
        Self {
            inner: Mutex::new(Inner {
                head_seq,
                pending,
                ring: VecDeque::new(),
                waiters: HashMap::new(),
            }),
            tx,
            resume_window: resume,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn head_seq(&self) -> u64 {
        self.lock().head_seq
    }

    pub fn pending(&self, id: &ActionId) -> Option<Arc<Action>> {
        self.lock().pending.get(id).cloned()
    }

    pub fn pending_count(&self) -> usize {
        self.lock().pending.len()
    }

    /// Every pending action (for the expiry task).
    pub fn all_pending(&self) -> Vec<Arc<Action>> {
        self.lock().pending.values().cloned().collect()
    }

    /// Applies a committed batch: state first, then events, then wake-ups.
    pub fn publish(&self, p: Publish) {
        let mut g = self.lock();
        for a in p.upsert {
            g.pending.insert(a.id, a);
        }
        for (id, status) in p.remove {
            g.pending.remove(&id);
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
    }

    /// Subscribes: a replay of the events after `resume_after` when the ring still holds
    /// them all, otherwise a snapshot of the pending actions visible to `groups`.
    pub fn subscribe(
        &self,
        resume_after: Option<u64>,
        groups: &[String],
    ) -> (broadcast::Receiver<Arc<Event>>, Start, u64) {
        let g = self.lock();
        let rx = self.tx.subscribe();
        let head = g.head_seq;
        if let Some(n) = resume_after
            && n <= head
        {
            let oldest = g.ring.front().map_or(head + 1, |e| e.seq);
            if n + 1 >= oldest {
                let events = g
                    .ring
                    .iter()
                    .filter(|e| e.seq > n && e.visible_to(groups))
                    .cloned()
                    .collect();
                return (rx, Start::Replay(events), head);
            }
        }
        let mut actions: Vec<Arc<Action>> = g
            .pending
            .values()
            .filter(|a| may_decide(groups, &a.policy.approver_groups))
            .cloned()
            .collect();
        actions.sort_by_key(|a| a.id);
        (rx, Start::Snapshot { seq: head, actions }, head)
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
            action: fixtures::action(),
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
            Start::Replay(ev) => assert_eq!(ev.iter().map(|e| e.seq).collect::<Vec<_>>(), [13, 14]),
            Start::Snapshot { .. } => panic!("expected a replay"),
        }
        // The ring holds 12..=14 only: resuming after 10 must give a snapshot.
        let (_, start, _) = live.subscribe(Some(10), &[]);
        assert!(matches!(start, Start::Snapshot { seq: 14, .. }));
        // Up to date: an empty replay.
        let (_, start, _) = live.subscribe(Some(14), &[]);
        assert!(matches!(start, Start::Replay(ref e) if e.is_empty()));
        // From the future (another database): a snapshot.
        let (_, start, _) = live.subscribe(Some(99), &[]);
        assert!(matches!(start, Start::Snapshot { .. }));
    }

    #[test]
    fn snapshot_and_events_are_filtered_by_group() {
        let live = Live::new(vec![fixtures::action()], 0, 16, 16);
        let (_, start, _) = live.subscribe(None, &["dba".into()]);
        assert!(matches!(start, Start::Snapshot { ref actions, .. } if actions.is_empty()));
        let (_, start, _) = live.subscribe(None, &["sre".into()]);
        assert!(matches!(start, Start::Snapshot { ref actions, .. } if actions.len() == 1));
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
}
