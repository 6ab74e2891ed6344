//! Reconnect timing: exponential backoff with jitter, as a pure state machine.
//!
//! Many consoles reconnecting to a restarted broker at the same instant would hammer it;
//! jitter spreads them out, and the cap keeps a long outage from growing the wait past a
//! minute. The randomness is passed in, so the schedule is tested exactly.

use std::time::Duration;

/// Backoff settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// Delay before the first retry (before jitter).
    pub base: Duration,
    /// Largest delay (before jitter).
    pub max: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

/// Where the reconnect loop stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    config: BackoffConfig,
    /// Failed attempts since the last successful connection.
    attempt: u32,
}

impl Backoff {
    pub fn new(config: BackoffConfig) -> Self {
        Self { config, attempt: 0 }
    }

    /// Failed attempts since the last success.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// A connection attempt failed: returns the attempt number (1-based) and how long to
    /// wait before the next one. `jitter` in `[0, 1)` picks a point in the upper half of
    /// the window ("equal jitter"): `d/2 + jitter·d/2` where `d = min(max, base·2^(n-1))`.
    pub fn failed(&mut self, jitter: f64) -> (u32, Duration) {
        self.attempt = self.attempt.saturating_add(1);
        let exp = self.attempt.saturating_sub(1).min(20);
        let full = self
            .config
            .base
            .saturating_mul(1u32 << exp)
            .min(self.config.max);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let half = full / 2;
        (self.attempt, half + half.mul_f64(jitter))
    }

    /// A connection succeeded (the broker said welcome): start over.
    pub fn succeeded(&mut self) {
        self.attempt = 0;
    }
}

/// A jitter value in `[0, 1)` from the operating system's randomness.
pub fn random_jitter() -> f64 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_up_to_the_cap() {
        let mut b = Backoff::new(BackoffConfig {
            base: ms(1000),
            max: ms(8000),
        });
        let full: Vec<_> = (0..6).map(|_| b.failed(1.0).1).collect();
        assert_eq!(
            full,
            [ms(1000), ms(2000), ms(4000), ms(8000), ms(8000), ms(8000)]
        );
        assert_eq!(b.attempt(), 6);
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let mut b = Backoff::new(BackoffConfig {
            base: ms(1000),
            max: ms(60_000),
        });
        b.failed(0.0);
        b.failed(0.0);
        let (n, low) = b.failed(0.0);
        assert_eq!(n, 3);
        assert_eq!(low, ms(2000));
        let mut c = b.clone();
        assert_eq!(c.failed(0.5).1, ms(6000));
        assert_eq!(b.failed(f64::NAN).1, ms(4000));
    }

    #[test]
    fn success_resets() {
        let mut b = Backoff::new(BackoffConfig::default());
        b.failed(0.3);
        b.failed(0.3);
        b.succeeded();
        assert_eq!(b.attempt(), 0);
        assert_eq!(b.failed(1.0), (1, ms(500)));
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let mut b = Backoff::new(BackoffConfig::default());
        for _ in 0..100 {
            b.failed(1.0);
        }
        assert_eq!(b.failed(1.0).1, Duration::from_secs(30));
    }

    #[test]
    fn random_jitter_is_in_range() {
        for _ in 0..100 {
            let j = random_jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
