//! HTTP calls to the broker: device-key registration, one action, a history page.
//!
//! Every call takes a fresh bearer from the [`TokenSource`] (which refreshes silently)
//! and turns any non-2xx answer into [`ClientError::Api`] with the broker's own code and
//! message, so the console can show exactly why.

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use serde::de::DeserializeOwned;

use super::ClientError;
use crate::identity::TokenSource;
use crate::protocol::api::{ActionView, ApiError, KeyInfo, KeyList, KeyRegistration};
use crate::protocol::decision::encode_public_key;
use crate::protocol::{ActionId, HistoryPage, HistoryQuery};

/// A broker's HTTP API, as the console uses it.
#[derive(Clone)]
pub struct BrokerHttp {
    /// One broker, or several on one database (`a,b,c`): a call that cannot reach one, or
    /// finds its database unavailable, goes on to the next (every call here is safe to
    /// repeat).
    bases: Vec<String>,
    current: Arc<std::sync::atomic::AtomicUsize>,
    http: reqwest::Client,
    tokens: Arc<dyn TokenSource>,
}

/// The broker URLs in `broker_url` (comma-separated), each without a trailing slash.
pub fn broker_urls(broker_url: &str) -> Vec<String> {
    broker_url
        .split(',')
        .map(|b| b.trim().trim_end_matches('/').to_string())
        .filter(|b| !b.is_empty())
        .collect()
}

impl BrokerHttp {
    pub fn new(broker_url: &str, tokens: Arc<dyn TokenSource>) -> Result<Self, ClientError> {
        let bases = broker_urls(broker_url);
        if bases.is_empty()
            || !bases
                .iter()
                .all(|b| b.starts_with("http://") || b.starts_with("https://"))
        {
            return Err(ClientError::BadUrl {
                url: broker_url.into(),
                why: "must start with http:// or https://".into(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(330))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError::Network(e.to_string()))?;
        Ok(Self {
            bases,
            current: Default::default(),
            http,
            tokens,
        })
    }

    /// Registers the device key under the caller's subject (idempotent).
    pub async fn register_key(
        &self,
        key: &VerifyingKey,
        label: &str,
    ) -> Result<KeyInfo, ClientError> {
        let body = KeyRegistration {
            public_key: encode_public_key(key),
            label: label.into(),
        };
        self.call(|base| self.http.post(format!("{base}/v1/keys")).json(&body))
            .await
    }

    /// The caller's registered keys.
    pub async fn keys(&self) -> Result<KeyList, ClientError> {
        self.call(|base| self.http.get(format!("{base}/v1/keys")))
            .await
    }

    /// One action; with `wait`, long-polls until it is decided or the wait ends.
    pub async fn action(&self, id: ActionId, wait: Option<u32>) -> Result<ActionView, ClientError> {
        self.call(|base| {
            let req = self.http.get(format!("{base}/v1/actions/{id}"));
            match wait {
                Some(w) => req.query(&[("wait", w.min(300).to_string())]),
                None => req,
            }
        })
        .await
    }

    /// Says "I'm looking" on a pending action (`POST /v1/actions/{id}/claim`).
    pub async fn claim(&self, id: ActionId) -> Result<ActionView, ClientError> {
        self.call(|base| self.http.post(format!("{base}/v1/actions/{id}/claim")))
            .await
    }

    /// One page of decided actions, newest first.
    pub async fn history(&self, query: &HistoryQuery) -> Result<HistoryPage, ClientError> {
        let params = history_params(query);
        self.call(|base| self.http.get(format!("{base}/v1/history")).query(&params))
            .await
    }

    /// Sends the request `make` builds for a broker, moving on to the next broker when
    /// one cannot be reached or answers `503 store_unavailable`.
    async fn call<T: DeserializeOwned>(
        &self,
        make: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.bases.len();
        let start = self.current.load(Relaxed) % n;
        let mut last = None;
        for i in 0..n {
            let idx = (start + i) % n;
            match self.call_one(make(&self.bases[idx])).await {
                Err(e) if n > 1 && fails_over(&e) => {
                    tracing::info!(error = %e, "trying the next broker");
                    last = Some(e);
                }
                other => {
                    self.current.store(idx, Relaxed);
                    return other;
                }
            }
        }
        Err(last.unwrap_or_else(|| ClientError::Network("no broker URL".into())))
    }

    async fn call_one<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let bearer = self.tokens.bearer().await?;
        let resp = req
            .bearer_auth(bearer)
            .send()
            .await
            .map_err(|e| ClientError::Network(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Network(e.to_string()))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes).map_err(|e| ClientError::Unexpected {
                status,
                detail: e.to_string(),
            });
        }
        match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(e) => Err(ClientError::Api {
                status,
                code: e.error.code,
                message: e.error.message,
            }),
            Err(_) => Err(ClientError::Unexpected {
                status,
                detail: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            }),
        }
    }
}

/// Whether another broker may answer where this one could not.
fn fails_over(e: &ClientError) -> bool {
    match e {
        ClientError::Network(_) => true,
        ClientError::Api { code, .. } => *code == crate::protocol::ErrorCode::StoreUnavailable,
        ClientError::Unexpected { status, .. } => matches!(status, 502..=504),
        _ => false,
    }
}

/// A history query as `GET /v1/history` parameters (lists comma-joined).
pub fn history_params(q: &HistoryQuery) -> Vec<(&'static str, String)> {
    fn join<T: ToString>(v: &[T]) -> String {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
    let mut p = Vec::new();
    if !q.outcome.is_empty() {
        p.push(("outcome", join(&q.outcome)));
    }
    if !q.risk.is_empty() {
        p.push(("risk", join(&q.risk)));
    }
    if !q.kind.is_empty() {
        p.push(("kind", q.kind.join(",")));
    }
    if !q.environment.is_empty() {
        p.push(("env", q.environment.join(",")));
    }
    let singles = [
        ("requester", q.requester.clone()),
        ("approver", q.approver.clone()),
        ("executed", q.executed.map(|b| b.to_string())),
        ("since", q.since.map(|t| t.to_string())),
        ("until", q.until.map(|t| t.to_string())),
        ("q", q.text.clone()),
        ("cursor", q.cursor.as_ref().map(|c| c.0.clone())),
        ("limit", q.limit.map(|l| l.to_string())),
    ];
    p.extend(singles.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{RiskLevel, Status};

    #[test]
    fn history_params_follow_the_api() {
        let q = HistoryQuery {
            outcome: vec![Status::Approved, Status::Denied],
            risk: vec![RiskLevel::High],
            environment: vec!["production".into()],
            text: Some("customers".into()),
            limit: Some(50),
            ..Default::default()
        };
        let p = history_params(&q);
        assert_eq!(
            p,
            vec![
                ("outcome", "approved,denied".to_string()),
                ("risk", "high".into()),
                ("env", "production".into()),
                ("q", "customers".into()),
                ("limit", "50".into()),
            ]
        );
        assert!(history_params(&HistoryQuery::default()).is_empty());
    }
}
