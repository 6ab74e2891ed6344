//! What the audit chain says about each action, rebuilt entry by entry: its digest
//! recomputed from the content it was created with, the votes that approved that digest,
//! and the status those votes and the recorded policy imply.
//!
//! A hash chain alone proves only that nobody changed an entry *without recomputing the
//! chain*. These checks bind the entries to each other: a summary rewritten in
//! `action_created` no longer matches the digest every vote signed, an outcome flipped from
//! approved to denied no longer follows from the votes, and a vote filed under another
//! action or after the outcome is refused, however the chain was recomputed.

use std::collections::HashMap;

use serde_json::Value;

use super::StoredHistory;
use super::audit::{AuditEntry, AuditKind};
use crate::protocol::person::PersonKey;
use crate::protocol::{Action, ActionId, Digest, SignedDecision, Status, Timestamp, Verdict, Vote};

/// One action as the chain so far describes it.
#[derive(Debug, Clone)]
pub struct Tracked {
    pub digest: Digest,
    pub requester: String,
    pub required: u32,
    pub expires_at: Timestamp,
    /// Approving persons so far.
    pub approvers: Vec<PersonKey>,
    pub denied: bool,
    /// The final status once an outcome or withdrawal is recorded.
    pub status: Status,
    /// Every accepted vote, in order, as the stored action must list it.
    pub votes: Vec<Vote>,
    /// The outcome or withdrawal entry, once recorded.
    pub outcome: Option<Recorded>,
    /// An execution result was reported.
    pub executed: bool,
}

/// What the chain's outcome (or withdrawal) entry says, as history must show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub at: Timestamp,
    pub decided_by: Vec<String>,
    pub reason: String,
    /// The entry's chain hash (set by the verifier, which knows it).
    pub hash: String,
}

impl Tracked {
    /// The status the votes imply.
    fn implied(&self) -> Status {
        if self.denied {
            Status::Denied
        } else if self.approvers.len() as u32 >= self.required.max(1) {
            Status::Approved
        } else {
            Status::Pending
        }
    }
}

/// Every action seen in the chain, by id.
#[derive(Debug, Default)]
pub struct Ledger {
    pub actions: HashMap<ActionId, Tracked>,
}

fn status_field(p: &Value, key: &str) -> Result<Option<Status>, String> {
    match p.get(key) {
        None => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| format!("{key}: {e}")),
    }
}

