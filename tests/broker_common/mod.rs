//! Shared set-up for the broker's integration tests: a real broker on 127.0.0.1:0 with
//! static tokens, a reqwest client, and a tokio-tungstenite feed client.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use signoff::auth::static_tokens::{StaticToken, StaticTokens};
use signoff::auth::{PrincipalKind, hash_token};
use signoff::broker::policy::Engine;
use signoff::broker::{RunningBroker, Settings, Tunables};
use signoff::protocol::api::{ActionCreated, ActionView, KeyInfo, KeyRegistration};
use signoff::protocol::decision::encode_public_key;
use signoff::protocol::{
    Action, ClientMsg, Decision, DecisionId, KeyId, ServerMsg, SignedDecision, Timestamp, Verdict,
    decode_server, encode,
};

pub const AGENT: &str = "agent-7-token";
pub const AGENT2: &str = "agent-8-token";
pub const BOB: &str = "bob-token";
pub const CAROL: &str = "carol-token";
pub const ALICE: &str = "alice-token";

fn token(secret: &str, kind: PrincipalKind, subject: &str, email: Option<&str>) -> StaticToken {
    StaticToken {
        token_sha256: format!("sha256:{}", hash_token(secret)),
        kind,
        subject: subject.into(),
        email: email.map(String::from),
        name: None,
        groups: vec!["sre".into()],
    }
}

pub fn tokens() -> Vec<StaticToken> {
    vec![
        token(AGENT, PrincipalKind::Agent, "agent-7", None),
        token(AGENT2, PrincipalKind::Agent, "agent-8", None),
        token(BOB, PrincipalKind::Approver, "bob", Some("bob@example.com")),
        token(CAROL, PrincipalKind::Approver, "carol", None),
        token(
            ALICE,
            PrincipalKind::Approver,
            "alice",
            Some("Alice@Example.com"),
        ),
    ]
}

/// A config file for the `signoff broker` binary with the same tokens.
pub fn config_toml() -> String {
    let mut out = String::new();
    for t in tokens() {
        out.push_str(&format!(
            "[[tokens]]\ntoken_sha256 = {:?}\nkind = {:?}\nsubject = {:?}\ngroups = [\"sre\"]\n",
            t.token_sha256,
            match t.kind {
                PrincipalKind::Agent => "agent",
                PrincipalKind::Approver => "approver",
            },
            t.subject
        ));
        if let Some(e) = t.email {
            out.push_str(&format!("email = {e:?}\n"));
        }
    }
    out
}

pub fn settings(dir: &Path, tunables: Tunables) -> Settings {
    let mut s = Settings::new(
        Arc::new(StaticTokens::new(tokens())),
        Engine::default(),
        dir,
    );
    s.tunables = tunables;
    s
}

pub async fn start(dir: &Path) -> RunningBroker {
    signoff::broker::spawn(settings(dir, Tunables::default()))
        .await
        .expect("broker starts")
}

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A valid request from agent-7, acting for alice.
pub fn request(summary: &str) -> Value {
    json!({
        "kind": "db.export",
        "summary": summary,
        "requester": {
            "kind": "agent", "id": "agent-7", "display_name": "Data assistant",
            "on_behalf_of": "alice@example.com"
        },
        "target": {"system": "postgres", "resource": "customers", "environment": "production"},
        "justification": "Quarterly churn analysis",
        "command": {"type": "text", "text": "COPY customers TO 's3://exports/q3.csv'"},
        "ttl_secs": 600
    })
}

pub struct Http {
    pub base: String,
    pub client: reqwest::Client,
}

impl Http {
    pub fn new(b: &RunningBroker) -> Self {
        Self::at(&b.url())
    }

