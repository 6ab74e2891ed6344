//! Running the approved command: same standard streams, signals forwarded, and its exit
//! status turned into the code `gate` passes through and reports to the broker.

use std::process::ExitStatus;
use std::time::{Duration, Instant};

use super::duration::format_duration;
use super::signals::{Interrupt, Interrupts, send, sigint_came_from_terminal};

/// What happened when the command ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildOutcome {
    /// The exit code `gate` exits with: the command's own, 128+N when killed by signal N,
    /// 127 when the program was not found, 126 when it could not be executed.
    pub exit_code: i32,
    /// One line for the audit log, e.g. `exited with 0 after 3.2s`.
    pub detail: String,
}

/// The exit code and detail for a finished child.
pub fn describe_status(status: ExitStatus, took: Duration) -> ChildOutcome {
    use std::os::unix::process::ExitStatusExt as _;
    let took = format_duration(took);
    match (status.code(), status.signal()) {
        (Some(code), _) => ChildOutcome {
            exit_code: code,
            detail: format!("exited with {code} after {took}"),
        },
        (None, Some(sig)) => ChildOutcome {
            exit_code: 128 + sig,
            detail: format!("killed by signal {sig} after {took}"),
        },
        (None, None) => ChildOutcome {
            exit_code: 1,
            detail: format!("ended with unknown status after {took}"),
        },
    }
}

/// The exit code and detail when the program could not be started at all.
pub fn describe_spawn_error(program: &str, e: &std::io::Error) -> ChildOutcome {
    let exit_code = match e.kind() {
        std::io::ErrorKind::NotFound => 127,
        _ => 126,
    };
    ChildOutcome {
        exit_code,
        detail: format!("could not start {program:?}: {e}"),
    }
}

/// Runs `argv` with inherited stdio and `SIGNOFF_ACTION_ID` set, forwarding SIGINT and
/// SIGTERM to it until it exits. A terminal's Ctrl-C already reached the child (same
/// process group), so it is not sent twice.
pub async fn run_child(
    argv: &[String],
    action_id: &str,
    interrupts: &mut Interrupts,
) -> ChildOutcome {
    let Some((program, rest)) = argv.split_first() else {
        return ChildOutcome {
            exit_code: 127,
            detail: "no command given".into(),
        };
    };
    let started = Instant::now();
    let mut child = match tokio::process::Command::new(program)
        .args(rest)
        .env("SIGNOFF_ACTION_ID", action_id)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return describe_spawn_error(program, &e),
    };
    loop {
        tokio::select! {
            status = child.wait() => {
                return match status {
                    Ok(s) => describe_status(s, started.elapsed()),
                    Err(e) => ChildOutcome {
                        exit_code: 1,
                        detail: format!("lost track of {program:?}: {e}"),
                    },
                };
            }
            sig = interrupts.recv() => {
                if sig == Interrupt::Int && sigint_came_from_terminal() {
                    continue;
                }
                if let Some(pid) = child.id() {
                    // The child may have just exited; ESRCH is harmless.
                    let _ = send(pid, sig.number());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| (*a).to_string()).collect()
    }

    #[tokio::test]
    async fn passes_through_the_exit_code_and_sets_the_action_id() {
        let mut ints = Interrupts::install().unwrap();
        let out = run_child(
            &argv(&["sh", "-c", r#"test "$SIGNOFF_ACTION_ID" = 01ABC && exit 7"#]),
            "01ABC",
            &mut ints,
        )
        .await;
        assert_eq!(out.exit_code, 7);
        assert!(
            out.detail.starts_with("exited with 7 after"),
            "{}",
            out.detail
        );
    }

    #[tokio::test]
    async fn missing_program_is_127() {
        let mut ints = Interrupts::install().unwrap();
        let out = run_child(&argv(&["/nonexistent/signoff-test-prog"]), "x", &mut ints).await;
        assert_eq!(out.exit_code, 127);
        assert!(out.detail.contains("could not start"));
    }

    #[tokio::test]
    async fn killed_by_signal_is_128_plus_n() {
        let mut ints = Interrupts::install().unwrap();
        let out = run_child(&argv(&["sh", "-c", "kill -9 $$"]), "x", &mut ints).await;
        assert_eq!(out.exit_code, 137);
        assert!(out.detail.starts_with("killed by signal 9"));
    }
}
