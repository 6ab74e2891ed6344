//! `/v1/actions`: submit, read (with long poll), withdraw, report the result.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};

use super::auth::{Agent, Anyone};
use crate::auth::{Principal, PrincipalKind};
use crate::broker::error::HttpError;
use crate::broker::policy::Facts;
use crate::broker::state::AppState;
use crate::broker::writer::{Created, IdempotencyKey, Op};
use crate::protocol::api::{ActionCreated, ActionView, ResultReport};
use crate::protocol::idempotency;
use crate::protocol::limits::{MAX_ACTION_BYTES, MAX_TEXT_FIELD};
use crate::protocol::strict::{decode_object, decode_value};
use crate::protocol::validate::validate_request;
use crate::protocol::{
    Action, ActionId, ActionRequest, ErrorCode, ProtocolError, Timestamp, digest_of,
};

/// The longest `?wait=` a long poll may ask for, in seconds.
pub const MAX_WAIT_SECS: u64 = 300;

fn view(a: &Action) -> ActionView {
    ActionView {
        action: a.clone(),
        digest: a.digest(),
    }
}

fn parse_id(raw: &str) -> Result<ActionId, HttpError> {
    raw.parse()
        .map_err(|_| HttpError::not_found(format!("no action {raw:?}")))
}

/// Reads a JSON body: more than `limit` bytes is `413 frame_too_large`; not UTF-8 JSON,
/// or not one object, is `400 malformed_frame`; then it is decoded strictly (see
/// [`crate::protocol::strict`]): a required field absent is `400 missing_field`, anything
/// else that does not read back exactly as sent is `400 invalid_field` naming the field.
pub async fn json_body<T: serde::de::DeserializeOwned + serde::Serialize>(
    body: Body,
    limit: usize,
) -> Result<T, HttpError> {
    decode_json(&json_value(body, limit).await?)
}

/// Reads a body as one JSON object (the first half of [`json_body`]).
async fn json_value(body: Body, limit: usize) -> Result<serde_json::Value, HttpError> {
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::FrameTooLarge,
            format!("request body is over the {limit}-byte limit"),
        )
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedFrame,
            format!("body is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedFrame,
            ProtocolError::MalformedFrame(e.to_string()).to_string(),
        )
    })?;
    if !value.is_object() {
        // The strict decoder words the refusal of anything but one object.
        return decode_object::<serde_json::Map<String, serde_json::Value>>(text)
            .map(serde_json::Value::Object)
            .map_err(|e| HttpError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()));
    }
    Ok(value)
}

/// Decodes a JSON object strictly (the second half of [`json_body`]).
fn decode_json<T: serde::de::DeserializeOwned + serde::Serialize>(
    value: &serde_json::Value,
) -> Result<T, HttpError> {
    decode_value(value).map_err(|e| match e {
        ProtocolError::MissingField(field) => {
            let mut err = HttpError::field(&field, "is required");
            err.set_code(ErrorCode::MissingField);
            err
        }
        ProtocolError::InvalidField(msg) => match msg.split_once(": ") {
            Some((field, why)) if !field.contains(' ') => HttpError::field(field, why),
            _ => HttpError::field("body", msg),
        },
        other => HttpError::new(StatusCode::BAD_REQUEST, other.code(), other.to_string()),
    })
}

/// `?wait=S`: whole seconds; any larger number is the longest wait. `None` when it is
/// not a whole number.
pub fn parse_wait(raw: &str) -> Option<u64> {
    if raw.is_empty() || raw.len() > 1000 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(raw.parse::<u64>().unwrap_or(u64::MAX).min(MAX_WAIT_SECS))
}

/// The `Idempotency-Key` header, when present: one header of valid grammar, else
/// `400 invalid_field` naming it.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, HttpError> {
    let mut values = headers
        .get_all(HeaderName::from_static("idempotency-key"))
        .iter();
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(HttpError::field(idempotency::HEADER, "must be sent once"));
    }
    let key = v.to_str().map_err(|_| {
        HttpError::field(
            idempotency::HEADER,
            "must be visible ASCII characters (`!` to `~`, no spaces)",
        )
    })?;
    idempotency::validate_key(key).map_err(|why| HttpError::field(idempotency::HEADER, why))?;
    Ok(Some(key.to_string()))
}

