//! `/v1/keys`: an approver registers, lists and revokes device public keys.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::actions::json_body;
use super::auth::Approver;
use crate::broker::error::HttpError;
use crate::broker::state::AppState;
use crate::broker::writer::Op;
use crate::protocol::KeyId;
use crate::protocol::api::{KeyInfo, KeyList, KeyRegistration};
use crate::protocol::decision::{decode_public_key, encode_public_key};
use crate::protocol::limits::MAX_SHORT_FIELD;

pub async fn register(
    State(state): State<AppState>,
    Approver(p): Approver,
    body: Body,
) -> Result<(StatusCode, Json<KeyInfo>), HttpError> {
    let reg: KeyRegistration = json_body(body, 4096).await?;
    let key = decode_public_key(reg.public_key.trim()).map_err(|_| {
        HttpError::field(
            "public_key",
            "is not base64 of a 32-byte Ed25519 public key: the canonical encoding of a \
             point of prime order (weak, small-order keys are refused)",
        )
    })?;
    if reg.label.len() > MAX_SHORT_FIELD {
        return Err(HttpError::field(
            "label",
            format!("is over the {MAX_SHORT_FIELD}-byte limit"),
        ));
    }
    let subject = p.subject().to_string();
    let (info, created) = state
        .submit(|reply| Op::RegisterKey {
            subject,
            public_key: encode_public_key(&key),
            key_id: KeyId::of(&key),
            label: reg.label,
            reply,
        })
        .await??;
    if created {
        tracing::info!(key = %info.key_id, subject = %info.subject, "key registered");
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(info)))
}

pub async fn list(State(state): State<AppState>, Approver(p): Approver) -> Json<KeyList> {
    Json(KeyList {
        keys: state.keys.of_subject(p.subject()),
    })
}

pub async fn revoke(
    State(state): State<AppState>,
    Approver(p): Approver,
    Path(key_id): Path<String>,
) -> Result<Json<KeyInfo>, HttpError> {
    let subject = p.subject().to_string();
    let key_id = KeyId(key_id);
    let info = state
        .submit(|reply| Op::RevokeKey {
            subject,
            key_id,
            reply,
        })
        .await??;
    tracing::info!(key = %info.key_id, subject = %info.subject, "key revoked");
    Ok(Json(info))
}
