//! The delivery task: sends due outbox rows, retries with backoff and jitter, marks
//! them done. At least once: a message whose "done" mark was lost (a crash between the
//! send and the mark) is sent again, with the same idempotency key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::config::{Callbacks, Retry, Sink, SinkKind};
use super::payload::{Notice, NoticeEvent};
use super::sign::{WebhookKey, backoff, headers, jitter};
use super::{CALLBACK, Health, NotifySettings, pagerduty, slack, teams, webhook};
use crate::broker::store::StoreError;
use crate::broker::store::notify::{Message, Outbox};
use crate::protocol::Timestamp;

/// Messages worked on at once.
const MAX_IN_FLIGHT: usize = 64;
/// Delivered and skipped rows are kept this long, then pruned.
const KEEP_DONE: Duration = Duration::from_secs(7 * 24 * 3600);
/// A leased message's lease outlasts its longest attempt by this much (the reads and
/// marks around the send), so that a live broker never loses a lease it is using.
const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// How long a message taken for sending stays this broker's (on a store several brokers
/// share): the longest attempt of any sink, plus [`LEASE_MARGIN`].
pub fn lease(settings: &NotifySettings) -> Duration {
    settings
        .sinks
        .iter()
        .map(|s| s.retry.timeout)
        .chain(settings.callbacks.iter().map(|c| c.retry.timeout))
        .max()
        .unwrap_or_default()
        + LEASE_MARGIN
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Sent; with the reference later messages edit (Slack's channel and ts).
    Delivered(Option<String>),
    /// Try again (after at least the duration the receiver asked for).
    Retry(String, Option<Duration>),
    /// No retry can help (bad token, unknown channel, a 4xx).
    GiveUp(String),
}

/// What an HTTP status means for delivery; `None` for success.
pub fn classify(status: StatusCode, retry_after: Option<Duration>) -> Option<Attempt> {
    if status.is_success() {
        return None;
    }
    let why = format!("HTTP {}", status.as_u16());
    Some(
        if status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
        {
            Attempt::Retry(why, retry_after)
        } else {
            Attempt::GiveUp(why)
        },
    )
}

/// A transport error in words, never with the URL (a Slack or Teams URL is a secret).
fn transport(e: &reqwest::Error) -> Attempt {
    let why = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    Attempt::Retry(why.into(), None)
}

fn retry_after(r: &reqwest::Response) -> Option<Duration> {
    r.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(3600)))
}

struct Shared {
    sinks: HashMap<String, Sink>,
    callbacks: Option<Callbacks>,
    outbox: Arc<dyn Outbox>,
    health: Arc<Health>,
    client: reqwest::Client,
    lease: Duration,
    /// Slack messages carry the "I'm looking" button (the app's interactivity is set up).
    buttons: bool,
}

/// Runs a call on the outbox, off the async threads.
async fn db<T: Send + 'static>(
    outbox: &Arc<dyn Outbox>,
    f: impl FnOnce(&dyn Outbox) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let outbox = outbox.clone();
    tokio::task::spawn_blocking(move || f(outbox.as_ref()))
        .await
        .map_err(|e| StoreError::Corrupt(format!("notify task: {e}")))?
}

/// The task, ready to run.
pub struct Delivery {
    shared: Arc<Shared>,
    wake: Arc<Notify>,
}

