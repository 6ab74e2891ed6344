//! The action model: what an agent asks to do, as the approver sees it.
//!
//! An agent submits an [`ActionRequest`]; the broker assigns an id, timestamps, risk and
//! policy, and holds the resulting [`Action`]. Everything the approver sees is covered by
//! the action's digest (see [`Action::digest`]); only `status`, `votes`, `execution` and
//! `looking` change after creation and are left out of it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::canonical::{Digest, digest_of};
use super::time::Timestamp;

pub use super::ids::ActionId;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequesterKind {
    /// An AI agent acting on its own.
    Agent,
    /// A CI/CD pipeline.
    Pipeline,
    /// A human using a script.
    Human,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub kind: RequesterKind,
    /// Stable id of the requester (agent id, pipeline id or user subject).
    pub id: String,
    pub display_name: String,
    /// The model behind an AI agent, e.g. `claude-opus-4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The human the agent or pipeline acts for; that person may not approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

/// What the action touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The system, e.g. `postgres`, `aws-iam`, `k8s`, `terraform`.
    pub system: String,
    /// The resource within it, e.g. `customers`, `namespace/payments`.
    pub resource: String,
    /// The environment, e.g. `production`, `staging`.
    pub environment: String,
}

/// One free-form context entry; order is kept as the agent sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextEntry {
    pub key: String,
    pub value: String,
}

/// The exact command that will run once approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    /// An argument vector, run without a shell.
    Argv { argv: Vec<String> },
    /// Free text (a shell line, an SQL statement).
    Text { text: String },
}

impl Command {
    /// The command as one line for display (argv elements joined by spaces, quoted where needed).
    pub fn display_line(&self) -> String {
        match self {
            Command::Text { text } => text.clone(),
            Command::Argv { argv } => argv
                .iter()
                .map(|a| {
                    if a.is_empty()
                        || a.chars()
                            .any(|c| c.is_whitespace() || "'\"\\$`".contains(c))
                    {
                        format!("'{}'", a.replace('\'', "'\\''"))
                    } else {
                        a.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// Every string in the command, for scanning.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Command::Text { text } => vec![text.as_str()],
            Command::Argv { argv } => argv.iter().map(String::as_str).collect(),
        }
    }
}

/// The change the action makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// A unified diff as produced by `diff -u`, `git diff` or `terraform show`.
    UnifiedDiff { diff: String },
    /// Two versions of one document; the console computes the diff.
    BeforeAfter {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        before: String,
        after: String,
    },
}

impl Change {
    pub fn byte_len(&self) -> usize {
        match self {
            Change::UnifiedDiff { diff } => diff.len(),
            Change::BeforeAfter {
                before,
                after,
                path,
            } => before.len() + after.len() + path.as_ref().map_or(0, String::len),
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    #[default]
    Low,
    Medium,
    High,
    Critical,
}

impl RiskLevel {
    pub const ALL: [RiskLevel; 4] = [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RiskLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("unknown risk level {s:?} (low, medium, high, critical)"))
    }
}

/// One reason the action is risky, with why it fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskTag {
    /// Stable id, e.g. `production`, `destructive`, `hidden-characters`.
    pub id: String,
    /// Short label for a badge.
    pub label: String,
    /// Why it fired, in words, e.g. `command contains "drop table"`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Risk {
    pub level: RiskLevel,
    /// 0..=100.
    pub score: u32,
    pub tags: Vec<RiskTag>,
}

/// Who must approve, and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Distinct approvals needed; one deny is final.
    pub approvals_required: u32,
    /// An approver must be in one of these groups.
    pub approver_groups: Vec<String>,
    /// The policy rule that matched, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What an approver types to approve a critical action, when a policy rule sets it;
    /// otherwise the resource name. Never the environment by default: typing
    /// `production` on every production action becomes muscle memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<String>,
    /// Each approval must count for a different approver group (one of `approver_groups`,
    /// or of the approver's groups when that is empty). Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub distinct_groups: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            approvals_required: 1,
            approver_groups: Vec::new(),
            rule: None,
            confirm: None,
            distinct_groups: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Denied,
    Expired,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Pending,
        Status::Approved,
        Status::Denied,
        Status::Expired,
        Status::Withdrawn,
    ];

