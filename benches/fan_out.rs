//! Fan-out: 1,000 console feeds (the real feed client, each its own websocket) on
//! loopback while an agent sends 100 actions/s; delivery latency from the agent starting
//! `POST /v1/actions` to the `pending` event arriving at each feed. The same clients and
//! the same agent then run against a baseline built here: a plain axum websocket server
//! that fans out through a `tokio::sync::broadcast`, with the same routes and a message
//! of the same shape and size (the broker's own risk and policy for the request).
//! Run with `cargo bench --bench fan_out` (`CLIENTS=N`, `SECONDS=N`, `RATE=N`).

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use signoff::client::{FeedConfig, FeedEvent, feed};
use signoff::identity::FixedToken;
use signoff::protocol::api::ActionCreated;
use signoff::protocol::messages::Identity;
use signoff::protocol::{
    Action, ActionId, ActionRequest, PROTOCOL_VERSION, Policy, Risk, ServerMsg, Timestamp, encode,
};
use tokio::sync::{broadcast, mpsc, watch};

use support::broker::{APPROVER_TOKEN, Agent, BenchBroker, Submitted, request};
use support::console::WAIT;
use support::{Stats, env_count, header, machine, runtime};

/// What one run measured.
struct Run {
    delivery: Stats,
    post: Stats,
    expected: usize,
    delivered: usize,
    frame_bytes: usize,
}

fn main() {
    let clients = env_count("CLIENTS", 1000);
    let seconds = env_count("SECONDS", 10);
    let rate = env_count("RATE", 100);
    println!("{}", machine());
    let rt = runtime("bench");
    let broker = BenchBroker::start();
    let (mut ours, template) = rt.block_on(run(&broker.url, clients, seconds, rate));
    drop(broker);
    let baseline = Baseline::start(template);
    let (mut plain, _) = rt.block_on(run(&baseline.url, clients, seconds, rate));
    drop(baseline);
    drop(rt);
    println!(
        "{clients} feeds, {rate} actions/s for {seconds} s (first second not counted); \
         server on its own 2-thread runtime, clients and agent on another"
    );
    println!();
    println!(
        "{}",
        header("fan-out delivery (POST start → event at feed)")
    );
    let goal = "p99 < 50 ms";
    println!("{}", ours.delivery.row("signoff broker", goal));
    println!(
        "{}",
        plain
            .delivery
            .row("baseline: axum ws + tokio broadcast", "")
    );
    println!("{}", ours.post.row("signoff broker: POST → 201", ""));
    println!("{}", plain.post.row("baseline: POST → 201", ""));
    println!();
    for (name, r) in [("signoff broker", &ours), ("baseline", &plain)] {
        println!(
            "{name}: delivered {}/{} events, pending frame {} bytes",
            r.delivered, r.expected, r.frame_bytes
        );
    }
}

/// Connects `clients` feeds, sends `rate` actions/s for `seconds`, collects arrivals.
/// Also returns the risk and policy the server gave the request (the baseline's shape).
async fn run(url: &str, clients: usize, seconds: usize, rate: usize) -> (Run, (Risk, Policy)) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::channel::<()>(clients.max(1));
    let mut feeds = Vec::with_capacity(clients);
    for _ in 0..clients {
        feeds.push(client(url.to_string(), ready_tx.clone(), stop_rx.clone()));
    }
    drop(ready_tx);
    for _ in 0..clients {
        tokio::time::timeout(WAIT, ready_rx.recv())
            .await
            .expect("every feed is welcomed in time")
            .expect("feeds run");
    }
    let agent = Agent::new(url);
    let first = agent.submit(&request("fan-warm", 3600)).await;
    let template = (first.created.risk.clone(), first.created.policy.clone());

    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate.max(1) as u32);
    let mut posts = Vec::new();
    for i in 0..rate * seconds {
        tick.tick().await;
        let agent = agent.clone();
        let req = request(&format!("fan-{i:06}"), 3600);
        posts.push(tokio::spawn(async move { agent.submit(&req).await }));
    }
    let mut sent: HashMap<ActionId, Submitted> = HashMap::new();
    for (i, p) in posts.into_iter().enumerate() {
        let s = p.await.expect("POST task");
        if i >= rate {
            sent.insert(s.created.id, s);
        }
    }
    // Let the last events reach every feed, then stop.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    let mut run = Run {
        delivery: Stats::new(),
        post: Stats::new(),
        expected: sent.len() * clients,
        delivered: 0,
        frame_bytes: 0,
    };
    for f in feeds {
        let arrivals = f.await.expect("feed task");
        for (id, at, bytes) in arrivals {
            run.frame_bytes = run.frame_bytes.max(bytes);
            if let Some(s) = sent.get(&id) {
                run.delivery.push(at - s.sent);
                run.delivered += 1;
            }
        }
    }
    run.post.extend(sent.values().map(|s| s.answered - s.sent));
    (run, template)
}

/// One arrival: which action, when, and (first one only) the frame's size.
type Arrival = (ActionId, Instant, usize);

/// Which client each feed is: `CLIENT=ws` (default) a bare tokio-tungstenite socket that
/// reads the action id out of the frame, `CLIENT=feed` the console's own feed client,
/// which decodes and validates every frame (the bench process then does that 1,000 times
/// per event, on the same two cores as the server).
fn client(url: String, ready: mpsc::Sender<()>, stop: watch::Receiver<bool>) -> Task {
    if std::env::var("CLIENT").is_ok_and(|c| c == "feed") {
        tokio::spawn(console_feed(url, ready, stop))
    } else {
        tokio::spawn(bare_ws(url, ready, stop))
    }
}

