//! The agent's HTTP client for the broker's `/v1/actions` API.
//!
//! Thin: one method per endpoint, bodies from `protocol::api`, and one error type that
//! says whether a retry could help ([`ClientError::is_transient`]), because the wait loop
//! retries through a broker restart but never through a refusal.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::protocol::api::{ActionCreated, ActionView, ApiError, ApiErrorBody, ResultReport};
use crate::protocol::{ActionId, ActionRequest, ErrorCode};

/// How long a request other than a long poll may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Extra time allowed beyond a long poll's `wait` before the request is abandoned.
const LONG_POLL_MARGIN: Duration = Duration::from_secs(20);
/// The longest `wait` the broker honours.
pub const MAX_WAIT_SECS: u64 = 300;

/// Why a call to the broker failed. Messages never contain the token.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("broker URL {url:?} is not usable: {message}")]
    BadUrl { url: String, message: String },
    /// Says its cause in its message (it is told inside longer lines: "retrying in 2s:
    /// …") and keeps it as the source.
    #[error(
        "cannot reach the broker at {url}: {}",
        crate::report::one_line(source)
    )]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("broker refused the request ({status}, {}): {}", .error.code, .error.message)]
    Api { status: u16, error: ApiErrorBody },
    #[error("broker answered {status} with an unexpected body: {message}")]
    Protocol { status: u16, message: String },
}

impl ClientError {
    /// True when trying again later could succeed: the broker was unreachable, overloaded
    /// or failed internally. Refusals (4xx) are final.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::Api { status, .. } | ClientError::Protocol { status, .. } => {
                *status >= 500 || *status == 429
            }
            ClientError::BadUrl { .. } => false,
        }
    }

    /// True when a submission sent with an `Idempotency-Key` should be sent again: the
    /// broker was unreachable, the connection dropped or timed out, or it failed (5xx).
    /// Never for a 4xx: the broker read the request and refused it.
    pub fn should_resubmit(&self) -> bool {
        match self {
            ClientError::Unreachable { .. } => true,
            ClientError::Api { status, .. } | ClientError::Protocol { status, .. } => {
                *status >= 500
            }
            ClientError::BadUrl { .. } => false,
        }
    }

    /// The broker's error code, when it answered with an [`ApiError`].
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { error, .. } => Some(error.code),
            _ => None,
        }
    }
}

/// A client for one broker (or several brokers on one database) and one agent token.
#[derive(Clone)]
pub struct AgentClient {
    http: reqwest::Client,
    /// One or more base URLs of brokers that share a database.
    bases: Vec<Url>,
    /// The one that answered last: tried first.
    current: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    token: String,
}

impl std::fmt::Debug for AgentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bases: Vec<&str> = self.bases.iter().map(Url::as_str).collect();
        f.debug_struct("AgentClient")
            .field("bases", &bases)
            .finish_non_exhaustive()
    }
}

/// A failed attempt, and whether the request may have reached the broker.
struct Attempt {
    error: ClientError,
    /// False when it provably did not (no connection, or `503 store_unavailable`).
    maybe_recorded: bool,
}

fn parse_base(base: &str, whole: &str) -> Result<Url, ClientError> {
    let bad = |message: String| ClientError::BadUrl {
        url: whole.to_string(),
        message,
    };
    let mut base_url = Url::parse(base.trim()).map_err(|e| bad(e.to_string()))?;
    if !matches!(base_url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https".into()));
    }
    if !base_url.path().ends_with('/') {
        let path = format!("{}/", base_url.path());
        base_url.set_path(&path);
    }
    Ok(base_url)
}

