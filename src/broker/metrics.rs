//! Prometheus metrics, hand-written: a few atomics and one histogram.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::protocol::{ErrorCode, Status};

/// Upper bounds of the decision latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default)]
pub struct Metrics {
    decisions: [AtomicU64; 4],
    pub actions_created: AtomicU64,
    pub feed_subscribers: AtomicI64,
    pub slow_consumers: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
    pub commits: AtomicU64,
    pub committed_ops: AtomicU64,
    /// The writer thread or its commit thread has ended (a panic, or the broker
    /// stopping): no write can succeed, so `/healthz` fails.
    pub writer_down: AtomicBool,
}

fn outcome_index(s: Status) -> Option<usize> {
    match s {
        Status::Approved => Some(0),
        Status::Denied => Some(1),
        Status::Expired => Some(2),
        Status::Withdrawn => Some(3),
        Status::Pending => None,
    }
}

const OUTCOMES: [&str; 4] = ["approved", "denied", "expired", "withdrawn"];

impl Metrics {
    /// An action reached a final status.
    pub fn outcome(&self, s: Status) {
        if let Some(i) = outcome_index(s) {
            self.decisions[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A decision was acked, `elapsed` after it was received.
    pub fn decision_latency(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn rejection(&self, code: ErrorCode) {
        if let Ok(mut m) = self.rejections.lock() {
            *m.entry(code.as_str()).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, pending: usize) -> String {
        let mut s = String::new();
        let g = |v: &AtomicU64| v.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "# HELP signoff_pending_actions Actions waiting for a decision."
        );
        let _ = writeln!(s, "# TYPE signoff_pending_actions gauge");
        let _ = writeln!(s, "signoff_pending_actions {pending}");
        let _ = writeln!(s, "# HELP signoff_actions_created_total Actions submitted.");
        let _ = writeln!(s, "# TYPE signoff_actions_created_total counter");
        let _ = writeln!(
            s,
            "signoff_actions_created_total {}",
            g(&self.actions_created)
        );
        let _ = writeln!(
            s,
            "# HELP signoff_decisions_total Actions resolved, by outcome."
        );
        let _ = writeln!(s, "# TYPE signoff_decisions_total counter");
        for (i, o) in OUTCOMES.iter().enumerate() {
            let _ = writeln!(
                s,
                "signoff_decisions_total{{outcome=\"{o}\"}} {}",
                g(&self.decisions[i])
            );
        }
        let _ = writeln!(
            s,
            "# HELP signoff_feed_subscribers Connected approver consoles."
        );
        let _ = writeln!(s, "# TYPE signoff_feed_subscribers gauge");
        let subs = self.feed_subscribers.load(Ordering::Relaxed);
        let _ = writeln!(s, "signoff_feed_subscribers {subs}");
        let _ = writeln!(
            s,
            "# HELP signoff_feed_slow_consumers_total Feeds closed for falling behind."
        );
        let _ = writeln!(s, "# TYPE signoff_feed_slow_consumers_total counter");
        let _ = writeln!(
            s,
            "signoff_feed_slow_consumers_total {}",
            g(&self.slow_consumers)
        );
        let _ = writeln!(
            s,
            "# HELP signoff_decision_latency_seconds From receiving a decision to its ack (durable)."
        );
        let _ = writeln!(s, "# TYPE signoff_decision_latency_seconds histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "signoff_decision_latency_seconds_bucket{{le=\"{b}\"}} {}",
                g(&self.latency_buckets[i])
            );
        }
        let count = g(&self.latency_count);
        let _ = writeln!(
            s,
            "signoff_decision_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = g(&self.latency_sum_micros) as f64 / 1e6;
        let _ = writeln!(s, "signoff_decision_latency_seconds_sum {sum}");
        let _ = writeln!(s, "signoff_decision_latency_seconds_count {count}");
        let _ = writeln!(
            s,
            "# HELP signoff_rejections_total Refused decisions, by error code."
        );
        let _ = writeln!(s, "# TYPE signoff_rejections_total counter");
        if let Ok(m) = self.rejections.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(s, "signoff_rejections_total{{code=\"{code}\"}} {n}");
            }
        }
        let _ = writeln!(
            s,
            "# HELP signoff_store_commits_total Store transactions (group commits)."
        );
        let _ = writeln!(s, "# TYPE signoff_store_commits_total counter");
        let _ = writeln!(s, "signoff_store_commits_total {}", g(&self.commits));
        let _ = writeln!(
            s,
            "# HELP signoff_store_committed_ops_total Operations committed."
        );
        let _ = writeln!(s, "# TYPE signoff_store_committed_ops_total counter");
        let _ = writeln!(
            s,
            "signoff_store_committed_ops_total {}",
            g(&self.committed_ops)
        );
        let _ = writeln!(
            s,
            "# HELP signoff_writer_up 1 while the writer and its commit thread run; 0 once either ended."
        );
        let _ = writeln!(s, "# TYPE signoff_writer_up gauge");
        let up = !self.writer_down.load(Ordering::SeqCst);
        let _ = writeln!(s, "signoff_writer_up {}", u8::from(up));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_outcomes_are_labelled() {
        let m = Metrics::default();
        m.decision_latency(Duration::from_micros(700));
        m.decision_latency(Duration::from_millis(30));
        m.outcome(Status::Denied);
        m.rejection(ErrorCode::SelfApproval);
        let text = m.render(3);
        assert!(text.contains("signoff_pending_actions 3\n"));
        assert!(text.contains("signoff_decision_latency_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("signoff_decision_latency_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("signoff_decision_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("signoff_decisions_total{outcome=\"denied\"} 1\n"));
        assert!(text.contains("signoff_rejections_total{code=\"self_approval\"} 1\n"));
    }
}
