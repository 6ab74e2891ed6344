//! Signals that end the console from outside: the terminal closing (SIGHUP), `kill`
//! (SIGTERM), or an interrupt that was not typed at the keyboard (SIGINT; a typed Ctrl-C
//! arrives as a key in raw mode). Their default action kills the process on the spot;
//! handling them lets the terminal guard and every `Drop` run, so the terminal is
//! restored and `signoff demo` removes its temporary directory.

use std::io;

use tokio::signal::unix::{Signal, SignalKind, signal};

pub struct StopSignals {
    hup: Signal,
    term: Signal,
    int: Signal,
}

impl StopSignals {
    /// Installs the handlers; from now on these signals no longer kill the process.
    pub fn install() -> io::Result<Self> {
        Ok(Self {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The name of the next stop signal.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.hup.recv() => "SIGHUP",
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
