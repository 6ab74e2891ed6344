//! `signoff mcp`: AI agents ask for approval through the Model Context Protocol, and run
//! only what was approved. `signoff hook`: the same for agents whose hooks hand over a
//! pending tool call (Claude Code's `PreToolUse`).
//!
//! Built on the official Rust SDK (`rmcp`) and on the agent side's own code: requests
//! are built by `agent::build`, submitted and awaited by `agent::session` / `agent::wait`,
//! and approved commands are checked and reported by `agent::gate`. Nothing here can
//! approve or deny; see docs/mcp.md for why.

use std::process::ExitCode;
use std::time::Duration;

pub mod args;
pub mod build;
pub mod claude_code;
pub mod hook;
pub mod outcome;
pub mod params;
pub mod registry;
pub mod run;
pub mod serve;
pub mod server;
pub mod snippet;
pub mod tools;

pub use args::{HookArgs, McpArgs};

use crate::agent::EXIT_ERROR;
use crate::agent::session::connect;
use crate::report::{self, Result, WrapErr as _};

/// `signoff mcp`: the binary's handler.
pub fn mcp_command(args: McpArgs) -> ExitCode {
    // Standard output is the MCP connection (stdio): diagnostics go to standard error only,
    // filtered by SIGNOFF_LOG (default: warnings).
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGNOFF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    report::exit(start(args), |_| EXIT_ERROR)
}

/// Connects (the broker URL, token and callback URL are checked first) and serves.
fn start(args: McpArgs) -> Result<ExitCode> {
    let client = connect(&args.connect)?;
    let callback = crate::agent::session::callback_url(&args.connect)?;
    let retry = args
        .connect
        .retry_submit_for
        .unwrap_or(crate::agent::session::SUBMIT_RETRY_FOR_MCP);
    let server = server::Approvals::new(client, args.requester, retry, callback);
    serve(server, args.listen)
}

/// Serves MCP over stdio, or Streamable HTTP at `listen`, until the client or a signal
/// ends it.
fn serve(server: server::Approvals, listen: Option<std::net::SocketAddr>) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    let r = rt.block_on(async move {
        match listen {
            Some(addr) => serve::http(server, addr).await,
            None => serve::stdio(server).await,
        }
    });
    // A read of standard input that never returns must not hold the exit.
    rt.shutdown_timeout(Duration::from_secs(1));
    r?;
    Ok(ExitCode::SUCCESS)
}

/// `signoff hook FORMAT`: the binary's handler. Every failure denies the call.
pub fn hook_command(args: HookArgs) -> ExitCode {
    hook::main(args)
}
