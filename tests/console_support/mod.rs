//! The brokers the console tests run against.
//!
//! [`real_broker`]: the real broker on 127.0.0.1 over a fresh SQLite file, with the static
//! tokens of [`pty::broker_auth`]; [`submit`] sends it a request as `agent-7`. Every test
//! that needs no fault uses it.
//!
//! [`FakeBroker`]: a small stand-in for the approver side, on a real socket at
//! 127.0.0.1:0 (bearer check, `POST /v1/keys`, and `GET /v1/feed`: hello → welcome →
//! snapshot or resume, get_action → the body, decide → signature and digest checks →
//! ack + resolved), for the faults the real broker does not make on demand: going away
//! and coming back on the same address with the same state, tampering with a body,
//! showing exactly what the console sent.

#![allow(dead_code)]

pub mod pty;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use signoff::protocol::api::{KeyInfo, KeyRegistration};
use signoff::protocol::decision::decode_public_key;
use signoff::protocol::messages::{ClientMsg, Identity, ServerMsg, decode_client, encode};
use signoff::protocol::{
    Action, ActionId, ActionRow, ErrorCode, KeyId, PROTOCOL_VERSION, Status, Timestamp,
};
use tokio::sync::{Notify, broadcast, mpsc};

/// The real broker on 127.0.0.1 over a fresh SQLite data directory (kept with it).
pub async fn start_real_broker() -> (tempfile::TempDir, signoff::broker::RunningBroker) {
    let data = tempfile::tempdir().unwrap();
    let settings = signoff::broker::Settings::new(
        pty::broker_auth(),
        signoff::broker::policy::Engine::default(),
        data.path(),
    );
    let broker = signoff::broker::spawn(settings).await.unwrap();
    (data, broker)
}

/// [`start_real_broker`] from a synchronous test.
pub fn real_broker(
    rt: &tokio::runtime::Runtime,
) -> (tempfile::TempDir, signoff::broker::RunningBroker) {
    rt.block_on(start_real_broker())
}

/// Submits `request` (an action request's JSON) to the broker at `url` as `agent-7`.
pub fn submit(
    rt: &tokio::runtime::Runtime,
    url: &str,
    request: &serde_json::Value,
) -> signoff::protocol::api::ActionCreated {
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .post(format!("{url}/v1/actions"))
            .bearer_auth("agent-secret")
            .json(request)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "{:?}", resp.text().await);
        resp.json().await.unwrap()
    })
}

/// `GET {url}{path}` with `token`, as JSON (in `pty`, which `mcp_clients` includes alone).
#[allow(unused_imports)] // not every test binary that includes this module calls it
pub use pty::get_json;

/// The request an agent sends for a fixture action: its content, with the id, times
/// and risk left to the broker.
pub fn request_of(a: &Action) -> serde_json::Value {
    let ttl = (a.created_at.millis_until(a.expires_at) / 1000).max(60);
    serde_json::to_value(signoff::protocol::ActionRequest {
        kind: a.kind.clone(),
        summary: a.summary.clone(),
        requester: a.requester.clone(),
        target: a.target.clone(),
        justification: a.justification.clone(),
        context: a.context.clone(),
        command: a.command.clone(),
        change: a.change.clone(),
        ttl_secs: Some(ttl as u64),
    })
    .unwrap()
}

pub struct Shared {
    pub token: String,
    pub subject: String,
    pub actions: Mutex<Vec<Action>>,
    pub seq: Mutex<u64>,
    pub keys: Mutex<Vec<ed25519_dalek::VerifyingKey>>,
    /// Every client message received, in order.
    pub received: mpsc::UnboundedSender<ClientMsg>,
    /// Closes every open feed connection.
    pub kick: Notify,
    pub events: broadcast::Sender<ServerMsg>,
    /// Actions whose body is served with its summary changed (a broker lying about what
    /// it announced): the console must refuse it.
    pub tamper: Mutex<Vec<ActionId>>,
}

