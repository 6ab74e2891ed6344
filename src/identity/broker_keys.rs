//! Client for the broker's key endpoints: `POST/GET /v1/keys`, `DELETE /v1/keys/{key_id}`.

use std::sync::Arc;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::{TokenError, TokenSource};
use crate::protocol::api::{ApiError, KeyInfo, KeyList, KeyRegistration};
use crate::protocol::{ErrorCode, KeyId};

/// Why a key call to the broker failed.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("could not reach the broker at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("the broker refused ({status}, {code}): {message}")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    #[error("the broker answered {status} with an unexpected body: {detail}")]
    BadResponse { status: u16, detail: String },
}

/// The broker's key API, authenticated with the caller's session.
pub struct BrokerKeys {
    base: String,
    http: reqwest::Client,
    token: Arc<dyn TokenSource>,
}

impl BrokerKeys {
    /// `base` is the broker's URL, e.g. `https://signoff.internal:8443`.
    pub fn new(base: impl Into<String>, token: Arc<dyn TokenSource>) -> Self {
        Self {
            base: base.into().trim_end_matches('/').to_string(),
            http: super::oidc::http_client(),
            token,
        }
    }

    /// Registers a public key. `true` when newly created (201), `false` when it was
    /// already registered for this subject (200).
    pub async fn register(&self, reg: &KeyRegistration) -> Result<(KeyInfo, bool), KeysError> {
        let url = format!("{}/v1/keys", self.base);
        let req = self.http.post(&url).json(reg);
        let (status, info) = self.send::<KeyInfo>(&url, req).await?;
        Ok((info, status == StatusCode::CREATED))
    }

    /// The caller's keys, revoked ones included.
    pub async fn list(&self) -> Result<KeyList, KeysError> {
        let url = format!("{}/v1/keys", self.base);
        let req = self.http.get(&url);
        Ok(self.send::<KeyList>(&url, req).await?.1)
    }

    /// Revokes one of the caller's keys.
    pub async fn revoke(&self, key_id: &KeyId) -> Result<KeyInfo, KeysError> {
        let url = format!("{}/v1/keys/{}", self.base, key_id);
        let req = self.http.delete(&url);
        Ok(self.send::<KeyInfo>(&url, req).await?.1)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        url: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, T), KeysError> {
        let bearer = self.token.bearer().await?;
        let resp = req
            .bearer_auth(bearer)
            .send()
            .await
            .map_err(|e| KeysError::Unreachable {
                url: url.to_string(),
                detail: super::oidc::error_chain(&e.without_url()),
            })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| KeysError::Unreachable {
            url: url.to_string(),
            detail: e.to_string(),
        })?;
        if status.is_success() {
            let v = serde_json::from_slice(&body).map_err(|e| KeysError::BadResponse {
                status: status.as_u16(),
                detail: e.to_string(),
            })?;
            return Ok((status, v));
        }
        match serde_json::from_slice::<ApiError>(&body) {
            Ok(e) => Err(KeysError::Api {
                status: status.as_u16(),
                code: e.error.code,
                message: crate::text::visible_string(&e.error.message),
            }),
            Err(e) => Err(KeysError::BadResponse {
                status: status.as_u16(),
                detail: e.to_string(),
            }),
        }
    }
}