impl Ledger {
    /// Checks an entry about an action against what came before it.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), String> {
        match e.kind {
            AuditKind::ActionCreated => self.created(e),
            AuditKind::Vote => Ok(()), // checked by `vote`, which needs the verified decision
            AuditKind::Outcome | AuditKind::Withdrawal => self.outcome(e),
            AuditKind::Execution => self.execution(e),
            AuditKind::KeyRegistered | AuditKind::KeyRevoked => Ok(()),
        }
    }

    fn tracked(&mut self, e: &AuditEntry) -> Result<&mut Tracked, String> {
        let id = e
            .action_id
            .ok_or_else(|| format!("{} names no action", e.kind.as_str()))?;
        self.actions.get_mut(&id).ok_or_else(|| {
            format!(
                "{} for action {id}, which was never created",
                e.kind.as_str()
            )
        })
    }

    fn created(&mut self, e: &AuditEntry) -> Result<(), String> {
        let action: Action = e
            .payload
            .get("action")
            .cloned()
            .ok_or("action_created lacks its action".to_string())
            .and_then(|v| serde_json::from_value(v).map_err(|err| format!("action: {err}")))?;
        let recorded: Digest = e
            .payload
            .get("digest")
            .cloned()
            .ok_or("action_created lacks its digest".to_string())
            .and_then(|v| serde_json::from_value(v).map_err(|err| format!("digest: {err}")))?;
        let digest = action.digest();
        if digest != recorded {
            return Err(format!(
                "the action's content hashes to {} but the entry records digest {}: content \
                 was changed after creation",
                digest.prefix(12),
                recorded.prefix(12)
            ));
        }
        if e.action_id != Some(action.id) {
            return Err("action_created is filed under another action id".into());
        }
        if self.actions.contains_key(&action.id) {
            return Err(format!("action {} is created twice", action.id));
        }
        self.actions.insert(
            action.id,
            Tracked {
                digest,
                requester: action.requester.id.clone(),
                required: action.policy.approvals_required,
                expires_at: action.expires_at,
                approvers: Vec::new(),
                denied: false,
                status: Status::Pending,
                votes: Vec::new(),
                outcome: None,
                executed: false,
            },
        );
        Ok(())
    }

    /// A vote whose signature already verified: it must approve the action's digest as
    /// created, arrive while the action is undecided, come from a person who has not voted,
    /// and its recorded `status_after` must follow.
    pub fn vote(&mut self, e: &AuditEntry, signed: &SignedDecision) -> Result<(), String> {
        let d = &signed.decision;
        let person = match e.payload.get("person") {
            Some(p) => serde_json::from_value::<PersonKey>(p.clone())
                .map_err(|err| format!("person: {err}"))?,
            None => PersonKey::legacy_subject(&d.approver),
        };
        let status_after = status_field(&e.payload, "status_after")?;
        let t = self.tracked(e)?;
        if d.action_digest != t.digest {
            return Err(format!(
                "vote signs digest {} but the action was created with digest {}",
                d.action_digest.prefix(12),
                t.digest.prefix(12)
            ));
        }
        if t.status != Status::Pending || t.implied() != Status::Pending {
            return Err(format!(
                "vote after the action was already {}",
                t.implied().max_status(t.status)
            ));
        }
        if t.approvers.iter().any(|p| p.same_person(&person)) {
            return Err(format!(
                "a second vote by {:?}: one person, one vote",
                person.label()
            ));
        }
        t.votes.push(Vote {
            decision_id: d.decision_id,
            approver: d.approver.clone(),
            verdict: d.verdict,
            reason: d.reason.clone(),
            key_id: d.key_id.clone(),
            at: e.at,
            person: e.payload.get("person").map(|_| person.clone()),
            group: None,
        });
        match d.verdict {
            Verdict::Approve => t.approvers.push(person),
            Verdict::Deny => t.denied = true,
        }
        if let Some(s) = status_after
            && s != t.implied()
        {
            return Err(format!(
                "vote records status {s} but the votes so far make it {}",
                t.implied()
            ));
        }
        Ok(())
    }

    fn outcome(&mut self, e: &AuditEntry) -> Result<(), String> {
        let status = status_field(&e.payload, "status")?
            .ok_or_else(|| format!("{} lacks its status", e.kind.as_str()))?;
        let approvals = e.payload.get("approvals").and_then(Value::as_u64);
        let decided_by: Vec<String> = match e.payload.get("decided_by") {
            Some(v) => {
                serde_json::from_value(v.clone()).map_err(|err| format!("decided_by: {err}"))?
            }
            None => Vec::new(),
        };
        let reason = e
            .payload
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let (kind, actor, at) = (e.kind, e.actor.clone(), e.at);
        let t = self.tracked(e)?;
        if t.status != Status::Pending {
            return Err(format!(
                "a second outcome; the action was already {}",
                t.status
            ));
        }
        let implied = t.implied();
        let ok = match (kind, status) {
            (AuditKind::Withdrawal, Status::Withdrawn) => {
                implied == Status::Pending && actor == t.requester
            }
            (AuditKind::Outcome, Status::Expired) => {
                implied == Status::Pending && at >= t.expires_at
            }
            (AuditKind::Outcome, s @ (Status::Approved | Status::Denied)) => s == implied,
            _ => false,
        };
        if !ok {
            return Err(format!(
                "records outcome {status} by {actor:?}, but the votes and the policy recorded \
                 with the action make it {implied}{}",
                if implied == Status::Pending {
                    " (undecided)"
                } else {
                    ""
                }
            ));
        }
        if let Some(n) = approvals
            && n != t.approvers.len() as u64
        {
            return Err(format!(
                "records {n} approvals but {} distinct persons approved",
                t.approvers.len()
            ));
        }
        t.status = status;
        t.outcome = Some(Recorded {
            at,
            decided_by,
            reason,
            hash: String::new(),
        });
        Ok(())
    }

    /// Records the chain hash of the outcome entry just pushed for `id`.
    pub fn outcome_hash(&mut self, id: &ActionId, hash: &str) {
        if let Some(o) = self.actions.get_mut(id).and_then(|t| t.outcome.as_mut()) {
            o.hash = hash.to_string();
        }
    }

    fn execution(&mut self, e: &AuditEntry) -> Result<(), String> {
        let recorded: Option<Digest> = e
            .payload
            .get("digest")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok());
        let t = self.tracked(e)?;
        if t.status != Status::Approved {
            return Err(format!(
                "execution reported for an action that is {}",
                t.status
            ));
        }
        if recorded.is_some_and(|d| d != t.digest) {
            return Err("execution names another digest than the approved one".into());
        }
        t.executed = true;
        Ok(())
    }
}

