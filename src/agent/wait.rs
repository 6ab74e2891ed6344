//! Waiting for an action's outcome: long polls in a loop until the action is final, the
//! caller's timeout ends, or the broker stays unreachable past the deadline.
//!
//! A connection error is never an outcome: the loop retries with capped, jittered backoff,
//! and if the deadline passes while the broker is unreachable the result says so, so the
//! caller exits 1 and runs nothing.

use std::time::{Duration, Instant};

use super::client::{AgentClient, ClientError, MAX_WAIT_SECS};
use crate::protocol::api::ActionView;
use crate::protocol::{ActionId, Timestamp};

/// How long past the action's expiry to keep asking when no timeout was given; the broker
/// should have marked it expired long before.
const EXPIRY_GRACE: Duration = Duration::from_secs(60);
/// A pending answer faster than this means the broker did not hold the poll; pace the loop.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How waiting ended.
#[derive(Debug)]
pub enum WaitEnd {
    /// The action is no longer pending.
    Final(ActionView),
    /// The deadline passed with the action still pending.
    TimedOut(ActionView),
    /// The broker refused, or stayed unreachable until the deadline; the outcome is unknown.
    Failed {
        error: ClientError,
        last: Option<ActionView>,
    },
}

/// Something worth telling the person watching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitEvent {
    /// The action changed while pending (a vote arrived).
    Changed(Box<ActionView>),
    /// A call failed transiently; the next try is after `delay`.
    Retrying {
        error: String,
        attempt: u32,
        delay: Duration,
    },
    /// The broker answered again after failures.
    Reconnected,
}

/// When to stop: `timeout` from now, or else a little past the action's expiry.
pub fn deadline(now: Instant, timeout: Option<Duration>, expires_in: Duration) -> Instant {
    now + timeout.unwrap_or(expires_in + EXPIRY_GRACE)
}

/// The `wait` to ask for with `remaining` time left: whole seconds, rounded up, at most 300.
pub fn poll_wait_secs(remaining: Duration) -> u64 {
    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    secs.clamp(1, MAX_WAIT_SECS)
}

/// Backoff before retry `attempt` (1-based): 0.5 s doubling to 15 s, plus up to 25 % jitter
/// so that many agents do not reconnect in step after a broker restart.
pub fn backoff(attempt: u32, jitter_unit: f64) -> Duration {
    let base = 500u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(10));
    let capped = base.min(15_000) as f64;
    Duration::from_millis((capped * (1.0 + 0.25 * jitter_unit.clamp(0.0, 1.0))) as u64)
}

fn jitter() -> f64 {
    let mut b = [0u8; 2];
    match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX),
        Err(_) => 0.5,
    }
}

/// Long-polls `id` until it is final or `deadline` passes. Cancel-safe: dropping the future
/// (for Ctrl-C) abandons only an idempotent GET.
pub async fn wait_for_outcome(
    client: &AgentClient,
    id: ActionId,
    deadline: Instant,
    on_event: &mut (dyn FnMut(&WaitEvent) + Send),
) -> WaitEnd {
    let mut last: Option<ActionView> = None;
    let mut failures = 0u32;
    loop {
        let now = Instant::now();
        let remaining = deadline.saturating_duration_since(now);
        let wait = if remaining.is_zero() {
            0
        } else {
            poll_wait_secs(remaining)
        };
        match client.get(id, wait).await {
            Ok(view) => {
                if failures > 0 {
                    on_event(&WaitEvent::Reconnected);
                    failures = 0;
                }
                if view.action.status.is_final() {
                    return WaitEnd::Final(view);
                }
                if last
                    .as_ref()
                    .is_some_and(|l| l.action.votes != view.action.votes)
                    || (last.is_none() && !view.action.votes.is_empty())
                {
                    on_event(&WaitEvent::Changed(Box::new(view.clone())));
                }
                if Instant::now() >= deadline {
                    return WaitEnd::TimedOut(view);
                }
                last = Some(view);
                let spent = now.elapsed();
                if spent < MIN_POLL_INTERVAL {
                    let pause = (MIN_POLL_INTERVAL - spent)
                        .min(deadline.saturating_duration_since(Instant::now()));
                    tokio::time::sleep(pause).await;
                }
            }
            Err(error) if error.is_transient() && Instant::now() < deadline => {
                failures += 1;
                let delay = backoff(failures, jitter())
                    .min(deadline.saturating_duration_since(Instant::now()));
                on_event(&WaitEvent::Retrying {
                    error: error.to_string(),
                    attempt: failures,
                    delay,
                });
                tokio::time::sleep(delay).await;
            }
            Err(error) => return WaitEnd::Failed { error, last },
        }
    }
}

/// Seconds from `now` until `expires_at`, never negative.
pub fn expires_in(now: Timestamp, expires_at: Timestamp) -> Duration {
    Duration::from_millis(now.millis_until(expires_at).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_wait_rounds_up_and_caps() {
        assert_eq!(poll_wait_secs(Duration::from_millis(300)), 1);
        assert_eq!(poll_wait_secs(Duration::from_millis(2001)), 3);
        assert_eq!(poll_wait_secs(Duration::from_secs(90)), 90);
        assert_eq!(poll_wait_secs(Duration::from_secs(3600)), 300);
    }

    #[test]
    fn backoff_doubles_to_a_cap_with_bounded_jitter() {
        assert_eq!(backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(2, 0.0), Duration::from_millis(1000));
        assert_eq!(backoff(6, 0.0), Duration::from_millis(15_000));
        assert_eq!(backoff(60, 0.0), Duration::from_millis(15_000));
        assert_eq!(backoff(1, 1.0), Duration::from_millis(625));
        assert_eq!(backoff(6, 7.0), Duration::from_millis(18_750));
    }

    #[test]
    fn deadline_defaults_to_expiry_plus_grace() {
        let now = Instant::now();
        assert_eq!(
            deadline(now, Some(Duration::from_secs(5)), Duration::from_secs(900)),
            now + Duration::from_secs(5)
        );
        assert_eq!(
            deadline(now, None, Duration::from_secs(900)),
            now + Duration::from_secs(960)
        );
        let t = Timestamp::from_unix_millis(10_000);
        assert_eq!(
            expires_in(t, Timestamp::from_unix_millis(4_000)),
            Duration::ZERO
        );
        assert_eq!(expires_in(t, t.plus_secs(3)), Duration::from_secs(3));
    }

    #[tokio::test]
    async fn unreachable_broker_fails_at_the_deadline_without_an_outcome() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let client = AgentClient::new(&format!("http://127.0.0.1:{port}"), "t").unwrap();
        let mut retries = 0;
        let end = wait_for_outcome(
            &client,
            ActionId::new(),
            Instant::now() + Duration::from_millis(1200),
            &mut |e| {
                if matches!(e, WaitEvent::Retrying { .. }) {
                    retries += 1;
                }
            },
        )
        .await;
        assert!(matches!(end, WaitEnd::Failed { last: None, .. }), "{end:?}");
        assert!(retries >= 1);
    }
}