    pub fn at(base: &str) -> Self {
        Self {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("http client"),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(b);
        }
        let resp = r.send().await.expect("request is answered");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `POST /v1/actions/{id}/claim` ("I'm looking"): the status and body.
    pub async fn claim(&self, token: &str, id: &str) -> (u16, Value) {
        let path = format!("/v1/actions/{id}/claim");
        self.send(reqwest::Method::POST, &path, token, None).await
    }

    /// `DELETE /v1/actions/{id}` (withdraw): the status and body.
    pub async fn withdraw(&self, token: &str, id: &str) -> (u16, Value) {
        let path = format!("/v1/actions/{id}");
        self.send(reqwest::Method::DELETE, &path, token, None).await
    }

    pub async fn submit(&self, token: &str, req: &Value) -> ActionCreated {
        let (s, v) = self
            .send(reqwest::Method::POST, "/v1/actions", token, Some(req))
            .await;
        assert_eq!(s, 201, "{v}");
        serde_json::from_value(v).expect("ActionCreated")
    }

    pub async fn view(&self, token: &str, id: &str, wait: u64) -> ActionView {
        let path = format!("/v1/actions/{id}?wait={wait}");
        let (s, v) = self.send(reqwest::Method::GET, &path, token, None).await;
        assert_eq!(s, 200, "{v}");
        serde_json::from_value(v).expect("ActionView")
    }

    pub async fn register(&self, token: &str, k: &SigningKey) -> KeyInfo {
        let body = serde_json::to_value(KeyRegistration {
            public_key: encode_public_key(&k.verifying_key()),
            label: "laptop".into(),
        })
        .expect("json");
        let (s, v) = self
            .send(reqwest::Method::POST, "/v1/keys", token, Some(&body))
            .await;
        assert!(s == 201 || s == 200, "{s} {v}");
        serde_json::from_value(v).expect("KeyInfo")
    }
}

/// What a decision names: an action's id and digest (from its body, or as a feed row
/// announced it).
pub trait Basis {
    fn basis(&self) -> (signoff::protocol::ActionId, signoff::protocol::Digest);
}

impl Basis for Action {
    fn basis(&self) -> (signoff::protocol::ActionId, signoff::protocol::Digest) {
        (self.id, self.digest())
    }
}

impl Basis for signoff::protocol::ActionRow {
    fn basis(&self) -> (signoff::protocol::ActionId, signoff::protocol::Digest) {
        (self.id, self.digest.clone())
    }
}

/// Signs `verdict` on action `id` as `who` (key `seed`, reason "`who` says so") and sends
/// it over `token`'s own feed at `feed_url`; the status the ack reports.
pub async fn vote_on(
    feed_url: &str,
    http: &Http,
    (token, who, seed): (&str, &str, u8),
    id: &str,
    verdict: Verdict,
) -> signoff::protocol::Status {
    let a = http.view(token, id, 0).await.action;
    let (mut feed, _) = Feed::connect_url(feed_url, token, None).await;
    let reason = format!("{who} says so");
    match feed
        .decide(sign(&key(seed), who, &a, verdict, &reason))
        .await
    {
        ServerMsg::Ack { status, .. } => status,
        other => panic!("ack expected, got {other:?}"),
    }
}

pub fn sign(
    k: &SigningKey,
    approver: &str,
    a: &impl Basis,
    verdict: Verdict,
    reason: &str,
) -> SignedDecision {
    let (action_id, action_digest) = a.basis();
    Decision {
        decision_id: DecisionId::new(),
        action_id,
        action_digest,
        verdict,
        reason: reason.into(),
        approver: approver.into(),
        key_id: KeyId::of(&k.verifying_key()),
        issued_at: Timestamp::now(),
    }
    .sign(k)
}

pub struct Feed {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The newest `checkpoint` message seen: [`Feed::next`] keeps it and reads on, since
    /// checkpoints may come between any two messages.
    pub checkpoint: Option<signoff::protocol::Checkpoint>,
}

pub const WAIT: Duration = Duration::from_secs(60);

impl Feed {
    /// Fetches the full action behind `row` (`get_action`), skipping feed events, and
    /// checks it against the row's digest.
    pub async fn get_action(&mut self, row: &signoff::protocol::ActionRow) -> Action {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let request_id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.send(&ClientMsg::GetAction {
            request_id,
            action_id: row.id,
        })
        .await;
        loop {
            match self.next().await {
                ServerMsg::Action {
                    request_id: r,
                    action,
                    digest,
                } if r == request_id => {
                    assert_eq!(digest, row.digest, "the broker's digest is the row's");
                    assert_eq!(
                        action.digest(),
                        row.digest,
                        "the body is what the row announced"
                    );
                    return *action;
                }
                ServerMsg::QueryFailed {
                    request_id: r,
                    code,
                    message,
                } if r == request_id => {
                    panic!("get_action failed: {code}: {message}")
                }
                _ => {}
            }
        }
    }

    /// Connects without sending anything.
    pub async fn raw(b: &RunningBroker, token: &str) -> Self {
        Self::raw_url(&b.feed_url(), token).await
    }

