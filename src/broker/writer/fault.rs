//! Fault injection for crash tests, compiled into debug builds only.
//!
//! `SIGNOFF_TEST_FAULT=after-commit:create:N` makes the broker abort (no unwinding, no
//! flushing, like SIGKILL) right after the batch holding its Nth new action since start
//! is durable, before any event is published or any caller answered: the crash the
//! `Idempotency-Key` exists for. `panic-commit:create:N` makes the commit thread panic
//! instead of committing that batch, while the process lives on: the broker must then
//! say so on `/healthz`. Release builds ignore the variable entirely.
#![cfg_attr(not(debug_assertions), allow(dead_code))]

/// The environment variable read in debug builds.
pub const VAR: &str = "SIGNOFF_TEST_FAULT";

/// Where to fail, parsed from [`VAR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Abort once the Nth created action (counted from 1 since start) is committed.
    AfterCommitCreate(u64),
    /// Panic in the commit thread instead of committing the batch holding the Nth
    /// created action.
    PanicCommitCreate(u64),
}

/// Parses a fault spec; `None` for anything else (which is then reported and ignored).
pub fn parse(spec: &str) -> Option<Fault> {
    let spec = spec.trim();
    let (make, n): (fn(u64) -> Fault, _) =
        if let Some(n) = spec.strip_prefix("after-commit:create:") {
            (Fault::AfterCommitCreate, n)
        } else {
            (
                Fault::PanicCommitCreate,
                spec.strip_prefix("panic-commit:create:")?,
            )
        };
    n.parse::<u64>().ok().filter(|n| *n > 0).map(make)
}

/// The fault asked for, read once.
#[cfg(debug_assertions)]
fn fault() -> Option<Fault> {
    use std::sync::OnceLock;
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    *FAULT.get_or_init(|| {
        let spec = std::env::var(VAR).ok()?;
        let f = parse(&spec);
        if f.is_none() {
            tracing::error!(
                spec = %spec,
                "{VAR} not understood; expected after-commit:create:N or panic-commit:create:N"
            );
        }
        f
    })
}

/// Adds `created` to `count`; true when the Nth action is among them.
#[cfg(debug_assertions)]
fn reaches(count: &std::sync::atomic::AtomicU64, created: u64, n: u64) -> bool {
    let before = count.fetch_add(created, std::sync::atomic::Ordering::SeqCst);
    created > 0 && before < n && n <= before + created
}

/// Called by the committer after each durable batch with the number of actions it created.
#[cfg(debug_assertions)]
pub(super) fn after_commit(created: u64) {
    static CREATED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if let Some(Fault::AfterCommitCreate(n)) = fault()
        && reaches(&CREATED, created, n)
    {
        eprintln!("signoff broker: {VAR}: aborting after committing create {n}");
        std::process::abort();
    }
}

/// Called by the committer before it commits a batch that creates `created` actions.
#[cfg(debug_assertions)]
pub(super) fn before_commit(created: u64) {
    static STAGED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if let Some(Fault::PanicCommitCreate(n)) = fault()
        && reaches(&STAGED, created, n)
    {
        panic!("{VAR}: the commit thread panics instead of committing create {n}");
    }
}

#[cfg(not(debug_assertions))]
pub(super) fn before_commit(_created: u64) {}

#[cfg(not(debug_assertions))]
pub(super) fn after_commit(_created: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse_strictly() {
        assert_eq!(
            parse("after-commit:create:3"),
            Some(Fault::AfterCommitCreate(3))
        );
        assert_eq!(
            parse("panic-commit:create:1"),
            Some(Fault::PanicCommitCreate(1))
        );
        for bad in [
            "",
            "after-commit:create:0",
            "after-commit:create:x",
            "panic-commit:create:",
            "before:create:1",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
