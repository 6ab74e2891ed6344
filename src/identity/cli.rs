//! `signoff login | logout | whoami | keys`: thin handlers over the identity module.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::broker_keys::BrokerKeys;
use super::device_key::DeviceKey;
use super::login::{self, LoginOutcome};
use super::oidc::IssuerConfig;
use super::session::{Session, SessionError, SessionStore, default_data_dir};
use super::{qr_lines, start_device_flow};
use crate::env::or_deprecated;
use crate::protocol::{KeyId, Timestamp};
use crate::report::{Report, Result, WrapErr as _, eyre};
use crate::text::visible_string as visible;

/// Where the session and device key live.
#[derive(Args, Debug, Clone)]
pub struct DataDirArg {
    /// Directory for `session.json` and `device-key` (default: the platform data dir).
    #[arg(long, env = "SIGNOFF_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The OIDC issuer URL (default: the one from the last sign-in).
    #[arg(long, env = "SIGNOFF_ISSUER")]
    pub issuer: Option<String>,
    /// The console's client id at the issuer.
    #[arg(long, env = "SIGNOFF_CLIENT_ID")]
    pub client_id: Option<String>,
    /// An extra scope to request (repeatable).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// An extra device-authorization parameter, e.g. `audience=https://signoff` (repeatable).
    #[arg(long = "param", value_parser = parse_kv)]
    pub params: Vec<(String, String)>,
    /// The broker to register this device's signing key with.
    #[arg(long, env = "SIGNOFF_BROKER_URL")]
    pub broker: Option<String>,
    /// Do not draw the QR code.
    #[arg(long)]
    pub no_qr: bool,
    #[command(flatten)]
    pub dir: DataDirArg,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Also delete this device's signing key (a new one is made at the next sign-in).
    #[arg(long)]
    pub forget_key: bool,
    #[command(flatten)]
    pub dir: DataDirArg,
}

#[derive(Args, Debug)]
pub struct WhoamiArgs {
    #[command(flatten)]
    pub dir: DataDirArg,
}

#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
    /// The broker (default: the one from the sign-in).
    #[arg(long, env = "SIGNOFF_BROKER_URL", global = true)]
    pub broker: Option<String>,
    #[command(flatten)]
    pub dir: DataDirArg,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// List your registered keys.
    List,
    /// Register this device's key (done by `login` when a broker is known).
    Register,
    /// Make a new device key, register it, then revoke the old one.
    Rotate,
    /// Revoke one of your keys.
    Revoke { key_id: String },
}

fn parse_kv(s: &str) -> std::result::Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))
}

fn store(dir: &DataDirArg) -> Result<SessionStore> {
    let d = match &dir.data_dir {
        Some(d) => d.clone(),
        None => default_data_dir()?,
    };
    Ok(SessionStore::new(d))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("starting the async runtime")
}

/// `signoff login`.
pub fn login_cmd(args: LoginArgs) -> Result<ExitCode> {
    let store = store(&args.dir)?;
    let previous = store.load()?;
    let mut cfg = match (&args.issuer, &args.client_id, &previous) {
        (Some(i), Some(c), _) => IssuerConfig::new(i.clone(), c.clone()),
        (None, None, Some(p)) => p.issuer.clone(),
        (Some(i), None, Some(p)) if p.issuer.issuer == *i => p.issuer.clone(),
        _ => {
            return Err(eyre!(
                "which issuer? pass --issuer URL and --client-id ID (or set \
                 SIGNOFF_ISSUER and SIGNOFF_CLIENT_ID)"
            ));
        }
    };
    cfg.scopes.extend(args.scopes.iter().cloned());
    cfg.extra_params.extend(args.params.iter().cloned());
    let broker = or_deprecated(args.broker.clone()).or_else(|| previous.and_then(|p| p.broker));
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let auth = start_device_flow(&cfg).await?;
        println!("To sign in, open {}", visible(&auth.verification_uri));
        println!("and enter the code:  {}", visible(&auth.user_code));
        if let Some(c) = &auth.verification_uri_complete {
            println!("(or scan this to open {})", visible(c));
        }
        if !args.no_qr {
            for l in qr_lines(auth.qr_target()) {
                println!("  {l}");
            }
        }
        let left = Timestamp::now().millis_until(auth.expires_at) / 1000;
        println!(
            "The code expires in {} min {} s. Waiting for confirmation…",
            left / 60,
            left % 60
        );
        let _ = std::io::stdout().flush();
        let first = auth.interval;
        let mut session = auth
            .poll(|d: Duration| async move {
                if d > first {
                    eprintln!(
                        "(the issuer asked to slow down: polling every {} s)",
                        d.as_secs()
                    );
                }
                tokio::time::sleep(d).await;
            })
            .await?;
        session.broker = broker;
        Ok::<_, Report>(login::complete_login(&store, session).await?)
    })?;
    print_login(&outcome, &store);
    Ok(ExitCode::SUCCESS)
}