    /// Connects to a feed URL without sending anything.
    pub async fn raw_url(url: &str, token: &str) -> Self {
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket");
        Self {
            ws,
            checkpoint: None,
        }
    }

    /// Connects and sends `hello`; returns the feed and the `welcome`.
    pub async fn connect(
        b: &RunningBroker,
        token: &str,
        resume_after: Option<u64>,
    ) -> (Self, ServerMsg) {
        Self::connect_url(&b.feed_url(), token, resume_after).await
    }

    /// Connects to a feed URL and sends `hello`.
    pub async fn connect_url(
        url: &str,
        token: &str,
        resume_after: Option<u64>,
    ) -> (Self, ServerMsg) {
        let mut f = Self::raw_url(url, token).await;
        f.send(&ClientMsg::hello("test/0", resume_after)).await;
        let w = f.next().await;
        assert!(matches!(w, ServerMsg::Welcome { .. }), "{w:?}");
        (f, w)
    }

    pub async fn send(&mut self, m: &ClientMsg) {
        self.ws
            .send(Message::Text(encode(m).into()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// The next server message (skipping pings and keeping `checkpoint`s), or a panic
    /// after [`WAIT`].
    pub async fn next(&mut self) -> ServerMsg {
        loop {
            match self.next_any().await {
                ServerMsg::Checkpoint { checkpoint } => self.checkpoint = Some(checkpoint),
                m => return m,
            }
        }
    }

    /// The next server message, `checkpoint`s included.
    pub async fn next_any(&mut self) -> ServerMsg {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let m = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("a message within the wait")
                .expect("socket open")
                .expect("frame");
            if let Message::Text(t) = m {
                return decode_server(&t).expect("valid server message");
            }
        }
    }

    /// Reads until a close frame; returns its reason.
    pub async fn closed(&mut self) -> String {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("closes in time")
            {
                Some(Ok(Message::Close(f))) => {
                    return f.map(|f| f.reason.to_string()).unwrap_or_default();
                }
                Some(Ok(_)) => {}
                _ => return String::new(),
            }
        }
    }

    /// Reads until a close frame; returns its code and reason.
    pub async fn close_frame(&mut self) -> (u16, String) {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("closes in time")
            {
                Some(Ok(Message::Close(f))) => {
                    return f
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or_default();
                }
                Some(Ok(_)) => {}
                _ => return (0, String::new()),
            }
        }
    }

    /// The next text frame as sent (its length matters to some tests), `checkpoint`s
    /// skipped.
    pub async fn next_text(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let m = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("a message within the wait")
                .expect("socket open")
                .expect("frame");
            if let Message::Text(t) = m {
                if t.starts_with("{\"type\":\"checkpoint\"") {
                    continue;
                }
                return t.to_string();
            }
        }
    }

    /// Sends a decision and returns the `ack` or `rejected` for it (events skipped).
    pub async fn decide(&mut self, d: SignedDecision) -> ServerMsg {
        let id = d.decision.decision_id;
        self.send(&ClientMsg::Decide { decision: d }).await;
        loop {
            match self.next().await {
                m @ ServerMsg::Ack { decision_id, .. } if decision_id == id => return m,
                m @ ServerMsg::Rejected { decision_id, .. } if decision_id == id => return m,
                _ => {}
            }
        }
    }
}

/// Starts the real `signoff broker` binary over `dir`, listening on `listen`; returns the
/// child (killed on drop) with its base URL, read from the "listening" line.
pub async fn broker_process(dir: &Path, listen: &str) -> (tokio::process::Child, String) {
    broker_process_with(dir, listen, &[]).await
}

/// [`broker_process`] with extra environment variables (e.g. `SIGNOFF_TEST_FAULT`).
pub async fn broker_process_with(
    dir: &Path,
    listen: &str,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let cfg = dir.join("broker.toml");
    std::fs::write(&cfg, config_toml()).expect("broker config");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["broker", "--listen", listen, "--config"])
        .arg(&cfg)
        .arg("--data")
        .arg(dir.join("data"))
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("broker binary starts");
    let stdout = child.stdout.take().expect("broker stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("broker reports its address in time")
        .expect("broker stdout readable")
        .expect("a line");
    let url = line
        .rsplit(' ')
        .next()
        .expect("listening line ends with the URL")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (child, url)
}
