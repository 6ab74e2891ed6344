//! Command-line flags of `signoff request` and `signoff gate`, shared through
//! `#[command(flatten)]` so both subcommands describe an action the same way.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::duration::parse_duration;
use super::outcome::EXIT_CODES_HELP;
use crate::protocol::RequesterKind;

/// What the action is, who asks, and what it changes.
#[derive(Args, Debug, Clone, Default)]
pub struct ActionArgs {
    /// Action kind, lowercase and dotted, e.g. `db.export`, `iam.grant` (gate: `command.exec`).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// One line the approver reads first (gate: the command line).
    #[arg(long, value_name = "TEXT")]
    pub summary: Option<String>,
    /// What the action touches, e.g. `postgres:customers` (gate: `command:<program>`).
    #[arg(long, value_name = "SYSTEM:RESOURCE")]
    pub target: Option<String>,
    /// Environment, e.g. `production`, `staging`.
    #[arg(long = "env", value_name = "ENVIRONMENT", env = "SIGNOFF_ENV")]
    pub environment: Option<String>,
    /// Why this is needed, in words; shown to the approver.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub justification: String,
    /// A unified diff of the change (`-` reads standard input).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["before", "after"])]
    pub diff: Option<PathBuf>,
    /// The document before the change; the console diffs it against --after.
    #[arg(long, value_name = "FILE", requires = "after")]
    pub before: Option<PathBuf>,
    /// The document after the change.
    #[arg(long, value_name = "FILE", requires = "before")]
    pub after: Option<PathBuf>,
    /// Extra context for the approver, e.g. `--context ticket=OPS-42` (repeatable).
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub context: Vec<(String, String)>,
    /// Do not add CI run details (GitHub Actions, GitLab CI) to the context automatically.
    #[arg(long)]
    pub no_ci_context: bool,
    /// The human this agent or pipeline acts for; that person may not approve it.
    #[arg(long, value_name = "WHO")]
    pub on_behalf_of: Option<String>,
    /// Requested time to live, e.g. `15m`; the broker's policy may shorten it.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub ttl: Option<Duration>,
    /// Requester id; the broker requires it to equal the agent token's subject
    /// [default: $SIGNOFF_AGENT_ID, else user@host].
    #[arg(long, value_name = "ID", env = "SIGNOFF_AGENT_ID")]
    pub requester_id: Option<String>,
    /// Requester display name [default: the CI workflow or the requester id].
    #[arg(long, value_name = "NAME")]
    pub requester_name: Option<String>,
    /// Requester kind [default: pipeline under CI, else agent].
    #[arg(long, value_enum, value_name = "KIND")]
    pub requester_kind: Option<RequesterKindArg>,
    /// The model behind an AI agent, e.g. `claude-opus-4`.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
}

/// Where the broker is, how to authenticate to it, and where it reports the outcome.
#[derive(Args, Debug, Clone, Default)]
pub struct ConnectArgs {
    /// Broker base URL, e.g. `https://signoff.example.com`; several brokers on one
    /// database comma-separated (`https://a,https://b`): a broker that cannot be reached,
    /// or whose database is unavailable, is skipped for the next.
    #[arg(long, value_name = "URL", env = "SIGNOFF_BROKER_URL")]
    pub broker: Option<String>,
    /// Agent bearer token (prefer the environment variable: flags show up in `ps`).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SIGNOFF_AGENT_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// How long to keep resending a submission (with the same idempotency key) while the
    /// broker is unreachable or failing; `0s` tries once [default: 2m; `signoff mcp` and
    /// `hook`: 5s].
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_duration,
        env = "SIGNOFF_RETRY_SUBMIT_FOR"
    )]
    pub retry_submit_for: Option<Duration>,
    /// Where the broker posts the outcome once the action is decided, expires or is
    /// withdrawn: a Standard Webhooks-signed `action.resolved` (see docs/notify.md). The
    /// broker takes only URLs under its `[callbacks] allow` prefixes; any other is refused
    /// and nothing is submitted (exit 1).
    #[arg(long, value_name = "URL", env = "SIGNOFF_CALLBACK_URL")]
    pub callback_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RequesterKindArg {
    Agent,
    Pipeline,
    Human,
}

impl From<RequesterKindArg> for RequesterKind {
    fn from(k: RequesterKindArg) -> Self {
        match k {
            RequesterKindArg::Agent => RequesterKind::Agent,
            RequesterKindArg::Pipeline => RequesterKind::Pipeline,
            RequesterKindArg::Human => RequesterKind::Human,
        }
    }
}

/// `signoff request`: submit an action and, with `--wait`, wait for its outcome.
#[derive(Args, Debug, Clone)]
#[command(after_help = EXIT_CODES_HELP)]
pub struct RequestArgs {
    #[command(flatten)]
    pub action: ActionArgs,
    /// The exact command that will run once approved, as text (an SQL statement, a shell line).
    #[arg(long, value_name = "TEXT")]
    pub command: Option<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Wait for the outcome; the exit code says how it ended.
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this long (exit 4) [default: until the action expires].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "wait")]
    pub timeout: Option<Duration>,
    /// Print the final action (or, without --wait, the created one) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Idempotency key for the submission, e.g. a CI run id: the same key and request
    /// sent again within 24 h get the first action back [default: random per run].
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

/// `signoff gate -- COMMAND ARGS…`: run a command only once it is approved.
#[derive(Args, Debug, Clone)]
#[command(after_help = GATE_HELP)]
pub struct GateArgs {
    #[command(flatten)]
    pub action: ActionArgs,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Give up waiting after this long: the request is withdrawn and nothing runs (exit 4)
    /// [default: until the action expires].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Idempotency key for the submission, e.g. a CI run id: the same key and request
    /// sent again within 24 h get the first action back [default: random per run].
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// The command and its arguments, exactly as they will run (no shell).
    #[arg(last = true, required = true, num_args = 1.., value_name = "COMMAND")]
    pub command: Vec<String>,
}

const GATE_HELP: &str = "\
Exit codes:
  N    approved: the command ran and N is its exit code (128+signal when killed)
  1    usage, configuration or connection error, or the broker refused the request
       (e.g. a --callback-url it does not allow); nothing ran
  2    denied (who and why are printed); nothing ran
  3    expired or withdrawn (Ctrl-C while waiting withdraws the request); nothing ran
  4    still pending when --timeout ended (the request is withdrawn); nothing ran
  126  approved, but the command could not be executed
  127  approved, but the command was not found
While the command runs, SIGINT and SIGTERM are forwarded to it.";

/// Parses `key=value` (split at the first `=`; the key may not be empty).
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_splits_at_the_first_equals() {
        assert_eq!(parse_key_value("q=a=b"), Ok(("q".into(), "a=b".into())));
        assert_eq!(
            parse_key_value("empty="),
            Ok(("empty".into(), String::new()))
        );
        assert!(parse_key_value("=v").is_err());
        assert!(parse_key_value("novalue").is_err());
    }
}
