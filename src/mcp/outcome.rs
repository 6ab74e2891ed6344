//! What a tool call tells the agent: one [`Outcome`] per answer, with a plain-language
//! `next` field, built by pure functions from the broker's view of the action.
//!
//! Agents read text, so every answer that is not an approval says "not approved" in so
//! many words and tells the agent what to do instead. A timeout, a lost broker or a
//! cancelled call never becomes `approved: true`; only a final `approved` status does.

use rmcp::schemars::{self, JsonSchema};
use serde::Serialize;

use crate::agent::outcome::describe;
use crate::protocol::api::ActionView;
use crate::protocol::{ActionId, Command, Status, Timestamp, Verdict};
use crate::text::visible_string as visible;

/// Where an approval request stands, as far as this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    Approved,
    Denied,
    Expired,
    Withdrawn,
    Pending,
    /// The outcome could not be learned (broker unreachable, request refused): not approved.
    Unknown,
}

/// One denial: who, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Denial {
    pub approver: String,
    pub reason: String,
}

/// The structured answer of `request_approval`, `wait_for_decision` and `approval_status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Outcome {
    /// The action's id, once the broker has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub status: OutcomeStatus,
    /// True only for a final approval by the required number of people.
    pub approved: bool,
    /// One line for people: how it ended or where it stands.
    pub message: String,
    /// What the agent should do now, in plain language.
    pub next: String,
    /// Who approved (so far, while pending).
    pub approved_by: Vec<String>,
    /// Who denied, and why.
    pub denied_by: Vec<Denial>,
    /// When the request expires (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// SHA-256 of the action's canonical form: what the approvers signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// True when `run_approved` can run this action's command (approved, with an argv).
    pub runnable: bool,
}

impl Outcome {
    /// The text content: the verdict first, so an agent that reads only the start of the
    /// text still cannot mistake "not approved" for approval.
    pub fn text(&self) -> String {
        let head = if self.approved {
            "APPROVED"
        } else if self.status == OutcomeStatus::Pending {
            "NOT APPROVED YET (pending)"
        } else {
            "NOT APPROVED"
        };
        format!("{head}: {}\nNext: {}", self.message, self.next)
    }
}

/// The outcome the broker's view of an action gives.
pub fn from_view(view: &ActionView, now: Timestamp) -> Outcome {
    let action = &view.action;
    let id = action.id.to_string();
    let by = |verdict: Verdict| {
        action
            .votes
            .iter()
            .filter(|v| v.verdict == verdict)
            .map(|v| visible(&v.approver))
            .collect::<Vec<_>>()
    };
    let approved_by = by(Verdict::Approve);
    let denied_by: Vec<Denial> = action
        .votes
        .iter()
        .filter(|v| v.verdict == Verdict::Deny)
        .map(|v| Denial {
            approver: visible(&v.approver),
            reason: visible(&v.reason),
        })
        .collect();
    let runnable =
        action.status == Status::Approved && matches!(action.command, Some(Command::Argv { .. }));
    let (status, next) = match action.status {
        Status::Approved if runnable => (
            OutcomeStatus::Approved,
            format!(
                "Approved. Call run_approved with id \"{id}\" to run the approved command \
                 exactly as approved, once. Do not run it any other way or change it."
            ),
        ),
        Status::Approved => (
            OutcomeStatus::Approved,
            "Approved. Do exactly what this request described, once; anything different \
             needs a new request."
                .to_string(),
        ),
        Status::Denied => {
            let why = denied_by
                .iter()
                .map(|d| {
                    if d.reason.trim().is_empty() {
                        format!("{} gave no reason", d.approver)
                    } else {
                        format!("{}: {}", d.approver, d.reason)
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            (
                OutcomeStatus::Denied,
                format!(
                    "Denied ({why}). Do not do this. Tell the user why, and do not retry the \
                     same request unchanged."
                ),
            )
        }
        Status::Expired => (
            OutcomeStatus::Expired,
            "Expired without approval. Do not proceed; ask the user whether to request \
             again."
                .to_string(),
        ),
        Status::Withdrawn => (
            OutcomeStatus::Withdrawn,
            "Withdrawn: not approved. Do not proceed.".to_string(),
        ),
        Status::Pending => (OutcomeStatus::Pending, pending_next(&id)),
    };
    Outcome {
        id: Some(id),
        status,
        approved: status == OutcomeStatus::Approved,
        message: describe(action, now),
        next,
        approved_by,
        denied_by,
        expires_at: Some(action.expires_at.to_string()),
        digest: Some(view.digest.to_string()),
        runnable,
    }
}

/// The `next` of a pending action.
pub fn pending_next(id: &str) -> String {
    format!(
        "Still pending: do not proceed; call wait_for_decision with id \"{id}\" again \
         (an approver has not decided yet)."
    )
}

/// The outcome when the broker could not tell: never approved.
pub fn unknown(id: Option<ActionId>, why: &str) -> Outcome {
    let why = visible(why);
    let (message, next) = match id {
        Some(id) => (
            format!("the outcome of {id} is unknown: {why}"),
            format!(
                "Not approved. Do not proceed; call approval_status with id \"{id}\" to check \
                 again, or tell the user the approval service is unavailable."
            ),
        ),
        None => (
            format!("the request was not submitted: {why}"),
            "Not approved. Do not proceed; fix the request if it was invalid, otherwise tell \
             the user the approval service is unavailable."
                .to_string(),
        ),
    };
    Outcome {
        id: id.map(|i| i.to_string()),
        status: OutcomeStatus::Unknown,
        approved: false,
        message,
        next,
        approved_by: Vec::new(),
        denied_by: Vec::new(),
        expires_at: None,
        digest: None,
        runnable: false,
    }
}

/// The outcome when the call was cancelled and the request withdrawn (or its withdrawal
/// attempted): never approved.
pub fn cancelled(id: ActionId) -> Outcome {
    let mut o = unknown(
        Some(id),
        "the call was cancelled; the request was withdrawn",
    );
    o.status = OutcomeStatus::Withdrawn;
    o.next = "Withdrawn: not approved. Do not proceed.".into();
    o
}

#[cfg(test)]
#[path = "outcome_tests.rs"]
mod tests;
