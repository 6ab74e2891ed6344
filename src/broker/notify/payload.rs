//! What a notification says, independent of where it goes.
//!
//! The writer stores a [`Notice`] in the outbox (in the same transaction as the event);
//! each sink renders it when it is delivered, so time left is as of delivery. Every
//! string an agent supplied is shown in the visible form (hidden characters as markers,
//! one line) and cut to a length; sinks escape their own markup on top.

use serde::{Deserialize, Serialize};

use crate::protocol::{Action, ActionId, Digest, RiskLevel, Status, Timestamp, Verdict};
use crate::text::{truncate, visible_string};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeEvent {
    /// A new action waits for approval (or, for an escalation sink, still waits).
    Created,
    /// A vote arrived and the action still waits.
    Voted,
    /// An approver said they are looking at it.
    Claimed,
    /// Decided, expired or withdrawn.
    Resolved,
}

impl NoticeEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeEvent::Created => "created",
            NoticeEvent::Voted => "voted",
            NoticeEvent::Claimed => "claimed",
            NoticeEvent::Resolved => "resolved",
        }
    }
}

/// One vote as a notification shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteLine {
    pub approver: String,
    pub verdict: Verdict,
    pub reason: String,
    pub key_id: String,
    pub at: Timestamp,
}

/// Everything a message carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub event: NoticeEvent,
    pub action_id: ActionId,
    pub kind: String,
    pub summary: String,
    /// `system:resource`.
    pub target: String,
    pub environment: String,
    pub risk: RiskLevel,
    pub score: u32,
    /// Each risk tag as `label: reason`.
    pub reasons: Vec<String>,
    pub requester: String,
    pub requester_name: String,
    pub on_behalf_of: Option<String>,
    pub approvals: u32,
    pub approvals_required: u32,
    pub approver_groups: Vec<String>,
    pub votes: Vec<VoteLine>,
    pub status: Status,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The first 12 hex characters of the action's digest (what approvers sign).
    pub digest_prefix: String,
    /// Who decided (approvers, the requester on withdrawal, `system` on expiry).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decided_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Approvers who said they are looking at it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub looking: Vec<String>,
    /// Sent to a sink that hears only about actions still undecided after a while.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub escalation: bool,
}

/// Longest agent-supplied field in a message, in columns.
const MAX_FIELD: usize = 300;

/// Agent-supplied text as one display-safe line.
pub fn safe(s: &str) -> String {
    truncate(&visible_string(s), MAX_FIELD)
}

impl Notice {
    /// The notice for `event` on `a` as it is now. `reason` and `decided_by` come with
    /// [`NoticeEvent::Resolved`].
    pub fn of(
        event: NoticeEvent,
        a: &Action,
        digest: &Digest,
        decided_by: &[String],
        reason: Option<&str>,
    ) -> Self {
        Self {
            event,
            action_id: a.id,
            kind: safe(&a.kind),
            summary: safe(&a.summary),
            target: safe(&format!("{}:{}", a.target.system, a.target.resource)),
            environment: safe(&a.target.environment),
            risk: a.risk.level,
            score: a.risk.score,
            reasons: a
                .risk
                .tags
                .iter()
                .map(|t| safe(&format!("{}: {}", t.label, t.reason)))
                .collect(),
            requester: safe(&a.requester.id),
            requester_name: safe(&a.requester.display_name),
            on_behalf_of: a.requester.on_behalf_of.as_deref().map(safe),
            approvals: a.approvals(),
            approvals_required: a.policy.approvals_required,
            approver_groups: a.policy.approver_groups.iter().map(|g| safe(g)).collect(),
            votes: a
                .votes
                .iter()
                .map(|v| VoteLine {
                    approver: safe(&v.approver),
                    verdict: v.verdict,
                    reason: safe(&v.reason),
                    key_id: safe(&v.key_id.0),
                    at: v.at,
                })
                .collect(),
            status: a.status,
            created_at: a.created_at,
            expires_at: a.expires_at,
            digest_prefix: digest.prefix(12).to_string(),
            decided_by: decided_by.iter().map(|d| safe(d)).collect(),
            reason: reason.map(safe),
            looking: a.looking.iter().map(|l| safe(l)).collect(),
            escalation: false,
        }
    }

    /// `signoff review ID` (or the sink's own template).
    pub fn review_command(&self, template: &str) -> String {
        template.replace("{id}", &self.action_id.to_string())
    }

    /// `2 of 3 approvals`.
    pub fn quorum(&self) -> String {
        format!(
            "{} of {} approval{}",
            self.approvals,
            self.approvals_required,
            if self.approvals_required == 1 {
                ""
            } else {
                "s"
            }
        )
    }

