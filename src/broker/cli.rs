//! The `signoff broker` and `signoff audit` subcommands.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};

use super::audit_error::AuditError;
use super::config::Config;
use super::dev;
use super::policy::Engine;
use super::store::DB_FILE;
use super::store::audit::Verifier;
use super::store::{AuditEntry, IdTable, SqliteStore, Store};
use super::{Broker, BrokerError, Settings, TlsFiles};
use crate::auth::static_tokens::StaticTokens;
use crate::protocol::Checkpoint;
use crate::protocol::Timestamp;
use crate::report::{self, Result, WrapErr as _};

/// `signoff broker`
#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// The broker's TOML config file (tokens, policy, TLS, feed tunables).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:7700, or `listen` from the config].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Data directory holding signoff.db [default: the platform data directory].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    pub log_json: bool,
    /// Development mode, loopback only: also serve an OIDC issuer that signs in the
    /// development identity by itself, trust it, and generate an agent token.
    #[arg(long)]
    pub dev: bool,
    /// The identity the development issuer signs in [default: dev-approver].
    #[arg(long, value_name = "SUBJECT", requires = "dev")]
    pub dev_user: Option<String>,
    /// Groups of the development identity, comma-separated [default: sre,security,data-governance].
    #[arg(long, value_name = "GROUPS", value_delimiter = ',', requires = "dev")]
    pub dev_groups: Vec<String>,
    /// PostgreSQL instead of the data directory's SQLite file, so that several brokers
    /// share one database: postgres://USER@HOST:PORT/DB (or `[store] url` in the config).
    /// The password comes from --store-password-file or $SIGNOFF_STORE_PASSWORD.
    #[arg(long, value_name = "URL", conflicts_with = "dev")]
    pub store: Option<String>,
    /// A file (mode 0600) whose first line is the database password.
    #[arg(long, value_name = "FILE")]
    pub store_password_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<BrokerCommand>,
}

/// `signoff broker …`
#[derive(Debug, Subcommand)]
pub enum BrokerCommand {
    /// Bring the PostgreSQL schema to this broker's version, then exit (brokers also do
    /// this when they start; this runs it alone, e.g. before a rolling upgrade).
    Migrate(StoreArgs),
}

/// Which store a command reads: a data directory (SQLite) or PostgreSQL.
#[derive(Debug, Clone, Args, Default)]
pub struct StoreArgs {
    /// PostgreSQL: postgres://USER@HOST:PORT/DB [default: `[store] url` of --config].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// A file (mode 0600) whose first line is the database password
    /// [default: $SIGNOFF_STORE_PASSWORD].
    #[arg(long, value_name = "FILE")]
    pub store_password_file: Option<PathBuf>,
    /// The broker's config file, for its `[store]` section.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl StoreArgs {
    /// The PostgreSQL options these flags (or the config's `[store]`) name, if any.
    pub fn postgres(&self) -> Result<Option<super::store::PgOptions>, AuditError> {
        let config = match &self.config {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        config
            .store
            .options(self.store.as_deref(), self.store_password_file.as_deref())
            .map_err(AuditError::StoreOptions)
    }
}

/// `signoff audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and every vote signature; exit 1 naming the first bad entry
    /// (2 when there is nothing to check: no database, an unreadable file or store).
    Verify {
        /// Data directory holding signoff.db [default: the platform data directory].
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
        /// Checkpoint files (JSON, as a console or `signoff request` keeps them): the log
        /// must still hold each one's entry with its hash, or it was truncated or rewritten.
        #[arg(long = "checkpoint", value_name = "FILE", num_args = 1..)]
        checkpoints: Vec<PathBuf>,
        /// The broker's audit key as published at `GET /v1/audit/key` (JSON), to check the
        /// checkpoints against [default: the key in the data directory].
        #[arg(long, value_name = "FILE")]
        audit_key: Option<PathBuf>,
    },
    /// Print one self-contained JSON receipt for an action: its audit entries, the keys
    /// its votes were signed with, and a broker-signed checkpoint for each entry.
    Receipt {
        action_id: String,
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Check a receipt offline: hashes, checkpoints, vote signatures, digest, outcome.
    VerifyReceipt {
        file: PathBuf,
        /// The broker's audit key as published at `GET /v1/audit/key` (JSON), to pin.
        #[arg(long, value_name = "FILE")]
        audit_key: Option<PathBuf>,
    },
    /// Write audit entries as JSON Lines (one entry per line) to standard output.
    Export {
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
        /// Only entries at or after this time (RFC 3339).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only entries before this time (RFC 3339).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
    },
}

/// The platform data directory, e.g. `~/.local/share/signoff`.
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("dev", "signoff", "signoff")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("signoff-data"))
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a person at a terminal: never into a log file or a pipe.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = if json {
        b.json().try_init()
    } else {
        b.try_init()
    };
}

