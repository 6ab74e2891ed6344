//! `signoff demo`: the whole loop on one machine, in one process.
//!
//! A development issuer and a broker on ephemeral loopback ports with a temporary data
//! dir, sample agents sending realistic requests, a second approver voting now and then,
//! the console, signing in in its login dialog through the same device-flow code a real
//! issuer gets.
//! Quitting stops every task and removes the temporary directory.

pub mod peer;
pub mod samples;
mod samples_text;
pub mod traffic;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::static_tokens::{StaticToken, StaticTokens};
use crate::auth::{PrincipalKind, hash_token};
use crate::broker::dev::trusting_dev_issuer;
use crate::broker::policy::Engine;
use crate::broker::{Settings, spawn};
use crate::console::edge::cli::init_logging;
use crate::console::edge::config::{self, Flags};
use crate::console::edge::device_login::DeviceLogin;
use crate::console::edge::runtime::{RunOptions, run};
use crate::console::ui::theme::Theme;
use crate::identity::dev_issuer::{self, DevIdentity, DevIssuerConfig};
use crate::identity::{DeviceKey, SessionStore};
use crate::mcp::snippet;
use crate::report::{Report, Result, WrapErr as _, eyre};
use peer::run_peer_approver;
use samples::SAMPLE_AGENTS;
use traffic::{SampleTokens, run_traffic};

/// The policy the demo runs with: the commented example shipped in `examples/`.
const DEMO_POLICY: &str = include_str!("../../examples/policy.toml");

/// Removes the demo's temporary directory however the demo ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `signoff demo` flags: the console's look.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DemoArgs {
    /// Colour theme: dark, light, high-contrast, colorblind, or a user theme.
    #[arg(long, env = "SIGNOFF_THEME", value_name = "NAME")]
    pub theme: Option<String>,
}

/// What to run in a second terminal while the demo runs: its broker, the approver's
/// history through the demo's sign-in session, and one more request as a sample agent.
pub fn second_terminal(broker: &str, session_dir: &str, agent: &str, token: &str) -> String {
    format!(
        "signoff demo: broker {broker} (stops when you quit the demo).\n\
         In a second terminal, while it runs:\n  \
         SIGNOFF_DATA_DIR={session_dir} signoff history --broker {broker}\n  \
         SIGNOFF_AGENT_TOKEN={token} signoff request --broker {broker} \
         --requester-id {agent} --kind deploy.rollout --summary 'Roll out checkout v2' \
         --target k8s:deployment/checkout --env staging --wait\n"
    )
}

/// Runs the demo until the console quits.
pub fn main(args: DemoArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .wrap_err("starting the runtime")?;
    rt.block_on(demo(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn demo(args: DemoArgs) -> Result<()> {
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    let dir = TempDir(std::env::temp_dir().join(format!("signoff-demo-{suffix}")));
    std::fs::create_dir_all(&dir.0).wrap_err_with(|| format!("creating {}", dir.0.display()))?;
    let _log = init_logging(&dir.0.join("state")).map_err(Report::msg)?;

    let groups = ["sre", "security", "data-governance", "platform"];
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let issuer = dev_issuer::start(
        listener,
        DevIssuerConfig {
            identity: DevIdentity::new("alice@example.com", &groups),
            ..DevIssuerConfig::default()
        },
    )
    .await
    .wrap_err("starting the development issuer")?;

    let samples = SampleTokens::generate().map_err(Report::msg)?;
    let mcp_token = demo_mcp_token()?;
    let mut tokens = samples.static_tokens();
    tokens.push(StaticToken {
        token_sha256: hash_token(&mcp_token),
        kind: PrincipalKind::Agent,
        subject: snippet::DEMO_MCP_AGENT.into(),
        email: None,
        name: Some("Your MCP agent".into()),
        groups: Vec::new(),
    });
    let auth = trusting_dev_issuer(vec![Arc::new(StaticTokens::new(tokens))], &issuer)?;
    let policy = Engine::from_toml_str(DEMO_POLICY)?;
    let broker = spawn(Settings::new(auth, policy, dir.0.join("broker")))
        .await
        .wrap_err("starting the broker")?;
    let url = broker.url();
    offer_mcp_snippet(&dir.0, &url, &mcp_token);
    let (agent, agent_token) = (SAMPLE_AGENTS[5].id, samples.token(SAMPLE_AGENTS[5].id));
    let intro = second_terminal(
        &url,
        &dir.0.join("session").display().to_string(),
        agent,
        agent_token.unwrap_or_default(),
    );
    // Before the console takes the screen (visible again after quitting, and in the log).
    print!("{intro}");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    tracing::info!(broker = %url, "demo started");

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let traffic = tokio::spawn({
        let url = url.clone();
        let stop = stopped(stop_rx.clone());
        async move { run_traffic(&url, samples, Duration::from_secs(7), stop).await }
    });
    let bob = issuer.mint_token(&DevIdentity::new("bob@example.com", &groups));
    let peer = tokio::spawn(run_peer_approver(
        url.clone(),
        bob,
        3,
        Duration::from_secs(6),
        stopped(stop_rx.clone()),
    ));

    // Sign in exactly as against a real issuer, in the console's login dialog: device
    // authorization, then polling; the development issuer confirms by itself.
    let store = SessionStore::new(dir.0.join("session"));
    let (key, _) = DeviceKey::load_or_create(&store.device_key_path())?;
    let login = DeviceLogin::new(
        SessionStore::new(store.dir()),
        issuer.issuer_config(),
        Some(url.clone()),
    );

    let env = |name: &str| std::env::var(name).ok();
    let flags = Flags {
        broker_url: Some(url.clone()),
        issuer: Some(issuer.issuer_url.clone()),
        client_id: None,
        theme: args.theme.clone(),
        key_file: None,
        token: None,
        notifications: None,
    };
    let config = config::resolve(Default::default(), &env, flags)?;
    let theme = if config.no_color {
        Theme::monochrome()
    } else {
        Theme::load(&config.theme, None)?
    };
    let result = run(RunOptions {
        config,
        theme,
        tokens: Arc::new(store),
        key: key.signing_key().clone(),
        login: Some(Arc::new(login)),
        needs_login: true,
        intro: intro.lines().map(str::to_string).collect(),
        review: None,
    })
    .await
    .map_err(Report::new);

    let _ = stop_tx.send(true);
    let _ = traffic.await;
    let _ = peer.await;
    let _ = broker.shutdown().await;
    issuer.shutdown().await;
    result
}

/// A fresh agent token for the MCP snippet.
fn demo_mcp_token() -> Result<String> {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).map_err(|e| eyre!("random token: {e}"))?;
    Ok(format!("sot_demo_{}", hex::encode(b)))
}

/// Writes `mcp.json` (an MCP client configuration for this demo's broker) into the demo's
/// temporary directory and says where, before the console takes the screen; see
/// docs/mcp.md. A failure here only costs the snippet, never the demo.
fn offer_mcp_snippet(dir: &std::path::Path, url: &str, token: &str) {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("signoff"));
    let path = dir.join("mcp.json");
    let snippet = snippet::demo_snippet(&exe, url, token);
    match snippet::write_snippet(&path, &snippet) {
        Ok(()) => eprintln!(
            "signoff demo: let an AI agent ask this demo for approval over MCP, while it runs:\n  \
             claude --mcp-config {}\n  (or copy its \"signoff-demo\" entry into .mcp.json / \
             .cursor/mcp.json; docs/mcp.md)",
            path.display()
        ),
        Err(e) => eprintln!("signoff demo: could not write the MCP snippet: {e}"),
    }
}
