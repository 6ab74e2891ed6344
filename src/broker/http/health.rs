//! `GET /healthz` and `GET /metrics`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use crate::broker::state::AppState;

/// `ok` while the broker can write; 503 once the writer thread is gone (it panicked or
/// stopped), since every write would then fail with a 500 and a load balancer or
/// supervisor should take the replica out or restart it.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if state.writer.is_closed() {
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

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = state.metrics.render(state.live.pending_count());
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    )
}
