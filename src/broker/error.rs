//! The HTTP error type: every refusal becomes an [`ApiError`] body with a status code, and
//! internal failures are logged here and answered without their details.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::store::StoreError;
use super::writer::OpError;
use crate::auth::AuthError;
use crate::protocol::ErrorCode;
use crate::protocol::api::ApiError;
use crate::protocol::validate::FieldError;

#[derive(Debug)]
pub struct HttpError {
    status: StatusCode,
    body: ApiError,
}

impl HttpError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiError::new(code, message),
        }
    }

    pub fn fields(fields: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: ApiError::with_fields(fields),
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::fields(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidQuery, message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error; see the broker's log",
        )
    }

    /// `503 store_unavailable`: the database is out of reach; the caller may retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::StoreUnavailable,
            message,
        )
    }

    /// Keeps the status and fields, with another code (e.g. `missing_field`).
    pub fn set_code(&mut self, code: ErrorCode) {
        self.body.error.code = code;
    }

    pub fn code(&self) -> ErrorCode {
        self.body.error.code
    }

    pub fn message(&self) -> &str {
        &self.body.error.message
    }
}

impl From<AuthError> for HttpError {
    fn from(e: AuthError) -> Self {
        let status = match e.code() {
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::Internal => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        };
        Self::new(status, e.code(), e.to_string())
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidQuery(m) => Self::invalid_query(m),
            StoreError::Unavailable(why) => {
                tracing::warn!(error = %why, "database unavailable");
                Self::unavailable(crate::broker::writer::unavailable_message(&why))
            }
            other => {
                tracing::error!(error = %other, "store failure");
                Self::internal()
            }
        }
    }
}

impl From<OpError> for HttpError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::NotFound(m) => Self::not_found(m),
            OpError::Conflict(m) => Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, m),
            OpError::Budget(m) => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::PendingBudgetExceeded,
                m,
            ),
            OpError::IdempotencyConflict(m) => {
                Self::new(StatusCode::CONFLICT, ErrorCode::IdempotencyConflict, m)
            }
            OpError::Internal => Self::internal(),
            OpError::Unavailable(m) => Self::unavailable(m),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED
            && let Ok(v) = "Bearer".parse()
        {
            r.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, v);
        }
        r
    }
}
