//! The agent side: `signoff request` and `signoff gate -- CMD` for pipelines, scripts and
//! AI agents. (The sample traffic `signoff demo` sends is the demo's, in `crate::demo`.)
//!
//! Everything an agent decides is a plain function (flags → request, status → exit code,
//! argv → what ran); the edges are the broker HTTP client, signals and the child process.
//! Messages for people go to standard error prefixed `signoff:`, so standard output stays
//! the gated command's, or the machine-readable id / JSON of `request`.

use std::process::ExitCode;

use crate::report::{self, WrapErr as _};

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

/// Why `request`, `gate` or `hook` stopped before an outcome: exit code 1 (the hook
/// denies). Leaf reasons a person can fix are `Usage`; what wraps an I/O, JSON or HTTP
/// error keeps it as its source, and the edge ([`crate::report::exit`]) prints the chain.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Build(#[from] build::BuildError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("--callback-url {url}: is not a URL")]
    CallbackUrl {
        url: String,
        #[source]
        source: <reqwest::Url as std::str::FromStr>::Err,
    },
    #[error("cannot listen for Ctrl-C and SIGTERM")]
    Signals(#[source] std::io::Error),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("encoding JSON")]
    Json(#[source] serde_json::Error),
    #[error("reading the hook input")]
    HookInput(#[source] std::io::Error),
    /// The broker refused the agent token after it accepted the request with it: it
    /// forgot the token (restarted with new ones), and the action stays pending there.
    #[error(
        "the broker stopped accepting this agent token while waiting ({message}); it \
         accepted the request with it, so the broker was probably restarted with new \
         tokens. {id} stays pending there until an approver decides or it expires at \
         {expires_at}"
    )]
    TokenForgotten {
        message: String,
        id: crate::protocol::ActionId,
        expires_at: crate::protocol::Timestamp,
    },
}

/// One line for people, on standard error.
pub(crate) fn say(line: &str) {
    eprintln!("signoff: {line}");
}

/// The edge of `request` and `gate`: runs `fut` on a runtime of its own; a failure is
/// printed with its causes and exits [`EXIT_ERROR`] (every other code is an outcome).
fn run(fut: impl std::future::Future<Output = Result<u8, AgentError>>) -> ExitCode {
    let ran = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")
        .and_then(|rt| Ok(ExitCode::from(rt.block_on(fut)?)));
    report::exit(ran, |_| EXIT_ERROR)
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