    pub fn is_final(self) -> bool {
        self != Status::Pending
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Expired => "expired",
            Status::Withdrawn => "withdrawn",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| {
                format!("unknown status {s:?} (pending, approved, denied, expired, withdrawn)")
            })
    }
}

/// A vote the broker accepted: the verified decision, summarised for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub decision_id: super::decision::DecisionId,
    pub approver: String,
    pub verdict: super::decision::Verdict,
    pub reason: String,
    pub key_id: super::decision::KeyId,
    pub at: Timestamp,
    /// The person who voted, as the broker identified them (issuer, folded subject,
    /// canonical email). Votes are one per person: a second login of the same person is
    /// refused. Absent on votes recorded before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<crate::protocol::person::PersonKey>,
    /// The approver group this approval counts for, under a policy that requires
    /// approvals from distinct groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl Vote {
    /// The voter's person key (from the approver subject for votes that predate it).
    pub fn person_key(&self) -> crate::protocol::person::PersonKey {
        self.person
            .clone()
            .unwrap_or_else(|| crate::protocol::person::PersonKey::legacy_subject(&self.approver))
    }
}

/// What happened when the approved command ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub exit_code: i32,
    pub reported_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What an agent submits (`POST /v1/actions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    pub kind: String,
    pub summary: String,
    pub requester: Requester,
    pub target: Target,
    #[serde(default)]
    pub justification: String,
    #[serde(default)]
    pub context: Vec<ContextEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// Requested time to live in seconds; the policy may shorten it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
}

/// An action held by the broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub id: ActionId,
    pub kind: String,
    pub summary: String,
    pub requester: Requester,
    pub target: Target,
    pub justification: String,
    pub context: Vec<ContextEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    pub risk: Risk,
    pub policy: Policy,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    // --- Mutable state: not part of the digest. ---
    pub status: Status,
    #[serde(default)]
    pub votes: Vec<Vote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Execution>,
    /// Approvers who said they are looking at it ("bob is looking"), in order; a hint for
    /// other approvers, never a vote. Not part of the digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub looking: Vec<String>,
}

/// The immutable content of an action: exactly what the digest covers.
///
/// Every field the approver sees is here; `status`, `votes` and `execution` are not.
#[derive(Serialize)]
pub struct DigestInput<'a> {
    pub id: &'a ActionId,
    pub kind: &'a str,
    pub summary: &'a str,
    pub requester: &'a Requester,
    pub target: &'a Target,
    pub justification: &'a str,
    pub context: &'a [ContextEntry],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<&'a Command>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<&'a Change>,
    pub risk: &'a Risk,
    pub policy: &'a Policy,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Action {
    /// Builds a pending action from a request and what the broker computed.
    pub fn from_request(
        req: ActionRequest,
        risk: Risk,
        policy: Policy,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Self {
        Self {
            id: ActionId::new(),
            kind: req.kind,
            summary: req.summary,
            requester: req.requester,
            target: req.target,
            justification: req.justification,
            context: req.context,
            command: req.command,
            change: req.change,
            risk,
            policy,
            created_at,
            expires_at,
            status: Status::Pending,
            votes: Vec::new(),
            execution: None,
            looking: Vec::new(),
        }
    }

    /// The immutable content, as covered by the digest.
    pub fn digest_input(&self) -> DigestInput<'_> {
        DigestInput {
            id: &self.id,
            kind: &self.kind,
            summary: &self.summary,
            requester: &self.requester,
            target: &self.target,
            justification: &self.justification,
            context: &self.context,
            command: self.command.as_ref(),
            change: self.change.as_ref(),
            risk: &self.risk,
            policy: &self.policy,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }

    /// SHA-256 over the RFC 8785 canonical form of [`Action::digest_input`].
    pub fn digest(&self) -> Digest {
        digest_of(&self.digest_input())
    }

    /// Approvals so far.
    pub fn approvals(&self) -> u32 {
        self.votes
            .iter()
            .filter(|v| v.verdict == super::decision::Verdict::Approve)
            .count() as u32
    }

    /// True when the action can no longer be decided at `now`.
    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// Every free-text string an agent supplied, with the path of its field.
    pub fn agent_texts(&self) -> Vec<(String, &str)> {
        AgentSupplied {
            kind: &self.kind,
            summary: &self.summary,
            requester: &self.requester,
            target: &self.target,
            justification: &self.justification,
            context: &self.context,
            command: self.command.as_ref(),
            change: self.change.as_ref(),
        }
        .texts()
    }
}

impl ActionRequest {
    /// Every free-text string an agent supplied, with the path of its field (the same
    /// list as [`Action::agent_texts`], so the broker's risk tag and the console's
    /// warning always scan the same fields).
    pub fn agent_texts(&self) -> Vec<(String, &str)> {
        AgentSupplied {
            kind: &self.kind,
            summary: &self.summary,
            requester: &self.requester,
            target: &self.target,
            justification: &self.justification,
            context: &self.context,
            command: self.command.as_ref(),
            change: self.change.as_ref(),
        }
        .texts()
    }
}

/// The agent-supplied part that a request and the action built from it share.
struct AgentSupplied<'a> {
    kind: &'a str,
    summary: &'a str,
    requester: &'a Requester,
    target: &'a Target,
    justification: &'a str,
    context: &'a [ContextEntry],
    command: Option<&'a Command>,
    change: Option<&'a Change>,
}

impl<'a> AgentSupplied<'a> {
    /// Each string with the path validation errors use: `context[2].value`,
    /// `command.argv[1]`.
    fn texts(&self) -> Vec<(String, &'a str)> {
        let mut out: Vec<(String, &'a str)> = vec![
            ("kind".into(), self.kind),
            ("summary".into(), self.summary),
            ("requester.id".into(), &self.requester.id),
            (
                "requester.display_name".into(),
                &self.requester.display_name,
            ),
            ("target.system".into(), &self.target.system),
            ("target.resource".into(), &self.target.resource),
            ("target.environment".into(), &self.target.environment),
            ("justification".into(), self.justification),
        ];
        if let Some(m) = &self.requester.model {
            out.push(("requester.model".into(), m));
        }
        if let Some(o) = &self.requester.on_behalf_of {
            out.push(("requester.on_behalf_of".into(), o));
        }
        for (i, c) in self.context.iter().enumerate() {
            out.push((format!("context[{i}].key"), &c.key));
            out.push((format!("context[{i}].value"), &c.value));
        }
        match self.command {
            Some(Command::Argv { argv }) => {
                for (i, a) in argv.iter().enumerate() {
                    out.push((format!("command.argv[{i}]"), a));
                }
            }
            Some(Command::Text { text }) => out.push(("command.text".into(), text)),
            None => {}
        }
        match self.change {
            Some(Change::UnifiedDiff { diff }) => out.push(("change.diff".into(), diff)),
            Some(Change::BeforeAfter {
                path,
                before,
                after,
            }) => {
                if let Some(p) = path {
                    out.push(("change.path".into(), p));
                }
                out.push(("change.before".into(), before));
                out.push(("change.after".into(), after));
            }
            None => {}
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn request() -> ActionRequest {
        ActionRequest {
            kind: "db.export".into(),
            summary: "Export customers table to S3".into(),
            requester: Requester {
                kind: RequesterKind::Agent,
                id: "agent-7".into(),
                display_name: "Data assistant".into(),
                model: Some("claude-opus-4".into()),
                on_behalf_of: Some("alice@example.com".into()),
            },
            target: Target {
                system: "postgres".into(),
                resource: "customers".into(),
                environment: "production".into(),
            },
            justification: "Quarterly churn analysis".into(),
            context: vec![ContextEntry {
                key: "ticket".into(),
                value: "DATA-1234".into(),
            }],
            command: Some(Command::Text {
                text: "COPY customers TO 's3://x/y.csv'".into(),
            }),
            change: Some(Change::UnifiedDiff {
                diff: "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n".into(),
            }),
            ttl_secs: Some(900),
        }
    }

    pub fn action() -> Action {
        let now = Timestamp::from_unix_millis(1_795_000_000_000);
        Action::from_request(
            request(),
            Risk {
                level: RiskLevel::High,
                score: 70,
                tags: vec![RiskTag {
                    id: "production".into(),
                    label: "prod".into(),
                    reason: "environment is production".into(),
                }],
            },
            Policy {
                approvals_required: 2,
                approver_groups: vec!["sre".into()],
                rule: None,
                confirm: None,
                distinct_groups: false,
            },
            now,
            now.plus_secs(900),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::action;
    use super::*;

    type Edit<T> = Box<dyn Fn(&mut T)>;

    /// Every field of `Action` except the mutable state must be in the digest input.
    #[test]
    fn digest_input_covers_every_displayed_field() {
        let a = action();
        let full = serde_json::to_value(&a).unwrap();
        let input = serde_json::to_value(a.digest_input()).unwrap();
        let mut full_keys: Vec<_> = full.as_object().unwrap().keys().cloned().collect();
        full_keys.retain(|k| !["status", "votes", "execution", "looking"].contains(&k.as_str()));
        let input_keys: Vec<_> = input.as_object().unwrap().keys().cloned().collect();
        assert_eq!(full_keys, input_keys);
    }

    #[test]
    fn digest_changes_with_every_displayed_field() {
        let base = action();
        let d0 = base.digest();
        let edits: Vec<Edit<Action>> = vec![
            Box::new(|a| a.id = ActionId::new()),
            Box::new(|a| a.kind.push('x')),
            Box::new(|a| a.summary.push('x')),
            Box::new(|a| a.requester.kind = RequesterKind::Pipeline),
            Box::new(|a| a.requester.id.push('x')),
            Box::new(|a| a.requester.display_name.push('x')),
            Box::new(|a| a.requester.model = None),
            Box::new(|a| a.requester.on_behalf_of = Some("bob".into())),
            Box::new(|a| a.target.system.push('x')),
            Box::new(|a| a.target.resource.push('x')),
            Box::new(|a| a.target.environment = "staging".into()),
            Box::new(|a| a.justification.push('x')),
            Box::new(|a| a.context[0].value.push('x')),
            Box::new(|a| {
                a.context.push(ContextEntry {
                    key: "k".into(),
                    value: "v".into(),
                })
            }),
            Box::new(|a| {
                a.command = Some(Command::Argv {
                    argv: vec!["ls".into()],
                })
            }),
            Box::new(|a| a.command = None),
            Box::new(|a| a.change = None),
            Box::new(|a| {
                a.change = Some(Change::BeforeAfter {
                    path: None,
                    before: "a".into(),
                    after: "b".into(),
                })
            }),
            Box::new(|a| a.risk.level = RiskLevel::Critical),
            Box::new(|a| a.risk.score += 1),
            Box::new(|a| a.risk.tags.clear()),
            Box::new(|a| a.risk.tags[0].reason.push('x')),
            Box::new(|a| a.policy.approvals_required = 1),
            Box::new(|a| a.policy.approver_groups.push("dba".into())),
            Box::new(|a| a.created_at = a.created_at.plus_secs(1)),
            Box::new(|a| a.expires_at = a.expires_at.plus_secs(1)),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut a = base.clone();
            edit(&mut a);
            assert_ne!(a.digest(), d0, "edit #{i} did not change the digest");
        }
    }

    #[test]
    fn digest_ignores_status_votes_and_execution() {
        let base = action();
        let mut a = base.clone();
        a.status = Status::Approved;
        a.votes.push(Vote {
            decision_id: super::super::decision::DecisionId::new(),
            approver: "bob".into(),
            verdict: super::super::decision::Verdict::Approve,
            reason: "ok".into(),
            key_id: super::super::decision::KeyId("0123456789abcdef".into()),
            at: Timestamp::now(),
            person: None,
            group: None,
        });
        a.execution = Some(Execution {
            exit_code: 0,
            reported_at: Timestamp::now(),
            detail: None,
        });
        assert_eq!(a.digest(), base.digest());
    }

    #[test]
    fn digest_survives_a_json_round_trip() {
        let a = action();
        let back: Action = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back.digest(), a.digest());
    }

    #[test]
    fn argv_display_quotes_what_a_shell_would_split() {
        let c = Command::Argv {
            argv: vec!["rm".into(), "-rf".into(), "my dir".into()],
        };
        assert_eq!(c.display_line(), "rm -rf 'my dir'");
    }
}