/// Holds the stored action and its history row against what the chain says about it:
/// the content (digest), the status, every vote as the console shows it, the execution
/// flag, and every column of the history row (present exactly when the action is decided).
pub fn check_stored(t: &Tracked, a: &Action, h: Option<&StoredHistory>) -> Result<(), String> {
    let digest = a.digest();
    if digest != t.digest {
        return Err(format!(
            "its stored content hashes to {} but the log created it with {}",
            digest.prefix(12),
            t.digest.prefix(12)
        ));
    }
    if a.status != t.status {
        return Err(format!(
            "is stored as {} but the audit log makes it {}",
            a.status, t.status
        ));
    }
    if a.votes.len() != t.votes.len() {
        return Err(format!(
            "is stored with {} vote(s) but the audit log has {}",
            a.votes.len(),
            t.votes.len()
        ));
    }
    for (i, (s, c)) in a.votes.iter().zip(&t.votes).enumerate() {
        let same = s.decision_id == c.decision_id
            && s.approver == c.approver
            && s.verdict == c.verdict
            && s.reason == c.reason
            && s.key_id == c.key_id
            && s.at == c.at
            && (c.person.is_none() || s.person == c.person);
        if !same {
            return Err(format!(
                "stored vote {} ({} by {:?}) differs from the signed vote in the audit log",
                i + 1,
                s.verdict,
                s.approver
            ));
        }
    }
    if a.execution.is_some() != t.executed {
        return Err(if t.executed {
            "the audit log has an execution result the stored action lacks".into()
        } else {
            "is stored with an execution result the audit log never recorded".into()
        });
    }
    match (&t.outcome, h) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err("has a history row but the audit log has no outcome".into()),
        (Some(_), None) => Err("is decided in the audit log but missing from history".into()),
        (Some(o), Some(h)) => {
            let want = expected_history(a, o);
            let differs = history_differences(&want, h);
            if differs.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "history row differs from the audit log in {}",
                    differs.join(", ")
                ))
            }
        }
    }
}

/// The history row the broker writes for a decided action.
fn expected_history(a: &Action, o: &Recorded) -> StoredHistory {
    let mut voters: Vec<String> = a.votes.iter().map(|v| v.approver.clone()).collect();
    voters.sort();
    voters.dedup();
    StoredHistory {
        decided_at: o.at,
        outcome: a.status.as_str().to_string(),
        risk: a.risk.level.as_str().to_string(),
        kind: a.kind.clone(),
        environment: a.target.environment.clone(),
        requester_id: a.requester.id.clone(),
        requester_name: a.requester.display_name.clone(),
        executed: a.execution.is_some(),
        decided_by: crate::protocol::encode(&o.decided_by),
        reason: o.reason.clone(),
        audit_hash: o.hash.clone(),
        voters,
    }
}

/// The names of the columns where `got` differs from `want`.
fn history_differences(want: &StoredHistory, got: &StoredHistory) -> Vec<&'static str> {
    let checks = [
        ("decided_at", want.decided_at == got.decided_at),
        ("outcome", want.outcome == got.outcome),
        ("risk", want.risk == got.risk),
        ("kind", want.kind == got.kind),
        ("environment", want.environment == got.environment),
        ("requester_id", want.requester_id == got.requester_id),
        ("requester_name", want.requester_name == got.requester_name),
        ("executed", want.executed == got.executed),
        ("decided_by", want.decided_by == got.decided_by),
        ("reason", want.reason == got.reason),
        ("audit_hash", want.audit_hash == got.audit_hash),
        ("voters", want.voters == got.voters),
    ];
    checks
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| name)
        .collect()
}

trait MaxStatus {
    fn max_status(self, other: Status) -> Status;
}

impl MaxStatus for Status {
    /// The decided one of two statuses (for messages).
    fn max_status(self, other: Status) -> Status {
        if self == Status::Pending { other } else { self }
    }
}