impl Delivery {
    pub fn new(
        settings: &NotifySettings,
        outbox: Arc<dyn Outbox>,
        health: Arc<Health>,
        wake: Arc<Notify>,
    ) -> Self {
        for s in &settings.sinks {
            health.add(&s.name, s.kind.as_str());
        }
        if settings.callbacks.is_some() {
            health.add(CALLBACK, "webhook");
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("signoff/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            shared: Arc::new(Shared {
                sinks: settings
                    .sinks
                    .iter()
                    .map(|s| (s.name.clone(), s.clone()))
                    .collect(),
                callbacks: settings.callbacks.clone(),
                outbox,
                health,
                client,
                lease: lease(settings),
                buttons: settings.slack_app.is_some(),
            }),
            wake,
        }
    }

    /// Sends until the broker stops. Work in flight then is abandoned and sent again
    /// after the next start.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tasks: JoinSet<()> = JoinSet::new();
        let mut busy: HashMap<tokio::task::Id, i64> = HashMap::new();
        let mut last_backlog = Instant::now() - Duration::from_secs(3600);
        let mut last_prune = Instant::now() - Duration::from_secs(24 * 3600);
        loop {
            if busy.len() < MAX_IN_FLIGHT {
                let now = Timestamp::now().unix_millis();
                let skip: Vec<i64> = busy.values().copied().collect();
                let room = MAX_IN_FLIGHT - busy.len();
                let lease = self.shared.lease;
                match db(&self.shared.outbox, move |o| {
                    o.take_due(now, room, &skip, lease)
                })
                .await
                {
                    Ok(rows) => {
                        for m in rows {
                            let id = m.id;
                            let h = tasks.spawn(deliver(self.shared.clone(), m));
                            busy.insert(h.id(), id);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "notify: cannot read the outbox"),
                }
            }
            if last_backlog.elapsed() >= Duration::from_secs(1) {
                last_backlog = Instant::now();
                self.backlog().await;
            }
            if last_prune.elapsed() >= Duration::from_secs(3600) {
                last_prune = Instant::now();
                let before = Timestamp::now().unix_millis() - KEEP_DONE.as_millis() as i64;
                if let Err(e) = db(&self.shared.outbox, move |o| o.prune(before)).await {
                    tracing::warn!(error = %e, "notify: cannot prune the outbox");
                }
            }
            tokio::select! {
                Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    let id = match done {
                        Ok((id, ())) => id,
                        Err(e) => e.id(),
                    };
                    busy.remove(&id);
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(super::POLL) => {}
                _ = crate::broker::state::stopping(&mut shutdown) => break,
            }
        }
        tasks.abort_all();
    }

    async fn backlog(&self) {
        let now = Timestamp::now().unix_millis();
        match db(&self.shared.outbox, move |o| o.backlog(now)).await {
            Ok(rows) => {
                let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
                for (sink, oldest, dead) in rows {
                    let lag = oldest.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
                    self.shared.health.backlog(&sink, lag, dead);
                }
                self.shared.health.clear_backlog_except(&names);
            }
            Err(e) => tracing::warn!(error = %e, "notify: cannot read the backlog"),
        }
    }
}

/// Where one message goes.
enum To<'a> {
    Sink(&'a Sink),
    Callback(&'a Callbacks, &'a str),
}

impl To<'_> {
    fn retry(&self) -> Retry {
        match self {
            To::Sink(s) => s.retry,
            To::Callback(c, _) => c.retry,
        }
    }
}