type Task = tokio::task::JoinHandle<Vec<Arrival>>;

/// A bare websocket client: bearer header, `hello`, then frames read as text.
async fn bare_ws(
    url: String,
    ready: mpsc::Sender<()>,
    mut stop: watch::Receiver<bool>,
) -> Vec<Arrival> {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

    let ws_url = signoff::client::feed_url(&url).expect("feed URL");
    let mut req = ws_url.into_client_request().expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {APPROVER_TOKEN}").parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket");
    let hello = signoff::protocol::ClientMsg::hello("bench/0", None);
    ws.send(WsMessage::text(encode(&hello)))
        .await
        .expect("hello");
    let mut arrivals = Vec::new();
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::pin!(stopped);
    const KEY: &str = "\"action\":{\"id\":\"";
    loop {
        tokio::select! {
            _ = &mut stopped => return arrivals,
            frame = ws.next() => match frame {
                Some(Ok(WsMessage::Text(t))) => {
                    let at = Instant::now();
                    if t.starts_with("{\"type\":\"welcome\"") {
                        let _ = ready.send(()).await;
                    } else if t.starts_with("{\"type\":\"pending\"")
                        && let Some(i) = t.find(KEY)
                        && let Some(id) = t.get(i + KEY.len()..i + KEY.len() + 26)
                        && let Ok(id) = id.parse::<ActionId>()
                    {
                        let bytes = if arrivals.is_empty() { t.len() } else { 0 };
                        arrivals.push((id, at, bytes));
                    }
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return arrivals,
            },
        }
    }
}

/// The console's feed client: reports ready at `welcome`, then records when each
/// `pending` arrives (and its re-encoded size) until told to stop.
async fn console_feed(
    url: String,
    ready: mpsc::Sender<()>,
    mut stop: watch::Receiver<bool>,
) -> Vec<Arrival> {
    let mut handle = feed::spawn(
        FeedConfig::new(url),
        Arc::new(FixedToken(APPROVER_TOKEN.into())),
    );
    let mut arrivals = Vec::new();
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            _ = &mut stopped => return arrivals,
            ev = handle.events.recv() => match ev {
                Some(FeedEvent::Server(m)) => match *m {
                    ServerMsg::Welcome { .. } => {
                        let _ = ready.send(()).await;
                    }
                    ServerMsg::Pending { row: ref action, .. } => {
                        let at = Instant::now();
                        let bytes = if arrivals.is_empty() { encode(&*m).len() } else { 0 };
                        arrivals.push((action.id, at, bytes));
                    }
                    _ => {}
                },
                Some(_) => {}
                None => return arrivals,
            },
        }
    }
}

/// The baseline: `GET /v1/feed` (welcome, then every broadcast frame) and
/// `POST /v1/actions` (build the action, encode it once, broadcast it), nothing else.
struct Baseline {
    rt: tokio::runtime::Runtime,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

struct Shared {
    tx: broadcast::Sender<Utf8Bytes>,
    seq: AtomicU64,
    shape: (Risk, Policy),
}

impl Baseline {
    fn start(shape: (Risk, Policy)) -> Self {
        let rt = runtime("baseline");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let url = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let addr = listener.local_addr().expect("address");
            let shared = Arc::new(Shared {
                tx: broadcast::channel(1024).0,
                seq: AtomicU64::new(0),
                shape,
            });
            let app = Router::new()
                .route("/v1/feed", get(baseline_feed))
                .route("/v1/actions", post(baseline_post))
                .with_state(shared);
            tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
            format!("http://{addr}")
        });
        Self {
            rt,
            url,
            stop: Some(stop),
        }
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        // Give the graceful shutdown a moment before the runtime goes.
        self.rt
            .block_on(async { tokio::time::sleep(Duration::from_millis(100)).await });
    }
}

async fn baseline_post(State(s): State<Arc<Shared>>, Json(req): Json<ActionRequest>) -> Response {
    let now = Timestamp::now();
    let ttl = req.ttl_secs.unwrap_or(900) as i64;
    let (risk, policy) = s.shape.clone();
    let action = Action::from_request(req, risk, policy, now, now.plus_secs(ttl));
    let seq = s.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let created = ActionCreated {
        id: action.id,
        digest: action.digest(),
        status: action.status,
        risk: action.risk.clone(),
        policy: action.policy.clone(),
        created_at: action.created_at,
        expires_at: action.expires_at,
    };
    let _ = s.tx.send(
        encode(&ServerMsg::Pending {
            seq,
            row: signoff::protocol::ActionRow::compute(&action),
        })
        .into(),
    );
    (StatusCode::CREATED, Json(created)).into_response()
}

async fn baseline_feed(State(s): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| baseline_session(s, socket))
}

async fn baseline_session(s: Arc<Shared>, mut ws: WebSocket) {
    let mut rx = s.tx.subscribe();
    let welcome = ServerMsg::Welcome {
        protocol: PROTOCOL_VERSION,
        identity: Identity {
            subject: "bob".into(),
            email: None,
            name: None,
            groups: vec!["sre".into()],
        },
        server_time: Timestamp::now(),
        head_seq: s.seq.load(Ordering::Relaxed),
    };
    if ws
        .send(Message::Text(encode(&welcome).into()))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(text) => if ws.send(Message::Text(text)).await.is_err() { return },
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            frame = ws.recv() => match frame {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
