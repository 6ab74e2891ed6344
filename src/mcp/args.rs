//! Command-line flags of `signoff mcp` and `signoff hook`.
//!
//! Both speak for one agent to one broker, so they share the agent side's connection
//! flags ([`ConnectArgs`]) and say who asks the same way `request` and `gate` do.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::agent::ConnectArgs;
use crate::agent::duration::parse_duration;

/// Who asks: the settings every action from this server or hook carries.
#[derive(Args, Debug, Clone, Default)]
pub struct RequesterArgs {
    /// Environment for requests that name none, e.g. `production`.
    #[arg(long = "env", value_name = "ENVIRONMENT", env = "SIGNOFF_ENV")]
    pub environment: Option<String>,
    /// Requester id; the broker requires it to equal the agent token's subject
    /// [default: $SIGNOFF_AGENT_ID, else user@host].
    #[arg(long, value_name = "ID", env = "SIGNOFF_AGENT_ID")]
    pub requester_id: Option<String>,
    /// Requester display name [default: the MCP client's name, e.g. `claude-code (MCP)`].
    #[arg(long, value_name = "NAME")]
    pub requester_name: Option<String>,
    /// The human this agent acts for; that person may not approve its requests.
    #[arg(long, value_name = "WHO", env = "SIGNOFF_ON_BEHALF_OF")]
    pub on_behalf_of: Option<String>,
    /// The model behind the agent, e.g. `claude-opus-4`.
    #[arg(long, value_name = "MODEL", env = "SIGNOFF_MODEL")]
    pub model: Option<String>,
}

/// `signoff mcp`: an MCP server through which AI agents ask for approval.
#[derive(Args, Debug, Clone)]
#[command(after_help = MCP_HELP)]
pub struct McpArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub requester: RequesterArgs,
    /// Serve Streamable HTTP at ADDR (a loopback address, e.g. 127.0.0.1:7710) instead of
    /// stdio; the endpoint is `http://ADDR/mcp`.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

const MCP_HELP: &str = "\
Tools: request_approval, wait_for_decision, approval_status, run_approved.
Nothing here approves or denies: only people, in the console, with a signed decision.
Set-up for Claude Code, Cursor, VS Code and Codex: docs/mcp.md.";

/// The hook formats `signoff hook` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookFormat {
    /// Claude Code `PreToolUse` command hooks (JSON on stdin, JSON verdict on stdout).
    ClaudeCode,
}

/// `signoff hook FORMAT`: turn an agent's pending tool call into an action and answer
/// the agent's hook with the outcome.
#[derive(Args, Debug, Clone)]
#[command(after_help = HOOK_HELP)]
pub struct HookArgs {
    /// The hook's format.
    #[arg(value_enum, value_name = "FORMAT")]
    pub format: HookFormat,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub requester: RequesterArgs,
    /// Give up waiting after this long and deny the call; keep it below the hook's own
    /// timeout (Claude Code: 600 s unless configured).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "9m")]
    pub timeout: Duration,
    /// Requested time to live of the action, e.g. `10m`; the broker's policy may shorten it.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub ttl: Option<Duration>,
}

const HOOK_HELP: &str = "\
Answers on standard output in the hook's documented format: allow only when approved;
denied, expired, timed out, unreachable broker or unreadable input all deny the call.
Set-up: docs/mcp.md (Claude Code hooks).";
