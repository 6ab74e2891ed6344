//! Shared set-up for the MCP tests: one real broker per test binary (on 127.0.0.1:0, its
//! own runtime on a background thread, data under the target dir), the official MCP Python
//! SDK installed from its hash-pinned requirements, and a driver for `tests/mcp/client.py`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use serde_json::Value;
use signoff::auth::static_tokens::{StaticToken, StaticTokens};
use signoff::auth::{PrincipalKind, hash_token};
use signoff::broker::{Settings, policy::Engine, spawn};
use signoff::demo::peer::FeedApprover;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub const AGENT: &str = "mcp-bot";
pub const AGENT_TOKEN: &str = "mcp-agent-token-for-tests";
pub const ALICE_TOKEN: &str = "mcp-alice-token-for-tests";

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

/// The broker every test in this binary shares; tests tell their actions apart by summary.
pub fn broker_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "mcp-broker-{}",
            std::path::Path::new(std::env::args().next().as_deref().unwrap_or("t"))
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("broker dir");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("broker runtime");
            rt.block_on(async move {
                let auth = StaticTokens::new([
                    token(AGENT_TOKEN, PrincipalKind::Agent, AGENT),
                    token(ALICE_TOKEN, PrincipalKind::Approver, "alice"),
                ]);
                let policy = Engine::from_toml_str("").expect("empty policy");
                let broker = spawn(Settings::new(Arc::new(auth), policy, dir.join("data")))
                    .await
                    .expect("broker starts");
                tx.send(broker.url()).expect("url sent");
                std::future::pending::<()>().await;
            });
        });
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the shared broker starts")
    })
}

/// The approver `alice`, with a fresh feed connection.
pub async fn alice(seed: u8) -> FeedApprover {
    FeedApprover::connect(
        broker_url(),
        ALICE_TOKEN,
        SigningKey::from_bytes(&[seed; 32]),
    )
    .await
    .expect("approver connects")
}

pub fn mcp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp")
}

/// Installs the Python SDK once per test binary (`install.sh` is idempotent).
pub fn ensure_python() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let status = std::process::Command::new("bash")
            .arg(mcp_dir().join("install.sh"))
            .status()
            .expect("bash runs tests/mcp/install.sh");
        assert!(status.success(), "tests/mcp/install.sh failed");
    });
}

/// The environment `signoff mcp` runs with: the shared broker and the test agent.
pub fn agent_env() -> Vec<(&'static str, String)> {
    vec![
        ("SIGNOFF_BIN", env!("CARGO_BIN_EXE_signoff").to_string()),
        ("SIGNOFF_BROKER_URL", broker_url().to_string()),
        ("SIGNOFF_AGENT_TOKEN", AGENT_TOKEN.to_string()),
        ("SIGNOFF_AGENT_ID", AGENT.to_string()),
        ("SIGNOFF_ENV", "staging".to_string()),
    ]
}

/// One run of `tests/mcp/client.py`: JSON events out, one-line commands in.
pub struct PyClient {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
}

impl PyClient {
    pub fn start(scenario: &str, args: &Value) -> PyClient {
        Self::start_with(scenario, args, &agent_env())
    }

    pub fn start_with(scenario: &str, args: &Value, env: &[(&str, String)]) -> PyClient {
        ensure_python();
        let mut cmd = Command::new(mcp_dir().join(".venv/bin/python"));
        cmd.arg(mcp_dir().join("client.py"))
            .arg(scenario)
            .arg(args.to_string())
            .env_remove("SIGNOFF_ENV")
            .env_remove("CI")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("python starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        PyClient {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next event; panics after a minute or at the end of output.
    pub async fn event(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(90), self.lines.next_line())
            .await
            .expect("the client says something in time")
            .expect("client stdout")
            .expect("the client ended without the expected event");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    /// The next event, which must be `name` (a `connected` event before it is skipped).
    pub async fn expect(&mut self, name: &str) -> Value {
        let mut e = self.event().await;
        if e["event"] == "connected" && name != "connected" {
            e = self.event().await;
        }
        assert_eq!(e["event"], name, "{e}");
        e
    }

    pub async fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write to client");
        stdin.flush().await.expect("flush");
    }

    /// Waits for the client to exit successfully.
    pub async fn finish(mut self) {
        drop(self.stdin.take());
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("the client exits in time")
            .expect("client status");
        assert!(status.success(), "client failed: {status}");
    }
}

/// A request_approval call with a unique summary.
pub fn call(summary: &str, extra: Value) -> Value {
    let mut c = serde_json::json!({
        "kind": "service.restart",
        "summary": summary,
        "target": "k8s:deployment/web",
    });
    if let (Some(obj), Value::Object(more)) = (c.as_object_mut(), extra) {
        obj.extend(more);
    }
    c
}

/// True while process `pid` exists.
pub fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}
