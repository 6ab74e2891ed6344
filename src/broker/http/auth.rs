//! Bearer-token extractors: [`Agent`], [`Approver`] and [`Anyone`].
//!
//! Handlers name the kind of caller they serve in their signature; the extractor asks the
//! configured [`crate::auth::Authenticator`] and refuses the other kind with 403.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::auth::{AuthError, Principal, PrincipalKind};
use crate::broker::error::HttpError;
use crate::broker::state::AppState;

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Result<&str, AuthError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(AuthError::Missing)?
        .to_str()
        .map_err(|_| AuthError::Malformed("authorization header is not ASCII".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| AuthError::Malformed("expected `Bearer <token>`".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed("expected `Bearer <token>`".into()));
    }
    Ok(token.trim())
}

async fn principal(
    parts: &Parts,
    state: &AppState,
    kind: Option<PrincipalKind>,
) -> Result<Principal, HttpError> {
    let token = bearer(parts)?;
    let p = state.authenticator.authenticate(token).await?;
    if let Some(expected) = kind
        && p.kind != expected
    {
        return Err(AuthError::WrongKind { expected }.into());
    }
    Ok(p)
}

/// An authenticated agent.
pub struct Agent(pub Principal);
/// An authenticated approver.
pub struct Approver(pub Principal);
/// Any authenticated caller.
pub struct Anyone(pub Principal);

impl FromRequestParts<AppState> for Agent {
    type Rejection = HttpError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        principal(parts, state, Some(PrincipalKind::Agent))
            .await
            .map(Agent)
    }
}

impl FromRequestParts<AppState> for Approver {
    type Rejection = HttpError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        principal(parts, state, Some(PrincipalKind::Approver))
            .await
            .map(Approver)
    }
}

impl FromRequestParts<AppState> for Anyone {
    type Rejection = HttpError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        principal(parts, state, None).await.map(Anyone)
    }
}