async fn deliver(s: Arc<Shared>, m: Message) {
    let sink_name = m.sink.clone();
    let finish = |state: &'static str, why: Option<String>| {
        let outbox = s.outbox.clone();
        let id = m.id;
        async move {
            if let Err(e) = db(&outbox, move |o| o.finish(id, state, why.as_deref())).await {
                tracing::error!(error = %e, "notify: cannot mark a message");
            }
        }
    };
    let notice: Notice = match serde_json::from_str(&m.payload) {
        Ok(n) => n,
        Err(_) => return finish("dead", Some("stored payload unreadable".into())).await,
    };
    let to = if m.sink == CALLBACK {
        match (&s.callbacks, m.url.as_deref()) {
            (Some(c), Some(url)) => To::Callback(c, url),
            _ => return finish("skipped", Some("callbacks are no longer configured".into())).await,
        }
    } else {
        match s.sinks.get(&m.sink) {
            Some(k) => To::Sink(k),
            None => {
                return finish("skipped", Some("the sink is no longer configured".into())).await;
            }
        }
    };
    if m.only_if_pending {
        let action = m.action_id.clone();
        match db(&s.outbox, move |o| o.action_pending(&action)).await {
            Ok(true) => {}
            Ok(false) => {
                return finish("skipped", Some("decided before it was due".into())).await;
            }
            // Unknown: look again in a second.
            Err(e) => {
                tracing::warn!(error = %e, "notify: cannot read the action's status");
                let (id, next) = (m.id, Timestamp::now().unix_millis() + 1000);
                let why = "cannot read the action's status".to_string();
                if let Err(e) = db(&s.outbox, move |o| o.retry(id, next, &why)).await {
                    tracing::error!(error = %e, "notify: cannot schedule a retry");
                }
                return;
            }
        }
    }
    let (action, sink) = (m.action_id.clone(), m.sink.clone());
    let reference = match db(&s.outbox, move |o| o.reference(&action, &sink)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "notify: cannot read a reference");
            None
        }
    };
    if m.needs_ref && reference.is_none() {
        return finish("skipped", Some("its first message was never sent".into())).await;
    }
    let retry = to.retry();
    let attempt = match tokio::time::timeout(
        retry.timeout,
        send(&s, &to, &m, &notice, reference.as_deref()),
    )
    .await
    {
        Ok(a) => a,
        Err(_) => Attempt::Retry("timed out".into(), None),
    };
    match attempt {
        Attempt::Delivered(r) => {
            let keep = r.or_else(|| {
                (notice.event == NoticeEvent::Created && reference.is_none()).then(|| "sent".into())
            });
            if let Some(r) = keep {
                let (action, sink) = (m.action_id.clone(), m.sink.clone());
                if let Err(e) = db(&s.outbox, move |o| o.put_reference(&action, &sink, &r)).await {
                    tracing::error!(error = %e, "notify: cannot keep a reference");
                }
            }
            s.health.sent(&sink_name);
            tracing::debug!(sink = %sink_name, key = %m.key, "notification delivered");
            finish("done", None).await;
        }
        Attempt::Retry(why, after) if m.attempts + 1 < retry.max_attempts => {
            s.health.failed(&sink_name, &why);
            let wait = backoff(&retry, m.attempts, jitter()).max(after.unwrap_or_default());
            let next = Timestamp::now().unix_millis() + wait.as_millis() as i64;
            tracing::warn!(sink = %sink_name, key = %m.key, attempt = m.attempts + 1, error = %why, retry_in_ms = wait.as_millis() as u64, "notification failed; will retry");
            let id = m.id;
            if let Err(e) = db(&s.outbox, move |o| o.retry(id, next, &why)).await {
                tracing::error!(error = %e, "notify: cannot schedule a retry");
            }
        }
        Attempt::Retry(why, _) | Attempt::GiveUp(why) => {
            s.health.failed(&sink_name, &why);
            tracing::error!(sink = %sink_name, key = %m.key, attempts = m.attempts + 1, error = %why, "notification given up");
            finish("dead", Some(why)).await;
        }
    }
}

