//! The approver feed: one websocket to `GET /v1/feed`, kept alive across drops.
//!
//! A background task owns the socket. It connects with the bearer header, sends `hello`
//! (with `resume_after` = the last event number it saw, so the broker replays what was
//! missed or sends a fresh snapshot), forwards every broker message as a [`FeedEvent`],
//! and sends what the console asks it to. When the socket drops it reports why and
//! retries with exponential backoff and jitter ([`super::backoff`]). The backoff starts
//! over only once a connection was healthy — welcomed and caught up to the welcome's
//! `head_seq` (the last snapshot page, or the replay's last event or `skipped` range) —
//! so a broker that welcomes and then fails the start is retried ever more slowly, and
//! the reason says what failed ("snapshot refused: …"). Whether a decision
//! in flight is re-sent is the console's call, not this task's: it alone knows what the
//! approver saw.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use super::backoff::{Backoff, BackoffConfig, random_jitter};
use super::{feed_url, token_expiry};
use crate::identity::{TokenError, TokenSource};
use crate::protocol::limits::MAX_SERVER_FRAME;
use crate::protocol::messages::{ClientMsg, ServerMsg, decode_server, encode};
use crate::protocol::time::Timestamp;

/// How the feed connects.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// The broker's base URL, `http(s)://host:port`.
    pub broker_url: String,
    /// Sent in `hello`, for the broker's logs.
    pub client_name: String,
    pub backoff: BackoffConfig,
    /// Longest wait for the TCP + TLS + upgrade handshake.
    pub connect_timeout: Duration,
    /// A ping is sent after this much silence; the socket is dropped after three times it.
    pub keepalive: Duration,
}

impl FeedConfig {
    pub fn new(broker_url: impl Into<String>) -> Self {
        Self {
            broker_url: broker_url.into(),
            client_name: format!("signoff-console/{}", env!("CARGO_PKG_VERSION")),
            backoff: BackoffConfig::default(),
            connect_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(15),
        }
    }
}

/// What the feed task reports to the console, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEvent {
    /// A connection attempt started (attempt 0 is the first, 1.. are retries).
    Connecting { attempt: u32 },
    /// The websocket is open and `hello` was sent.
    Connected,
    /// A message from the broker.
    Server(Box<ServerMsg>),
    /// The connection dropped or could not be made.
    Disconnected { reason: String },
    /// The next attempt starts after `delay`.
    Retrying { attempt: u32, delay: Duration },
    /// The bearer in use, for the status bar: its expiry when it is a JWT.
    Token { expires_at: Option<Timestamp> },
    /// The session is dead (no token, or the broker refused it): sign in again, then
    /// send [`FeedCommand::Reconnect`].
    SignedOut { reason: String },
    /// A frame from the broker that could not be understood; the feed carries on.
    Garbled { reason: String },
}

/// What the console asks the feed task to do.
#[derive(Debug, Clone)]
pub enum FeedCommand {
    /// Send a message now; dropped when not connected (the console re-sends after
    /// reconnect if it still should).
    Send(Box<ClientMsg>),
    /// Try to connect now (after a sign-in, or to skip the backoff wait).
    Reconnect,
    /// Reconnect without `resume_after`, so the broker sends a fresh snapshot (the
    /// console noticed a gap in the event numbers).
    Resync,
}

/// The console's end of the feed.
pub struct FeedHandle {
    pub events: mpsc::Receiver<FeedEvent>,
    commands: mpsc::UnboundedSender<FeedCommand>,
    task: JoinHandle<()>,
}

impl FeedHandle {
    pub fn send(&self, msg: ClientMsg) {
        // The task lives as long as the handle; a send after it ended has nowhere to go.
        let _ = self.commands.send(FeedCommand::Send(Box::new(msg)));
    }

    pub fn reconnect(&self) {
        let _ = self.commands.send(FeedCommand::Reconnect);
    }

    pub fn resync(&self) {
        let _ = self.commands.send(FeedCommand::Resync);
    }

    /// A sender usable from other tasks.
    pub fn commander(&self) -> mpsc::UnboundedSender<FeedCommand> {
        self.commands.clone()
    }
}

impl Drop for FeedHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the feed task. It runs until the handle is dropped.
pub fn spawn(config: FeedConfig, tokens: Arc<dyn TokenSource>) -> FeedHandle {
    let (ev_tx, ev_rx) = mpsc::channel(1024);
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(config, tokens, ev_tx, cmd_rx));
    FeedHandle {
        events: ev_rx,
        commands: cmd_tx,
        task,
    }
}

/// Why one connection ended.
enum Ended {
    /// Dropped or refused: back off and retry.
    Retry(String),
    /// The token was refused: wait for a sign-in.
    SignedOut(String),
    /// The console went away.
    Closed,
}

struct Task {
    config: FeedConfig,
    tokens: Arc<dyn TokenSource>,
    events: mpsc::Sender<FeedEvent>,
    commands: mpsc::UnboundedReceiver<FeedCommand>,
    last_seq: Option<u64>,
    /// Which of the listed brokers (`a,b,c`: several on one database) to try next.
    broker: usize,
}

