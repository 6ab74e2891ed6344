//! The development issuer's HTTP endpoints.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Form, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{Value, json};

use super::state::{DeviceCode, State, random_token, user_code};

type Shared = Arc<State>;
type Params = HashMap<String, String>;

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/device_authorization", post(device_authorization))
        .route("/device", get(device_page))
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .route("/authorize", get(authorize))
        .with_state(state)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    (status, [("cache-control", "no-store")], Json(body)).into_response()
}

async fn discovery(AxState(s): AxState<Shared>) -> Json<Value> {
    let i = &s.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "device_authorization_endpoint": format!("{i}/device_authorization"),
        "revocation_endpoint": format!("{i}/revoke"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "token_endpoint_auth_methods_supported": ["none"],
        "claims_supported": ["sub", "email", "name", "groups"],
    }))
}

async fn jwks(AxState(s): AxState<Shared>) -> Json<Value> {
    Json(json!({"keys": [s.signer.jwk()]}))
}

async fn authorize() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "unsupported_response_type",
        "the development issuer only supports the device authorization grant",
    )
}

/// The client id from the form or from HTTP Basic authentication.
fn client_id(headers: &HeaderMap, form: &Params) -> Option<String> {
    if let Some(id) = form.get("client_id") {
        return Some(id.clone());
    }
    let basic = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split(':').next()?.to_string())
}

fn check_client(s: &State, headers: &HeaderMap, form: &Params) -> Result<String, Box<Response>> {
    match client_id(headers, form) {
        Some(id) if id == s.cfg.client_id => Ok(id),
        _ => Err(Box::new(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client",
        ))),
    }
}

async fn device_authorization(
    AxState(s): AxState<Shared>,
    headers: HeaderMap,
    Form(form): Form<Params>,
) -> Response {
    let client = match check_client(&s, &headers, &form) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let device_code = random_token(32);
    let code = user_code();
    let now = Instant::now();
    let scope = form.get("scope").cloned().unwrap_or_default();
    if let Ok(mut m) = s.device_codes.lock() {
        m.retain(|_, c| c.expires > now);
        m.insert(
            device_code.clone(),
            DeviceCode {
                user_code: code.clone(),
                client_id: client,
                scope,
                created: now,
                expires: now + s.cfg.device_code_ttl,
            },
        );
    }
    tracing::info!(
        user_code = %code,
        subject = %s.cfg.identity.subject,
        delay_ms = s.cfg.confirm_delay.as_millis() as u64,
        "development issuer: this code confirms itself shortly"
    );
    let uri = format!("{}/device", s.issuer);
    Json(json!({
        "device_code": device_code,
        "user_code": code,
        "verification_uri": uri,
        "verification_uri_complete": format!("{uri}?user_code={code}"),
        "expires_in": s.cfg.device_code_ttl.as_secs(),
        "interval": s.cfg.interval.as_secs().max(1),
    }))
    .into_response()
}

async fn device_page(AxState(s): AxState<Shared>, Query(q): Query<Params>) -> String {
    let code = q.get("user_code").map(String::as_str).unwrap_or("(none)");
    format!(
        "{}\n\nCode {code} confirms itself for {:?} {} ms after it was issued; nothing to do here.\n",
        super::BANNER,
        s.cfg.identity.subject,
        s.cfg.confirm_delay.as_millis()
    )
}

async fn token(
    AxState(s): AxState<Shared>,
    headers: HeaderMap,
    Form(form): Form<Params>,
) -> Response {
    let client = match check_client(&s, &headers, &form) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match form.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:device_code") => device_grant(&s, &client, &form),
        Some("refresh_token") => refresh_grant(&s, &client, &form),
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "device_code and refresh_token only",
        ),
    }
}

fn device_grant(s: &State, client: &str, form: &Params) -> Response {
    let Some(dc) = form.get("device_code") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "device_code missing",
        );
    };
    let now = Instant::now();
    let Ok(mut codes) = s.device_codes.lock() else {
        return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "state");
    };
    let Some(entry) = codes.get(dc) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown device code",
        );
    };
    if entry.client_id != client {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "client mismatch");
    }
    if now >= entry.expires {
        codes.remove(dc);
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "expired_token",
            "device code expired",
        );
    }
    if now < entry.created + s.cfg.confirm_delay {
        let left = (entry.created + s.cfg.confirm_delay).saturating_duration_since(now);
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "authorization_pending",
            &format!("confirming automatically in {} ms", left.as_millis()),
        );
    }
    let Some(entry) = codes.remove(dc) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown device code",
        );
    };
    drop(codes);
    tracing::info!(user_code = %entry.user_code, subject = %s.cfg.identity.subject,
        "development issuer: signed in");
    let body = s.token_response(&s.cfg.identity, client, &entry.scope);
    (StatusCode::OK, [("cache-control", "no-store")], Json(body)).into_response()
}

fn refresh_grant(s: &State, client: &str, form: &Params) -> Response {
    let Some(rt) = form.get("refresh_token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "refresh_token missing",
        );
    };
    let grant = s.take_grant(rt);
    match grant {
        Some(g) if g.client_id == client => {
            let body = s.token_response(&g.identity, client, &g.scope);
            (StatusCode::OK, [("cache-control", "no-store")], Json(body)).into_response()
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown refresh token",
        ),
    }
}

/// RFC 7009: always 200; a known refresh token is forgotten.
async fn revoke(AxState(s): AxState<Shared>, Form(form): Form<Params>) -> StatusCode {
    if let Some(t) = form.get("token") {
        s.take_grant(t);
    }
    StatusCode::OK
}