fn print_login(o: &LoginOutcome, store: &SessionStore) {
    let id = &o.session.identity;
    println!(
        "Signed in as {}{}",
        visible(&id.subject),
        id.email
            .as_deref()
            .map(|e| format!(" <{}>", visible(e)))
            .unwrap_or_default()
    );
    println!("Session stored in {}", store.session_path().display());
    let made = if o.key_created { "created" } else { "kept" };
    println!(
        "Device key {} {made} ({})",
        o.key_id,
        store.device_key_path().display()
    );
    match (o.registered, &o.session.broker) {
        (Some(true), Some(b)) => println!("Key registered with the broker at {b}"),
        (Some(false), Some(b)) => println!("Key already registered with the broker at {b}"),
        _ => {
            println!("No broker given: register the key with `signoff keys register --broker URL`")
        }
    }
}

/// `signoff logout`.
pub fn logout_cmd(args: LogoutArgs) -> Result<ExitCode> {
    let store = store(&args.dir)?;
    let o = runtime()?.block_on(login::logout(&store, args.forget_key))?;
    if !o.session_deleted {
        println!("Not signed in; nothing to do.");
        return Ok(ExitCode::SUCCESS);
    }
    let who = o
        .subject
        .as_deref()
        .map(visible)
        .unwrap_or_else(|| "(unreadable session)".into());
    println!("Signed out {who}.");
    if !o.revoked.is_empty() {
        println!("Revoked at the issuer: {}", o.revoked.join(", "));
    }
    if let Some(n) = &o.revocation_note {
        println!("Not revoked at the issuer: {n}");
    }
    if o.key_deleted {
        println!(
            "Device key deleted; revoke it at the broker with `signoff keys revoke` if it was registered."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `signoff whoami`: the session, checked against its issuer. Exit 1 when the session
/// cannot be used as it is (refresh refused, issuer gone, or its key no longer there).
pub fn whoami_cmd(args: WhoamiArgs) -> Result<ExitCode> {
    let store = store(&args.dir)?;
    let rt = runtime()?;
    let (s, note) = match rt.block_on(store.valid_session()) {
        Ok(s) => {
            let note = rt.block_on(check_issuer(&s)).err();
            (s, note)
        }
        Err(SessionError::NotSignedIn) => return Err(SessionError::NotSignedIn.into()),
        Err(e) => match store.load() {
            Ok(Some(s)) => (s, Some(e.to_string())),
            _ => return Err(e.into()),
        },
    };
    print_whoami(&s, note.as_deref(), &store);
    Ok(match note {
        None => ExitCode::SUCCESS,
        Some(_) => ExitCode::from(1),
    })
}

/// Asks the session's issuer whether it still stands behind the session: discovery
/// answers, and (for a JWT access token) the key that signed it is still in its key set.
async fn check_issuer(s: &Session) -> std::result::Result<(), String> {
    let again = "sign in again with `signoff login`";
    super::oidc::discover(&s.issuer, &super::oidc::http_client())
        .await
        .map_err(|e| format!("the issuer does not answer ({e}); once it does, {again}"))?;
    let Ok(jws) = crate::auth::jose::split(&s.access_token) else {
        return Ok(()); // An opaque access token: only the broker can judge it.
    };
    let kid = jws.header.get("kid").and_then(|v| v.as_str());
    let Ok(alg) = serde_json::from_value(jws.header.get("alg").cloned().unwrap_or_default()) else {
        return Ok(());
    };
    let jwks = crate::auth::jwks::JwksCache::new(s.issuer.issuer.clone(), Duration::ZERO);
    match jwks.key_for(kid, &alg).await {
        Ok(_) => Ok(()),
        Err(crate::auth::jwks::JwksError::UnknownKid(_)) => Err(format!(
            "the issuer no longer has the key that signed this session (was it restarted \
             with new keys?): {again}"
        )),
        Err(e) => Err(format!("the issuer's key set: {e}; {again}")),
    }
}

fn print_whoami(s: &Session, note: Option<&str>, store: &SessionStore) {
    let id = &s.identity;
    println!("subject:  {}", visible(&id.subject));
    println!(
        "email:    {}",
        id.email
            .as_deref()
            .map(visible)
            .unwrap_or_else(|| "-".into())
    );
    if let Some(n) = &id.name {
        println!("name:     {}", visible(n));
    }
    println!(
        "groups:   {}",
        if id.groups.is_empty() {
            "-".into()
        } else {
            visible(&id.groups.join(", "))
        }
    );
    println!("issuer:   {}", visible(&s.issuer.issuer));
    let left = s.expires_in_secs(Timestamp::now());
    let when = if left >= 0 {
        format!("in {} min", left / 60)
    } else {
        "expired".into()
    };
    println!(
        "expires:  {} ({when}; refreshed automatically: {})",
        s.expires_at,
        if s.refresh_token.is_some() {
            "yes"
        } else {
            "no"
        }
    );
    if let Ok(Some(k)) = DeviceKey::load(&store.device_key_path()) {
        println!("key:      {}", k.key_id());
    }
    if let Some(b) = &s.broker {
        println!("broker:   {}", visible(b));
    }
    if let Some(n) = note {
        println!("warning:  {n}");
    }
}

/// `signoff keys …`.
pub fn keys_cmd(args: KeysArgs) -> Result<ExitCode> {
    let store = store(&args.dir)?;
    let session = store.load()?.ok_or(SessionError::NotSignedIn)?;
    let broker = or_deprecated(args.broker.clone())
        .or(session.broker.clone())
        .ok_or_else(|| eyre!("which broker? pass --broker URL (or set SIGNOFF_BROKER_URL)"))?;
    let keys = BrokerKeys::new(broker.clone(), Arc::new(SessionStore::new(store.dir())));
    let key_path = store.device_key_path();
    let local = DeviceKey::load(&key_path)?;
    runtime()?.block_on(async {
        match args.command {
            KeysCommand::List => {
                let list = keys.list().await?;
                if list.keys.is_empty() {
                    println!("No keys registered for {}.", visible(&session.identity.subject));
                }
                for k in list.keys {
                    let this = local.as_ref().is_some_and(|l| l.key_id() == k.key_id);
                    let state = k.revoked_at.map(|t| format!("revoked {t}")).unwrap_or_else(|| "active".into());
                    println!("{}  {:<24} created {}  {state}{}", k.key_id, visible(&k.label), k.created_at, if this { "  (this device)" } else { "" });
                }
            }
            KeysCommand::Register => {
                let (key, _) = DeviceKey::load_or_create(&key_path)?;
                let created = login::register_key(&broker, &store, &key).await?;
                println!("Key {} {} at {broker}", key.key_id(), if created { "registered" } else { "was already registered" });
            }
            KeysCommand::Rotate => {
                let new = DeviceKey::generate()?;
                // Register first: if the broker refuses, the old key stays in use.
                login::register_key(&broker, &store, &new).await?;
                new.save(&key_path)?;
                println!("New key {} registered and stored in {}", new.key_id(), key_path.display());
                if let Some(old) = local {
                    match keys.revoke(&old.key_id()).await {
                        Ok(_) => println!("Old key {} revoked", old.key_id()),
                        Err(e) => println!("Old key {} NOT revoked: {e}; run `signoff keys revoke {}`", old.key_id(), old.key_id()),
                    }
                }
            }
            KeysCommand::Revoke { key_id } => {
                let id = KeyId(key_id);
                let info = keys.revoke(&id).await?;
                println!("Key {} revoked at {}", info.key_id, info.revoked_at.map(|t| t.to_string()).unwrap_or_default());
                if local.as_ref().is_some_and(|l| l.key_id() == id) {
                    super::files::remove_private(&key_path)?;
                    println!("It was this device's key: deleted it; `signoff keys register` makes a new one.");
                }
            }
        }
        Ok::<_, Report>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
