//! Every websocket message, in both directions, as `{"type": "..."}`-tagged JSON.
//!
//! Frames are size-checked before parsing and decoded in two steps (JSON, then the known
//! `type`, then the fields) so that each failure has its own clear [`ProtocolError`].

use serde::{Deserialize, Serialize};

use super::PROTOCOL_VERSION;
use super::action::{Action, ActionId, Status};
use super::canonical::Digest;
use super::decision::{DecisionId, SignedDecision};
use super::error::{ErrorCode, ProtocolError};
use super::history::{HistoryPage, HistoryQuery};
use super::limits::{MAX_CLIENT_FRAME, MAX_SERVER_FRAME};
use super::row::ActionRow;
use super::strict::classify;
use super::time::Timestamp;

/// Who the broker says you are, from your token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Console → broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// The first message on every connection.
    Hello {
        protocol: u32,
        /// Client name and version, for logs.
        client: String,
        /// The last event sequence number this client saw, when reconnecting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_after: Option<u64>,
    },
    /// A signed approve or deny.
    Decide { decision: SignedDecision },
    /// A history query; answered by `history_page` or `query_failed` with the same id.
    QueryHistory {
        request_id: u64,
        query: HistoryQuery,
    },
    /// The full action (its body) for viewing; answered by `action` or `query_failed`
    /// with the same id.
    GetAction {
        request_id: u64,
        action_id: ActionId,
    },
}

/// Broker → console. Feed events (`snapshot`, `pending`, `updated`, `resolved`) carry a
/// sequence number; replies (`ack`, `rejected`, `history_page`, `query_failed`) do not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMsg {
    /// The answer to `hello`.
    Welcome {
        protocol: u32,
        identity: Identity,
        server_time: Timestamp,
        /// The newest event sequence number at the time of the welcome.
        head_seq: u64,
    },
    /// One page of the pending actions this approver may decide, as of event `seq`.
    /// Page 1 starts a snapshot; when page `pages` has arrived it replaces all state the
    /// client held, and events after `seq` follow.
    Snapshot {
        seq: u64,
        page: u32,
        pages: u32,
        rows: Vec<ActionRow>,
    },
    /// A new pending action.
    Pending {
        seq: u64,
        row: ActionRow,
    },
    /// A pending action changed: a vote arrived.
    Updated {
        seq: u64,
        row: ActionRow,
    },
    /// An action left the queue: approved, denied, expired or withdrawn.
    Resolved {
        seq: u64,
        row: ActionRow,
        /// Who decided (approver subjects, the requester for a withdrawal, `system` for expiry).
        decided_by: Vec<String>,
        reason: String,
    },
    /// An approved action ran and its requester reported the result (`row.execution`).
    Executed {
        seq: u64,
        row: ActionRow,
    },
    /// Events `from..=seq` happened but concern actions this approver may not see.
    Skipped {
        seq: u64,
        from: u64,
    },
    /// A decision is durable in the audit log.
    Ack {
        decision_id: DecisionId,
        action_id: ActionId,
        /// The action's status after this vote (still `pending` until quorum).
        status: Status,
        audit_hash: Digest,
        /// A broker-signed checkpoint of the audit log covering this vote; keep the latest
        /// (see `docs/broker.md`, "Checkpoints").
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkpoint: Option<super::checkpoint::Checkpoint>,
    },
    /// The broker-signed checkpoint of the audit log's newest entry (version 2): sent once
    /// the client has caught up and then whenever the log grows, at most about once a
    /// second. Not an event: it carries no `seq`. Keep the latest (see `docs/broker.md`,
    /// "Checkpoints").
    Checkpoint {
        checkpoint: super::checkpoint::Checkpoint,
    },
    /// A decision was refused; nothing was recorded.
    Rejected {
        decision_id: DecisionId,
        code: ErrorCode,
        message: String,
    },
    HistoryPage {
        request_id: u64,
        page: HistoryPage,
    },
    /// The answer to `get_action`: the full action and its current digest.
    Action {
        request_id: u64,
        action: Box<Action>,
        digest: Digest,
    },
    QueryFailed {
        request_id: u64,
        code: ErrorCode,
        message: String,
    },
    /// A fatal error; the broker closes the connection after sending it.
    Error {
        code: ErrorCode,
        message: String,
    },
}