pub async fn create(
    State(state): State<AppState>,
    Agent(agent): Agent,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let key = idempotency_key(&headers)?;
    let mut value = json_value(body, MAX_ACTION_BYTES).await?;
    let callback = take_callback(&mut value, state.callbacks.as_ref())?;
    let req: ActionRequest = decode_json(&value)?;
    validate_request(&req).map_err(HttpError::fields)?;
    if req.requester.id != agent.subject() {
        return Err(HttpError::forbidden(format!(
            "requester.id {:?} is not your identity {:?}",
            req.requester.id,
            agent.subject()
        )));
    }
    let idempotency = key.map(|key| IdempotencyKey {
        agent: agent.subject().to_string(),
        key,
        // A callback is part of what was asked: the same key with another callback is
        // another request. (Without one, the hash is the request's, as before.)
        body_hash: match &callback {
            None => digest_of(&req),
            Some(cb) => digest_of(&(&req, cb)),
        },
    });
    let (who, kind) = (req.requester.id.clone(), req.kind.clone());
    let asked_before = state
        .read(move |s| s.has_requested_kind(&who, &kind))
        .await?;
    let now = Timestamp::now();
    let facts = Facts {
        now,
        first_time_for_kind: !asked_before,
    };
    let eval = state.policy.evaluate(&req, &facts);
    let ttl = i64::try_from(eval.ttl_secs.max(1)).unwrap_or(i64::MAX);
    let action = Action::from_request(req, eval.risk, eval.policy, now, now.plus_secs(ttl));
    let Created {
        action: a,
        replayed,
    } = state
        .submit(|reply| Op::Create {
            action: Box::new(action),
            idempotency,
            callback,
            reply,
        })
        .await??;
    if replayed {
        tracing::info!(action = %a.id, requester = %a.requester.id, "submission repeated with its Idempotency-Key; answered with the original action");
    } else {
        tracing::info!(action = %a.id, kind = %a.kind, requester = %a.requester.id, risk = %a.risk.level, "action submitted");
    }
    let body = Json(ActionCreated {
        id: a.id,
        digest: a.digest(),
        status: a.status,
        risk: a.risk.clone(),
        policy: a.policy.clone(),
        created_at: a.created_at,
        expires_at: a.expires_at,
    });
    let mut response = (StatusCode::CREATED, body).into_response();
    if replayed {
        response.headers_mut().insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

/// The longest `callback_url`.
const MAX_CALLBACK_URL: usize = 2048;

/// Takes `callback_url` out of a request body: where the requester hears the outcome
/// (a signed webhook). It is delivery metadata, not part of the action: not in its
/// digest, not shown to approvers. Only URLs under `[callbacks] allow` are taken.
fn take_callback(
    value: &mut serde_json::Value,
    callbacks: Option<&crate::broker::notify::Callbacks>,
) -> Result<Option<String>, HttpError> {
    let Some(raw) = value.as_object_mut().and_then(|o| o.remove("callback_url")) else {
        return Ok(None);
    };
    let Some(url) = raw.as_str() else {
        return Err(HttpError::field("callback_url", "must be a string"));
    };
    if url.len() > MAX_CALLBACK_URL {
        return Err(HttpError::field(
            "callback_url",
            format!("is over {MAX_CALLBACK_URL} bytes"),
        ));
    }
    let Some(cb) = callbacks else {
        return Err(HttpError::field(
            "callback_url",
            "this broker takes no callbacks ([callbacks] is not configured)",
        ));
    };
    cb.check(url)
        .map(Some)
        .map_err(|why| HttpError::field("callback_url", why))
}

/// `POST /v1/actions/{id}/claim`: an approver says they are looking ("bob is looking").
/// It decides nothing; the console row and the Slack message show it.
pub async fn claim(
    State(state): State<AppState>,
    super::auth::Approver(p): super::auth::Approver,
    Path(raw): Path<String>,
) -> Result<Json<ActionView>, HttpError> {
    let id = parse_id(&raw)?;
    let by = p
        .identity
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| p.subject().to_string());
    let by = claimant(&by);
    let a = state.submit(|reply| Op::Claim { id, by, reply }).await??;
    Ok(Json(view(&a)))
}

/// The name a claim records and shows ("bob is looking"): one visible line, at most 64
/// columns. The console's claim and Slack's button record names alike.
pub(crate) fn claimant(name: &str) -> String {
    crate::text::truncate(&crate::text::visible_string(name), 64)
}

fn visible(p: &Principal, a: &Action) -> bool {
    p.kind == PrincipalKind::Approver || a.requester.id == p.subject()
}

async fn load(state: &AppState, id: ActionId, p: &Principal) -> Result<Action, HttpError> {
    let a = match state.live.pending(&id) {
        Some(a) => (*a).clone(),
        None => state
            .read(move |s| s.action(&id))
            .await?
            .ok_or_else(|| HttpError::not_found(format!("no action {id}")))?,
    };
    if !visible(p, &a) {
        return Err(HttpError::not_found(format!("no action {id}")));
    }
    Ok(a)
}

pub async fn get(
    State(state): State<AppState>,
    Anyone(p): Anyone,
    Path(raw): Path<String>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Json<ActionView>, HttpError> {
    let id = parse_id(&raw)?;
    let Query(q) = q.map_err(|e| HttpError::invalid_query(format!("bad query string: {e}")))?;
    let wait = match q.get("wait") {
        None => 0,
        Some(w) => parse_wait(w).ok_or_else(|| {
            HttpError::invalid_query(format!(
                "wait: {:?} is not a whole number of seconds (0 to {MAX_WAIT_SECS}; more is {MAX_WAIT_SECS})",
                w.chars().take(40).collect::<String>()
            ))
        })?,
    };
    let a = load(&state, id, &p).await?;
    if wait == 0 || a.status.is_final() {
        return Ok(Json(view(&a)));
    }
    let rx = match state.live.watch(&id) {
        Some(rx) => Some(rx),
        // Several brokers: it may be pending in the store before this one has its event.
        None if state.store.shared() => {
            let rx = state.live.watch_any(&id);
            let again = load(&state, id, &p).await?;
            if again.status.is_final() {
                drop(rx);
                state.live.unwatch_idle(&id);
                return Ok(Json(view(&again)));
            }
            Some(rx)
        }
        None => None,
    };
    if let Some(mut rx) = rx {
        let mut shutdown = state.shutdown.clone();
        tokio::select! {
            _ = tokio::time::timeout(Duration::from_secs(wait), rx.changed()) => {}
            _ = crate::broker::state::stopping(&mut shutdown) => {}
        }
        drop(rx);
        state.live.unwatch_idle(&id);
    }
    load(&state, id, &p).await.map(|a| Json(view(&a)))
}

pub async fn withdraw(
    State(state): State<AppState>,
    Agent(agent): Agent,
    Path(raw): Path<String>,
) -> Result<Json<ActionView>, HttpError> {
    let id = parse_id(&raw)?;
    let by = agent.subject().to_string();
    let a = state
        .submit(|reply| Op::Withdraw { id, by, reply })
        .await??;
    tracing::info!(action = %id, "action withdrawn");
    Ok(Json(view(&a)))
}

pub async fn result(
    State(state): State<AppState>,
    Agent(agent): Agent,
    Path(raw): Path<String>,
    body: Body,
) -> Result<Json<ActionView>, HttpError> {
    let id = parse_id(&raw)?;
    let report: ResultReport = json_body(body, 2 * MAX_TEXT_FIELD).await?;
    if report
        .detail
        .as_ref()
        .is_some_and(|d| d.len() > MAX_TEXT_FIELD)
    {
        return Err(HttpError::field(
            "detail",
            format!("is over the {MAX_TEXT_FIELD}-byte limit"),
        ));
    }
    let by = agent.subject().to_string();
    let a = state
        .submit(|reply| Op::Report {
            id,
            by,
            report,
            reply,
        })
        .await??;
    tracing::info!(action = %id, exit_code = report_code(&a), "execution result recorded");
    Ok(Json(view(&a)))
}

fn report_code(a: &Action) -> i32 {
    a.execution.as_ref().map_or(0, |e| e.exit_code)
}
