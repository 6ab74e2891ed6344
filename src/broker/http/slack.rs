//! `POST /v1/notify/slack/interactions`: the Slack app's interactivity Request URL, for the
//! "I'm looking" button on Slack messages (with `[slack_interactivity]`; otherwise 404).
//!
//! Authenticated by Slack's request signature, not a bearer token. A click by a Slack user
//! mapped to an approver sets the same claim as `POST /v1/actions/{id}/claim` (not a vote,
//! not in the digest, not in the audit log); the Slack message is then edited by the
//! outbox like for any claim. Anyone else is told so, only they see it, and nothing changes.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};

use crate::broker::error::HttpError;
use crate::broker::notify::config::SlackApp;
use crate::broker::notify::interact::{self, Click};
use crate::broker::state::AppState;
use crate::broker::writer::{Op, OpError};
use crate::protocol::{ActionId, ErrorCode, Timestamp};

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub async fn interactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let Some(app) = state.slack_app.clone() else {
        return Err(HttpError::not_found("no such endpoint"));
    };
    let bytes = to_bytes(body, interact::MAX_BODY).await.map_err(|_| {
        HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::FrameTooLarge,
            format!("request body is over the {}-byte limit", interact::MAX_BODY),
        )
    })?;
    let now = Timestamp::now().unix_millis() / 1000;
    let signed = match (
        header(&headers, "x-slack-request-timestamp"),
        header(&headers, "x-slack-signature"),
    ) {
        (Some(ts), Some(sig)) => {
            interact::verify(app.signing_secret.expose().as_bytes(), ts, sig, &bytes, now)
        }
        _ => Err(interact::Refusal::Missing),
    };
    if let Err(r) = signed {
        tracing::warn!(reason = r.message(), "Slack interaction refused");
        return Err(HttpError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            r.message(),
        ));
    }
    let click = match interact::parse(&bytes) {
        Ok(Some(c)) => c,
        // Another interaction of the app: nothing to do here.
        Ok(None) => return Ok(StatusCode::OK.into_response()),
        Err(e) => {
            return Err(HttpError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedFrame,
                format!("not a Slack interaction: {e}"),
            ));
        }
    };
    let user = crate::text::truncate(&crate::text::visible_string(&click.user), 40);
    let Some(approver) = app.users.get(&click.user).cloned() else {
        tracing::warn!(slack_user = %user, "Slack user not mapped to an approver; claim refused");
        return Ok(refuse(
            &app,
            &click,
            "signoff does not know your Slack account ([slack_interactivity] users), so it \
             cannot say you are looking. Open the action in the console instead.",
        ));
    };
    let Ok(id) = click.action.parse::<ActionId>() else {
        return Ok(refuse(&app, &click, "That button names no signoff action."));
    };
    let by = super::actions::claimant(&approver);
    let claimed = state
        .submit(|reply| Op::Claim {
            id,
            by: by.clone(),
            reply,
        })
        .await?;
    match claimed {
        Ok(_) => {
            tracing::info!(action = %id, slack_user = %user, by = %by, "claimed from Slack");
            Ok(StatusCode::OK.into_response())
        }
        Err(OpError::NotFound(_)) => Ok(refuse(&app, &click, "No such action.")),
        Err(OpError::Conflict(m)) => Ok(refuse(
            &app,
            &click,
            &format!("Nothing to look at: the {m}."),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Answers with a message only the clicking user sees, and posts it to the click's
/// `response_url` too (Slack shows a `block_actions` reply only from there), when that
/// URL is Slack's.
fn refuse(app: &Arc<SlackApp>, click: &Click, text: &str) -> Response {
    let body = interact::ephemeral(text);
    if let Some(url) = click
        .response_url
        .as_deref()
        .filter(|u| u.starts_with(app.response_url_prefix.as_str()))
    {
        let (url, body) = (url.to_string(), body.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default();
            // The URL carries a token of Slack's: never logged.
            if let Err(e) = client.post(&url).json(&body).send().await {
                tracing::warn!(timeout = e.is_timeout(), "cannot reply to a Slack click");
            }
        });
    }
    (StatusCode::OK, Json(body)).into_response()
}