/// Builds settings from the config file and flags (flags win).
pub fn settings(args: &BrokerArgs) -> Result<(Settings, String), BrokerError> {
    let config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if args.dev && config.oidc.is_some() {
        return Err(BrokerError::Config(
            "--dev trusts the development issuer only; remove [oidc] from the config or drop --dev"
                .into(),
        ));
    }
    let policy = match &config.policy {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| BrokerError::PolicyFile {
                path: p.clone(),
                source,
            })?;
            Engine::from_toml_str(&text).map_err(|source| BrokerError::Policy {
                path: p.clone(),
                source,
            })?
        }
        None => Engine::default(),
    };
    let static_tokens: Arc<dyn crate::auth::Authenticator> =
        Arc::new(StaticTokens::new(config.tokens.clone()));
    let authenticator: Arc<dyn crate::auth::Authenticator> = match &config.oidc {
        // Static tokens first (agents), then JWTs from the issuer (approvers, client credentials).
        Some(oidc) => {
            let jwt = crate::auth::jwt::JwtAuthenticator::new(oidc.clone())?;
            Arc::new(crate::auth::Chain(vec![static_tokens, Arc::new(jwt)]))
        }
        None => static_tokens,
    };
    let listen = args
        .listen
        .clone()
        .or(config.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:7700".into());
    let data_dir = args
        .data
        .clone()
        .or(config.data_dir.clone())
        // Development data (keys of the development identity, its audit log) stays apart.
        .unwrap_or_else(|| match args.dev {
            true => default_data_dir().join("dev"),
            false => default_data_dir(),
        });
    let tls = match (&args.tls_cert, &args.tls_key, &config.tls) {
        (Some(cert), Some(key), _) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (_, _, Some(t)) => Some(TlsFiles {
            cert: t.cert.clone(),
            key: t.key.clone(),
        }),
        _ => None,
    };
    let postgres = config
        .store
        .options(args.store.as_deref(), args.store_password_file.as_deref())
        .map_err(BrokerError::StoreOptions)?;
    if args.dev && postgres.is_some() {
        return Err(BrokerError::Config(
            "--dev keeps its own SQLite store; drop [store] url or --dev".into(),
        ));
    }
    let mut s = Settings::new(authenticator, policy, data_dir);
    s.postgres = postgres;
    s.tls = tls;
    s.tunables = config.tunables();
    s.notify = super::notify::config::load(
        &config.notify,
        config.callbacks.as_ref(),
        Path::new("."),
        &|k| std::env::var(k).ok(),
    )?;
    if let Some(c) = &config.slack_interactivity {
        let app =
            super::notify::config::load_slack_app(c, Path::new("."), &|k| std::env::var(k).ok())?;
        s.notify.slack_app = Some(std::sync::Arc::new(app));
    }
    Ok((s, listen))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Runs `signoff broker migrate`: exit 1 when the migration fails, 2 when there is no
/// PostgreSQL store to migrate.
fn run_migrate(args: &StoreArgs) -> ExitCode {
    report::exit(migrate(args), exit_code)
}

fn migrate(args: &StoreArgs) -> Result<ExitCode> {
    let opts = args.postgres()?.ok_or(AuditError::NoPostgres)?;
    let (before, after) =
        super::store::PgStore::migrate(&opts).map_err(|source| AuditError::Migrate {
            url: opts.url.to_string(),
            source,
        })?;
    if before == after {
        println!("{}: schema is at version {after}; nothing to do", opts.url);
    } else {
        println!(
            "{}: schema migrated from version {before} to {after}",
            opts.url
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The exit code of a failed `audit` or `broker migrate` command: the [`AuditError`]'s
/// (1 for a failed check, 2 for nothing to check), else 2.
fn exit_code(e: &report::Report) -> u8 {
    report::find::<AuditError>(e).map_or(2, AuditError::exit_code)
}

/// Runs `signoff broker` until SIGINT or SIGTERM; exit 2 when it cannot start or serve.
pub fn run_broker(args: BrokerArgs) -> ExitCode {
    init_logs(args.log_json);
    if let Some(BrokerCommand::Migrate(m)) = &args.command {
        return run_migrate(m);
    }
    report::exit(serve(args), |_| 2)
}

fn serve(args: BrokerArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().wrap_err("starting the async runtime")?;
    rt.block_on(async {
        let (mut settings, listen) = settings(&args)?;
        if args.dev {
            dev::require_loopback(&listen)?;
        }
        let scheme = if settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .wrap_err_with(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let dev = match args.dev {
            true => {
                let identity = dev::identity(args.dev_user.as_deref(), &args.dev_groups);
                let (setup, auth) = dev::start(
                    addr.ip(),
                    identity,
                    settings.authenticator.clone(),
                    &settings.data_dir,
                )
                .await
                .wrap_err("starting the development issuer")?;
                settings.authenticator = auth;
                Some(setup)
            }
            false => None,
        };
        let broker = Broker::open(settings)
            .await
            .wrap_err("opening the broker")?;
        tracing::info!(%addr, "listening");
        println!("signoff broker listening on {scheme}://{addr}");
        if let Some(d) = &dev {
            print!("{}", d.next_steps(&format!("{scheme}://{addr}")));
        }
        let _ = std::io::stdout().flush();
        let served = broker.serve(listener, shutdown_signal()).await;
        // Dropping the issuer stops it without waiting for idle keep-alive connections.
        drop(dev);
        served.wrap_err("serving")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// "No database here", with the `--data` to pass when another known data dir has one
/// (`broker --dev` keeps its store apart, in `<data dir>/dev`).
pub fn no_database(dir: &Path, given: bool) -> String {
    let mut msg = format!("no broker database at {}", dir.join(DB_FILE).display());
    let dev = default_data_dir().join("dev");
    if !given && dev != dir && dev.join(DB_FILE).exists() {
        msg.push_str(&format!(
            "; `signoff broker --dev` keeps its data in {}: pass --data {}",
            dev.display(),
            dev.display()
        ));
    } else {
        msg.push_str("; pass --data DIR (the broker's --data, or `data_dir` in its config)");
    }
    msg
}

fn open_existing(data: Option<PathBuf>) -> Result<SqliteStore, AuditError> {
    let given = data.is_some();
    let dir = data.unwrap_or_else(default_data_dir);
    if !dir.join(DB_FILE).exists() {
        return Err(AuditError::NoDatabase(no_database(&dir, given)));
    }
    SqliteStore::open(&dir).map_err(|source| AuditError::Open { dir, source })
}

/// The store `--store` (PostgreSQL) or else `--data` (SQLite) names.
fn open_any(data: Option<PathBuf>, store: &StoreArgs) -> Result<Box<dyn Store>, AuditError> {
    match store.postgres()? {
        Some(o) => {
            let url = o.url.to_string();
            super::store::PgStore::open_existing(o)
                .map(|s| Box::new(s) as Box<dyn Store>)
                .map_err(|source| AuditError::OpenPg { url, source })
        }
        None => open_existing(data).map(|s| Box::new(s) as Box<dyn Store>),
    }
}

/// Checks the whole chain; `Ok` holds the summary line, `Err` names the first bad entry.
pub fn verify(dir: &Path) -> Result<String, AuditError> {
    verify_with(dir, &[], None)
}

/// Reads a checkpoint file.
pub fn read_checkpoint(path: &Path) -> Result<Checkpoint, AuditError> {
    AuditError::read_json(path, "a checkpoint")
}

/// [`verify`], and then each checkpoint: its signature against the broker's audit key, and
/// that the log still holds its entry with its hash.
pub fn verify_with(
    dir: &Path,
    checkpoints: &[Checkpoint],
    audit_key: Option<&crate::protocol::AuditKey>,
) -> Result<String, AuditError> {
    let store = open_existing(Some(dir.to_path_buf()))?;
    verify_store(&store, dir, checkpoints, audit_key)
}

/// [`verify_with`] on any store; `key_dir` holds the broker's audit key when `audit_key`
/// is not given. A finding is [`AuditError::Failed`]; a store that cannot be read is not.
pub fn verify_store(
    store: &dyn Store,
    key_dir: &Path,
    checkpoints: &[Checkpoint],
    audit_key: Option<&crate::protocol::AuditKey>,
) -> Result<String, AuditError> {
    let dir = key_dir;
    let failed = AuditError::Failed;
    let key = match audit_key {
        Some(k) => Some(
            crate::protocol::decision::decode_public_key(&k.public_key)
                .map_err(|e| failed(format!("audit key: {e}")))?,
        ),
        None if checkpoints.is_empty() => None,
        None => super::audit_key::load(dir)
            .map_err(|source| AuditError::AuditKey {
                dir: dir.to_path_buf(),
                source,
            })?
            .map(|k| k.verifying_key()),
    };
    let key_for = |c: &Checkpoint| {
        key.ok_or_else(|| {
            failed(format!(
                "checkpoint {}: no audit key to check it with (none in {}; pass --audit-key)",
                c.audit_seq,
                dir.display()
            ))
        })
    };
    for c in checkpoints {
        c.verify(&key_for(c)?)
            .map_err(|e| failed(format!("checkpoint {}: {e}", c.audit_seq)))?;
    }
    let wanted: std::collections::HashSet<u64> = checkpoints.iter().map(|c| c.audit_seq).collect();
    let mut seen: std::collections::HashMap<u64, String> = Default::default();
    let mut v = Verifier::new();
    let mut after = 0;
    let mut head = super::store::audit::GENESIS.to_string();
    loop {
        let page = store
            .audit_entries(after, 10_000)
            .map_err(AuditError::Read)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        head = last.hash.clone();
        for e in &page {
            v.push(e).map_err(|e| failed(e.to_string()))?;
            if wanted.contains(&e.seq) {
                seen.insert(e.seq, e.hash.clone());
            }
        }
    }
    // Checkpoints first: a truncated log also leaves stored actions the chain no longer
    // creates, and "entries after it were deleted" is the precise finding.
    for c in checkpoints {
        match seen.get(&c.audit_seq) {
            None => {
                return Err(failed(format!(
                    "checkpoint {} (signed {}): the log ends at entry {}; entries after it \
                     were deleted",
                    c.audit_seq,
                    c.at,
                    v.seq()
                )));
            }
            Some(h) if *h != c.head_hash => {
                return Err(failed(format!(
                    "checkpoint {} (signed {}): entry {} now hashes to {}, not {}; the log \
                     was rewritten up to there",
                    c.audit_seq,
                    c.at,
                    c.audit_seq,
                    &h[..h.len().min(12)],
                    &c.head_hash[..c.head_hash.len().min(12)]
                )));
            }
            Some(_) => {}
        }
    }
    check_actions(store, &v)?;
    let held = if checkpoints.is_empty() {
        String::new()
    } else {
        format!(", {} checkpoint(s) held", checkpoints.len())
    };
    Ok(format!(
        "audit log OK: {} entries, {} vote signatures verified, {} actions match the log{held}, head {}",
        v.entries,
        v.votes,
        v.ledger.actions.len(),
        head
    ))
}

/// Every action the chain created must be stored as the chain says (content, status,
/// votes, history row), and nothing may be stored that the chain never created: a row
/// slipped into `actions` would reach every console as a pending request.
fn check_actions(store: &dyn Store, v: &Verifier) -> Result<(), AuditError> {
    let mut ids: Vec<_> = v.ledger.actions.keys().copied().collect();
    ids.sort();
    for id in ids {
        let t = &v.ledger.actions[&id];
        let Some(a) = store.action(&id).map_err(AuditError::Read)? else {
            return Err(AuditError::Failed(format!(
                "action {id}: in the audit log but not in the store"
            )));
        };
        let h = store.history_entry(&id).map_err(AuditError::Read)?;
        super::store::audit_actions::check_stored(t, &a, h.as_ref())
            .map_err(|e| AuditError::Failed(format!("action {id}: {e}")))?;
    }
    for table in [IdTable::Actions, IdTable::History] {
        let mut after = None;
        loop {
            let page = store
                .stored_ids(table, after.as_ref(), 10_000)
                .map_err(AuditError::Read)?;
            let Some(last) = page.last() else { break };
            after = Some(*last);
            if let Some(id) = page.iter().find(|id| !v.ledger.actions.contains_key(id)) {
                let table = match table {
                    IdTable::Actions => "actions",
                    IdTable::History => "history",
                };
                return Err(AuditError::Failed(format!(
                    "action {id}: in the store's {table} table but never created in the audit log"
                )));
            }
        }
    }
    Ok(())
}

/// Writes the entries between `since` and `until` as JSON Lines; a reader that went away
/// (`signoff audit export | head`) ends it as [`AuditError::Write`] with `BrokenPipe`.
fn export(
    data: Option<PathBuf>,
    store: &StoreArgs,
    since: Option<String>,
    until: Option<String>,
) -> Result<(), AuditError> {
    let time = |s: String| Timestamp::parse(&s).map_err(AuditError::Argument);
    let since = since.map(time).transpose()?;
    let until = until.map(time).transpose()?;
    let store = open_any(data, store)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut after = 0;
    loop {
        let page = store
            .audit_entries(after, 10_000)
            .map_err(AuditError::Read)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            let entry: AuditEntry = serde_json::from_str(&e.canonical)
                .map_err(|source| AuditError::Entry { seq: e.seq, source })?;
            if since.is_some_and(|s| entry.at < s) || until.is_some_and(|u| entry.at >= u) {
                continue;
            }
            writeln!(
                out,
                "{{\"seq\":{},\"prev_hash\":\"{}\",\"hash\":\"{}\",\"entry\":{}}}",
                e.seq, e.prev_hash, e.hash, e.canonical
            )
            .map_err(AuditError::Write)?;
        }
    }
    out.flush().map_err(AuditError::Write)
}

/// Runs `signoff audit verify|receipt|verify-receipt|export`: exit 1 when a check fails,
/// 2 when there is nothing to check (no database, an unreadable file).
pub fn run_audit(cmd: AuditCommand) -> ExitCode {
    report::exit(audit(cmd), exit_code)
}

fn audit(cmd: AuditCommand) -> Result<ExitCode> {
    match cmd {
        AuditCommand::Verify {
            data,
            store,
            checkpoints,
            audit_key,
        } => {
            let given = data.is_some();
            let dir = data.unwrap_or_else(default_data_dir);
            let checkpoints = checkpoints
                .iter()
                .map(|p| read_checkpoint(p))
                .collect::<Result<Vec<_>, _>>()?;
            let key: Option<crate::protocol::AuditKey> = audit_key
                .map(|p| AuditError::read_json(&p, "an audit key"))
                .transpose()?;
            let opened = match store.postgres()? {
                Some(_) => open_any(None, &store)?,
                None if !dir.join(DB_FILE).exists() => {
                    return Err(AuditError::NoDatabase(no_database(&dir, given)).into());
                }
                None => open_any(Some(dir.clone()), &store)?,
            };
            let summary = verify_store(opened.as_ref(), &dir, &checkpoints, key.as_ref())?;
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Receipt { action_id, data } => {
            let dir = data.unwrap_or_else(default_data_dir);
            let id = action_id.parse().map_err(AuditError::Argument)?;
            let r = super::receipt::build(&dir, id)
                .wrap_err_with(|| format!("building the receipt of action {id}"))?;
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::VerifyReceipt { file, audit_key } => {
            let r: super::receipt::Receipt = AuditError::read_json(&file, "a receipt")?;
            let key: Option<crate::protocol::AuditKey> = audit_key
                .as_deref()
                .map(|p| AuditError::read_json(p, "an audit key"))
                .transpose()?;
            let v = super::receipt::verify(&r, key.as_ref()).map_err(AuditError::Failed)?;
            println!(
                "receipt OK: action {} {} · {} entries, {} vote signatures verified · audit key {}{}",
                r.action_id,
                v.status,
                v.entries,
                v.votes,
                v.key_id,
                if key.is_some() {
                    " (pinned)"
                } else {
                    " (not pinned: compare it with GET /v1/audit/key)"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Export {
            data,
            store,
            since,
            until,
        } => match export(data, &store, since, until) {
            // The reader closed the pipe: what it wanted was written.
            Err(AuditError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                Ok(ExitCode::SUCCESS)
            }
            other => {
                other?;
                Ok(ExitCode::SUCCESS)
            }
        },
    }
}
