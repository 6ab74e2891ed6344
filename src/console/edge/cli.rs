//! `signoff console` (also what `signoff` runs with no subcommand): flags, start-up
//! checks with clear errors, logging to a file, then the runtime.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use base64::Engine as _;
use ed25519_dalek::SigningKey;

use crate::console::edge::config::{self, Config, Flags, NotifyMode};
use crate::console::edge::credentials;
use crate::console::edge::device_login::DeviceLogin;
use crate::console::edge::runtime::{LoginFlow, RunOptions, run};
use crate::console::ui::theme::Theme;
use crate::identity::{DeviceKey, FixedToken, SessionStore, TokenSource, default_data_dir};
use crate::protocol::Timestamp;
use crate::report::{Report, Result, WrapErr as _, eyre};

/// Flags of `signoff console`. (No `Debug`: it would print the token.)
#[derive(Clone, Default, clap::Args)]
pub struct ConsoleArgs {
    /// Broker base URL, e.g. https://signoff.example.com [env: SIGNOFF_BROKER_URL]
    #[arg(long = "broker", value_name = "URL")]
    pub broker: Option<String>,
    /// OIDC issuer URL for sign-in [env: SIGNOFF_ISSUER]
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// OIDC client id for sign-in [env: SIGNOFF_CLIENT_ID]
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Theme: dark, light, high-contrast, colorblind, or a user theme [env: SIGNOFF_THEME]
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// A bearer token to use as is (instead of a sign-in session) [env: SIGNOFF_TOKEN]
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The device signing key: a file holding the 32-byte Ed25519 seed (raw, hex or
    /// base64), mode 0600 [env: SIGNOFF_KEY_FILE]
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// New-action alerts: osc9, osc777, bell or off [env: SIGNOFF_NOTIFICATIONS]
    #[arg(long, value_name = "MODE")]
    pub notifications: Option<NotifyMode>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `signoff review ID`: the console, opened on one action.
#[derive(Clone, clap::Args)]
pub struct ReviewArgs {
    /// The action id, as a notification shows it.
    #[arg(value_name = "ID")]
    pub id: String,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// Runs `signoff review ID`: signs in first if needed, then selects the action once
/// it is on the queue (decided actions are on the history screen, `H`).
pub fn review(args: ReviewArgs) -> Result<ExitCode> {
    let id: crate::protocol::ActionId = args.id.trim().parse().map_err(|_| {
        eyre!(
            "{:?} is not an action id (a 26-character ULID, as in `signoff review 01J…`)",
            crate::text::visible_string(&args.id)
        )
    })?;
    run_console(args.console, Some(id))
}

/// Runs the console; errors are one readable line for the shell.
pub fn main(args: ConsoleArgs) -> Result<ExitCode> {
    run_console(args, None)
}

fn run_console(args: ConsoleArgs, review: Option<crate::protocol::ActionId>) -> Result<ExitCode> {
    let (config_dir, state_dir) = config::dirs(&env);
    let file = config::read_file(&config_dir)?;
    let flags = Flags {
        broker_url: args.broker,
        issuer: args.issuer,
        client_id: args.client_id,
        theme: args.theme,
        key_file: args.key_file,
        token: args.token,
        notifications: args.notifications,
    };
    // Whether the broker was chosen explicitly; if not, the sign-in's broker is used.
    let broker_given = flags.broker_url.is_some()
        || env("SIGNOFF_BROKER_URL").is_some_and(|v| !v.is_empty())
        || file.broker_url.is_some();
    let mut config = config::resolve(file, &env, flags)?;
    let theme = if config.no_color {
        Theme::monochrome()
    } else {
        Theme::load(&config.theme, Some(&config_dir.join("themes")))?
    };
    let auth = match &config.token {
        // The explicit override: a bearer as is, and a key file.
        Some(t) => Auth {
            tokens: Arc::new(FixedToken(t.clone())),
            key: load_key(&config)?,
            login: None,
            needs_login: false,
        },
        None => session_auth(&mut config, broker_given)?,
    };
    let _log = init_logging(&state_dir).map_err(Report::msg)?;
    tracing::info!(broker = %config.broker_url, theme = %theme.name, "console starting");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("starting the runtime")?;
    rt.block_on(run(RunOptions {
        config,
        theme,
        tokens: auth.tokens,
        key: auth.key,
        login: auth.login,
        needs_login: auth.needs_login,
        intro: Vec::new(),
        review,
    }))?;
    Ok(ExitCode::SUCCESS)
}

/// How the console authenticates, resolved at start.
struct Auth {
    tokens: Arc<dyn TokenSource>,
    key: SigningKey,
    login: Option<Arc<dyn LoginFlow>>,
    needs_login: bool,
}

/// The default: the session store of `signoff login` (silent refresh), its device key,
/// and the login dialog when the session is missing or dies.
fn session_auth(config: &mut Config, broker_given: bool) -> Result<Auth> {
    let dir = default_data_dir()?;
    let store = SessionStore::new(&dir);
    // A session file others can read is refused here, with its own message.
    let session = store.load()?;
    let issuer = credentials::choose_issuer(
        config.issuer.as_deref(),
        config.client_id.as_deref(),
        session.as_ref(),
    );
    if session.is_none() && issuer.is_none() {
        return Err(eyre!(credentials::NO_SIGN_IN));
    }
    if let Some(b) = session.as_ref().and_then(|s| s.broker.clone())
        && !broker_given
    {
        config.broker_url = b;
    }
    let key = match &config.key_file {
        Some(path) => read_seed(path).map_err(Report::msg)?,
        None => {
            let (key, _) = DeviceKey::load_or_create(&store.device_key_path())?;
            key.signing_key().clone()
        }
    };
    let login = issuer.map(|i| {
        let flow = DeviceLogin::new(SessionStore::new(&dir), i, Some(config.broker_url.clone()));
        Arc::new(flow) as Arc<dyn LoginFlow>
    });
    Ok(Auth {
        needs_login: credentials::needs_login(session.as_ref(), Timestamp::now()),
        tokens: Arc::new(store),
        key,
        login,
    })
}

fn load_key(config: &Config) -> Result<SigningKey> {
    let path = config.key_file.as_deref().ok_or_else(|| {
        eyre!(
            "--token needs a device key: pass --key-file or set SIGNOFF_KEY_FILE (a 0600 file \
             with an Ed25519 seed), or drop --token to use the session from `signoff login`"
        )
    })?;
    read_seed(path).map_err(Report::msg)
}

/// Reads an Ed25519 seed file: 32 raw bytes, 64 hex characters, or base64 of 32 bytes.
/// Refuses a file that others can read.
pub fn read_seed(path: &Path) -> std::result::Result<SigningKey, String> {
    let shown = path.display();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path).map_err(|e| format!("key file {shown}: {e}"))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "key file {shown} is readable by others (mode {mode:o}); run: chmod 600 {shown}"
            ));
        }
    }
    let bytes = std::fs::read(path).map_err(|e| format!("key file {shown}: {e}"))?;
    let seed: Option<[u8; 32]> = if bytes.len() == 32 {
        bytes.as_slice().try_into().ok()
    } else {
        let text = String::from_utf8_lossy(&bytes).trim().to_string();
        hex::decode(&text)
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(&text).ok())
            .and_then(|v| v.try_into().ok())
    };
    seed.map(|s| SigningKey::from_bytes(&s))
        .ok_or_else(|| format!("key file {shown}: not a 32-byte seed (raw, hex or base64)"))
}

