//! The agent side: `signoff request` and `signoff gate -- CMD` for pipelines, scripts and
//! AI agents. (The sample traffic `signoff demo` sends is the demo's, in `crate::demo`.)
//!
//! Everything an agent decides is a plain function (flags → request, status → exit code,
//! argv → what ran); the edges are the broker HTTP client, signals and the child process.
//! Messages for people go to standard error prefixed `signoff:`, so standard output stays
//! the gated command's, or the machine-readable id / JSON of `request`.

use std::process::ExitCode;

pub mod args;
pub mod build;
pub mod child;
pub mod client;
pub mod duration;
pub mod gate;
pub mod outcome;
pub mod request;
pub mod session;
pub mod signals;
pub mod wait;

pub use args::{ActionArgs, ConnectArgs, GateArgs, RequestArgs};
pub use client::{AgentClient, ClientError};
pub use outcome::{EXIT_APPROVED, EXIT_CLOSED, EXIT_DENIED, EXIT_ERROR, EXIT_PENDING};

/// Why `request` or `gate` stopped before an outcome; always exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Build(#[from] build::BuildError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    Io(String),
}

/// One line for people, on standard error.
pub(crate) fn say(line: &str) {
    eprintln!("signoff: {line}");
}

fn run(fut: impl std::future::Future<Output = Result<u8, AgentError>>) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            say(&format!("cannot start the async runtime: {e}"));
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match rt.block_on(fut) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            say(&e.to_string());
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// True when the command line runs `request` or `gate`, whose usage errors must exit 1
/// (clap's default 2 means "denied" for them).
pub fn is_agent_command(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    args.into_iter()
        .nth(1)
        .is_some_and(|a| a == "request" || a == "gate")
}

/// `signoff request`: the binary's handler.
pub fn request_command(args: RequestArgs) -> ExitCode {
    run(request::run(args))
}

/// `signoff gate -- COMMAND…`: the binary's handler.
pub fn gate_command(args: GateArgs) -> ExitCode {
    run(gate::run(args))
}
