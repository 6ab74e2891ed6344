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

/// At most this many large diffs are compared at once. A comparison of two documents
/// cannot be interrupted (only its deadline stops it), so an approver paging through
/// big actions would otherwise leave one busy thread per action behind; with the gate,
/// a job cancelled while it waits for its turn never starts.
pub const MAX_RUNNING: usize = 2;

/// A counting gate for diff threads.
pub struct Gate {
    running: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
    limit: usize,
    /// Comparisons ever started through this gate (for tests and metrics).
    pub started: AtomicUsize,
    /// Jobs cancelled while waiting for their turn.
    pub gave_up: AtomicUsize,
}

impl Gate {
    pub const fn new(limit: usize) -> Self {
        Self {
            running: std::sync::Mutex::new(0),
            freed: std::sync::Condvar::new(),
            limit,
            started: AtomicUsize::new(0),
            gave_up: AtomicUsize::new(0),
        }
    }

    /// Waits for a turn; `None` when `cancelled` says so first.
    fn enter(&self, cancelled: impl Fn() -> bool) -> Option<Turn<'_>> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if cancelled() {
                self.gave_up.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            if *running < self.limit {
                *running += 1;
                self.started.fetch_add(1, Ordering::Relaxed);
                return Some(Turn(self));
            }
            running = self
                .freed
                .wait_timeout(running, Duration::from_millis(20))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

/// A running comparison's place at the gate, given back on drop.
struct Turn<'a>(&'a Gate);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|p| p.into_inner());
        *running = running.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

/// The console's gate.
static GATE: Gate = Gate::new(MAX_RUNNING);

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
        Self::start_at(change, &GATE)
    }

    /// [`DiffJob::start`] through a given gate.
    pub fn start_at(change: &Change, gate: &'static Gate) -> Self {
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
                let Some(turn) = gate.enter(|| worker.cancel.load(Ordering::Relaxed)) else {
                    return;
                };
                // The budget starts with the turn: waiting is not comparing.
                let outcome = compute(&owned, &worker, Some(Instant::now() + TIME_BUDGET));
                drop(turn);
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

    /// Blocks until the job finished (the test kit only).
    #[cfg(any(test, feature = "testkit"))]
    pub fn wait(&self, limit: Duration) -> bool {
        crate::testkit::eventually(limit, || self.finished().then_some(())).is_some()
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

    /// Paging through twenty large actions starts at most [`MAX_RUNNING`] comparisons:
    /// the jobs dropped while waiting for their turn never start, and every thread ends.
    #[test]
    fn cancelled_jobs_waiting_for_a_turn_never_start() {
        static TEST_GATE: Gate = Gate::new(MAX_RUNNING);
        let c = Change::BeforeAfter {
            path: None,
            before: random_text(5, 1 << 20),
            after: random_text(6, 1 << 20),
        };
        // Two comparisons are running (held here), so every job has to wait its turn.
        let held: Vec<Turn<'_>> = (0..MAX_RUNNING)
            .map(|_| TEST_GATE.enter(|| false).unwrap())
            .collect();
        for _ in 0..20 {
            drop(DiffJob::start_at(&c, &TEST_GATE));
        }
        drop(held);
        let gave_up = crate::testkit::eventually(Duration::from_secs(60), || {
            (TEST_GATE.gave_up.load(Ordering::Relaxed) >= 20).then_some(())
        });
        assert!(gave_up.is_some(), "jobs still waiting");
        assert_eq!(
            TEST_GATE.started.load(Ordering::Relaxed),
            MAX_RUNNING,
            "only the two held turns ever started"
        );
        assert_eq!(*TEST_GATE.running.lock().unwrap(), 0);
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
        crate::testkit::eventually(Duration::from_secs(120), || {
            (Arc::strong_count(&shared) == 1).then_some(())
        });
        assert_eq!(
            Arc::strong_count(&shared),
            1,
            "the worker still holds the job"
        );
        assert!(shared.outcome.get().is_none());
    }
}
