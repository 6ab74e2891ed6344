//! HTTP API bodies (`/v1/actions`, `/v1/keys`, `/v1/history`), shared by the broker and
//! its clients. Every error response is an [`ApiError`].

use serde::{Deserialize, Serialize};

use super::action::{Action, ActionId, Policy, Risk, Status};
use super::canonical::Digest;
use super::decision::KeyId;
use super::error::ErrorCode;
use super::time::Timestamp;
use super::validate::FieldError;

/// `201` answer to `POST /v1/actions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionCreated {
    pub id: ActionId,
    pub digest: Digest,
    pub status: Status,
    pub risk: Risk,
    pub policy: Policy,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Answer to `GET /v1/actions/{id}` (and `DELETE`): the action with its current digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionView {
    pub action: Action,
    pub digest: Digest,
}

/// Body of `POST /v1/actions/{id}/result`: what happened when the approved command ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultReport {
    pub exit_code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Body of `POST /v1/keys`: register the caller's device public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRegistration {
    /// Standard base64 of the 32 Ed25519 public key bytes.
    pub public_key: String,
    /// A name for the device, e.g. the host name.
    #[serde(default)]
    pub label: String,
}

/// A registered key (`POST /v1/keys` → 201, and each entry of `GET /v1/keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub key_id: KeyId,
    pub subject: String,
    pub public_key: String,
    pub label: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// `GET /v1/keys`: the caller's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyList {
    pub keys: Vec<KeyInfo>,
}

/// Every non-2xx response body: `{"error": {"code": "...", "message": "...", "fields": [...]}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// Field-level problems, for `400 invalid_field`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ApiErrorBody {
                code,
                message: message.into(),
                fields: Vec::new(),
            },
        }
    }

    pub fn with_fields(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            error: ApiErrorBody {
                code: ErrorCode::InvalidField,
                message,
                fields,
            },
        }
    }
}
