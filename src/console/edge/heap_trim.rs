//! Hands freed heap back to the OS after a snapshot or a large batch of arrivals.
//!
//! Why: glibc keeps the pages of the snapshot's JSON text and decoded actions after they
//! are freed, so a console that loaded 10,000 actions stayed at its peak resident size.
//! `malloc_trim(0)` returns them; it walks the heap, so it runs once per snapshot or per
//! [`BATCH`] arrivals, never per frame or key.

use crate::client::FeedEvent;
use crate::protocol::ServerMsg;

use crate::console::core::msg::Msg;

/// Arrivals (new or updated actions) after which the heap is trimmed again.
pub const BATCH: u32 = 1_000;

/// Decides, message by message, when trimming is worth it.
#[derive(Debug, Default)]
pub struct TrimPolicy {
    arrivals: u32,
}

impl TrimPolicy {
    /// Notes a message about to be applied; true when the heap should be trimmed once it
    /// has been (a snapshot, or the [`BATCH`]th arrival since the last trim).
    pub fn after(&mut self, msg: &Msg) -> bool {
        let Msg::Feed(FeedEvent::Server(m)) = msg else {
            return false;
        };
        match **m {
            ServerMsg::Snapshot { .. } => {
                self.arrivals = 0;
                true
            }
            ServerMsg::Pending { .. } | ServerMsg::Updated { .. } => {
                self.arrivals += 1;
                if self.arrivals >= BATCH {
                    self.arrivals = 0;
                    true
                } else {
                    false
                }
            }
            _ => false,
        }
    }
}

/// Returns freed heap pages to the OS (glibc only; other allocators do it themselves or
/// not at all, and have no such call).
pub fn trim() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes no pointers and only releases memory that is free.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::fixtures::{action, server};
    use crate::protocol::RiskLevel;

    fn pending(n: u8) -> Msg {
        server(ServerMsg::Pending {
            seq: u64::from(n),
            action: action(n, "k8s.scale", "api", "dev", RiskLevel::Low),
        })
    }

    #[test]
    fn trims_after_a_snapshot_and_every_batch_of_arrivals_only() {
        let mut p = TrimPolicy::default();
        assert!(p.after(&server(ServerMsg::Snapshot {
            seq: 1,
            actions: vec![]
        })));
        assert!(!p.after(&Msg::Feed(FeedEvent::Connected)));
        let trims = (0..2 * BATCH + 5)
            .filter(|i| p.after(&pending((i % 200) as u8)))
            .count();
        assert_eq!(trims, 2);
        // A snapshot restarts the count.
        assert!(p.after(&server(ServerMsg::Snapshot {
            seq: 2,
            actions: vec![]
        })));
        assert!((1..BATCH).all(|i| !p.after(&pending((i % 200) as u8))));
        trim(); // callable at any time
    }
}
