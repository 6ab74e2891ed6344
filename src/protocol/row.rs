//! What the approver feed carries for one action: the queue row, not the body.
//!
//! An agent may submit up to 2 MiB per action, so a feed that carried whole actions let
//! one agent make every snapshot too large for any console (the lock-out of issue #14).
//! An [`ActionRow`] holds only bounded fields (each at most 512 bytes, a bounded number of
//! tags and votes) plus the digest of the full action and its sizes; the body (context,
//! justification, command, change) is fetched when the approver views the action
//! (`get_action`, or `GET /v1/actions/{id}`) and checked against `digest` before it is
//! shown or signed.

use serde::{Deserialize, Serialize};

use super::action::{Action, ActionId, Execution, Policy, Requester, Risk, Status, Target};
use super::canonical::{Digest, canonical_json};
use super::decision::{DecisionId, Verdict};
use super::time::Timestamp;

/// One vote as a queue row shows it: who, which way, when (the reason is in the body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowVote {
    pub decision_id: DecisionId,
    pub approver: String,
    pub verdict: Verdict,
    pub at: Timestamp,
}

/// How large the parts left out of the row are, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodySizes {
    /// The canonical form the digest covers (what a pending-bytes budget counts).
    pub action: u64,
    /// The command's text, or all argv elements together.
    pub command: u64,
    /// The diff, or before + after + path.
    pub change: u64,
}

/// An action as the feed carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRow {
    pub id: ActionId,
    pub kind: String,
    pub summary: String,
    pub requester: Requester,
    pub target: Target,
    pub risk: Risk,
    pub policy: Policy,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub status: Status,
    #[serde(default)]
    pub votes: Vec<RowVote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Execution>,
    /// The digest of the full action (see [`Action::digest`]): a fetched body is shown and
    /// signed only when its own digest is this one.
    pub digest: Digest,
    pub sizes: BodySizes,
    /// Approvers who said they are looking at it (`POST /v1/actions/{id}/claim`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub looking: Vec<String>,
}

impl BodySizes {
    /// The sizes of `a`, with `canonical` the length of its digest input.
    pub fn of(a: &Action, canonical: usize) -> Self {
        Self {
            action: canonical as u64,
            command: a
                .command
                .as_ref()
                .map_or(0, |c| c.texts().iter().map(|t| t.len() as u64).sum()),
            change: a.change.as_ref().map_or(0, |c| c.byte_len() as u64),
        }
    }
}

impl ActionRow {
    /// The row of `a`, given its digest and sizes (the broker computes both once).
    pub fn of(a: &Action, digest: Digest, sizes: BodySizes) -> Self {
        Self {
            id: a.id,
            kind: a.kind.clone(),
            summary: a.summary.clone(),
            requester: a.requester.clone(),
            target: a.target.clone(),
            risk: a.risk.clone(),
            policy: a.policy.clone(),
            created_at: a.created_at,
            expires_at: a.expires_at,
            status: a.status,
            votes: a
                .votes
                .iter()
                .map(|v| RowVote {
                    decision_id: v.decision_id,
                    approver: v.approver.clone(),
                    verdict: v.verdict,
                    at: v.at,
                })
                .collect(),
            execution: a.execution.clone(),
            digest,
            sizes,
            looking: a.looking.clone(),
        }
    }

    /// The row of `a`, computing its digest and sizes.
    pub fn compute(a: &Action) -> Self {
        let (digest, sizes) = digest_and_sizes(a);
        Self::of(a, digest, sizes)
    }

    /// Approvals so far.
    pub fn approvals(&self) -> u32 {
        self.votes
            .iter()
            .filter(|v| v.verdict == Verdict::Approve)
            .count() as u32
    }

    /// True when `subject` already voted on this action.
    pub fn voted_by(&self, subject: &str) -> bool {
        self.votes.iter().any(|v| v.approver == subject)
    }
}

/// The digest of `a` and its sizes, from one canonical encoding.
pub fn digest_and_sizes(a: &Action) -> (Digest, BodySizes) {
    let bytes = canonical_json(&a.digest_input());
    (Digest::of_bytes(&bytes), BodySizes::of(a, bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::action::fixtures;

    #[test]
    fn a_row_carries_the_digest_and_sizes_of_the_full_action() {
        let a = fixtures::action();
        let row = ActionRow::compute(&a);
        assert_eq!(row.digest, a.digest());
        assert_eq!(
            row.sizes.action,
            canonical_json(&a.digest_input()).len() as u64
        );
        assert_eq!(row.id, a.id);
        assert_eq!(row.approvals(), a.approvals());
    }

    #[test]
    fn a_row_leaves_the_body_out() {
        let mut a = fixtures::action();
        a.justification = "x".repeat(10_000);
        let json = serde_json::to_string(&ActionRow::compute(&a)).unwrap();
        assert!(!json.contains("xxxx"), "the justification is body");
        assert!(!json.contains("\"context\""));
        assert!(!json.contains("\"argv\""));
        assert!(!json.contains("\"justification\""));
    }
}
