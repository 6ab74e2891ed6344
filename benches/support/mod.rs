//! Shared set-up for the end-to-end bench binaries: figures ([`Stats`], the machine
//! line), a real broker on its own runtime ([`broker`]), the console driven as its
//! runtime drives it but drawing to a `TestBackend` ([`console`]), and the release binary
//! in a pty ([`pty`]).
//!
//! Each bench uses part of this, so unused items in one bench are expected.
#![allow(dead_code)]

pub mod broker;
pub mod console;
pub mod pty;

use std::time::Duration;

/// Latency samples of one figure.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    samples: Vec<Duration>,
}

impl Stats {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Duration) {
        self.samples.push(d);
    }

    pub fn extend(&mut self, more: impl IntoIterator<Item = Duration>) {
        self.samples.extend(more);
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The `p` quantile (0.0–1.0), nearest rank. Zero when there are no samples.
    pub fn pct(&mut self, p: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        self.samples.sort_unstable();
        let i = ((self.samples.len() as f64 - 1.0) * p).round() as usize;
        self.samples[i]
    }

    /// One markdown table row: name, samples, p50, p99, max (ms), goal.
    pub fn row(&mut self, name: &str, goal: &str) -> String {
        format!(
            "| {name:<46} | {:>7} | {:>8.3} | {:>8.3} | {:>8.3} | {goal:<12} |",
            self.len(),
            ms(self.pct(0.50)),
            ms(self.pct(0.99)),
            ms(self.pct(1.0)),
        )
    }
}

/// The header matching [`Stats::row`].
pub fn header(title: &str) -> String {
    format!(
        "| {title:<46} | samples | p50 ms   | p99 ms   | max ms   | goal         |\n\
         |{:-<48}|---------|----------|----------|----------|--------------|",
        ""
    )
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `2 cores (nproc), Intel(R) Xeon(R) Processor` — printed by every bench.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| format!(", {:.0} GB RAM", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("machine: {cores} cores (nproc), {cpu}{mem}")
}

/// CPU time this thread has used: unlike wall time, it does not grow while the thread
/// waits for a core, so it separates our cost from a loaded machine's scheduling.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A count from the environment (`SAMPLES=200 cargo bench ...`), for quick runs.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A two-thread tokio runtime for a bench's own side (clients, agent, console), apart from
/// the broker's runtime, as separate processes would be.
pub fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("runtime")
}
