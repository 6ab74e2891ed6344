//! The decision-history query: filters, cursor paging and the records returned.
//!
//! The same query travels as `GET /v1/history` query parameters and as a websocket
//! `query_history` message; the console applies it locally to pages it already holds.

use serde::{Deserialize, Serialize};

use super::action::{Action, RiskLevel, Status};
use super::canonical::Digest;
use super::time::Timestamp;

/// Most records in one page.
pub const MAX_PAGE: u32 = 500;
/// Page size when none is given.
pub const DEFAULT_PAGE: u32 = 100;

/// An opaque paging cursor handed back by the broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HistoryCursor(pub String);

/// Filters over decided actions. Empty lists and `None` mean "any".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistoryQuery {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outcome: Vec<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub risk: Vec<RiskLevel>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kind: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<String>,
    /// Requester id or display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    /// Subject of an approver who voted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// Only records that ran with a reported result (`executed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// Free text over summary, kind, target, requester, approver, reason and command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<HistoryCursor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl HistoryQuery {
    /// The page size to use, clamped to [`MAX_PAGE`].
    pub fn page_size(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
    }

    /// Checks the filter for contradictions before it reaches a store.
    pub fn validate(&self) -> Result<(), String> {
        if self.outcome.contains(&Status::Pending) {
            return Err("outcome `pending` is not history; use the feed".into());
        }
        if let (Some(s), Some(u)) = (self.since, self.until)
            && s > u
        {
            return Err(format!("since ({s}) is after until ({u})"));
        }
        if self.limit == Some(0) {
            return Err("limit must be at least 1".into());
        }
        Ok(())
    }
}

/// One decided action as history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// The action with its final status, every vote and any execution result.
    pub action: Action,
    pub digest: Digest,
    pub decided_at: Timestamp,
    /// Who decided: the approvers whose votes resolved it, or `system` for expiry,
    /// or the requester for a withdrawal.
    pub decided_by: Vec<String>,
    /// The deciding reason (a deny's reason, the last approval's reason, "expired").
    pub reason: String,
    /// Hash of the audit entry that recorded the outcome.
    pub audit_hash: Digest,
    /// Per-vote signature status, in vote order: true when the stored signature verifies.
    #[serde(default)]
    pub signatures_verified: Vec<bool>,
}

/// One page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub records: Vec<HistoryRecord>,
    /// Present when more records follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<HistoryCursor>,
}