async fn run(
    config: FeedConfig,
    tokens: Arc<dyn TokenSource>,
    events: mpsc::Sender<FeedEvent>,
    commands: mpsc::UnboundedReceiver<FeedCommand>,
) {
    let mut backoff = Backoff::new(config.backoff);
    let mut task = Task {
        config,
        tokens,
        events,
        commands,
        last_seq: None,
        broker: 0,
    };
    loop {
        if !task
            .emit(FeedEvent::Connecting {
                attempt: backoff.attempt(),
            })
            .await
        {
            return;
        }
        let ended = task.connect_once(&mut backoff).await;
        match ended {
            Ended::Closed => return,
            Ended::SignedOut(reason) => {
                if !task.emit(FeedEvent::SignedOut { reason }).await {
                    return;
                }
                if !task.wait_for_reconnect(None).await {
                    return;
                }
                backoff.succeeded();
            }
            Ended::Retry(reason) => {
                tracing::info!(%reason, "feed disconnected");
                // Several brokers on one database: the next one resumes where this one
                // stopped (event numbers are the database's).
                task.broker += 1;
                if !task.emit(FeedEvent::Disconnected { reason }).await {
                    return;
                }
                let (attempt, delay) = backoff.failed(random_jitter());
                if !task.emit(FeedEvent::Retrying { attempt, delay }).await {
                    return;
                }
                if !task.wait_for_reconnect(Some(delay)).await {
                    return;
                }
            }
        }
    }
}

impl Task {
    async fn emit(&self, ev: FeedEvent) -> bool {
        self.events.send(ev).await.is_ok()
    }

    /// Waits out `delay` (or forever), returning early on `Reconnect`. Sends asked for
    /// meanwhile are dropped. False when the console went away.
    async fn wait_for_reconnect(&mut self, delay: Option<Duration>) -> bool {
        let deadline = delay.map(|d| Instant::now() + d);
        loop {
            let cmd = match deadline {
                Some(at) => match tokio::time::timeout_at(at, self.commands.recv()).await {
                    Ok(cmd) => cmd,
                    Err(_) => return true,
                },
                None => self.commands.recv().await,
            };
            match cmd {
                None => return false,
                Some(FeedCommand::Reconnect) => return true,
                Some(FeedCommand::Resync) => {
                    self.last_seq = None;
                    return true;
                }
                Some(FeedCommand::Send(msg)) => {
                    tracing::warn!(?msg, "not connected: message dropped");
                }
            }
        }
    }

