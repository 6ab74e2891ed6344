//! Termination signals, as futures: Ctrl-C (SIGINT) or SIGTERM while waiting withdraws the
//! request; while the gated command runs they are forwarded to it.

use std::io;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// The signals `request --wait` and `gate` react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    Int,
    Term,
}

impl Interrupt {
    /// The signal number, for forwarding and for the 128+N exit code convention.
    pub fn number(self) -> i32 {
        match self {
            Interrupt::Int => libc::SIGINT,
            Interrupt::Term => libc::SIGTERM,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Interrupt::Int => "SIGINT",
            Interrupt::Term => "SIGTERM",
        }
    }
}

/// Listens for SIGINT and SIGTERM. Creating it replaces the default "die now" action, so
/// it must exist before the first moment an interrupt should be handled.
pub struct Interrupts {
    int: Signal,
    term: Signal,
}

impl Interrupts {
    pub fn install() -> io::Result<Self> {
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// The next interrupt.
    pub async fn recv(&mut self) -> Interrupt {
        tokio::select! {
            _ = self.int.recv() => Interrupt::Int,
            _ = self.term.recv() => Interrupt::Term,
        }
    }
}

/// True when a terminal's Ctrl-C reached our whole foreground process group, so a child in
/// that group already got the same SIGINT and must not get a second one (a second Ctrl-C
/// makes tools like terraform abort without cleaning up).
pub fn sigint_came_from_terminal() -> bool {
    // SAFETY: isatty, tcgetpgrp and getpgrp only read process and terminal state.
    unsafe { libc::isatty(0) == 1 && libc::tcgetpgrp(0) == libc::getpgrp() }
}

/// Sends `sig` to process `pid`.
pub fn send(pid: u32, sig: i32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
    // SAFETY: kill has no memory-safety preconditions; a stale pid yields ESRCH.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_platform() {
        assert_eq!(Interrupt::Int.number(), 2);
        assert_eq!(Interrupt::Term.number(), 15);
    }

    #[tokio::test]
    async fn a_signal_to_ourselves_is_received_not_fatal() {
        let mut ints = Interrupts::install().unwrap();
        send(std::process::id(), libc::SIGTERM).unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), ints.recv()).await;
        assert_eq!(got, Ok(Interrupt::Term));
    }
}
