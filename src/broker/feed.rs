//! `GET /v1/feed`: the approver's websocket.
//!
//! `hello` → `welcome` → replay or snapshot → live events, with decisions and history
//! queries answered on the same socket. Each connection reads the shared broadcast at its
//! own pace; one that falls more than the queue depth behind (or whose socket stops
//! draining) is closed with `slow_consumer`, so it can never slow the others.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::{broadcast, mpsc};

use super::decide::Rejection;
use super::http::auth::Approver;
use super::live::{Event, Start};
use super::state::AppState;
use super::verify_stage::Job;
use crate::auth::Principal;
use crate::protocol::limits::{MAX_CLIENT_FRAME, MAX_SERVER_FRAME, MAX_SNAPSHOT_PAGE};
use crate::protocol::{
    ActionId, ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg, SignedDecision, Timestamp,
    decode_client, encode,
};

/// How long a client has to send `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Close codes: 1001 going away, 1008 policy violation, 1013 try again later.
const CLOSE_SHUTDOWN: u16 = 1001;
const CLOSE_PROTOCOL: u16 = 1008;
/// 1009: message too big (a client frame over [`MAX_CLIENT_FRAME`]).
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_SLOW: u16 = 1013;

type Sink = SplitSink<WebSocket, Message>;

pub async fn upgrade(
    State(state): State<AppState>,
    Approver(p): Approver,
    ws: WebSocketUpgrade,
) -> Response {
    // The socket refuses larger frames itself (a read error, answered below with
    // `frame_too_large` and close code 1009) so an oversized frame is never buffered.
    ws.max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| async move {
            let subject = p.subject().to_string();
            state
                .metrics
                .feed_subscribers
                .fetch_add(1, Ordering::Relaxed);
            if let Err(reason) = serve(socket, state.clone(), p).await {
                tracing::debug!(%subject, %reason, "feed closed");
            }
            state
                .metrics
                .feed_subscribers
                .fetch_sub(1, Ordering::Relaxed);
        })
}

/// Writes one frame, giving up when the peer stops reading.
async fn send(tx: &mut Sink, msg: Message, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, tx.send(msg)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("send failed: {e}")),
        Err(_) => Err("peer stopped reading".into()),
    }
}

async fn send_text(tx: &mut Sink, json: &str, timeout: Duration) -> Result<(), String> {
    send(tx, Message::Text(json.into()), timeout).await
}

/// Queues a frame without flushing: the loop flushes once nothing else is ready, so a burst
/// of acks and events costs one write instead of one per frame.
async fn feed_text(tx: &mut Sink, json: &str, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, tx.feed(Message::Text(json.into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("send failed: {e}")),
        Err(_) => Err("peer stopped reading".into()),
    }
}

async fn flush(tx: &mut Sink, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, tx.flush()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("send failed: {e}")),
        Err(_) => Err("peer stopped reading".into()),
    }
}

/// Sends `error{code}` and a close frame with the code as its reason.
async fn fail(
    tx: &mut Sink,
    code: ErrorCode,
    message: String,
    close: u16,
    timeout: Duration,
) -> String {
    let err = encode(&ServerMsg::Error {
        code,
        message: message.clone(),
    });
    let _ = send_text(tx, &err, timeout).await;
    let frame = CloseFrame {
        code: close,
        reason: format!("{code}: {message}")
            .chars()
            .take(120)
            .collect::<String>()
            .into(),
    };
    let _ = send(tx, Message::Close(Some(frame)), timeout).await;
    format!("{code}: {message}")
}

