//! `GET /healthz` and `GET /metrics`.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::broker::state::AppState;

/// Whether writes can succeed: the writer's queue is open and neither the writer thread
/// nor its commit thread has ended (a panic in either leaves every write failing).
fn writer_ok(state: &AppState) -> bool {
    !state.writer.is_closed()
        && !state
            .metrics
            .writer_down
            .load(std::sync::atomic::Ordering::SeqCst)
}

/// `ok` while the broker can write; 503 once the writer (or its commit thread) is gone
/// (it panicked or stopped), since every write would then fail with a 500 and a load
/// balancer or supervisor should take the replica out or restart it.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if !writer_ok(&state) {
        tracing::error!("healthz: the writer thread is gone; every write fails");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "writer stopped: writes fail; restart the broker".to_string(),
        )
    } else {
        match state.read(|s| s.health()).await {
            Ok(()) => (StatusCode::OK, "ok".to_string()),
            Err(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("store_unavailable: {}", e.message()),
            ),
        }
    }
}

/// `GET /healthz?details`: the same status, and a JSON body naming each notification
/// sink's state (a dead sink never makes the broker unhealthy).
pub async fn healthz_or_details(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> axum::response::Response {
    let wants = query.as_deref().is_some_and(|q| {
        q.split('&')
            .any(|p| p == "details" || p.starts_with("details="))
    });
    if !wants {
        return healthz(State(state)).await.into_response();
    }
    let writer_ok = writer_ok(&state);
    let body = serde_json::json!({
        "status": if writer_ok { "ok" } else { "writer stopped" },
        "notify": state.notify_health.details(),
    });
    let code = if writer_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = state.metrics.render(state.live.pending_count());
    body.push_str(&state.notify_health.render());
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
}
