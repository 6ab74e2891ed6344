//! OAuth 2.0 device authorization grant (RFC 8628), as steps a UI can drive.
//!
//! [`start_device_flow`] asks the issuer for a user code and returns what to show;
//! [`DeviceAuthorization::poll`] then waits for the approver to confirm on their phone,
//! sleeping through the caller's function so the console can keep drawing (and tests can
//! poll fast). `slow_down` adds 5 s to the interval, as the RFC requires; `access_denied`
//! and `expired_token` end the flow with their own clear message.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use openidconnect::core::CoreDeviceAuthorizationResponse;
use openidconnect::{DeviceCodeErrorResponseType, RequestTokenError, Scope};

use super::oidc::{self, IssuerConfig, IssuerError, Metadata};
use super::session::Session;
use crate::protocol::Timestamp;

/// What the approver needs to confirm the sign-in. `Debug` hides nothing secret: the
/// device code stays inside.
#[derive(Clone)]
pub struct DeviceAuthorization {
    /// Where to go to enter the code.
    pub verification_uri: String,
    /// The same with the code filled in (for the QR code); not every issuer sends one.
    pub verification_uri_complete: Option<String>,
    /// The code to type in.
    pub user_code: String,
    /// When the code stops working.
    pub expires_at: Timestamp,
    /// How long to wait between polls, as the issuer asked (5 s when it did not say).
    pub interval: Duration,
    cfg: IssuerConfig,
    meta: Metadata,
    response: CoreDeviceAuthorizationResponse,
    http: reqwest::Client,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("verification_uri", &self.verification_uri)
            .field("verification_uri_complete", &self.verification_uri_complete)
            .field("user_code", &self.user_code)
            .field("expires_at", &self.expires_at)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// How a device sign-in ended without a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceFlowError {
    #[error("sign-in was declined at the identity provider (access_denied); nothing was changed")]
    AccessDenied,
    #[error(
        "the sign-in code expired before it was confirmed (expired_token); run the sign-in \
         again and confirm within the time shown"
    )]
    Expired,
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    #[error(transparent)]
    Issuer(#[from] IssuerError),
}

/// Asks the issuer for a device code and user code.
pub async fn start_device_flow(cfg: &IssuerConfig) -> Result<DeviceAuthorization, DeviceFlowError> {
    let http = oidc::http_client();
    let meta = oidc::discover(cfg, &http).await?;
    let Some(device_url) = meta
        .additional_metadata()
        .device_authorization_endpoint
        .clone()
    else {
        return Err(IssuerError::NoDeviceFlow(cfg.issuer.clone()).into());
    };
    let client = oidc::client(cfg, meta.clone()).set_device_authorization_url(device_url);
    let mut req = client.exchange_device_code();
    for s in cfg.all_scopes() {
        req = req.add_scope(Scope::new(s));
    }
    for (k, v) in &cfg.extra_params {
        req = req.add_extra_param(k.clone(), v.clone());
    }
    let response: CoreDeviceAuthorizationResponse = match req.request_async(&http).await {
        Ok(r) => r,
        Err(RequestTokenError::ServerResponse(e)) => {
            return Err(DeviceFlowError::Refused(describe(
                e.error().as_ref(),
                e.error_description(),
            )));
        }
        Err(RequestTokenError::Request(e)) => {
            return Err(IssuerError::Unreachable(oidc::error_chain(&e)).into());
        }
        Err(e) => return Err(IssuerError::BadTokenResponse(oidc::error_chain(&e)).into()),
    };
    let now = Timestamp::now();
    Ok(DeviceAuthorization {
        verification_uri: response.verification_uri().to_string(),
        verification_uri_complete: response
            .verification_uri_complete()
            .map(|u| u.secret().to_string()),
        user_code: response.user_code().secret().to_string(),
        expires_at: now.plus_secs(i64::try_from(response.expires_in().as_secs()).unwrap_or(0)),
        interval: response.interval(),
        cfg: cfg.clone(),
        meta,
        response,
        http,
    })
}

impl DeviceAuthorization {
    /// What to encode in the QR code: the complete URI when there is one.
    pub fn qr_target(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }

    /// Polls the token endpoint until the approver confirms, declines, or the code
    /// expires. `sleep` is called with the current interval between polls; it grows by
    /// 5 s after each `slow_down`.
    pub async fn poll<S, F>(&self, sleep: S) -> Result<Session, DeviceFlowError>
    where
        S: Fn(Duration) -> F,
        F: Future<Output = ()>,
    {
        let device_url = self
            .meta
            .additional_metadata()
            .device_authorization_endpoint
            .clone()
            .ok_or_else(|| IssuerError::NoDeviceFlow(self.cfg.issuer.clone()))?;
        let client =
            oidc::client(&self.cfg, self.meta.clone()).set_device_authorization_url(device_url);
        let req = client
            .exchange_device_access_token(&self.response)
            .map_err(|e| IssuerError::BadTokenResponse(e.to_string()))?;
        // Let the server have the last word on expiry: poll one interval past the local
        // deadline, so its `expired_token` (not a guess) ends the flow.
        let timeout = self.response.expires_in() + self.interval;
        let resp = match req.request_async(&self.http, sleep, Some(timeout)).await {
            Ok(r) => r,
            Err(RequestTokenError::ServerResponse(e)) => {
                return Err(match e.error() {
                    DeviceCodeErrorResponseType::AccessDenied => DeviceFlowError::AccessDenied,
                    DeviceCodeErrorResponseType::ExpiredToken => DeviceFlowError::Expired,
                    other => {
                        DeviceFlowError::Refused(describe(other.as_ref(), e.error_description()))
                    }
                });
            }
            Err(RequestTokenError::Request(e)) => {
                return Err(IssuerError::Unreachable(oidc::error_chain(&e)).into());
            }
            Err(e) => return Err(IssuerError::BadTokenResponse(oidc::error_chain(&e)).into()),
        };
        Ok(oidc::session_from_response(
            &self.cfg, &self.meta, &resp, None,
        )?)
    }
}

fn describe(code: &str, description: Option<&String>) -> String {
    match description {
        Some(d) => format!("{code}: {}", crate::text::visible_string(d)),
        None => code.to_string(),
    }
}