/// Posts `body` as JSON; `None` when the receiver answered 2xx.
async fn post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    bearer: Option<&str>,
    extra: &[(&'static str, String)],
    body: Vec<u8>,
) -> Result<reqwest::Response, Attempt> {
    let mut r = client
        .post(url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .header("idempotency-key", key)
        .body(body);
    if let Some(t) = bearer {
        r = r.bearer_auth(t);
    }
    for (k, v) in extra {
        r = r.header(*k, v);
    }
    let resp = r.send().await.map_err(|e| transport(&e))?;
    match classify(resp.status(), retry_after(&resp)) {
        Some(a) => Err(a),
        None => Ok(resp),
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

async fn signed(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    m: &Message,
    body: &Value,
) -> Attempt {
    let key = match WebhookKey::parse(secret) {
        Ok(k) => k,
        Err(e) => return Attempt::GiveUp(e),
    };
    let body = bytes(body);
    let ts = Timestamp::now().unix_millis() / 1000;
    let h = headers(&key, &m.key, ts, &body);
    match post(client, url, &m.key, None, &h, body).await {
        Ok(_) => Attempt::Delivered(None),
        Err(a) => a,
    }
}

async fn send(
    s: &Shared,
    to: &To<'_>,
    m: &Message,
    n: &Notice,
    reference: Option<&str>,
) -> Attempt {
    let client = &s.client;
    let now = Timestamp::now();
    let sink = match to {
        To::Callback(c, url) => {
            let review = n.review_command("signoff review {id}");
            return signed(
                client,
                url,
                c.secret.expose(),
                m,
                &webhook::body(n, &review, now),
            )
            .await;
        }
        To::Sink(s) => *s,
    };
    let review = n.review_command(&sink.review_command);
    let simple = |body: Value| async move {
        match post(client, &sink.url, &m.key, None, &[], bytes(&body)).await {
            Ok(_) => Attempt::Delivered(None),
            Err(a) => a,
        }
    };
    match sink.kind {
        SinkKind::Webhook => {
            signed(
                client,
                &sink.url,
                sink.secret.expose(),
                m,
                &webhook::body(n, &review, now),
            )
            .await
        }
        SinkKind::Teams => simple(teams::message(n, &review, now)).await,
        SinkKind::SlackWebhook => simple(slack::webhook_body(n, &review, now)).await,
        SinkKind::Pagerduty => {
            simple(pagerduty::event(sink.secret.expose(), n, &review, now)).await
        }
        SinkKind::Slack => {
            let look = SlackLook {
                review: &review,
                now,
                button: s.buttons,
            };
            slack_send(client, sink, m, n, &look, reference).await
        }
    }
}

/// How a Slack message is rendered: its review command, as of when, with the button?
struct SlackLook<'a> {
    review: &'a str,
    now: Timestamp,
    button: bool,
}

async fn slack_send(
    client: &reqwest::Client,
    sink: &Sink,
    m: &Message,
    n: &Notice,
    look: &SlackLook<'_>,
    reference: Option<&str>,
) -> Attempt {
    let (review, now, button) = (look.review, look.now, look.button);
    let channel = sink.channel.as_deref().unwrap_or_default();
    let earlier = reference.and_then(|r| serde_json::from_str::<Value>(r).ok());
    let base = sink.url.trim_end_matches('/');
    let (url, body) = match earlier.as_ref().and_then(|v| {
        Some((
            v["channel"].as_str()?.to_string(),
            v["ts"].as_str()?.to_string(),
        ))
    }) {
        Some((ch, ts)) => (
            format!("{base}/chat.update"),
            slack::update_body(&ch, &ts, n, review, now, button),
        ),
        None => (
            format!("{base}/chat.postMessage"),
            slack::post_body(channel, n, review, now, button),
        ),
    };
    let resp = match post(
        client,
        &url,
        &m.key,
        Some(sink.secret.expose()),
        &[],
        bytes(&body),
    )
    .await
    {
        Ok(r) => r,
        Err(a) => return a,
    };
    let after = retry_after(&resp);
    let v: Value = match resp.json().await {
        Ok(v) => v,
        Err(_) => return Attempt::Retry("Slack answered no JSON".into(), None),
    };
    if v["ok"] != json!(true) {
        // Whatever answered is not trusted to write the logs: one short visible line.
        let err = crate::text::truncate(
            &crate::text::visible_string(v["error"].as_str().unwrap_or("unknown_error")),
            80,
        );
        let why = format!("Slack: {err}");
        return if slack::is_permanent(&err) {
            Attempt::GiveUp(why)
        } else {
            Attempt::Retry(why, after)
        };
    }
    if earlier.is_some() {
        return Attempt::Delivered(None);
    }
    match (v["channel"].as_str(), v["ts"].as_str()) {
        (Some(ch), Some(ts)) => {
            Attempt::Delivered(Some(json!({"channel": ch, "ts": ts}).to_string()))
        }
        _ => Attempt::Delivered(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_retry_or_give_up() {
        assert_eq!(classify(StatusCode::OK, None), None);
        assert_eq!(classify(StatusCode::ACCEPTED, None), None);
        assert!(matches!(
            classify(StatusCode::INTERNAL_SERVER_ERROR, None),
            Some(Attempt::Retry(..))
        ));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(3))),
            Some(Attempt::Retry(
                "HTTP 429".into(),
                Some(Duration::from_secs(3))
            ))
        );
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, None),
            Some(Attempt::GiveUp("HTTP 400".into()))
        );
    }
}
