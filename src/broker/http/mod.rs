//! The HTTP surface: one handler file per resource, and the router that joins them.

use axum::Router;
use axum::routing::{delete, get, post};

use super::state::AppState;

pub mod actions;
pub mod audit;
pub mod auth;
pub mod health;
pub mod history;
pub mod keys;
pub mod slack;

/// Every route of the broker.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz_or_details))
        .route("/metrics", get(health::metrics))
        .route("/v1/actions", post(actions::create))
        .route(
            "/v1/actions/{id}",
            get(actions::get).delete(actions::withdraw),
        )
        .route("/v1/actions/{id}/result", post(actions::result))
        .route("/v1/actions/{id}/claim", post(actions::claim))
        .route("/v1/notify/slack/interactions", post(slack::interactions))
        .route("/v1/keys", post(keys::register).get(keys::list))
        .route("/v1/keys/{key_id}", delete(keys::revoke))
        .route("/v1/history", get(history::history))
        .route("/v1/audit/key", get(audit::key))
        .route("/v1/audit/checkpoint", get(audit::checkpoint))
        .route("/v1/feed", get(super::feed::upgrade))
        .fallback(|| async { super::error::HttpError::not_found("no such endpoint") })
        .with_state(state)
}
