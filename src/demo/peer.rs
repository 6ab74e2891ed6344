//! A scripted approver on the feed websocket: registers a device key, reads pending
//! actions and sends signed decisions. The demo's second identity uses it to approve some
//! requests now and then (so quorum and "decided elsewhere" show in the console), and the
//! agent-side tests use it to approve or deny for real.

use std::future::Future;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::protocol::api::{KeyInfo, KeyRegistration};
use crate::protocol::decision::encode_public_key;
use crate::protocol::{
    Action, ActionId, ActionRow, ClientMsg, Decision, DecisionId, ErrorCode, KeyId, ServerMsg,
    Status, Timestamp, Verdict, decode_server, encode,
};

/// Why the scripted approver failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("broker URL {0:?} is not usable")]
    BadUrl(String),
    #[error("registering the device key failed: {0}")]
    Register(String),
    #[error("feed: {0}")]
    Feed(String),
    #[error("decision refused ({code}): {message}")]
    Rejected { code: ErrorCode, message: String },
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One approver identity connected to the feed.
pub struct FeedApprover {
    ws: Ws,
    subject: String,
    key: SigningKey,
    key_id: KeyId,
    /// Pending actions seen but not yet handed out by [`FeedApprover::next_pending`].
    queue: Vec<ActionRow>,
    /// Rows of a snapshot still arriving page by page.
    paging: Vec<ActionRow>,
    next_request: u64,
}

impl FeedApprover {
    /// Registers `key` for the token's subject and opens the feed (`hello` → `welcome`).
    pub async fn connect(broker: &str, token: &str, key: SigningKey) -> Result<Self, PeerError> {
        let base = reqwest::Url::parse(broker).map_err(|_| PeerError::BadUrl(broker.into()))?;
        let keys = base
            .join("v1/keys")
            .map_err(|_| PeerError::BadUrl(broker.into()))?;
        let resp = reqwest::Client::new()
            .post(keys)
            .bearer_auth(token)
            .json(&KeyRegistration {
                public_key: encode_public_key(&key.verifying_key()),
                label: "signoff peer approver".into(),
            })
            .send()
            .await
            .map_err(|e| PeerError::Register(e.to_string()))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            return Err(PeerError::Register(format!("{status}: {body}")));
        }
        let info: KeyInfo = resp
            .json()
            .await
            .map_err(|e| PeerError::Register(e.to_string()))?;
        let mut feed = base.clone();
        let scheme = if base.scheme() == "https" {
            "wss"
        } else {
            "ws"
        };
        feed.set_scheme(scheme)
            .map_err(|_| PeerError::BadUrl(broker.into()))?;
        let feed = feed
            .join("v1/feed")
            .map_err(|_| PeerError::BadUrl(broker.into()))?;
        let mut req = feed
            .as_str()
            .into_client_request()
            .map_err(|e| PeerError::Feed(e.to_string()))?;
        let auth = format!("Bearer {token}")
            .parse()
            .map_err(|_| PeerError::Feed("token is not a valid header value".into()))?;
        req.headers_mut().insert("authorization", auth);
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| PeerError::Feed(e.to_string()))?;
        let mut me = Self {
            ws,
            subject: info.subject,
            key_id: info.key_id,
            key,
            queue: Vec::new(),
            paging: Vec::new(),
            next_request: 1,
        };
        me.send(&ClientMsg::hello(
            concat!("signoff-peer/", env!("CARGO_PKG_VERSION")),
            None,
        ))
        .await?;
        match me.recv(Duration::from_secs(15), "welcome").await? {
            ServerMsg::Welcome { .. } => Ok(me),
            other => Err(PeerError::Feed(format!("expected welcome, got {other:?}"))),
        }
    }

    /// The approver's subject, as the broker resolved the token.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    async fn send(&mut self, msg: &ClientMsg) -> Result<(), PeerError> {
        self.ws
            .send(Message::Text(encode(msg).into()))
            .await
            .map_err(|e| PeerError::Feed(e.to_string()))
    }

    async fn recv(&mut self, within: Duration, what: &'static str) -> Result<ServerMsg, PeerError> {
        // One deadline for the whole call: pings in between must not restart the wait.
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .map_err(|_| PeerError::Timeout(what))?;
            match frame {
                Some(Ok(Message::Text(t))) => {
                    return decode_server(t.as_str()).map_err(|e| PeerError::Feed(e.to_string()));
                }
                Some(Ok(Message::Close(c))) => {
                    return Err(PeerError::Feed(format!("closed by the broker: {c:?}")));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(PeerError::Feed(e.to_string())),
                None => return Err(PeerError::Feed("connection ended".into())),
            }
        }
    }

    /// Absorbs one feed message into the local queue of pending actions.
    fn absorb(&mut self, msg: ServerMsg) {
        match msg {
            ServerMsg::Snapshot {
                page, pages, rows, ..
            } => {
                if page == 1 {
                    self.paging.clear();
                }
                self.paging.extend(rows);
                if page == pages {
                    self.queue = std::mem::take(&mut self.paging);
                }
            }
            ServerMsg::Pending { row, .. } | ServerMsg::Updated { row, .. } => {
                self.queue.retain(|a| a.id != row.id);
                self.queue.push(row);
            }
            ServerMsg::Resolved { row, .. } => self.queue.retain(|a| a.id != row.id),
            _ => {}
        }
    }

    /// The next pending action matching `filter` that this approver has not voted on,
    /// waiting up to `within` for one to arrive. Its body is fetched (`get_action`) and
    /// returned only when its digest is the one the feed announced.
    pub async fn next_pending(
        &mut self,
        within: Duration,
        filter: impl Fn(&ActionRow) -> bool,
    ) -> Result<Action, PeerError> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let me = self.subject.clone();
            if let Some(row) = self
                .queue
                .iter()
                .find(|a| a.status == Status::Pending && filter(a) && !a.voted_by(&me))
                .cloned()
            {
                return self.fetch(&row).await;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let msg = self.recv(left, "a pending action").await?;
            self.absorb(msg);
        }
    }

    /// The full action behind `row`, checked against the row's digest.
    pub async fn fetch(&mut self, row: &ActionRow) -> Result<Action, PeerError> {
        let request_id = self.next_request;
        self.next_request += 1;
        self.send(&ClientMsg::GetAction {
            request_id,
            action_id: row.id,
        })
        .await?;
        loop {
            match self
                .recv(Duration::from_secs(30), "the action's body")
                .await?
            {
                ServerMsg::Action {
                    request_id: r,
                    action,
                    ..
                } if r == request_id => {
                    let digest = action.digest();
                    if digest != row.digest {
                        return Err(PeerError::Feed(format!(
                            "the body of {} has digest {digest}, not the announced {}",
                            row.id, row.digest
                        )));
                    }
                    return Ok(*action);
                }
                ServerMsg::QueryFailed {
                    request_id: r,
                    code,
                    message,
                } if r == request_id => return Err(PeerError::Rejected { code, message }),
                other => self.absorb(other),
            }
        }
    }

    /// Signs and sends a decision on the exact version of `action`; returns the action's
    /// status after the vote once the broker has made it durable (`ack`).
    pub async fn decide(
        &mut self,
        action: &Action,
        verdict: Verdict,
        reason: &str,
    ) -> Result<Status, PeerError> {
        let decision_id = DecisionId::new();
        let signed = Decision {
            decision_id,
            action_id: action.id,
            action_digest: action.digest(),
            verdict,
            reason: reason.into(),
            approver: self.subject.clone(),
            key_id: self.key_id.clone(),
            issued_at: Timestamp::now(),
        }
        .sign(&self.key);
        self.send(&ClientMsg::Decide { decision: signed }).await?;
        loop {
            match self
                .recv(Duration::from_secs(30), "the decision's ack")
                .await?
            {
                ServerMsg::Ack {
                    decision_id: d,
                    status,
                    ..
                } if d == decision_id => {
                    return Ok(status);
                }
                ServerMsg::Rejected {
                    decision_id: d,
                    code,
                    message,
                } if d == decision_id => {
                    return Err(PeerError::Rejected { code, message });
                }
                other => self.absorb(other),
            }
        }
    }

    /// Waits for the pending action `id` and decides it.
    pub async fn decide_id(
        &mut self,
        id: ActionId,
        verdict: Verdict,
        reason: &str,
        within: Duration,
    ) -> Result<Status, PeerError> {
        let action = self.next_pending(within, |a| a.id == id).await?;
        self.decide(&action, verdict, reason).await
    }
}

