//! Per-sink delivery counters for `/metrics` and `/healthz?details`.
//!
//! A sink is `ok`, `failing` (its last attempt failed) or `dead` (it failed
//! [`DEAD_AFTER`] times in a row, or gave messages up). Never fatal: `/healthz` stays
//! `ok`; the details say which sink to look at.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use serde_json::{Value, json};

/// Consecutive failures after which a sink counts as dead.
pub const DEAD_AFTER: u64 = 5;

#[derive(Debug, Default, Clone)]
struct SinkHealth {
    kind: String,
    sent: u64,
    failed: u64,
    consecutive: u64,
    given_up: u64,
    lag_seconds: f64,
    last_error: Option<String>,
}

/// Shared between the delivery task and the HTTP handlers.
#[derive(Debug, Default)]
pub struct Health {
    sinks: Mutex<BTreeMap<String, SinkHealth>>,
}

impl Health {
    /// Registers a sink, so it shows (with zeros) before its first message.
    pub fn add(&self, name: &str, kind: &str) {
        if let Ok(mut m) = self.sinks.lock() {
            m.entry(name.to_string()).or_default().kind = kind.to_string();
        }
    }

    fn with(&self, name: &str, f: impl FnOnce(&mut SinkHealth)) {
        if let Ok(mut m) = self.sinks.lock() {
            f(m.entry(name.to_string()).or_default());
        }
    }

    pub fn sent(&self, name: &str) {
        self.with(name, |h| {
            h.sent += 1;
            h.consecutive = 0;
        });
    }

    /// A failed attempt; `error` must hold no secret (no URL, no token).
    pub fn failed(&self, name: &str, error: &str) {
        self.with(name, |h| {
            h.failed += 1;
            h.consecutive += 1;
            h.last_error = Some(error.to_string());
        });
    }

    /// From the outbox: the oldest due message's age, and how many were given up.
    pub fn backlog(&self, name: &str, lag_seconds: f64, given_up: u64) {
        self.with(name, |h| {
            h.lag_seconds = lag_seconds;
            h.given_up = given_up;
        });
    }

    /// Sinks not in the latest backlog have none.
    pub fn clear_backlog_except(&self, names: &[String]) {
        if let Ok(mut m) = self.sinks.lock() {
            for (k, h) in m.iter_mut() {
                if !names.contains(k) {
                    h.lag_seconds = 0.0;
                    h.given_up = 0;
                }
            }
        }
    }

    fn state(h: &SinkHealth) -> &'static str {
        if h.consecutive >= DEAD_AFTER || h.given_up > 0 {
            "dead"
        } else if h.consecutive > 0 {
            "failing"
        } else {
            "ok"
        }
    }

    /// `{"sink": {"kind", "state", "sent", "failed", "consecutive_failures", "given_up",
    /// "lag_seconds", "last_error"}}`.
    pub fn details(&self) -> Value {
        let m = self.sinks.lock().map(|m| m.clone()).unwrap_or_default();
        let mut out = serde_json::Map::new();
        for (name, h) in m {
            out.insert(
                name,
                json!({
                    "kind": h.kind,
                    "state": Self::state(&h),
                    "sent": h.sent,
                    "failed": h.failed,
                    "consecutive_failures": h.consecutive,
                    "given_up": h.given_up,
                    "lag_seconds": h.lag_seconds,
                    "last_error": h.last_error,
                }),
            );
        }
        Value::Object(out)
    }

    /// The Prometheus lines for every sink.
    pub fn render(&self) -> String {
        let m = self.sinks.lock().map(|m| m.clone()).unwrap_or_default();
        let mut s = String::new();
        if m.is_empty() {
            return s;
        }
        let mut family = |name: &str, kind: &str, help: &str, v: &dyn Fn(&SinkHealth) -> String| {
            let _ = writeln!(s, "# HELP {name} {help}");
            let _ = writeln!(s, "# TYPE {name} {kind}");
            for (sink, h) in &m {
                let _ = writeln!(s, "{name}{{sink=\"{sink}\"}} {}", v(h));
            }
        };
        family(
            "signoff_notify_sent_total",
            "counter",
            "Notifications delivered, by sink.",
            &|h| h.sent.to_string(),
        );
        family(
            "signoff_notify_failed_total",
            "counter",
            "Failed delivery attempts, by sink.",
            &|h| h.failed.to_string(),
        );
        family(
            "signoff_notify_lag_seconds",
            "gauge",
            "Age of the oldest due undelivered notification, by sink.",
            &|h| format!("{}", h.lag_seconds),
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_sink_turns_dead_and_recovers() {
        let h = Health::default();
        h.add("chat", "slack");
        h.sent("chat");
        for _ in 0..DEAD_AFTER {
            h.failed("chat", "HTTP 500");
        }
        let d = h.details();
        assert_eq!(d["chat"]["state"], "dead");
        assert_eq!(d["chat"]["last_error"], "HTTP 500");
        let text = h.render();
        assert!(
            text.contains("signoff_notify_sent_total{sink=\"chat\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("signoff_notify_failed_total{sink=\"chat\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("signoff_notify_lag_seconds{sink=\"chat\"} 0\n"),
            "{text}"
        );
        h.sent("chat");
        assert_eq!(h.details()["chat"]["state"], "ok");
    }
}
