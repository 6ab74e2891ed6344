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

use super::decide::{Rejection, verify_signer};
use super::http::auth::Approver;
use super::live::{Event, Start};
use super::state::AppState;
use super::writer::Op;
use crate::auth::Principal;
use crate::protocol::limits::MAX_CLIENT_FRAME;
use crate::protocol::{
    ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg, SignedDecision, Timestamp, decode_client,
    encode,
};

/// How long a client has to send `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Close codes: 1001 going away, 1008 policy violation, 1013 try again later.
const CLOSE_SHUTDOWN: u16 = 1001;
const CLOSE_PROTOCOL: u16 = 1008;
const CLOSE_SLOW: u16 = 1013;

type Sink = SplitSink<WebSocket, Message>;

pub async fn upgrade(
    State(state): State<AppState>,
    Approver(p): Approver,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(MAX_CLIENT_FRAME * 2)
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
    match start {
        Start::Snapshot { seq, actions } => {
            let actions = actions.iter().map(|a| (**a).clone()).collect();
            send_text(&mut tx, &encode(&ServerMsg::Snapshot { seq, actions }), t).await?;
        }
        Start::Replay(evs) => {
            for e in evs {
                send_text(&mut tx, &e.json, t).await?;
            }
        }
    }
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
                Ok(e) => unflushed |= forward(&mut tx, &e, &groups, t).await?,
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
            msg = rx.next() => match msg {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
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
                    Ok(ClientMsg::Hello { .. }) => {
                        let msg = "`hello` is sent once per connection".to_string();
                        return Err(fail(&mut tx, ErrorCode::InvalidField, msg, CLOSE_PROTOCOL, t).await);
                    }
                    Err(e) => {
                        return Err(fail(&mut tx, e.code(), e.to_string(), CLOSE_PROTOCOL, t).await);
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

/// Queues the event when this approver may see it; true when a frame was queued.
async fn forward(
    tx: &mut Sink,
    e: &Arc<Event>,
    groups: &[String],
    t: Duration,
) -> Result<bool, String> {
    if e.visible_to(groups) {
        feed_text(tx, &e.json, t).await.map(|()| true)
    } else {
        Ok(false)
    }
}

/// Checks identity, key and signature here, then hands the vote to the writer.
async fn decide(
    state: &AppState,
    p: &Principal,
    signed: SignedDecision,
) -> Result<ServerMsg, Rejection> {
    let key = state.keys.facts(&signed.decision.key_id);
    verify_signer(p, &signed, key.as_ref())?;
    let (decision_id, action_id) = (signed.decision.decision_id, signed.decision.action_id);
    let (reply, rx) = tokio::sync::oneshot::channel();
    let internal = || {
        (
            ErrorCode::Internal,
            "the broker is not accepting decisions".to_string(),
        )
    };
    let op = Op::Vote {
        principal: Box::new(p.clone()),
        signed: Box::new(signed),
        reply,
    };
    state.writer.send(op).await.map_err(|_| internal())?;
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

fn spawn_query(
    state: &AppState,
    request_id: u64,
    q: crate::protocol::HistoryQuery,
    out: mpsc::Sender<String>,
) {
    let state = state.clone();
    tokio::spawn(async move {
        let msg = match super::http::history::run(&state, q).await {
            Ok(page) => ServerMsg::HistoryPage { request_id, page },
            Err(e) => ServerMsg::QueryFailed {
                request_id,
                code: e.code(),
                message: e.message().to_string(),
            },
        };
        let _ = out.send(encode(&msg)).await;
    });
}
