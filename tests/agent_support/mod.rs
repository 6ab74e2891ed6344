//! Shared set-up for the agent-side tests: a real broker on 127.0.0.1:0 with static
//! tokens and a temp data dir, the real `signoff` binary, and a real approver on the feed.

#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use signoff::auth::static_tokens::{StaticToken, StaticTokens};
use signoff::auth::{PrincipalKind, hash_token};
use signoff::broker::{RunningBroker, Settings, policy::Engine, spawn};
use signoff::demo::peer::FeedApprover;
use signoff::protocol::Action;
use tokio::process::{Child, Command};

pub const AGENT: &str = "ci-bot";
pub const AGENT_TOKEN: &str = "agent-token-for-tests";
pub const ALICE_TOKEN: &str = "alice-token-for-tests";
pub const BOB_TOKEN: &str = "bob-token-for-tests";

/// A broker with one agent (`ci-bot`) and two approvers (`alice`, `bob`).
pub struct Env {
    pub broker: RunningBroker,
    pub dir: tempfile::TempDir,
}

fn token(secret: &str, kind: PrincipalKind, subject: &str) -> StaticToken {
    StaticToken {
        token_sha256: hash_token(secret),
        kind,
        subject: subject.into(),
        email: Some(format!("{subject}@example.com")),
        name: None,
        groups: vec!["sre".into()],
    }
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

/// A broker that takes requester callbacks under `allow`, signed with `whsec`.
pub async fn start_with_callbacks(allow: &str, whsec: &str) -> Env {
    let cb = signoff::broker::notify::config::CallbacksConfig {
        allow: vec![allow.to_string()],
        secret_env: Some("CALLBACK_SECRET".into()),
        ..Default::default()
    };
    let secret = whsec.to_string();
    let lookup = move |_: &str| Some(secret.clone());
    let notify = signoff::broker::notify::config::load(&[], Some(&cb), Path::new("."), &lookup)
        .expect("callback settings");
    start_with(move |s| s.notify = notify).await
}

async fn start_with(configure: impl FnOnce(&mut Settings)) -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let auth = StaticTokens::new([
        token(AGENT_TOKEN, PrincipalKind::Agent, AGENT),
        token(ALICE_TOKEN, PrincipalKind::Approver, "alice"),
        token(BOB_TOKEN, PrincipalKind::Approver, "bob"),
    ]);
    let policy = Engine::from_toml_str("").expect("empty policy");
    let mut settings = Settings::new(Arc::new(auth), policy, dir.path().join("data"));
    configure(&mut settings);
    let broker = spawn(settings).await.expect("broker starts");
    Env { broker, dir }
}

impl Env {
    /// `signoff <args>` with the broker and agent token in its environment.
    pub fn signoff(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_signoff"));
        c.args(args)
            .env("SIGNOFF_BROKER_URL", self.broker.url())
            .env("SIGNOFF_AGENT_TOKEN", AGENT_TOKEN)
            .env("SIGNOFF_AGENT_ID", AGENT)
            // Audit checkpoints the agent keeps go to the test's own directory.
            .env("SIGNOFF_STATE_DIR", self.dir.path().join("state"))
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITLAB_CI")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.signoff(args).spawn().expect("signoff binary starts")
    }

    pub async fn approver(&self, token: &str, seed: u8) -> FeedApprover {
        FeedApprover::connect(
            &self.broker.url(),
            token,
            SigningKey::from_bytes(&[seed; 32]),
        )
        .await
        .expect("approver connects")
    }

    /// The audit log as exported by `signoff audit export`, one JSON value per entry.
    pub async fn audit(&self) -> Vec<serde_json::Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
            .args(["audit", "export", "--data"])
            .arg(self.broker.data_dir.as_os_str())
            .output()
            .await
            .expect("audit export runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
            .collect()
    }
}

/// The standard flags of a low-risk request.
pub fn request_flags<'a>(summary: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "request",
        "--kind",
        "service.restart",
        "--summary",
        summary,
        "--target",
        "k8s:deployment/web",
        "--env",
        "staging",
    ];
    v.extend_from_slice(extra);
    v
}

/// Waits for the child to exit (bounded) and returns (code, stdout, stderr).
pub async fn finish(child: Child) -> (i32, String, String) {
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("signoff exits in time")
        .expect("signoff output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The pending action whose summary is `summary`, as the approver sees it.
pub async fn pending(approver: &mut FeedApprover, summary: &str) -> Action {
    approver
        .next_pending(Duration::from_secs(30), |a| a.summary == summary)
        .await
        .expect("the action reaches the feed")
}

pub fn exists(p: &Path) -> bool {
    p.try_exists().unwrap_or(false)
}
