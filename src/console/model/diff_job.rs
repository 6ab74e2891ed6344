//! Diffs computed off the event loop: a before/after pair or a large unified diff is
//! compared and parsed on its own thread within a time and memory budget, while the
//! pane shows progress; past the budget the pane falls back to a plain side-by-side
//! view and says so. Dropping the job (the action left the selection or the queue)
//! cancels it, and the thread exits and frees what it built.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::diff::{Budget, DiffModel, Stopped};
use crate::protocol::Change;

/// Changes up to this many bytes are parsed inline (well under a millisecond per KiB).
pub const INLINE_BYTES: usize = 64 * 1024;
/// Time one diff may take before the pane falls back to side by side.
pub const TIME_BUDGET: Duration = Duration::from_millis(1500);
/// Heap one parsed diff may hold before the pane falls back to side by side.
pub const MEMORY_BUDGET: usize = 48 * 1024 * 1024;

/// Wakes the console's event loop when a job makes progress or finishes.
pub static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// What the diff pane can show for an action's change right now.
pub enum DiffState<'a> {
    /// Being computed: `done` of `total` lines parsed (0 of 0 while comparing).
    Computing {
        done: usize,
        total: usize,
    },
    Ready(&'a DiffModel),
    /// Past the budget: the raw sides, for a plain side-by-side view.
    Fallback {
        why: &'static str,
        change: &'a Change,
        /// Rows of the side-by-side view and columns of its widest line.
        rows: usize,
        widest: usize,
    },
}

enum Outcome {
    Ready(DiffModel),
    Fallback {
        why: &'static str,
        rows: usize,
        widest: usize,
    },
}

/// The plain view's rows and widest line (visible form), for scrolling and the title.
fn fallback(change: &Change, why: &'static str) -> Outcome {
    let sides: Vec<&str> = match change {
        Change::UnifiedDiff { diff } => vec![diff],
        Change::BeforeAfter { before, after, .. } => vec![before, after],
    };
    let rows = sides
        .iter()
        .map(|s| s.split('\n').count())
        .max()
        .unwrap_or(0);
    let widest = sides
        .iter()
        .flat_map(|s| s.split('\n'))
        .map(|l| {
            if l.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                l.len()
            } else {
                unicode_width::UnicodeWidthStr::width(crate::text::visible_string(l).as_str())
            }
        })
        .max()
        .unwrap_or(0);
    Outcome::Fallback { why, rows, widest }
}

struct Shared {
    done: AtomicUsize,
    total: AtomicUsize,
    cancel: AtomicBool,
    outcome: OnceLock<Outcome>,
}

/// One action's diff: computed inline when small, on a thread otherwise.
pub struct DiffJob {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for DiffJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiffJob")
            .field("finished", &self.finished())
            .finish()
    }
}

impl Drop for DiffJob {
    fn drop(&mut self) {
        self.shared.cancel.store(true, Ordering::Relaxed);
    }
}

fn size(change: &Change) -> usize {
    match change {
        Change::UnifiedDiff { diff } => diff.len(),
        Change::BeforeAfter { before, after, .. } => before.len() + after.len(),
    }
}

fn why(stopped: &Stopped) -> &'static str {
    match stopped {
        Stopped::Time => "comparing took longer than its time budget",
        Stopped::Memory => "the comparison outgrew its memory budget",
        Stopped::Cancelled => "cancelled",
    }
}

fn compute(change: &Change, shared: &Shared, deadline: Option<Instant>) -> Outcome {
    let progress = |done: usize, total: usize| {
        let before = shared.done.swap(done, Ordering::Relaxed);
        shared.total.store(total, Ordering::Relaxed);
        if done / 4096 != before / 4096 || done == total {
            WAKE.notify_one();
        }
    };
    let cancelled = || shared.cancel.load(Ordering::Relaxed);
    let mut budget = Budget {
        deadline,
        max_bytes: MEMORY_BUDGET,
        used_bytes: 0,
        progress: &progress,
        cancelled: &cancelled,
    };
    match DiffModel::of_change_within(change, &mut budget) {
        Ok(m) => Outcome::Ready(m),
        Err(Stopped::Cancelled) => Outcome::Fallback {
            why: why(&Stopped::Cancelled),
            rows: 0,
            widest: 0,
        },
        Err(s) => fallback(change, why(&s)),
    }
}

