//! Error codes shared by the wire protocol, the HTTP API and the console.
//!
//! Every refusal carries one stable code (snake_case on the wire) and a human message.
//! Codes are part of protocol v1: add new ones, never rename.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // Frames and messages.
    FrameTooLarge,
    MalformedFrame,
    UnknownMessageType,
    MissingField,
    InvalidField,
    UnsupportedProtocolVersion,
    HelloRequired,
    // Identity.
    Unauthorized,
    Forbidden,
    // Decisions, one code per check, in the order the broker runs them.
    SubjectMismatch,
    UnknownKey,
    KeyRevoked,
    BadSignature,
    UnknownAction,
    DigestMismatch,
    NotPending,
    ActionExpired,
    SelfApproval,
    NotInGroup,
    ReplayedDecision,
    AlreadyVoted,
    ReasonRequired,
    // Feed.
    SlowConsumer,
    ServerShutdown,
    // Everything else.
    InvalidQuery,
    NotFound,
    Conflict,
    RateLimited,
    PendingBudgetExceeded,
    /// The broker's database is out of reach; nothing was recorded; retry.
    StoreUnavailable,
    IdempotencyConflict,
    Internal,
}

impl ErrorCode {
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::FrameTooLarge,
        ErrorCode::MalformedFrame,
        ErrorCode::UnknownMessageType,
        ErrorCode::MissingField,
        ErrorCode::InvalidField,
        ErrorCode::UnsupportedProtocolVersion,
        ErrorCode::HelloRequired,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::SubjectMismatch,
        ErrorCode::UnknownKey,
        ErrorCode::KeyRevoked,
        ErrorCode::BadSignature,
        ErrorCode::UnknownAction,
        ErrorCode::DigestMismatch,
        ErrorCode::NotPending,
        ErrorCode::ActionExpired,
        ErrorCode::SelfApproval,
        ErrorCode::NotInGroup,
        ErrorCode::ReplayedDecision,
        ErrorCode::AlreadyVoted,
        ErrorCode::ReasonRequired,
        ErrorCode::SlowConsumer,
        ErrorCode::ServerShutdown,
        ErrorCode::InvalidQuery,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::PendingBudgetExceeded,
        ErrorCode::StoreUnavailable,
        ErrorCode::IdempotencyConflict,
        ErrorCode::Internal,
    ];

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::MalformedFrame => "malformed_frame",
            ErrorCode::UnknownMessageType => "unknown_message_type",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::UnsupportedProtocolVersion => "unsupported_protocol_version",
            ErrorCode::HelloRequired => "hello_required",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::SubjectMismatch => "subject_mismatch",
            ErrorCode::UnknownKey => "unknown_key",
            ErrorCode::KeyRevoked => "key_revoked",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::UnknownAction => "unknown_action",
            ErrorCode::DigestMismatch => "digest_mismatch",
            ErrorCode::NotPending => "not_pending",
            ErrorCode::ActionExpired => "action_expired",
            ErrorCode::SelfApproval => "self_approval",
            ErrorCode::NotInGroup => "not_in_group",
            ErrorCode::ReplayedDecision => "replayed_decision",
            ErrorCode::AlreadyVoted => "already_voted",
            ErrorCode::ReasonRequired => "reason_required",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::ServerShutdown => "server_shutdown",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::PendingBudgetExceeded => "pending_budget_exceeded",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a frame could not be turned into a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame of {size} bytes is over the {limit}-byte limit")]
    FrameTooLarge { size: usize, limit: usize },
    #[error("frame is not valid JSON: {0}")]
    MalformedFrame(String),
    #[error("unknown message type {0:?}")]
    UnknownMessageType(String),
    #[error("missing field `{0}`")]
    MissingField(String),
    #[error("invalid field: {0}")]
    InvalidField(String),
    #[error("protocol version {got} is not supported (this side speaks {supported})")]
    UnsupportedVersion { got: u32, supported: u32 },
    #[error("the first message must be `hello`")]
    HelloRequired,
}

impl ProtocolError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ProtocolError::FrameTooLarge { .. } => ErrorCode::FrameTooLarge,
            ProtocolError::MalformedFrame(_) => ErrorCode::MalformedFrame,
            ProtocolError::UnknownMessageType(_) => ErrorCode::UnknownMessageType,
            ProtocolError::MissingField(_) => ErrorCode::MissingField,
            ProtocolError::InvalidField(_) => ErrorCode::InvalidField,
            ProtocolError::UnsupportedVersion { .. } => ErrorCode::UnsupportedProtocolVersion,
            ProtocolError::HelloRequired => ErrorCode::HelloRequired,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_matches_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