/// Approves about one in `one_in` pending actions it sees, after a human-like pause of up
/// to `think` (at least a third of it), until `shutdown` completes. Never approves an
/// action on its own behalf; reconnects after a feed error. Returns how many it approved.
pub async fn run_peer_approver(
    broker: String,
    token: String,
    one_in: u64,
    think: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> u64 {
    tokio::pin!(shutdown);
    let mut approved = 0;
    let key = match crate::protocol::decision::generate_signing_key() {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(error = %e, "peer approver disabled: no randomness");
            return 0;
        }
    };
    loop {
        let session = async {
            let mut peer = FeedApprover::connect(&broker, &token, key.clone()).await?;
            let mut seen = std::collections::HashSet::new();
            loop {
                let a = peer
                    .next_pending(Duration::from_secs(3600), |a| !seen.contains(&a.id))
                    .await?;
                seen.insert(a.id);
                let pick = rand_below(one_in.max(1)) == 0;
                if pick && a.requester.on_behalf_of.as_deref() != Some(peer.subject()) {
                    let ms = think.as_millis() as u64;
                    tokio::time::sleep(Duration::from_millis(ms / 3 + rand_below(ms * 2 / 3 + 1)))
                        .await;
                    match peer.decide(&a, Verdict::Approve, "looks fine to me").await {
                        Ok(_) => approved += 1,
                        Err(PeerError::Rejected { code, message }) => {
                            tracing::debug!(%code, %message, "peer approval refused")
                        }
                        Err(e) => return Err::<(), PeerError>(e),
                    }
                }
            }
        };
        tokio::select! {
            _ = &mut shutdown => return approved,
            r = session => if let Err(e) = r {
                tracing::warn!(error = %e, "peer approver: reconnecting");
            }
        }
        tokio::select! {
            _ = &mut shutdown => return approved,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

fn rand_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        Ok(()) => u64::from_le_bytes(b) % n.max(1),
        Err(_) => 0,
    }
}