/// Logs go to `<state dir>/console.log`, never to the screen.
pub fn init_logging(
    state_dir: &Path,
) -> std::result::Result<tracing_appender::non_blocking::WorkerGuard, String> {
    std::fs::create_dir_all(state_dir)
        .map_err(|e| format!("creating {}: {e}", state_dir.display()))?;
    // Private from the first byte: the log names approvers, actions and brokers.
    crate::identity::files::ensure_private_file(&state_dir.join("console.log"))
        .map_err(|e| e.to_string())?;
    let appender = tracing_appender::rolling::never(state_dir, "console.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGNOFF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn write(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[cfg(unix)]
    #[test]
    fn seed_files_in_three_encodings_and_a_mode_check() {
        let dir = tempfile::tempdir().unwrap();
        let want = SigningKey::from_bytes(&[7; 32]);
        let raw = write(dir.path(), "raw", &[7; 32], 0o600);
        assert_eq!(read_seed(&raw).unwrap().to_bytes(), want.to_bytes());
        let hexf = write(
            dir.path(),
            "hex",
            format!("{}\n", hex::encode([7u8; 32])).as_bytes(),
            0o600,
        );
        assert_eq!(read_seed(&hexf).unwrap().to_bytes(), want.to_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let b64f = write(dir.path(), "b64", b64.as_bytes(), 0o400);
        assert_eq!(read_seed(&b64f).unwrap().to_bytes(), want.to_bytes());
        let open = write(dir.path(), "open", &[7; 32], 0o644);
        assert!(read_seed(&open).unwrap_err().contains("chmod 600"));
        let short = write(dir.path(), "short", b"abc", 0o600);
        assert!(read_seed(&short).unwrap_err().contains("32-byte"));
    }
}