    /// `12m left`, `1h 5m left`, `expired`, as of `now`.
    pub fn time_left(&self, now: Timestamp) -> String {
        let secs = now.millis_until(self.expires_at) / 1000;
        if secs <= 0 {
            return "time is up".into();
        }
        let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
        match (h, m) {
            (0, 0) => format!("{s}s left"),
            (0, m) => format!("{m}m left"),
            (h, 0) => format!("{h}h left"),
            (h, m) => format!("{h}h {m}m left"),
        }
    }

    /// The requester, with whom it acts for.
    pub fn who(&self) -> String {
        match &self.on_behalf_of {
            Some(o) => format!(
                "{} ({}) on behalf of {o}",
                self.requester_name, self.requester
            ),
            None => format!("{} ({})", self.requester_name, self.requester),
        }
    }

    /// `bob is looking`, `bob and carol are looking`, or `None`.
    pub fn looking_line(&self) -> Option<String> {
        match self.looking.as_slice() {
            [] => None,
            [one] => Some(format!("{one} is looking")),
            [rest @ .., last] => Some(format!("{} and {last} are looking", rest.join(", "))),
        }
    }

    /// The vote that decided (the last one), when a vote decided.
    pub fn deciding_vote(&self) -> Option<&VoteLine> {
        match self.status {
            Status::Approved | Status::Denied => self.votes.last(),
            _ => None,
        }
    }

    /// One line on the outcome: `approved by bob ("ok", key 1a2b…)`.
    pub fn outcome_line(&self) -> String {
        let by = self.decided_by.join(", ");
        let reason = self.reason.clone().unwrap_or_default();
        match self.status {
            Status::Pending => format!("waiting: {}", self.quorum()),
            Status::Approved | Status::Denied => {
                let key = self
                    .deciding_vote()
                    .map(|v| format!(", key {}", v.key_id))
                    .unwrap_or_default();
                format!("{} by {by}: \"{reason}\"{key}", self.status)
            }
            Status::Expired => format!("expired: {reason}"),
            Status::Withdrawn => format!("withdrawn by {by}"),
        }
    }

    /// The first line of every message.
    pub fn headline(&self) -> String {
        let what = match (self.event, self.status, self.escalation) {
            (_, Status::Pending, true) => "Still waiting for approval",
            (_, Status::Pending, false) => "Approval needed",
            (_, Status::Approved, _) => "Approved",
            (_, Status::Denied, _) => "Denied",
            (_, Status::Expired, _) => "Expired",
            (_, Status::Withdrawn, _) => "Withdrawn",
        };
        format!(
            "{what}: {} on {} ({}), {} risk",
            self.kind, self.target, self.environment, self.risk
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::protocol::action::fixtures::action;

    pub fn notice() -> Notice {
        let a = action();
        Notice::of(NoticeEvent::Created, &a, &a.digest(), &[], None)
    }

    #[test]
    fn a_notice_carries_what_the_issue_lists() {
        let a = action();
        let n = Notice::of(NoticeEvent::Created, &a, &a.digest(), &[], None);
        assert_eq!(n.kind, "db.export");
        assert_eq!(n.target, "postgres:customers");
        assert_eq!(n.environment, "production");
        assert_eq!(n.risk, RiskLevel::High);
        assert_eq!(n.reasons, vec!["prod: environment is production"]);
        assert_eq!(
            n.who(),
            "Data assistant (agent-7) on behalf of alice@example.com"
        );
        assert_eq!(n.quorum(), "0 of 2 approvals");
        assert_eq!(n.digest_prefix, &a.digest().as_str()[..12]);
        assert_eq!(
            n.review_command("signoff review {id}"),
            format!("signoff review {}", a.id)
        );
        assert_eq!(n.time_left(a.created_at), "15m left");
        assert_eq!(n.time_left(a.created_at.plus_secs(899)), "1s left");
        assert_eq!(n.time_left(a.expires_at), "time is up");
        assert_eq!(
            n.headline(),
            "Approval needed: db.export on postgres:customers (production), high risk"
        );
    }

    #[test]
    fn agent_text_is_one_visible_line_and_cut() {
        let mut a = action();
        a.summary = format!("ok\u{202e}evil\n<!channel> {}", "x".repeat(1000));
        let n = Notice::of(NoticeEvent::Created, &a, &a.digest(), &[], None);
        assert!(
            n.summary.contains("⟨U+202E⟩") && n.summary.contains("⟨LF⟩"),
            "{}",
            n.summary
        );
        assert!(n.summary.chars().count() <= MAX_FIELD + 1);
        assert!(n.summary.ends_with('…'));
    }

    #[test]
    fn a_notice_survives_the_outbox_round_trip() {
        let n = notice();
        let back: Notice = serde_json::from_str(&serde_json::to_string(&n).unwrap()).unwrap();
        assert_eq!(back, n);
    }
}