impl ServerMsg {
    /// The event sequence number, for feed events (the last number, for `skipped`).
    pub fn seq(&self) -> Option<u64> {
        match self {
            ServerMsg::Snapshot { seq, .. }
            | ServerMsg::Pending { seq, .. }
            | ServerMsg::Updated { seq, .. }
            | ServerMsg::Resolved { seq, .. }
            | ServerMsg::Executed { seq, .. }
            | ServerMsg::Skipped { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// The first sequence number this event accounts for: `from` for `skipped`, else
    /// [`ServerMsg::seq`]. A client expects it to be one more than the last it applied.
    pub fn first_seq(&self) -> Option<u64> {
        match self {
            ServerMsg::Skipped { from, .. } => Some(*from),
            _ => self.seq(),
        }
    }
}

impl ClientMsg {
    /// A hello for this build's protocol version.
    pub fn hello(client: impl Into<String>, resume_after: Option<u64>) -> Self {
        ClientMsg::Hello {
            protocol: PROTOCOL_VERSION,
            client: client.into(),
            resume_after,
        }
    }
}

const CLIENT_TYPES: &[&str] = &["hello", "decide", "query_history", "get_action"];
const SERVER_TYPES: &[&str] = &[
    "welcome",
    "snapshot",
    "pending",
    "updated",
    "resolved",
    "executed",
    "skipped",
    "ack",
    "rejected",
    "history_page",
    "action",
    "query_failed",
    "error",
    "checkpoint",
];

/// Decodes a console → broker frame, checking its size first. Strict: a frame that does
/// not read back exactly as sent (see [`super::strict`]) is refused.
pub fn decode_client(frame: &str) -> Result<ClientMsg, ProtocolError> {
    let value = parse(frame, MAX_CLIENT_FRAME, CLIENT_TYPES)?;
    let msg: ClientMsg = super::strict::decode_value(&value)?;
    if let ClientMsg::Hello { protocol, .. } = &msg
        && *protocol != PROTOCOL_VERSION
    {
        return Err(ProtocolError::UnsupportedVersion {
            got: *protocol,
            supported: PROTOCOL_VERSION,
        });
    }
    Ok(msg)
}

/// Decodes a broker → console frame, checking its size first.
pub fn decode_server(frame: &str) -> Result<ServerMsg, ProtocolError> {
    let value = parse(frame, MAX_SERVER_FRAME, SERVER_TYPES)?;
    let msg: ServerMsg = serde_json::from_value(value).map_err(|e| classify(&e.to_string()))?;
    if let ServerMsg::Welcome { protocol, .. } = &msg
        && *protocol != PROTOCOL_VERSION
    {
        return Err(ProtocolError::UnsupportedVersion {
            got: *protocol,
            supported: PROTOCOL_VERSION,
        });
    }
    Ok(msg)
}

/// Encodes any message as one JSON text frame.
pub fn encode<T: Serialize>(msg: &T) -> String {
    // Our message types always serialize (string keys, no non-finite floats).
    serde_json::to_string(msg).unwrap_or_else(|e| unreachable!("encoding a message failed: {e}"))
}

/// Checks the size, parses the JSON and checks the `type` is one of `known`.
fn parse(frame: &str, limit: usize, known: &[&str]) -> Result<serde_json::Value, ProtocolError> {
    if frame.len() > limit {
        return Err(ProtocolError::FrameTooLarge {
            size: frame.len(),
            limit,
        });
    }
    let value: serde_json::Value =
        serde_json::from_str(frame).map_err(|e| ProtocolError::MalformedFrame(e.to_string()))?;
    let Some(obj) = value.as_object() else {
        return Err(ProtocolError::MalformedFrame(
            "a message is a JSON object".into(),
        ));
    };
    let ty = match obj.get("type") {
        None => return Err(ProtocolError::MissingField("type".into())),
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(ProtocolError::InvalidField(
                "`type` must be a string".into(),
            ));
        }
    };
    if !known.contains(&ty) {
        return Err(ProtocolError::UnknownMessageType(
            ty.chars().take(64).collect(),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::protocol::action::fixtures::action;
    use crate::protocol::decision::{Decision, KeyId, Verdict};
    use crate::protocol::history::{HistoryCursor, HistoryRecord};
    use crate::protocol::{RiskLevel, limits};

    fn signed() -> SignedDecision {
        let k = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        Decision {
            decision_id: DecisionId::from_str("01JD0000000000000000000002").unwrap(),
            action_id: action().id,
            action_digest: action().digest(),
            verdict: Verdict::Deny,
            reason: "no ticket".into(),
            approver: "bob".into(),
            key_id: KeyId::of(&k.verifying_key()),
            issued_at: Timestamp::from_unix_millis(1_795_000_000_000),
        }
        .sign(&k)
    }

    fn all_client() -> Vec<ClientMsg> {
        vec![
            ClientMsg::hello("signoff/0.1.0", Some(41)),
            ClientMsg::hello("signoff/0.1.0", None),
            ClientMsg::Decide { decision: signed() },
            ClientMsg::QueryHistory {
                request_id: 7,
                query: HistoryQuery {
                    outcome: vec![Status::Denied],
                    risk: vec![RiskLevel::Critical],
                    text: Some("customers".into()),
                    cursor: Some(HistoryCursor("abc".into())),
                    ..Default::default()
                },
            },
            ClientMsg::GetAction {
                request_id: 9,
                action_id: action().id,
            },
        ]
    }

    fn all_server() -> Vec<ServerMsg> {
        let a = action();
        let row = ActionRow::compute(&a);
        let record = HistoryRecord {
            action: a.clone(),
            digest: a.digest(),
            decided_at: a.created_at.plus_secs(30),
            decided_by: vec!["bob".into()],
            reason: "no ticket".into(),
            audit_hash: a.digest(),
            signatures_verified: vec![true],
        };
        vec![
            ServerMsg::Welcome {
                protocol: PROTOCOL_VERSION,
                identity: Identity {
                    subject: "bob".into(),
                    email: Some("bob@example.com".into()),
                    name: None,
                    groups: vec!["sre".into()],
                },
                server_time: Timestamp::from_unix_millis(1_795_000_000_000),
                head_seq: 41,
            },
            ServerMsg::Snapshot {
                seq: 41,
                page: 1,
                pages: 1,
                rows: vec![row.clone()],
            },
            ServerMsg::Pending {
                seq: 42,
                row: row.clone(),
            },
            ServerMsg::Updated {
                seq: 43,
                row: row.clone(),
            },
            ServerMsg::Resolved {
                seq: 44,
                row: row.clone(),
                decided_by: vec!["bob".into()],
                reason: "no ticket".into(),
            },
            ServerMsg::Executed {
                seq: 45,
                row: row.clone(),
            },
            ServerMsg::Skipped { seq: 47, from: 46 },
            ServerMsg::Ack {
                decision_id: DecisionId::new(),
                action_id: a.id,
                status: Status::Pending,
                audit_hash: a.digest(),
                checkpoint: Some(crate::protocol::Checkpoint::sign(
                    7,
                    a.digest().as_str(),
                    Timestamp::from_unix_millis(1_795_000_000_000),
                    &ed25519_dalek::SigningKey::from_bytes(&[4; 32]),
                )),
            },
            ServerMsg::Rejected {
                decision_id: DecisionId::new(),
                code: ErrorCode::DigestMismatch,
                message: "the action changed".into(),
            },
            ServerMsg::HistoryPage {
                request_id: 7,
                page: HistoryPage {
                    records: vec![record],
                    next_cursor: None,
                },
            },
            ServerMsg::Action {
                request_id: 9,
                action: Box::new(a.clone()),
                digest: a.digest(),
            },
            ServerMsg::QueryFailed {
                request_id: 8,
                code: ErrorCode::InvalidQuery,
                message: "since is after until".into(),
            },
            ServerMsg::Error {
                code: ErrorCode::SlowConsumer,
                message: "too far behind".into(),
            },
            ServerMsg::Checkpoint {
                checkpoint: crate::protocol::Checkpoint::sign(
                    8,
                    a.digest().as_str(),
                    Timestamp::from_unix_millis(1_795_000_000_000),
                    &ed25519_dalek::SigningKey::from_bytes(&[4; 32]),
                ),
            },
        ]
    }

    #[test]
    fn every_client_message_round_trips() {
        for m in all_client() {
            let back = decode_client(&encode(&m)).unwrap();
            assert_eq!(back, m);
        }
    }

    #[test]
    fn every_server_message_round_trips() {
        let msgs = all_server();
        let types: Vec<String> = msgs
            .iter()
            .map(|m| {
                serde_json::to_value(m).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            types, SERVER_TYPES,
            "every server message type is exercised"
        );
        for m in msgs {
            assert_eq!(decode_server(&encode(&m)).unwrap(), m);
        }
    }

    #[test]
    fn unknown_type_is_its_own_error() {
        let e = decode_client(r#"{"type":"approve_everything"}"#).unwrap_err();
        assert_eq!(
            e,
            ProtocolError::UnknownMessageType("approve_everything".into())
        );
        assert_eq!(e.code(), ErrorCode::UnknownMessageType);
    }

    #[test]
    fn missing_field_is_named() {
        let e = decode_client(r#"{"type":"hello","protocol":1}"#).unwrap_err();
        assert_eq!(e, ProtocolError::MissingField("client".into()));
        let e = decode_client(r#"{"protocol":1}"#).unwrap_err();
        assert_eq!(e, ProtocolError::MissingField("type".into()));
    }

    #[test]
    fn wrong_protocol_version_is_refused() {
        // Version 1 (before `checkpoint` existed) and any future one.
        for got in [1, PROTOCOL_VERSION + 1] {
            let frame = format!(r#"{{"type":"hello","protocol":{got},"client":"x"}}"#);
            let e = decode_client(&frame).unwrap_err();
            assert_eq!(
                e,
                ProtocolError::UnsupportedVersion {
                    got,
                    supported: PROTOCOL_VERSION
                }
            );
        }
        let e = decode_client(r#"{"type":"hello","protocol":3,"client":"x"}"#).unwrap_err();
        assert_eq!(e.code(), ErrorCode::UnsupportedProtocolVersion);
    }

    #[test]
    fn oversized_frame_is_refused_before_parsing() {
        // Not even JSON: the size check must come first.
        let frame = "x".repeat(limits::MAX_CLIENT_FRAME + 1);
        let e = decode_client(&frame).unwrap_err();
        assert_eq!(
            e,
            ProtocolError::FrameTooLarge {
                size: frame.len(),
                limit: limits::MAX_CLIENT_FRAME
            }
        );
    }

    #[test]
    fn malformed_and_unknown_fields_are_distinct() {
        assert!(matches!(
            decode_client("{not json"),
            Err(ProtocolError::MalformedFrame(_))
        ));
        assert!(matches!(
            decode_client("[1,2]"),
            Err(ProtocolError::MalformedFrame(_))
        ));
        let e = decode_client(r#"{"type":"hello","protocol":1,"client":"x","admin":true}"#);
        assert!(matches!(e, Err(ProtocolError::InvalidField(_))));
        let e = decode_client(r#"{"type":"hello","protocol":"one","client":"x"}"#);
        assert!(matches!(e, Err(ProtocolError::InvalidField(_))));
    }

    #[test]
    fn distinct_errors_have_distinct_codes() {
        let errs = [
            decode_client(r#"{"type":"nope"}"#).unwrap_err().code(),
            decode_client(r#"{"type":"hello","protocol":1}"#)
                .unwrap_err()
                .code(),
            decode_client(r#"{"type":"hello","protocol":9,"client":"x"}"#)
                .unwrap_err()
                .code(),
            decode_client(&" ".repeat(limits::MAX_CLIENT_FRAME + 1))
                .unwrap_err()
                .code(),
            decode_client("{").unwrap_err().code(),
        ];
        let mut uniq = errs.to_vec();
        uniq.dedup();
        assert_eq!(uniq.len(), errs.len());
    }

    #[test]
    fn seq_is_on_every_event() {
        for m in all_server() {
            let is_event = matches!(
                m,
                ServerMsg::Snapshot { .. }
                    | ServerMsg::Pending { .. }
                    | ServerMsg::Updated { .. }
                    | ServerMsg::Resolved { .. }
                    | ServerMsg::Executed { .. }
                    | ServerMsg::Skipped { .. }
            );
            assert_eq!(m.seq().is_some(), is_event);
        }
    }
}