impl AgentClient {
    /// A client for the broker at `base` (http or https), authenticating with `token`.
    /// `base` may list several brokers on one database, comma-separated: a call goes to
    /// the one that answered last and moves on to the next when a broker cannot be reached
    /// or says its database is unavailable (a submission only when it was provably not
    /// recorded).
    pub fn new(base: &str, token: impl Into<String>) -> Result<Self, ClientError> {
        let bases = base
            .split(',')
            .filter(|b| !b.trim().is_empty())
            .map(|b| parse_base(b, base))
            .collect::<Result<Vec<_>, _>>()?;
        if bases.is_empty() {
            return Err(ClientError::BadUrl {
                url: base.to_string(),
                message: "no URL".into(),
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("signoff/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::BadUrl {
                url: base.to_string(),
                message: e.to_string(),
            })?;
        Ok(Self {
            http,
            bases,
            current: Default::default(),
            token: token.into(),
        })
    }

    /// The broker's base URL (the first one listed: it names the deployment, e.g. for
    /// the checkpoints kept per broker).
    pub fn base(&self) -> &Url {
        &self.bases[0]
    }

    /// The broker the next call goes to first.
    pub fn current(&self) -> &Url {
        let i = self.current.load(std::sync::atomic::Ordering::Relaxed);
        &self.bases[i % self.bases.len()]
    }

    /// `POST /v1/actions`.
    pub async fn create(&self, req: &ActionRequest) -> Result<ActionCreated, ClientError> {
        self.call(Method::POST, "v1/actions", Some(req), REQUEST_TIMEOUT, None)
            .await
    }

    /// `POST /v1/actions` with an `Idempotency-Key`: sending the same request with the same
    /// key again (after a lost answer) returns the action the first one made. `callback`
    /// is sent beside the request as `callback_url` (delivery metadata, not part of the
    /// action): where the broker posts the outcome.
    pub async fn create_keyed(
        &self,
        req: &ActionRequest,
        key: &str,
        callback: Option<&str>,
    ) -> Result<ActionCreated, ClientError> {
        let header = (crate::protocol::idempotency::HEADER, key);
        let mut body = serde_json::to_value(req).map_err(|e| ClientError::Protocol {
            status: 0,
            message: format!("cannot encode the request: {e}"),
        })?;
        if let (Some(url), Some(o)) = (callback, body.as_object_mut()) {
            o.insert("callback_url".into(), serde_json::Value::String(url.into()));
        }
        self.call(
            Method::POST,
            "v1/actions",
            Some(&body),
            REQUEST_TIMEOUT,
            Some(header),
        )
        .await
    }

    /// `GET /v1/actions/{id}`, long-polling up to `wait_secs` (capped at 300) while pending.
    pub async fn get(&self, id: ActionId, wait_secs: u64) -> Result<ActionView, ClientError> {
        let wait = wait_secs.min(MAX_WAIT_SECS);
        let path = if wait == 0 {
            format!("v1/actions/{id}")
        } else {
            format!("v1/actions/{id}?wait={wait}")
        };
        let timeout = Duration::from_secs(wait) + LONG_POLL_MARGIN;
        self.call::<(), _>(Method::GET, &path, None, timeout, None)
            .await
    }

    /// `GET /v1/audit/checkpoint`: the broker's latest signed audit checkpoint.
    pub async fn checkpoint(&self) -> Result<crate::protocol::Checkpoint, ClientError> {
        self.call::<(), _>(
            Method::GET,
            "v1/audit/checkpoint",
            None,
            REQUEST_TIMEOUT,
            None,
        )
        .await
    }

    /// `DELETE /v1/actions/{id}`: withdraw a pending request.
    pub async fn withdraw(&self, id: ActionId) -> Result<ActionView, ClientError> {
        let path = format!("v1/actions/{id}");
        self.call::<(), _>(Method::DELETE, &path, None, REQUEST_TIMEOUT, None)
            .await
    }

    /// `POST /v1/actions/{id}/result`: report how the approved command ended.
    pub async fn report_result(
        &self,
        id: ActionId,
        report: &ResultReport,
    ) -> Result<ActionView, ClientError> {
        let path = format!("v1/actions/{id}/result");
        self.call(Method::POST, &path, Some(report), REQUEST_TIMEOUT, None)
            .await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
        header: Option<(&str, &str)>,
    ) -> Result<T, ClientError> {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.bases.len();
        let start = self.current.load(Relaxed) % n;
        // Reads may be repeated anywhere, and so may a submission with an Idempotency-Key
        // (every broker on the database answers it with the action it made); other writes
        // only where they provably did not land.
        let repeatable = method == Method::GET || header.is_some();
        let mut last = None;
        for i in 0..n {
            let idx = (start + i) % n;
            match self
                .call_one(
                    &self.bases[idx],
                    method.clone(),
                    path,
                    body,
                    timeout,
                    header,
                )
                .await
            {
                Ok(v) => {
                    self.current.store(idx, Relaxed);
                    return Ok(v);
                }
                Err(a) => {
                    let next = n > 1
                        && a.error.is_transient()
                        && (repeatable || !a.maybe_recorded)
                        && a.error.code() != Some(ErrorCode::RateLimited);
                    if !next {
                        if !a.error.is_transient() {
                            // It answered: it is up.
                            self.current.store(idx, Relaxed);
                        }
                        return Err(a.error);
                    }
                    tracing::info!(error = %a.error, "trying the next broker");
                    last = Some(a.error);
                }
            }
        }
        Err(last.unwrap_or_else(|| ClientError::BadUrl {
            url: String::new(),
            message: "no broker URL".into(),
        }))
    }

    async fn call_one<B: Serialize, T: DeserializeOwned>(
        &self,
        base: &Url,
        method: Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
        header: Option<(&str, &str)>,
    ) -> Result<T, Attempt> {
        let url = base.join(path).map_err(|e| Attempt {
            error: ClientError::BadUrl {
                url: base.to_string(),
                message: e.to_string(),
            },
            maybe_recorded: false,
        })?;
        let mut rb = self
            .http
            .request(method, url.clone())
            .bearer_auth(&self.token)
            .timeout(timeout);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        if let Some((name, value)) = header {
            rb = rb.header(name, value);
        }
        let unreachable = |e: reqwest::Error| Attempt {
            maybe_recorded: !e.is_connect(),
            error: ClientError::Unreachable {
                url: url.to_string(),
                source: e,
            },
        };
        let resp = rb.send().await.map_err(unreachable)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(unreachable)?;
        decode(status, &bytes).map_err(|error| Attempt {
            maybe_recorded: error.code() != Some(ErrorCode::StoreUnavailable),
            error,
        })
    }
}

/// Turns a response into the expected body or a typed error.
fn decode<T: DeserializeOwned>(status: StatusCode, bytes: &[u8]) -> Result<T, ClientError> {
    if status.is_success() {
        return serde_json::from_slice(bytes).map_err(|e| ClientError::Protocol {
            status: status.as_u16(),
            message: e.to_string(),
        });
    }
    match serde_json::from_slice::<ApiError>(bytes) {
        Ok(api) => Err(ClientError::Api {
            status: status.as_u16(),
            error: api.error,
        }),
        Err(_) => Err(ClientError::Protocol {
            status: status.as_u16(),
            message: String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_normalised() {
        let c = AgentClient::new("http://127.0.0.1:7700/signoff", "t").unwrap();
        assert_eq!(c.base().as_str(), "http://127.0.0.1:7700/signoff/");
        assert!(matches!(
            AgentClient::new("ftp://x", "t"),
            Err(ClientError::BadUrl { .. })
        ));
        assert!(matches!(
            AgentClient::new("not a url", "t"),
            Err(ClientError::BadUrl { .. })
        ));
    }

    #[test]
    fn several_brokers_are_listed_with_commas() {
        let c = AgentClient::new("http://a:1, http://b:2/x", "t").unwrap();
        assert_eq!(c.base().as_str(), "http://a:1/");
        assert_eq!(c.current().as_str(), "http://a:1/");
        assert_eq!(c.bases[1].as_str(), "http://b:2/x/");
        assert!(AgentClient::new("http://a:1,ftp://b", "t").is_err());
        assert!(AgentClient::new(" , ", "t").is_err());
    }

    #[tokio::test]
    async fn a_broker_that_cannot_be_reached_is_skipped() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = open.local_addr().unwrap().port();
        // A stand-in broker that answers every request with 404 not_found.
        std::thread::spawn(move || {
            use std::io::{Read as _, Write as _};
            for s in open.incoming().flatten().take(2) {
                let mut s = s;
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let body = br#"{"error":{"code":"not_found","message":"no action"}}"#;
                let _ = write!(
                    s,
                    "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(body);
            }
        });
        let c = AgentClient::new(
            &format!("http://127.0.0.1:{closed},http://127.0.0.1:{port}"),
            "t",
        )
        .unwrap();
        let e = c.get(ActionId::new(), 0).await.unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::NotFound), "{e}");
        assert_eq!(
            c.current().port(),
            Some(port),
            "the answering broker comes first now"
        );
    }

    #[test]
    fn api_errors_are_typed_and_classified() {
        let body = br#"{"error":{"code":"conflict","message":"not pending"}}"#;
        let e = decode::<ActionView>(StatusCode::CONFLICT, body).unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::Conflict));
        assert!(!e.is_transient());
        let e =
            decode::<ActionView>(StatusCode::BAD_GATEWAY, b"<html>bad gateway</html>").unwrap_err();
        assert!(matches!(e, ClientError::Protocol { status: 502, .. }));
        assert!(e.is_transient());
        let e = decode::<ActionView>(StatusCode::OK, b"{}").unwrap_err();
        assert!(matches!(e, ClientError::Protocol { status: 200, .. }));
    }

    #[test]
    fn submissions_are_resent_after_failures_but_never_after_a_refusal() {
        let api = |status: u16, code: &str| {
            let body = format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#);
            decode::<ActionView>(StatusCode::from_u16(status).unwrap(), body.as_bytes())
                .unwrap_err()
        };
        assert!(api(500, "internal").should_resubmit());
        assert!(api(503, "internal").should_resubmit());
        for (status, code) in [
            (400, "invalid_field"),
            (401, "unauthorized"),
            (403, "forbidden"),
            (409, "idempotency_conflict"),
            (413, "frame_too_large"),
            (429, "pending_budget_exceeded"),
        ] {
            assert!(!api(status, code).should_resubmit(), "{status} {code}");
        }
        let gone = ClientError::Unreachable {
            url: "http://x".into(),
            source: reqwest::Client::new()
                .get("not a url")
                .build()
                .expect_err("a reqwest error"),
        };
        assert!(gone.should_resubmit());
    }

    #[tokio::test]
    async fn unreachable_broker_is_transient_and_never_shows_the_token() {
        // Bind then drop a listener: the port is (almost certainly) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let c = AgentClient::new(&format!("http://127.0.0.1:{port}"), "sekrit-token").unwrap();
        let e = c.get(ActionId::new(), 0).await.unwrap_err();
        assert!(e.is_transient(), "{e}");
        assert!(!e.to_string().contains("sekrit"));
        assert!(!format!("{c:?}").contains("sekrit"));
    }
}