impl DiffJob {
    /// Starts the diff of `change`: inline when small, otherwise on a thread that
    /// wakes [`WAKE`] as it goes.
    pub fn start(change: &Change) -> Self {
        let shared = Arc::new(Shared {
            done: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
            cancel: AtomicBool::new(false),
            outcome: OnceLock::new(),
        });
        if size(change) <= INLINE_BYTES {
            let _ = shared.outcome.set(compute(change, &shared, None));
            return Self { shared };
        }
        let (owned, worker) = (change.clone(), shared.clone());
        let spawned = std::thread::Builder::new()
            .name("signoff-diff".into())
            .spawn(move || {
                let outcome = compute(&owned, &worker, Some(Instant::now() + TIME_BUDGET));
                drop(owned);
                if !worker.cancel.load(Ordering::Relaxed) {
                    let _ = worker.outcome.set(outcome);
                }
                WAKE.notify_one();
            });
        if spawned.is_err() {
            let _ = shared
                .outcome
                .set(fallback(change, "no thread to compare on"));
        }
        Self { shared }
    }

    /// True once the job has a result (ready or fallback).
    pub fn finished(&self) -> bool {
        self.shared.outcome.get().is_some()
    }

    /// Blocks until the job finished (tests and screenshots only).
    pub fn wait(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while !self.finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(2));
        }
        self.finished()
    }

    /// What the pane shows now; `change` is the action's own (for the fallback).
    pub fn state<'a>(&'a self, change: &'a Change) -> DiffState<'a> {
        match self.shared.outcome.get() {
            Some(Outcome::Ready(m)) => DiffState::Ready(m),
            Some(Outcome::Fallback { why, rows, widest }) => DiffState::Fallback {
                why,
                change,
                rows: *rows,
                widest: *widest,
            },
            None => DiffState::Computing {
                done: self.shared.done.load(Ordering::Relaxed),
                total: self.shared.total.load(Ordering::Relaxed),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random_text(seed: u64, bytes: usize) -> String {
        let mut x = seed;
        let mut s = String::with_capacity(bytes);
        while s.len() < bytes {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let c = (b'a' + (x % 26) as u8) as char;
            s.push(if x.is_multiple_of(17) { '\n' } else { c });
        }
        s
    }

    #[test]
    fn small_changes_are_ready_at_once() {
        let c = Change::UnifiedDiff {
            diff: "@@ -1 +1 @@\n-a\n+b\n".into(),
        };
        let job = DiffJob::start(&c);
        assert!(job.finished());
        assert!(matches!(job.state(&c), DiffState::Ready(m) if m.added == 1));
    }

    #[test]
    fn a_one_mebibyte_random_pair_never_blocks_the_caller() {
        let c = Change::BeforeAfter {
            path: None,
            before: random_text(1, 1 << 20),
            after: random_text(2, 1 << 20),
        };
        let started = Instant::now();
        let job = DiffJob::start(&c);
        let returned = started.elapsed();
        assert!(
            returned < Duration::from_millis(500),
            "start took {returned:?}"
        );
        assert!(matches!(job.state(&c), DiffState::Computing { .. }) || job.finished());
        assert!(job.wait(Duration::from_secs(120)), "never finished");
        match job.state(&c) {
            DiffState::Ready(m) => assert!(m.lines.len() > 1000),
            DiffState::Fallback { why, .. } => assert!(why.contains("budget"), "{why}"),
            DiffState::Computing { .. } => unreachable!("finished"),
        }
    }

    #[test]
    fn dropping_a_job_cancels_it() {
        let c = Change::BeforeAfter {
            path: None,
            before: random_text(3, 1 << 20),
            after: random_text(4, 1 << 20),
        };
        let job = DiffJob::start(&c);
        let shared = job.shared.clone();
        drop(job);
        assert!(shared.cancel.load(Ordering::Relaxed));
        // The thread sees the flag at its next check and exits without a result.
        let until = Instant::now() + Duration::from_secs(120);
        while Arc::strong_count(&shared) > 1 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            Arc::strong_count(&shared),
            1,
            "the worker still holds the job"
        );
        assert!(shared.outcome.get().is_none());
    }
}
