//! Shared pieces of the broker benchmarks: percentiles, a broker on 127.0.0.1:0 with static
//! tokens, and the machine line printed beside the figures.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use signoff::auth::PrincipalKind;
use signoff::auth::hash_token;
use signoff::auth::static_tokens::{StaticToken, StaticTokens};
use signoff::broker::policy::Engine;
use signoff::broker::{RunningBroker, Settings, Tunables};

/// Latency samples of one measured query or step.
pub struct Stats {
    pub samples: Vec<Duration>,
}

impl Stats {
    pub fn new() -> Self {
        Self {
            samples: Vec::new(),
        }
    }

    pub fn push(&mut self, d: Duration) {
        self.samples.push(d);
    }

    pub fn pct(&mut self, p: f64) -> Duration {
        self.samples.sort();
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.samples.len() as f64 - 1.0) * p).round() as usize;
        self.samples[i]
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An approver or agent token for the benchmark broker.
pub fn token(secret: &str, kind: PrincipalKind, subject: &str, groups: &[&str]) -> StaticToken {
    StaticToken {
        token_sha256: format!("sha256:{}", hash_token(secret)),
        kind,
        subject: subject.into(),
        email: None,
        name: None,
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

/// A broker over the store in `dir`, on 127.0.0.1:0.
pub async fn start(dir: &Path, tokens: Vec<StaticToken>, tunables: Tunables) -> RunningBroker {
    let mut s = Settings::new(Arc::new(StaticTokens::new(tokens)), Engine::default(), dir);
    s.tunables = tunables;
    signoff::broker::spawn(s).await.expect("broker starts")
}

/// `nproc` and the CPU model, for the line above a table.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(String::from))
        .unwrap_or_default();
    format!("{cpus} CPUs, {model}, load average {load}")
}