    async fn connect_once(&mut self, backoff: &mut Backoff) -> Ended {
        let bearer = match self.tokens.bearer().await {
            Ok(t) => t,
            Err(TokenError::SignedOut(r)) => return Ended::SignedOut(r),
            Err(TokenError::Unreachable(r)) => return Ended::Retry(format!("sign-in: {r}")),
        };
        if !self
            .emit(FeedEvent::Token {
                expires_at: token_expiry(&bearer),
            })
            .await
        {
            return Ended::Closed;
        }
        let urls = super::http::broker_urls(&self.config.broker_url);
        let broker = match urls.len() {
            0 => self.config.broker_url.clone(),
            n => urls[self.broker % n].clone(),
        };
        let url = match feed_url(&broker) {
            Ok(u) => u,
            Err(e) => return Ended::Retry(e.to_string()),
        };
        let mut request = match url.as_str().into_client_request() {
            Ok(r) => r,
            Err(e) => return Ended::Retry(format!("bad broker URL: {e}")),
        };
        match HeaderValue::from_str(&format!("Bearer {bearer}")) {
            Ok(v) => {
                request.headers_mut().insert("authorization", v);
            }
            Err(_) => {
                return Ended::SignedOut("the token has characters a header cannot carry".into());
            }
        }
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(MAX_SERVER_FRAME))
            .max_frame_size(Some(MAX_SERVER_FRAME));
        let connect = tokio_tungstenite::connect_async_with_config(request, Some(ws_config), true);
        let mut ws = match tokio::time::timeout(self.config.connect_timeout, connect).await {
            Err(_) => return Ended::Retry("connect timed out".into()),
            Ok(Err(tungstenite::Error::Http(resp))) => {
                let status = resp.status();
                if status.as_u16() == 401 {
                    return Ended::SignedOut("the broker refused the token (401)".into());
                }
                let body = resp
                    .body()
                    .as_deref()
                    .map(|b| {
                        String::from_utf8_lossy(b)
                            .chars()
                            .take(200)
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                return Ended::Retry(format!("broker answered {status}: {body}"));
            }
            Ok(Err(e)) => return Ended::Retry(describe(&e)),
            Ok(Ok((ws, _))) => ws,
        };
        let hello = ClientMsg::hello(self.config.client_name.clone(), self.last_seq);
        if let Err(e) = ws.send(Message::text(encode(&hello))).await {
            return Ended::Retry(describe(&e));
        }
        if !self.emit(FeedEvent::Connected).await {
            return Ended::Closed;
        }
        let mut last_heard = Instant::now();
        let mut ping = tokio::time::interval(self.config.keepalive);
        ping.tick().await;
        // The welcome's head_seq until the start (snapshot or replay) reached it.
        let mut catching_up: Option<u64> = None;
        let mut healthy = false;
        let mut welcomed = false;
        // Why a connection that ended before it was healthy ended, for the status bar.
        let starting = |welcomed: bool, healthy: bool, why: String| {
            if welcomed && !healthy {
                format!("snapshot refused: {why}")
            } else {
                why
            }
        };
        loop {
            tokio::select! {
                frame = ws.next() => {
                    last_heard = Instant::now();
                    match frame {
                        None => return Ended::Retry("the broker closed the connection".into()),
                        Some(Err(e)) => return Ended::Retry(starting(welcomed, healthy, describe(&e))),
                        Some(Ok(Message::Text(t))) => {
                            match decode_server(t.as_str()) {
                                Ok(msg) => {
                                    if let Some(seq) = msg.seq() {
                                        let done = match &msg {
                                            ServerMsg::Snapshot { page, pages, .. } => page >= pages,
                                            _ => true,
                                        };
                                        if done {
                                            self.last_seq = Some(seq);
                                        }
                                        if done && catching_up.is_some_and(|head| seq >= head) {
                                            catching_up = None;
                                        }
                                    }
                                    if let ServerMsg::Welcome { head_seq, .. } = &msg {
                                        welcomed = true;
                                        let resumed_at_head = self.last_seq == Some(*head_seq);
                                        catching_up = (!resumed_at_head).then_some(*head_seq);
                                    }
                                    if !healthy && catching_up.is_none() && self.last_seq.is_some() {
                                        healthy = true;
                                        backoff.succeeded();
                                    }
                                    match &msg {
                                        ServerMsg::Ack { checkpoint: Some(c), .. }
                                        | ServerMsg::Checkpoint { checkpoint: c } => {
                                            super::checkpoints::keep(&self.config.broker_url, c);
                                        }
                                        _ => {}
                                    }
                                    let fatal = match &msg {
                                        ServerMsg::Error { code, message } => {
                                            Some((*code, format!("{code}: {message}")))
                                        }
                                        _ => None,
                                    };
                                    if !self.emit(FeedEvent::Server(Box::new(msg))).await {
                                        return Ended::Closed;
                                    }
                                    if let Some((_code, reason)) = fatal {
                                        let _ = ws.close(None).await;
                                        // Even `unauthorized` (the token expired on an open
                                        // feed) is a reconnect: it asks the token source
                                        // again, so a session refreshes silently, and a
                                        // token the broker refuses ends in a 401 there.
                                        return Ended::Retry(starting(welcomed, healthy, reason));
                                    }
                                }
                                Err(e) if !healthy && is_snapshot(t.as_str()) => {
                                    // The start cannot be completed without this page.
                                    tracing::warn!(error = %e, "unreadable snapshot page");
                                    let _ = ws.close(None).await;
                                    return Ended::Retry(starting(welcomed, false, e.to_string()));
                                }
                                Err(e) => {
                                    tracing::warn!(error = %e, "garbled frame from broker");
                                    if !self.emit(FeedEvent::Garbled { reason: e.to_string() }).await {
                                        return Ended::Closed;
                                    }
                                }
                            }
                        }
                        Some(Ok(Message::Close(frame))) => {
                            let why = frame
                                .map(|f| format!("closed by broker: {} {}", u16::from(f.code), f.reason))
                                .unwrap_or_else(|| "closed by broker".into());
                            return Ended::Retry(starting(welcomed, healthy, why));
                        }
                        Some(Ok(_)) => {}
                    }
                }
                cmd = self.commands.recv() => match cmd {
                    None => {
                        let _ = ws.close(None).await;
                        return Ended::Closed;
                    }
                    Some(FeedCommand::Reconnect) => {
                        let _ = ws.close(None).await;
                        return Ended::Retry("reconnect requested".into());
                    }
                    Some(FeedCommand::Resync) => {
                        self.last_seq = None;
                        let _ = ws.close(None).await;
                        return Ended::Retry("resynchronising: fetching a fresh snapshot".into());
                    }
                    Some(FeedCommand::Send(msg)) => {
                        if let Err(e) = ws.send(Message::text(encode(&*msg))).await {
                            return Ended::Retry(describe(&e));
                        }
                    }
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > self.config.keepalive * 3 {
                        return Ended::Retry("no answer from the broker (keepalive)".into());
                    }
                    if let Err(e) = ws.send(Message::Ping(Vec::new().into())).await {
                        return Ended::Retry(describe(&e));
                    }
                }
            }
        }
    }
}

/// True when `frame` is a JSON object whose `type` is `snapshot` (whatever else is wrong
/// with it).
fn is_snapshot(frame: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Tag<'a> {
        #[serde(rename = "type", borrow)]
        ty: Option<&'a str>,
    }
    serde_json::from_str::<Tag>(frame).is_ok_and(|t| t.ty == Some("snapshot"))
}

/// A short human reason for a websocket error.
fn describe(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Io(io) => format!("network: {io}"),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            "connection closed".into()
        }
        tungstenite::Error::Tls(t) => format!("TLS: {t}"),
        other => other.to_string(),
    }
}
