//! What the views are allowed to see of an action: every string already display-safe.
//!
//! A queue entry keeps the raw [`Action`] privately (the console needs it to compute the
//! digest it signs) and exposes only this [`SafeAction`], built once when the action
//! arrives. Views take `&SafeAction`, so no agent string reaches a widget unsanitized.

use std::sync::{Arc, OnceLock};

use crate::protocol::{Action, ActionId, Digest, RiskLevel, Status, Timestamp, Verdict};

use super::diff::DiffModel;
use super::sanitize::SafeText;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeTag {
    pub label: SafeText,
    pub id: SafeText,
    pub reason: Vec<SafeText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeVote {
    pub approver: SafeText,
    pub verdict: Verdict,
    pub reason: SafeText,
    pub at: Timestamp,
}

/// An action as the views see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeAction {
    pub id: ActionId,
    pub kind: SafeText,
    pub summary: SafeText,
    pub requester_kind: &'static str,
    pub requester_id: SafeText,
    pub requester_name: SafeText,
    pub model: Option<SafeText>,
    pub on_behalf_of: Option<SafeText>,
    pub system: SafeText,
    pub resource: SafeText,
    pub environment: SafeText,
    pub justification: Vec<SafeText>,
    pub context: Vec<(SafeText, Vec<SafeText>)>,
    pub command: Option<Vec<SafeText>>,
    pub risk: RiskLevel,
    pub score: u32,
    pub tags: Vec<SafeTag>,
    pub approvals: u32,
    pub required: u32,
    pub groups: Vec<SafeText>,
    pub rule: Option<SafeText>,
    pub votes: Vec<SafeVote>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub status: Status,
    /// The digest the console computed itself (what it will sign).
    pub digest: Digest,
    /// True when any agent string carried something that had to be made visible.
    pub hidden_chars: bool,
}

impl SafeAction {
    pub fn of(a: &Action, digest: &Digest) -> Self {
        use crate::protocol::{Command, RequesterKind};
        let command = a.command.as_ref().map(|c| match c {
            Command::Text { text } => SafeText::lines(text),
            Command::Argv { .. } => vec![SafeText::line(&c.display_line())],
        });
        let s = Self {
            id: a.id,
            kind: SafeText::line(&a.kind),
            summary: SafeText::line(&a.summary),
            requester_kind: match a.requester.kind {
                RequesterKind::Agent => "agent",
                RequesterKind::Pipeline => "pipeline",
                RequesterKind::Human => "human",
            },
            requester_id: SafeText::line(&a.requester.id),
            requester_name: SafeText::line(&a.requester.display_name),
            model: a.requester.model.as_deref().map(SafeText::line),
            on_behalf_of: a.requester.on_behalf_of.as_deref().map(SafeText::line),
            system: SafeText::line(&a.target.system),
            resource: SafeText::line(&a.target.resource),
            environment: SafeText::line(&a.target.environment),
            justification: SafeText::lines(&a.justification),
            context: a
                .context
                .iter()
                .map(|c| (SafeText::line(&c.key), SafeText::lines(&c.value)))
                .collect(),
            command,
            risk: a.risk.level,
            score: a.risk.score,
            tags: a
                .risk
                .tags
                .iter()
                .map(|t| SafeTag {
                    label: SafeText::line(&t.label),
                    id: SafeText::line(&t.id),
                    reason: SafeText::lines(&t.reason),
                })
                .collect(),
            approvals: a.approvals(),
            required: a.policy.approvals_required,
            groups: a
                .policy
                .approver_groups
                .iter()
                .map(|g| SafeText::line(g))
                .collect(),
            rule: a.policy.rule.as_deref().map(SafeText::line),
            votes: a
                .votes
                .iter()
                .map(|v| SafeVote {
                    approver: SafeText::line(&v.approver),
                    verdict: v.verdict,
                    reason: SafeText::line(&v.reason),
                    at: v.at,
                })
                .collect(),
            created_at: a.created_at,
            expires_at: a.expires_at,
            status: a.status,
            digest: digest.clone(),
            hidden_chars: false,
        };
        let hidden = a
            .agent_texts()
            .iter()
            .any(|(_, t)| t.chars().any(|c| crate::text::hidden_class(c).is_some()));
        Self {
            hidden_chars: hidden,
            ..s
        }
    }

