//! `GET /v1/audit/key` (public, no token: anyone may check a checkpoint) and
//! `GET /v1/audit/checkpoint` (any signed-in caller: the latest signed checkpoint).

use axum::Json;
use axum::extract::State;

use super::auth::Anyone;
use crate::broker::error::HttpError;
use crate::broker::state::AppState;
use crate::protocol::{AuditKey, Checkpoint};

pub async fn key(State(state): State<AppState>) -> Json<AuditKey> {
    Json(state.audit_key.clone())
}

pub async fn checkpoint(
    State(state): State<AppState>,
    Anyone(_): Anyone,
) -> Result<Json<Checkpoint>, HttpError> {
    state
        .checkpoint
        .get()
        .map(Json)
        .ok_or_else(|| HttpError::not_found("the audit log is empty: no checkpoint yet"))
}
