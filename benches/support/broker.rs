//! A real broker (SQLite file in a temp dir, static tokens) on 127.0.0.1:0, running on
//! its own two-thread runtime as `signoff broker` would in its own process, and the
//! agent side: `POST /v1/actions` with reqwest.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use signoff::auth::static_tokens::{StaticToken, StaticTokens};
use signoff::auth::{Authenticator, PrincipalKind, hash_token};
use signoff::broker::policy::Engine;
use signoff::broker::{RunningBroker, Settings, Tunables};
use signoff::protocol::api::ActionCreated;
use signoff::protocol::{ActionRequest, Requester, RequesterKind, Target};

pub const AGENT_TOKEN: &str = "bench-agent-secret";
pub const APPROVER_TOKEN: &str = "bench-bob-secret";
pub const APPROVER: &str = "bob";

/// The broker and the runtime it runs on. Drop it outside any async context.
pub struct BenchBroker {
    rt: tokio::runtime::Runtime,
    broker: Option<RunningBroker>,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl BenchBroker {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("broker")
            .enable_all()
            .build()
            .expect("broker runtime");
        let settings = Settings::new(auth(), Engine::default(), dir.path());
        let broker = rt
            .block_on(signoff::broker::spawn(settings))
            .expect("broker starts");
        Self {
            url: broker.url(),
            broker: Some(broker),
            rt,
            _dir: dir,
        }
    }
}

impl Drop for BenchBroker {
    fn drop(&mut self) {
        if let Some(b) = self.broker.take() {
            let _ = self.rt.block_on(b.shutdown());
        }
    }
}

/// An agent (`agent-7`) and an approver (`bob`, group sre).
fn auth() -> Arc<dyn Authenticator> {
    Arc::new(StaticTokens::new([
        StaticToken {
            token_sha256: hash_token(AGENT_TOKEN),
            kind: PrincipalKind::Agent,
            subject: "agent-7".into(),
            email: None,
            name: None,
            groups: vec![],
        },
        StaticToken {
            token_sha256: hash_token(APPROVER_TOKEN),
            kind: PrincipalKind::Approver,
            subject: APPROVER.into(),
            email: Some("bob@example.com".into()),
            name: Some("Bob".into()),
            groups: vec!["sre".into()],
        },
    ]))
}

/// A realistic request for `resource`, acting for alice (so bob may approve it).
/// `ttl_secs` lets a bench order the queue: the soonest expiry sorts first.
pub fn request(resource: &str, ttl_secs: u64) -> ActionRequest {
    ActionRequest {
        kind: "db.export".into(),
        summary: format!("Export {resource} to S3 for the churn model"),
        requester: Requester {
            kind: RequesterKind::Agent,
            id: "agent-7".into(),
            display_name: "Data assistant".into(),
            model: Some("claude-opus-4".into()),
            on_behalf_of: Some("alice@example.com".into()),
        },
        target: Target {
            system: "postgres".into(),
            resource: resource.into(),
            environment: "staging".into(),
        },
        justification: "Quarterly churn analysis; analytics asked for the raw table.".into(),
        context: vec![],
        command: None,
        change: Some(signoff::protocol::Change::UnifiedDiff {
            diff: "--- a/exports.toml\n+++ b/exports.toml\n@@ -1,2 +1,2 @@\n-enabled = false\n+enabled = true\n schedule = \"weekly\"\n".into(),
        }),
        ttl_secs: Some(ttl_secs),
    }
}

/// One accepted `POST /v1/actions`: the answer, when it was sent, when it came back.
pub struct Submitted {
    pub created: ActionCreated,
    pub sent: Instant,
    pub answered: Instant,
}

/// The agent's HTTP client.
#[derive(Clone)]
pub struct Agent {
    http: reqwest::Client,
    base: String,
}

impl Agent {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("http client"),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// `POST /v1/actions`, timed.
    pub async fn submit(&self, req: &ActionRequest) -> Submitted {
        let sent = Instant::now();
        let resp = self
            .http
            .post(format!("{}/v1/actions", self.base))
            .bearer_auth(AGENT_TOKEN)
            .json(req)
            .send()
            .await
            .expect("the broker answers");
        assert_eq!(resp.status().as_u16(), 201, "POST /v1/actions refused");
        let created = resp.json().await.expect("ActionCreated");
        Submitted {
            created,
            sent,
            answered: Instant::now(),
        }
    }

    /// Submits `n` actions (`{prefix}-{i}`) with `parallel` requests in flight.
    pub async fn fill(&self, prefix: &str, n: usize, parallel: usize) {
        use futures_util::StreamExt as _;
        futures_util::stream::iter(0..n)
            .map(|i| {
                let agent = self.clone();
                let req = request(&format!("{prefix}-{i:05}"), 3600);
                async move { agent.submit(&req).await }
            })
            .buffer_unordered(parallel.max(1))
            .for_each(|_| async {})
            .await;
    }
}

/// An approver or agent token for a broker started with [`start_in`].
pub fn token(secret: &str, kind: PrincipalKind, subject: &str, groups: &[&str]) -> StaticToken {
    StaticToken {
        token_sha256: format!("sha256:{}", hash_token(secret)),
        kind,
        subject: subject.into(),
        email: None,
        name: None,
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

/// A broker over the store in `dir`, on 127.0.0.1:0, on the caller's runtime (the broker
/// benches keep a store across runs, so they choose the directory).
pub async fn start_in(dir: &Path, tokens: Vec<StaticToken>, tunables: Tunables) -> RunningBroker {
    let mut s = Settings::new(Arc::new(StaticTokens::new(tokens)), Engine::default(), dir);
    s.tunables = tunables;
    signoff::broker::spawn(s).await.expect("broker starts")
}