    /// `kind system/resource`, one line, for notices and titles.
    pub fn label(&self) -> String {
        format!(
            "{} {}/{}",
            self.kind.plain(),
            self.system.plain(),
            self.resource.plain()
        )
    }
}

/// One pending action in the queue.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The raw action, private to this module: views reach only [`SafeAction`], and the
    /// decision path only the narrow methods below.
    action: Action,
    pub view: SafeAction,
    /// Parsed on first view and kept for the digest (see [`Entry::diff`]).
    diff: OnceLock<Option<Arc<DiffModel>>>,
    /// When this console first saw it (for "new" marks and age).
    pub seen_at: Timestamp,
}

impl Entry {
    pub fn new(action: Action, seen_at: Timestamp) -> Self {
        let digest = action.digest();
        let view = SafeAction::of(&action, &digest);
        Self {
            action,
            view,
            diff: OnceLock::new(),
            seen_at,
        }
    }

    /// The parsed change; `None` when the action carries none. Parsed the first time a
    /// view asks, then cached: a queue of 10,000 actions shows one diff at a time, and
    /// parsing them all on arrival cost ~3.5 KB of heap per action.
    pub fn diff(&self) -> Option<&DiffModel> {
        self.diff
            .get_or_init(|| {
                self.action
                    .change
                    .as_ref()
                    .map(|c| Arc::new(DiffModel::of_change(c)))
            })
            .as_deref()
    }

    /// The same action with new mutable state (votes); the diff is reused when the
    /// digest is unchanged.
    pub fn updated(self, action: Action) -> Self {
        let digest = action.digest();
        if digest == self.view.digest {
            let view = SafeAction::of(&action, &digest);
            Self {
                action,
                view,
                ..self
            }
        } else {
            Self::new(action, self.seen_at)
        }
    }

    pub fn digest(&self) -> &Digest {
        &self.view.digest
    }

    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        self.action.is_expired_at(now)
    }

    /// What a decision names: the action id and the digest this console computed from
    /// the action it displayed (never one received from the broker).
    pub fn signing_basis(&self) -> (ActionId, Digest) {
        (self.action.id, self.action.digest())
    }

    /// True when `typed` is the resource or environment name, as sent or as displayed
    /// (a name with hidden characters can be typed as shown, markers included).
    pub fn confirms(&self, typed: &str) -> bool {
        let t = typed.trim();
        !t.is_empty()
            && (t == self.action.target.resource
                || t == self.action.target.environment
                || t == self.view.resource.plain()
                || t == self.view.environment.plain())
    }

    /// True when the broker already recorded this decision on the action.
    pub fn has_decision(&self, id: crate::protocol::DecisionId) -> bool {
        self.action.votes.iter().any(|v| v.decision_id == id)
    }

    /// True when `subject` has already voted on it.
    pub fn voted_by(&self, subject: &str) -> bool {
        self.action.votes.iter().any(|v| v.approver == subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::fixtures::{action, now};
    use crate::protocol::RiskLevel;

    #[test]
    fn the_diff_is_parsed_on_first_view_then_kept() {
        let e = Entry::new(action(1, "k8s.scale", "api", "dev", RiskLevel::Low), now());
        assert!(e.diff.get().is_none(), "not parsed on arrival");
        let first = e.diff().expect("the fixture carries a diff") as *const DiffModel;
        assert!(e.diff().is_some_and(|d| d.added == 2 && d.removed == 2));
        assert_eq!(e.diff().map(|d| d as *const DiffModel), Some(first));

        let mut plain = action(2, "k8s.scale", "api", "dev", RiskLevel::Low);
        plain.change = None;
        assert!(Entry::new(plain, now()).diff().is_none());
    }
}
