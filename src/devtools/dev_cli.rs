//! `signoff dev …`: developer commands (store seeding).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::seed::seed;
use crate::history::r#gen::GenConfig;
use crate::protocol::Timestamp;

#[derive(Subcommand)]
pub enum DevCommand {
    /// Fill an empty broker data directory with generated, signed decision history.
    Seed(SeedArgs),
}

#[derive(Args)]
pub struct SeedArgs {
    /// How many decided actions to generate.
    #[arg(long, default_value_t = 10_000)]
    pub decisions: usize,
    /// The broker's data directory (it holds signoff.db); must not hold an audit log yet.
    #[arg(long, alias = "data")]
    pub data_dir: PathBuf,
    /// Generator seed: the same seed and count give the same history.
    #[arg(long, default_value_t = GenConfig::default().seed)]
    pub seed: u64,
    /// Days the history spans, ending now.
    #[arg(long, default_value_t = 90)]
    pub span_days: u32,
}

/// Runs `signoff dev …`.
pub fn run(cmd: DevCommand) -> ExitCode {
    match cmd {
        DevCommand::Seed(a) => {
            let config = GenConfig {
                seed: a.seed,
                count: a.decisions,
                end: Timestamp::now(),
                span_days: a.span_days.max(1),
            };
            let mut last_print = 0;
            let progress = |done: usize| {
                if done - last_print >= 100_000 {
                    last_print = done;
                    eprintln!("  {done} decisions");
                }
            };
            match seed(&a.data_dir, config, progress) {
                Ok(r) => {
                    println!(
                        "seeded {} decisions ({} audit entries) into {} in {:.1}s: {:.0} rows/s",
                        r.decisions,
                        r.audit_entries,
                        a.data_dir.display(),
                        r.secs,
                        r.rows_per_sec()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("signoff dev seed: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