async fn first_text(rx: &mut SplitStream<WebSocket>) -> Option<String> {
    while let Some(Ok(m)) = rx.next().await {
        match m {
            Message::Text(t) => return Some(t.to_string()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
    None
}

async fn serve(socket: WebSocket, state: AppState, p: Principal) -> Result<(), String> {
    let t = state.tunables.send_timeout;
    let (mut tx, mut rx) = socket.split();
    let Ok(Some(text)) = tokio::time::timeout(HELLO_TIMEOUT, first_text(&mut rx)).await else {
        let msg = "send `hello` first".to_string();
        return Err(fail(&mut tx, ErrorCode::HelloRequired, msg, CLOSE_PROTOCOL, t).await);
    };
    let resume_after = match decode_client(&text) {
        Ok(ClientMsg::Hello { resume_after, .. }) => resume_after,
        Ok(_) => {
            let msg = "the first message must be `hello`".to_string();
            return Err(fail(&mut tx, ErrorCode::HelloRequired, msg, CLOSE_PROTOCOL, t).await);
        }
        Err(e) => return Err(fail(&mut tx, e.code(), e.to_string(), CLOSE_PROTOCOL, t).await),
    };
    let groups = p.identity.groups.clone();
    let (mut events, start, head) = state.live.subscribe(resume_after, &groups);
    let welcome = ServerMsg::Welcome {
        protocol: PROTOCOL_VERSION,
        identity: p.identity.clone(),
        server_time: Timestamp::now(),
        head_seq: head,
    };
    send_text(&mut tx, &encode(&welcome), t).await?;
    let mut cursor = match start {
        Start::Snapshot { seq, rows } => {
            for page in snapshot_pages(seq, &rows) {
                feed_text(&mut tx, &page, t).await?;
            }
            Cursor { last: seq }
        }
        Start::Replay { after, events } => {
            let mut c = Cursor { last: after };
            for e in &events {
                c.forward(&mut tx, e, &groups, t).await?;
            }
            c
        }
    };
    // The start ends at `head_seq` exactly, so a client knows it has caught up.
    cursor.skip_to(&mut tx, head, t).await?;
    // Then the newest checkpoint, and a newer one whenever the log grows (throttled).
    let mut checkpoints = Checkpoints::new(&state);
    if let Some(json) = checkpoints.take_due(Instant::now()) {
        feed_text(&mut tx, &json, t).await?;
    }
    flush(&mut tx, t).await?;
    let (reply_tx, mut replies) = mpsc::channel::<String>(1024);
    let mut shutdown = state.shutdown.clone();
    let mut ping = tokio::time::interval(state.tunables.ping_interval);
    ping.tick().await;
    let mut unanswered = 0u32;
    let mut unflushed = false;
    let expiry = token_expiry(&p);
    tokio::pin!(expiry);
    loop {
        // Biased: the flush branch, last, runs only when nothing else is ready.
        tokio::select! {
            biased;
            _ = &mut expiry => {
                let msg = "the token expired; reconnect with a fresh one".to_string();
                return Err(fail(&mut tx, ErrorCode::Unauthorized, msg, CLOSE_PROTOCOL, t).await);
            }
            _ = crate::broker::state::stopping(&mut shutdown) => {
                let msg = "the broker is shutting down; reconnect shortly".to_string();
                return Err(fail(&mut tx, ErrorCode::ServerShutdown, msg, CLOSE_SHUTDOWN, t).await);
            }
            ev = events.recv() => match ev {
                Ok(e) => unflushed |= cursor.forward(&mut tx, &e, &groups, t).await?,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    state.metrics.slow_consumers.fetch_add(1, Ordering::Relaxed);
                    let msg = format!(
                        "fell {n} events behind (the limit is {}); reconnect with resume_after",
                        state.tunables.feed_queue_depth
                    );
                    return Err(fail(&mut tx, ErrorCode::SlowConsumer, msg, CLOSE_SLOW, t).await);
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            Some(r) = replies.recv() => {
                feed_text(&mut tx, &r, t).await?;
                unflushed = true;
            }
            changed = checkpoints.rx.changed(), if !checkpoints.waiting => {
                if changed.is_err() {
                    return Ok(());
                }
                checkpoints.waiting = true;
            }
            _ = tokio::time::sleep_until(checkpoints.due.into()), if checkpoints.waiting => {
                if let Some(json) = checkpoints.take_due(Instant::now()) {
                    feed_text(&mut tx, &json, t).await?;
                    unflushed = true;
                }
            }
            msg = rx.next() => match msg {
                None | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Err(e)) => {
                    if let Some(msg) = too_large(&e) {
                        return Err(fail(&mut tx, ErrorCode::FrameTooLarge, msg, CLOSE_TOO_BIG, t).await);
                    }
                    return Err(format!("read failed: {e}"));
                }
                Some(Ok(Message::Pong(_))) => unanswered = 0,
                Some(Ok(Message::Ping(_))) => {}
                Some(Ok(Message::Binary(_))) => {
                    let msg = "frames are JSON text".to_string();
                    return Err(fail(&mut tx, ErrorCode::MalformedFrame, msg, CLOSE_PROTOCOL, t).await);
                }
                Some(Ok(Message::Text(text))) => match decode_client(&text) {
                    Ok(ClientMsg::Decide { decision }) => {
                        spawn_decide(&state, &p, decision, reply_tx.clone())
                    }
                    Ok(ClientMsg::QueryHistory { request_id, query }) => {
                        spawn_query(&state, request_id, query, reply_tx.clone())
                    }
                    Ok(ClientMsg::GetAction { request_id, action_id }) => {
                        spawn_get(&state, &groups, request_id, action_id, reply_tx.clone())
                    }
                    Ok(ClientMsg::Hello { .. }) => {
                        let msg = "`hello` is sent once per connection".to_string();
                        return Err(fail(&mut tx, ErrorCode::InvalidField, msg, CLOSE_PROTOCOL, t).await);
                    }
                    Err(e) => {
                        let close = if e.code() == ErrorCode::FrameTooLarge { CLOSE_TOO_BIG } else { CLOSE_PROTOCOL };
                        return Err(fail(&mut tx, e.code(), e.to_string(), close, t).await);
                    }
                },
            },
            _ = ping.tick() => {
                if unanswered >= 2 {
                    let frame = CloseFrame { code: CLOSE_PROTOCOL, reason: "ping timeout".into() };
                    let _ = send(&mut tx, Message::Close(Some(frame)), t).await;
                    return Err("ping timeout".into());
                }
                unanswered += 1;
                send(&mut tx, Message::Ping(Vec::new().into()), t).await?;
                unflushed = false;
            }
            _ = std::future::ready(()), if unflushed => {
                flush(&mut tx, t).await?;
                unflushed = false;
            }
        }
    }
}

/// At most one `checkpoint` message per this interval per feed: the log can grow with
/// every batch, and a client only needs the newest.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Which checkpoint this feed sent last and when the next may go.
struct Checkpoints {
    rx: tokio::sync::watch::Receiver<Option<crate::protocol::Checkpoint>>,
    /// A newer checkpoint exists and goes out at `due`.
    waiting: bool,
    due: Instant,
    sent_seq: u64,
}

impl Checkpoints {
    fn new(state: &AppState) -> Self {
        Self {
            rx: state.checkpoint.subscribe(),
            waiting: true,
            due: Instant::now(),
            sent_seq: 0,
        }
    }

    /// The encoded newest checkpoint when it is newer than the one sent; either way the
    /// next goes no sooner than [`CHECKPOINT_INTERVAL`] from `now`.
    fn take_due(&mut self, now: Instant) -> Option<String> {
        self.waiting = false;
        let c = self.rx.borrow_and_update().clone()?;
        if c.audit_seq <= self.sent_seq {
            return None;
        }
        self.sent_seq = c.audit_seq;
        self.due = now + CHECKPOINT_INTERVAL;
        Some(encode(&ServerMsg::Checkpoint { checkpoint: c }))
    }
}

/// Resolves when the caller's token expires; never for tokens without an expiry.
async fn token_expiry(p: &Principal) {
    match p.expires_at {
        Some(at) => {
            let ms = Timestamp::now().millis_until(at).max(0);
            tokio::time::sleep(Duration::from_millis(ms.unsigned_abs())).await;
        }
        None => std::future::pending().await,
    }
}

/// Where this feed stands in the event numbering: every number up to `last` was either
/// sent or accounted for by a `skipped` range, so the client sees contiguous numbers and
/// never mistakes an event it may not see for a lost one.
struct Cursor {
    last: u64,
}

impl Cursor {
    /// Queues the event when this approver may see it, preceded by a `skipped` range for
    /// the numbers since the last one sent; true when a frame was queued.
    async fn forward(
        &mut self,
        tx: &mut Sink,
        e: &Arc<Event>,
        groups: &[String],
        t: Duration,
    ) -> Result<bool, String> {
        if e.seq <= self.last || !e.visible_to(groups) {
            return Ok(false);
        }
        self.skip_to(tx, e.seq - 1, t).await?;
        feed_text(tx, &e.json, t).await?;
        self.last = e.seq;
        Ok(true)
    }

    /// Accounts for every number up to `seq` with one `skipped` frame (none when there
    /// is nothing to skip).
    async fn skip_to(&mut self, tx: &mut Sink, seq: u64, t: Duration) -> Result<(), String> {
        if seq > self.last {
            let from = self.last + 1;
            feed_text(tx, &encode(&ServerMsg::Skipped { seq, from }), t).await?;
            self.last = seq;
        }
        Ok(())
    }
}

/// The snapshot as frames of at most [`MAX_SNAPSHOT_PAGE`] bytes of rows each (a page
/// always holds at least one row), built from rows encoded once by [`super::live`].
pub fn snapshot_pages(seq: u64, rows: &[Arc<str>]) -> Vec<String> {
    let mut groups: Vec<&[Arc<str>]> = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, r) in rows.iter().enumerate() {
        if i > start && bytes + r.len() + 1 > MAX_SNAPSHOT_PAGE {
            groups.push(&rows[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += r.len() + 1;
    }
    groups.push(&rows[start..]);
    let pages = groups.len();
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut f = format!(
                r#"{{"type":"snapshot","seq":{seq},"page":{},"pages":{pages},"rows":["#,
                i + 1
            );
            for (j, r) in g.iter().enumerate() {
                if j > 0 {
                    f.push(',');
                }
                f.push_str(r);
            }
            f.push_str("]}");
            f
        })
        .collect()
}

/// The message for a read error that means "frame over the limit", if it is one.
fn too_large(e: &axum::Error) -> Option<String> {
    let text = e.to_string();
    let capacity = text.contains("Space limit exceeded")
        || text.contains("too long")
        || text.contains("too big")
        || text.contains("Capacity");
    capacity.then(|| format!("a client frame may be at most {MAX_CLIENT_FRAME} bytes ({text})"))
}

/// Looks up the key here, hands the vote to the verify stage (identity, key, signature,
/// in batches), which passes it to the writer; answers once the writer has committed it.
async fn decide(
    state: &AppState,
    p: &Principal,
    signed: SignedDecision,
) -> Result<ServerMsg, Rejection> {
    let mut key = state.keys.facts(&signed.decision.key_id);
    if key.is_none() && state.store.shared() {
        // Registered through another broker moments ago: ask the store.
        let id = signed.decision.key_id.clone();
        if let Ok(Some(k)) = state.read(move |s| s.key(&id)).await {
            state.keys.put([k]);
            key = state.keys.facts(&signed.decision.key_id);
        }
    }
    let (decision_id, action_id) = (signed.decision.decision_id, signed.decision.action_id);
    let (reply, rx) = tokio::sync::oneshot::channel();
    let internal = || {
        (
            ErrorCode::Internal,
            "the broker is not accepting decisions".to_string(),
        )
    };
    let job = Job {
        principal: p.clone(),
        signed,
        key,
        reply,
    };
    state.verify.send(job).await.map_err(|_| internal())?;
    let ack = rx.await.map_err(|_| internal())??;
    Ok(ServerMsg::Ack {
        decision_id,
        action_id,
        status: ack.status,
        audit_hash: ack.audit_hash,
        checkpoint: ack.checkpoint,
    })
}

fn spawn_decide(
    state: &AppState,
    p: &Principal,
    signed: SignedDecision,
    out: mpsc::Sender<String>,
) {
    let (state, p) = (state.clone(), p.clone());
    tokio::spawn(async move {
        let received = Instant::now();
        let decision_id = signed.decision.decision_id;
        let msg = match decide(&state, &p, signed).await {
            Ok(ack) => {
                state.metrics.decision_latency(received.elapsed());
                tracing::info!(approver = %p.subject(), decision = %decision_id, "decision recorded");
                ack
            }
            Err((code, message)) => {
                state.metrics.rejection(code);
                tracing::info!(approver = %p.subject(), decision = %decision_id, %code, "decision rejected");
                ServerMsg::Rejected {
                    decision_id,
                    code,
                    message,
                }
            }
        };
        let _ = out.send(encode(&msg)).await;
    });
}

/// Answers `get_action`: the full action when this approver may see it.
fn spawn_get(
    state: &AppState,
    groups: &[String],
    request_id: u64,
    id: ActionId,
    out: mpsc::Sender<String>,
) {
    let (state, groups) = (state.clone(), groups.to_vec());
    tokio::spawn(async move {
        let found = match state.live.pending(&id) {
            Some(a) => Ok(Some((*a).clone())),
            None => state.read(move |s| s.action(&id)).await,
        };
        let failed = |code, message: String| ServerMsg::QueryFailed {
            request_id,
            code,
            message,
        };
        let msg = match found {
            Ok(Some(a))
                if a.status.is_final()
                    || super::decide::may_decide(&groups, &a.policy.approver_groups) =>
            {
                let digest = a.digest();
                ServerMsg::Action {
                    request_id,
                    action: Box::new(a),
                    digest,
                }
            }
            Ok(_) => failed(ErrorCode::NotFound, format!("no action {id} for you")),
            Err(e) => failed(e.code(), e.message().to_string()),
        };
        let json = encode(&msg);
        let json = if json.len() > MAX_SERVER_FRAME {
            let m = format!(
                "action {id} is {} bytes, over the {MAX_SERVER_FRAME}-byte frame limit",
                json.len()
            );
            encode(&failed(ErrorCode::FrameTooLarge, m))
        } else {
            json
        };
        let _ = out.send(json).await;
    });
}

fn spawn_query(
    state: &AppState,
    request_id: u64,
    q: crate::protocol::HistoryQuery,
    out: mpsc::Sender<String>,
) {
    let state = state.clone();
    tokio::spawn(async move {
        // A page of decided actions (each up to 2 MiB) must still fit one frame: when it
        // does not, the same query is asked again for half as many records (one record
        // always fits), and its `next_cursor` continues from there.
        let mut q = q;
        let json = loop {
            let msg = match super::http::history::run(&state, q.clone()).await {
                Ok(page) => ServerMsg::HistoryPage { request_id, page },
                Err(e) => ServerMsg::QueryFailed {
                    request_id,
                    code: e.code(),
                    message: e.message().to_string(),
                },
            };
            let json = encode(&msg);
            let size = q.page_size();
            if json.len() <= MAX_SERVER_FRAME || size <= 1 {
                break json;
            }
            q.limit = Some(size / 2);
        };
        let _ = out.send(json).await;
    });
}
