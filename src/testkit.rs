//! The test kit's waiting: tests wait for a condition with a deadline, never for a
//! fixed time (the machine may be loaded). One helper for every polling loop.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a condition is checked again.
const EVERY: Duration = Duration::from_millis(20);

/// Checks `probe` until it gives a value and returns it, or `None` once `within` has
/// passed. A condition without a value is `|| cond().then_some(())`.
pub fn eventually<T>(within: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(EVERY);
    }
}

/// [`eventually`] for an async probe, sleeping on the runtime between checks.
pub async fn eventually_async<T, F>(within: Duration, mut probe: impl FnMut() -> F) -> Option<T>
where
    F: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return Some(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_the_first_value_or_none_after_the_deadline() {
        let mut n = 0;
        let got = eventually(Duration::from_secs(30), || {
            n += 1;
            (n == 3).then_some(n)
        });
        assert_eq!(got, Some(3));
        let started = Instant::now();
        assert_eq!(eventually(Duration::from_millis(50), || None::<()>), None);
        assert!(started.elapsed() >= Duration::from_millis(50));
    }

    #[tokio::test]
    async fn the_async_probe_is_awaited_each_time() {
        let mut n = 0;
        let got = eventually_async(Duration::from_secs(30), || {
            n += 1;
            let v = n;
            async move { (v == 2).then_some(v) }
        })
        .await;
        assert_eq!(got, Some(2));
    }
}
