//! Decision checks as pure functions: one [`ErrorCode`] per failed check.
//!
//! The feed runs [`verify_signer`] (identity, key, signature) on its own task so that the
//! costly Ed25519 check never runs on the writer; the writer runs [`check_vote`] (state:
//! digest, pending, expiry, self-approval, group, replay, one vote per approver) against the
//! action as it stands inside the batch being committed. [`check`] composes both, in the
//! one order `docs/protocol.md` ("What the broker checks") documents: a replayed decision
//! id is reported first among the state checks (a replay of the vote that resolved an
//! action is a replay, not merely "not pending"), and an expired action is
//! `action_expired` whether or not the expiry task has marked it yet.

use ed25519_dalek::VerifyingKey;

use crate::auth::Principal;
use crate::protocol::{
    Action, Digest, ErrorCode, SignedDecision, Status, Timestamp, Verdict, VerifyError, Vote,
};

/// A refused decision: the code of the failed check and a message for the approver.
pub type Rejection = (ErrorCode, String);

/// A registered key as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    pub subject: String,
    pub key: VerifyingKey,
    pub revoked: bool,
}

/// What the writer knows about replays and earlier votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeenFacts {
    /// This decision id was accepted before (on any action).
    pub decision_seen: bool,
}

/// What an accepted vote does to the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The action's status after the vote.
    pub status: Status,
    pub vote: Vote,
}

/// Identity, key and signature: everything that does not depend on the action's state.
pub fn verify_signer(
    principal: &Principal,
    signed: &SignedDecision,
    key: Option<&KeyFacts>,
) -> Result<(), Rejection> {
    let d = &signed.decision;
    if d.approver != principal.subject() {
        return Err((
            ErrorCode::SubjectMismatch,
            format!(
                "decision is signed for approver {:?} but you are signed in as {:?}",
                d.approver,
                principal.subject()
            ),
        ));
    }
    let Some(key) = key.filter(|k| k.subject == principal.subject()) else {
        return Err((
            ErrorCode::UnknownKey,
            format!(
                "key {} is not registered to {:?}",
                d.key_id,
                principal.subject()
            ),
        ));
    };
    if key.revoked {
        return Err((
            ErrorCode::KeyRevoked,
            format!("key {} was revoked", d.key_id),
        ));
    }
    signed.verify(&key.key).map_err(|e| {
        let msg = match e {
            VerifyError::MalformedSignature => "signature is not base64 of 64 bytes".to_string(),
            other => other.to_string(),
        };
        (ErrorCode::BadSignature, msg)
    })
}

/// True when `a` and `b` name the same person: exact, or case-insensitive for emails.
fn same_person(a: &str, b: &str) -> bool {
    a == b || (a.contains('@') && a.eq_ignore_ascii_case(b))
}

/// True when the approver is the requester or the human the requester acts for.
pub fn is_self_approval(principal: &Principal, action: &Action) -> bool {
    let mut me = vec![principal.subject()];
    if let Some(e) = principal.identity.email.as_deref() {
        me.push(e);
    }
    let mut them = vec![action.requester.id.as_str()];
    if let Some(o) = action.requester.on_behalf_of.as_deref() {
        them.push(o);
    }
    me.iter().any(|m| them.iter().any(|t| same_person(m, t)))
}

/// True when the approver may decide this action (empty groups mean any approver).
pub fn may_decide(groups: &[String], approver_groups: &[String]) -> bool {
    approver_groups.is_empty() || groups.iter().any(|g| approver_groups.contains(g))
}

/// The state checks, against the action as it stands now (`None`: no such action).
pub fn check_vote(
    principal: &Principal,
    signed: &SignedDecision,
    action: Option<&Action>,
    now: Timestamp,
    seen: SeenFacts,
) -> Result<Outcome, Rejection> {
    let current = action.map(Action::digest);
    check_vote_with_digest(principal, signed, action, current.as_ref(), now, seen)
}

/// [`check_vote`] with the action's current digest already known (`current` must be
/// `action.digest()`): the writer caches it per pending action, because the canonical form
/// of a whole action costs more than every other check together.
pub fn check_vote_with_digest(
    principal: &Principal,
    signed: &SignedDecision,
    action: Option<&Action>,
    current: Option<&Digest>,
    now: Timestamp,
    seen: SeenFacts,
) -> Result<Outcome, Rejection> {
    let d = &signed.decision;
    // A replay is named as such even when its action has moved on since.
    if seen.decision_seen {
        return Err((
            ErrorCode::ReplayedDecision,
            format!("decision {} was already recorded", d.decision_id),
        ));
    }
    let (Some(action), Some(current)) = (action, current) else {
        return Err((
            ErrorCode::UnknownAction,
            format!("no action {}", d.action_id),
        ));
    };
    if d.action_digest != *current {
        return Err((
            ErrorCode::DigestMismatch,
            format!(
                "you signed digest {} but the action's current digest is {}",
                d.action_digest.prefix(12),
                current.prefix(12)
            ),
        ));
    }
    // Expired is `action_expired` whether or not the expiry task has marked it yet;
    // approved, denied and withdrawn are `not_pending`.
    let expired = match action.status {
        Status::Expired => true,
        Status::Pending => action.is_expired_at(now),
        _ => false,
    };
    if expired {
        return Err((
            ErrorCode::ActionExpired,
            format!("action expired at {}", action.expires_at),
        ));
    }
    if action.status != Status::Pending {
        return Err((
            ErrorCode::NotPending,
            format!("action is already {}", action.status),
        ));
    }
    if is_self_approval(principal, action) {
        return Err((
            ErrorCode::SelfApproval,
            "you are the requester, or the person the requester acts for".into(),
        ));
    }
    if !may_decide(&principal.identity.groups, &action.policy.approver_groups) {
        return Err((
            ErrorCode::NotInGroup,
            format!(
                "deciding needs one of the groups {:?}",
                action.policy.approver_groups
            ),
        ));
    }
    if action.votes.iter().any(|v| v.approver == d.approver) {
        return Err((
            ErrorCode::AlreadyVoted,
            "you already voted on this action".into(),
        ));
    }
    if d.verdict == Verdict::Deny && d.reason.trim().is_empty() {
        return Err((ErrorCode::ReasonRequired, "a deny needs a reason".into()));
    }
    let vote = Vote {
        decision_id: d.decision_id,
        approver: d.approver.clone(),
        verdict: d.verdict,
        reason: d.reason.clone(),
        key_id: d.key_id.clone(),
        at: now,
    };
    let approvals = action.approvals() + u32::from(d.verdict == Verdict::Approve);
    let status = match d.verdict {
        Verdict::Deny => Status::Denied,
        Verdict::Approve if approvals >= action.policy.approvals_required.max(1) => {
            Status::Approved
        }
        Verdict::Approve => Status::Pending,
    };
    Ok(Outcome { status, vote })
}

/// Every check, in order: [`verify_signer`] then [`check_vote`].
pub fn check(
    principal: &Principal,
    signed: &SignedDecision,
    key: Option<&KeyFacts>,
    action: Option<&Action>,
    now: Timestamp,
    seen: SeenFacts,
) -> Result<Outcome, Rejection> {
    verify_signer(principal, signed, key)?;
    check_vote(principal, signed, action, now, seen)
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
