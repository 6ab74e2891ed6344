//! The `signoff` binary: one handler per subcommand. Commands fail with a
//! [`signoff::report::Report`]; `main` prints it with its causes and exits 1.
#![deny(clippy::unwrap_used)]

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use signoff::identity::cli as identity;
use signoff::protocol::Action;
use signoff::report::{Result, WrapErr as _, eyre};

/// `signoff --version`: the release, the commit and the day it was built (see build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SIGNOFF_COMMIT"),
    ", built ",
    env!("SIGNOFF_BUILD_DATE"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "signoff",
    version = VERSION,
    about = "Action-level approvals for AI agents and pipelines",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, `signoff` runs the console and takes its flags.
    #[command(flatten)]
    console: signoff::console::cli::ConsoleArgs,
}

#[derive(Subcommand)]
enum Command {
    /// The approver console (the default when no subcommand is given).
    Console(signoff::console::cli::ConsoleArgs),
    /// Open the console on one action (the command every notification carries).
    Review(signoff::console::cli::ReviewArgs),
    /// Run the whole loop on this machine: broker, development issuer, sample agents, console.
    Demo(signoff::demo::DemoArgs),
    /// Print the SHA-256 digest of an action's canonical form (RFC 8785), as approvers sign it.
    Digest {
        /// A JSON file holding one action; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Sign in with the OIDC device flow and register this device's signing key.
    Login(identity::LoginArgs),
    /// Sign out: revoke the tokens at the issuer and delete the session.
    Logout(identity::LogoutArgs),
    /// Show who you are signed in as, and until when.
    Whoami(identity::WhoamiArgs),
    /// List, register, rotate or revoke your device signing keys.
    Keys(identity::KeysArgs),
    /// Run the broker: agent API, approver feed, policy, decisions, audit log.
    Broker(signoff::broker::cli::BrokerArgs),
    /// Check or export the broker's hash-chained audit log.
    #[command(subcommand)]
    Audit(signoff::broker::cli::AuditCommand),
    /// Ask the broker for approval of an action; with --wait, exit with its outcome.
    Request(signoff::agent::RequestArgs),
    /// Run a command only once it is approved: signoff gate [flags] -- COMMAND ARGS...
    Gate(signoff::agent::GateArgs),
    /// Serve MCP (stdio, or Streamable HTTP with --listen): AI agents ask for approval.
    Mcp(signoff::mcp::McpArgs),
    /// Answer an agent's pre-tool-call hook (claude-code) with a human's decision.
    Hook(signoff::mcp::HookArgs),
    /// Decided actions, newest first: filter, search, and print a table or JSON Lines.
    History(Box<signoff::history::HistoryArgs>),
    /// Developer tools: fill a store with generated history (`dev seed`). Only in
    /// builds with the test kit (`--features testkit`).
    #[cfg(feature = "testkit")]
    #[command(subcommand)]
    Dev(signoff::devtools::dev_cli::DevCommand),
    /// Print a shell completion script: signoff completions bash > ~/.local/share/bash-completion/completions/signoff
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): signoff man > ~/.local/share/man/man1/signoff.1
    Man {
        /// Write signoff.1 and one signoff-SUBCOMMAND.1 page per subcommand into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `request` and `gate` document exit 2 as "denied": their usage errors exit 1.
        Err(e) if e.use_stderr() && signoff::agent::is_agent_command(std::env::args_os()) => {
            let _ = e.print();
            return ExitCode::from(signoff::agent::EXIT_ERROR);
        }
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        None => signoff::console::cli::main(cli.console),
        Some(Command::Console(args)) => signoff::console::cli::main(args),
        Some(Command::Review(args)) => signoff::console::cli::review(args),
        Some(Command::Demo(args)) => signoff::demo::main(args),
        Some(Command::Digest { file }) => digest(file),
        Some(Command::Login(a)) => identity::login_cmd(a),
        Some(Command::Logout(a)) => identity::logout_cmd(a),
        Some(Command::Whoami(a)) => identity::whoami_cmd(a),
        Some(Command::Keys(a)) => identity::keys_cmd(a),
        Some(Command::Broker(args)) => return signoff::broker::cli::run_broker(args),
        Some(Command::Audit(cmd)) => return signoff::broker::cli::run_audit(cmd),
        Some(Command::Request(args)) => return signoff::agent::request_command(args),
        Some(Command::Gate(args)) => return signoff::agent::gate_command(args),
        Some(Command::Mcp(args)) => return signoff::mcp::mcp_command(args),
        Some(Command::Hook(args)) => return signoff::mcp::hook_command(args),
        Some(Command::History(args)) => return signoff::history::cli::run(*args),
        #[cfg(feature = "testkit")]
        Some(Command::Dev(cmd)) => return signoff::devtools::dev_cli::run(cmd),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "signoff", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man { dir }) => man(dir),
    };
    // The edge: one report per failed command, its cause chain printed.
    match result {
        Ok(code) => code,
        Err(e) => {
            signoff::report::print(&e);
            ExitCode::from(1)
        }
    }
}

/// The man page (roff) on stdout; with `dir`, one page per subcommand as well, as files.
fn man(dir: Option<PathBuf>) -> Result<ExitCode> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let render = |c: clap::Command| {
        let mut out = Vec::new();
        clap_mangen::Man::new(c)
            .render(&mut out)
            .map(|()| out)
            .wrap_err("rendering the man page")
    };
    let Some(dir) = dir else {
        let page = render(cmd)?;
        return match std::io::Write::write_all(&mut std::io::stdout(), &page) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(ExitCode::SUCCESS),
        };
    };
    std::fs::create_dir_all(&dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
    let mut pages = vec![("signoff".to_string(), render(cmd.clone())?)];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        // clap names are `&'static str` without its `string` feature; this runs once.
        let name: &'static str = Box::leak(format!("signoff-{}", sub.get_name()).into_boxed_str());
        pages.push((
            name.to_string(),
            render(sub.clone().name(name).version(VERSION))?,
        ));
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, page).wrap_err_with(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn digest(file: Option<PathBuf>) -> Result<ExitCode> {
    let text = match file.as_deref() {
        None => read_stdin()?,
        Some(p) if p.as_os_str() == "-" => read_stdin()?,
        Some(p) => {
            std::fs::read_to_string(p).wrap_err_with(|| format!("reading {}", p.display()))?
        }
    };
    // Strict: an unknown field, a `null`, or a value that is not in its canonical form
    // (a timestamp with an offset, a lowercase id) is refused, never silently rewritten.
    let action: Action =
        signoff::protocol::strict::decode_object(&text).map_err(|e| eyre!("not an action: {e}"))?;
    println!("{}", action.digest());
    Ok(ExitCode::SUCCESS)
}

fn read_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .wrap_err("reading stdin")?;
    Ok(s)
}