pub struct FakeBroker {
    pub url: String,
    pub shared: Arc<Shared>,
    pub received: mpsc::UnboundedReceiver<ClientMsg>,
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeBroker {
    pub async fn start(token: &str, subject: &str, actions: Vec<Action>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(64);
        let shared = Arc::new(Shared {
            token: token.into(),
            subject: subject.into(),
            actions: Mutex::new(actions),
            seq: Mutex::new(5),
            keys: Mutex::new(Vec::new()),
            received: tx,
            kick: Notify::new(),
            events,
            tamper: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = serve(listener, shared.clone());
        Self {
            url: format!("http://{addr}"),
            shared,
            received: rx,
            addr,
            task,
        }
    }

    /// Goes down like a crashed broker: stops listening and drops every connection.
    pub fn stop(&mut self) {
        self.task.abort();
        self.shared.kick.notify_waiters();
    }

    /// Comes back on the same address with the same state (keys, actions, numbers).
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.task = serve(listener, self.shared.clone());
    }

    /// The next client message, or a panic after `secs`.
    pub async fn next_msg(&mut self, secs: u64) -> ClientMsg {
        tokio::time::timeout(Duration::from_secs(secs), self.received.recv())
            .await
            .expect("timed out waiting for a client message")
            .expect("channel closed")
    }

    /// Waits until a console registered a device key (it does so once connected).
    pub fn wait_key_registered(&self, secs: u64) {
        let keys = &self.shared.keys;
        let registered = signoff::testkit::eventually(Duration::from_secs(secs), || {
            (!keys.lock().unwrap().is_empty()).then_some(())
        });
        assert!(registered.is_some(), "key never registered");
    }

    /// Pushes a feed event to every connected console, numbering it.
    pub fn push(&self, make: impl FnOnce(u64) -> ServerMsg) {
        let seq = {
            let mut s = self.shared.seq.lock().unwrap();
            *s += 1;
            *s
        };
        let _ = self.shared.events.send(make(seq));
    }
}

fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) -> tokio::task::JoinHandle<()> {
    let app = Router::new()
        .route("/v1/feed", get(feed))
        .route("/v1/keys", post(keys))
        .with_state(shared);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", shared.token))
}

async fn keys(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(reg): Json<KeyRegistration>,
) -> Response {
    if !authorized(&shared, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(key) = decode_public_key(&reg.public_key) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    shared.keys.lock().unwrap().push(key);
    let info = KeyInfo {
        key_id: KeyId::of(&key),
        subject: shared.subject.clone(),
        public_key: reg.public_key,
        label: reg.label,
        created_at: Timestamp::now(),
        revoked_at: None,
    };
    (StatusCode::CREATED, Json(info)).into_response()
}

async fn feed(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !authorized(&shared, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    ws.on_upgrade(move |socket| session(shared, socket))
}

async fn send(ws: &mut WebSocket, msg: &ServerMsg) -> bool {
    ws.send(Message::Text(encode(msg).into())).await.is_ok()
}

async fn session(shared: Arc<Shared>, mut ws: WebSocket) {
    let mut events = shared.events.subscribe();
    let Some(Ok(Message::Text(t))) = ws.recv().await else {
        return;
    };
    let Ok(hello) = decode_client(t.as_str()) else {
        return;
    };
    let resume = match &hello {
        ClientMsg::Hello { resume_after, .. } => *resume_after,
        _ => return,
    };
    let _ = shared.received.send(hello);
    let head = *shared.seq.lock().unwrap();
    let welcome = ServerMsg::Welcome {
        protocol: PROTOCOL_VERSION,
        identity: Identity {
            subject: shared.subject.clone(),
            email: Some(format!("{}@example.com", shared.subject)),
            name: None,
            groups: vec!["sre".into()],
        },
        server_time: Timestamp::now(),
        head_seq: head,
    };
    if !send(&mut ws, &welcome).await {
        return;
    }
    if resume != Some(head) {
        let rows = shared
            .actions
            .lock()
            .unwrap()
            .iter()
            .map(ActionRow::compute)
            .collect();
        let snapshot = ServerMsg::Snapshot {
            seq: head,
            page: 1,
            pages: 1,
            rows,
        };
        if !send(&mut ws, &snapshot).await {
            return;
        }
    }
    loop {
        tokio::select! {
            _ = shared.kick.notified() => {
                let _ = ws.send(Message::Close(None)).await;
                return;
            }
            ev = events.recv() => match ev {
                Ok(m) => if !send(&mut ws, &m).await { return },
                Err(_) => return,
            },
            frame = ws.recv() => match frame {
                Some(Ok(Message::Text(t))) => {
                    let Ok(msg) = decode_client(t.as_str()) else { return };
                    let _ = shared.received.send(msg.clone());
                    if let ClientMsg::Decide { decision } = msg {
                        for reply in decide(&shared, &decision) {
                            if !send(&mut ws, &reply).await { return }
                        }
                    } else if let ClientMsg::GetAction { request_id, action_id } = msg
                        && !send(&mut ws, &body(&shared, request_id, action_id)).await
                    {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

/// The answer to `get_action` (tampered with when the test asked for it).
fn body(shared: &Shared, request_id: u64, id: ActionId) -> ServerMsg {
    let found = shared
        .actions
        .lock()
        .unwrap()
        .iter()
        .find(|a| a.id == id)
        .cloned();
    match found {
        Some(mut action) => {
            let digest = action.digest();
            if shared.tamper.lock().unwrap().contains(&id) {
                action.summary.push_str(" and also drop the backups");
            }
            ServerMsg::Action {
                request_id,
                action: Box::new(action),
                digest,
            }
        }
        None => ServerMsg::QueryFailed {
            request_id,
            code: ErrorCode::NotFound,
            message: format!("no action {id}"),
        },
    }
}

/// The broker's essential checks, in its order: key, signature, action, digest.
fn decide(shared: &Shared, signed: &signoff::protocol::SignedDecision) -> Vec<ServerMsg> {
    let d = &signed.decision;
    let reject = |code: ErrorCode, message: &str| {
        vec![ServerMsg::Rejected {
            decision_id: d.decision_id,
            code,
            message: message.into(),
        }]
    };
    let keys = shared.keys.lock().unwrap().clone();
    let Some(key) = keys.iter().find(|k| KeyId::of(k) == d.key_id) else {
        return reject(ErrorCode::UnknownKey, "key is not registered");
    };
    if signed.verify(key).is_err() {
        return reject(ErrorCode::BadSignature, "signature does not verify");
    }
    let mut actions = shared.actions.lock().unwrap();
    let Some(pos) = actions.iter().position(|a| a.id == d.action_id) else {
        return reject(ErrorCode::UnknownAction, "no such action");
    };
    if actions[pos].digest() != d.action_digest {
        return reject(ErrorCode::DigestMismatch, "the action changed");
    }
    let mut action = actions.remove(pos);
    action.status = match d.verdict {
        signoff::protocol::Verdict::Approve => Status::Approved,
        signoff::protocol::Verdict::Deny => Status::Denied,
    };
    let mut seq = shared.seq.lock().unwrap();
    *seq += 1;
    vec![
        ServerMsg::Ack {
            decision_id: d.decision_id,
            action_id: d.action_id,
            status: action.status,
            audit_hash: action.digest(),
            checkpoint: None,
        },
        ServerMsg::Resolved {
            seq: *seq,
            row: ActionRow::compute(&action),
            decided_by: vec![shared.subject.clone()],
            reason: d.reason.clone(),
        },
    ]
}
