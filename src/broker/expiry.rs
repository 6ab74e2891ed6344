//! Expiry: resolves pending actions as `expired` when their time is up.
//!
//! Sleeps until the earliest deadline (or a new action arrives, which may be earlier),
//! then queues an `Expire` for each overdue action; the writer re-checks and records it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};

use super::live::Live;
use super::writer::Op;
use crate::protocol::Timestamp;

/// The longest sleep between scans, in case a wake-up is missed.
const MAX_SLEEP: Duration = Duration::from_secs(30);

pub async fn run(
    live: Arc<Live>,
    writer: mpsc::Sender<Op>,
    new_action: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let now = Timestamp::now();
        let mut next: Option<Timestamp> = None;
        for a in live.all_pending() {
            if a.is_expired_at(now) {
                if writer.send(Op::Expire { id: a.id }).await.is_err() {
                    return;
                }
            } else {
                next = Some(next.map_or(a.expires_at, |n| n.min(a.expires_at)));
            }
        }
        let sleep = next.map_or(MAX_SLEEP, |t| {
            Duration::from_millis(now.millis_until(t).max(1) as u64).min(MAX_SLEEP)
        });
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = new_action.notified() => {}
            _ = crate::broker::state::stopping(&mut shutdown) => return,
        }
    }
}
