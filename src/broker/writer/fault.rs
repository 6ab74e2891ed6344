//! Fault injection for crash tests, compiled into debug builds only.
//!
//! `SIGNOFF_TEST_FAULT=after-commit:create:N` makes the broker abort (no unwinding, no
//! flushing, like SIGKILL) right after the batch holding its Nth new action since start
//! is durable, before any event is published or any caller answered: the crash the
//! `Idempotency-Key` exists for. Release builds ignore the variable entirely.
#![cfg_attr(not(debug_assertions), allow(dead_code))]

/// The environment variable read in debug builds.
pub const VAR: &str = "SIGNOFF_TEST_FAULT";

/// Where to fail, parsed from [`VAR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Abort once the Nth created action (counted from 1 since start) is committed.
    AfterCommitCreate(u64),
}

/// Parses a fault spec; `None` for anything else (which is then reported and ignored).
pub fn parse(spec: &str) -> Option<Fault> {
    let n = spec.trim().strip_prefix("after-commit:create:")?;
    n.parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .map(Fault::AfterCommitCreate)
}

/// Called by the committer after each durable batch with the number of actions it created.
#[cfg(debug_assertions)]
pub(super) fn after_commit(created: u64) {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    static CREATED: AtomicU64 = AtomicU64::new(0);
    let fault = FAULT.get_or_init(|| {
        let spec = std::env::var(VAR).ok()?;
        let f = parse(&spec);
        if f.is_none() {
            tracing::error!(spec = %spec, "{VAR} not understood; expected after-commit:create:N");
        }
        f
    });
    let Some(Fault::AfterCommitCreate(n)) = *fault else {
        return;
    };
    if created == 0 {
        return;
    }
    let before = CREATED.fetch_add(created, Ordering::SeqCst);
    if before < n && n <= before + created {
        eprintln!("signoff broker: {VAR}: aborting after committing create {n}");
        std::process::abort();
    }
}

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
        for bad in [
            "",
            "after-commit:create:0",
            "after-commit:create:x",
            "before:create:1",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
