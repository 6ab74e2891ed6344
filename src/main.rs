//! The `signoff` binary: one handler per subcommand.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use signoff::protocol::Action;

#[derive(Parser)]
#[command(
    name = "signoff",
    version,
    about = "Action-level approvals for AI agents and pipelines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the SHA-256 digest of an action's canonical form (RFC 8785), as approvers sign it.
    Digest {
        /// A JSON file holding one action; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Run the broker: agent API, approver feed, policy, decisions, audit log.
    Broker(signoff::broker::cli::BrokerArgs),
    /// Check or export the broker's hash-chained audit log.
    #[command(subcommand)]
    Audit(signoff::broker::cli::AuditCommand),
    /// Decided actions, newest first: filter, search, and print a table or JSON Lines.
    History(Box<signoff::history::HistoryArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Digest { file } => digest(file),
        Command::Broker(args) => return signoff::broker::cli::run_broker(args),
        Command::Audit(cmd) => return signoff::broker::cli::run_audit(cmd),
        Command::History(args) => return signoff::history::cli::run(*args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("signoff: {e}");
            ExitCode::from(1)
        }
    }
}

fn digest(file: Option<PathBuf>) -> Result<ExitCode, String> {
    let text = match file.as_deref() {
        None => read_stdin()?,
        Some(p) if p.as_os_str() == "-" => read_stdin()?,
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
    };
    let action: Action = serde_json::from_str(&text).map_err(|e| format!("not an action: {e}"))?;
    println!("{}", action.digest());
    Ok(ExitCode::SUCCESS)
}

fn read_stdin() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| format!("reading stdin: {e}"))?;
    Ok(s)
}
