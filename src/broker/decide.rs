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
use crate::protocol::person;
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
/// (The broker runs the same checks in [`super::verify_stage`], with the signatures of many
/// decisions checked in one batch equation.)
pub fn verify_signer(
    principal: &Principal,
    signed: &SignedDecision,
    key: Option<&KeyFacts>,
) -> Result<(), Rejection> {
    let key = check_signer(principal, signed, key)?;
    signed.verify(&key.key).map_err(|e| {
        let msg = match e {
            VerifyError::MalformedSignature => "signature is not base64 of 64 bytes".to_string(),
            other => other.to_string(),
        };
        (ErrorCode::BadSignature, msg)
    })
}

/// Identity and key, in the documented order, before any signature is checked: the
/// decision names the caller, and the key is the caller's and not revoked.
pub fn check_signer<'k>(
    principal: &Principal,
    signed: &SignedDecision,
    key: Option<&'k KeyFacts>,
) -> Result<&'k KeyFacts, Rejection> {
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
    Ok(key)
}

/// Why the approver may not decide this action as its own requester, if they may not.
///
/// Every identifier the action names (`requester.id`, `requester.on_behalf_of`) is compared
/// with the approver's [`PersonKey`]: the same person however spelled, or a look-alike of
/// them (Unicode TR39 confusable skeletons).
pub fn self_approval(principal: &Principal, action: &Action) -> Option<String> {
    let me = principal.person();
    let r = &action.requester;
    let found = person::self_request(&me, &r.id, r.on_behalf_of.as_deref())?;
    let shown = crate::text::visible_string(&found.text);
    Some(if found.confusable {
        format!(
            "{} {shown:?} looks like your identity {:?}: refused as a self-approval",
            found.field,
            me.label()
        )
    } else if found.field == "requester.id" {
        format!("you are the requester ({shown:?}): nobody approves their own request")
    } else {
        format!(
            "you are the person the requester acts for ({shown:?}): nobody approves their own request"
        )
    })
}

/// True when the approver is the requester or the human the requester acts for.
pub fn is_self_approval(principal: &Principal, action: &Action) -> bool {
    self_approval(principal, action).is_some()
}

/// True when the approver may decide this action (empty groups mean any approver).
pub fn may_decide(groups: &[String], approver_groups: &[String]) -> bool {
    approver_groups.is_empty() || groups.iter().any(|g| approver_groups.contains(g))
}

/// Under `distinct_groups`, the group this approval counts for: the first of the approver's
/// eligible groups that no earlier approval counted for.
fn distinct_group(principal: &Principal, action: &Action) -> Result<String, Rejection> {
    let wanted = &action.policy.approver_groups;
    let used: Vec<&str> = action
        .votes
        .iter()
        .filter(|v| v.verdict == Verdict::Approve)
        .filter_map(|v| v.group.as_deref())
        .collect();
    let mut eligible = principal
        .identity
        .groups
        .iter()
        .filter(|g| wanted.is_empty() || wanted.contains(g));
    let eligible_any = eligible.clone().next().is_some();
    match eligible.find(|g| !used.contains(&g.as_str())) {
        Some(g) => Ok(g.clone()),
        None if !eligible_any => Err((
            ErrorCode::NotInGroup,
            "this action needs approvals from distinct groups, and you are in none".into(),
        )),
        None => Err((
            ErrorCode::NotInGroup,
            format!(
                "this action needs approvals from distinct groups; {} already approved",
                used.join(", ")
            ),
        )),
    }
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
    if let Some(why) = self_approval(principal, action) {
        return Err((ErrorCode::SelfApproval, why));
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
    let me = principal.person();
    if let Some(v) = action
        .votes
        .iter()
        .find(|v| v.approver == d.approver || v.person_key().same_person(&me))
    {
        let how = if v.approver == d.approver {
            String::new()
        } else {
            format!(
                " (as {:?}: one person, one vote, whatever the login)",
                v.approver
            )
        };
        return Err((
            ErrorCode::AlreadyVoted,
            format!("you already voted on this action{how}"),
        ));
    }
    if d.verdict == Verdict::Deny && d.reason.trim().is_empty() {
        return Err((ErrorCode::ReasonRequired, "a deny needs a reason".into()));
    }
    let group = if action.policy.distinct_groups && d.verdict == Verdict::Approve {
        Some(distinct_group(principal, action)?)
    } else {
        None
    };
    let vote = Vote {
        decision_id: d.decision_id,
        approver: d.approver.clone(),
        verdict: d.verdict,
        reason: d.reason.clone(),
        key_id: d.key_id.clone(),
        at: now,
        person: Some(me),
        group,
    };
    // The voter is a person who has not voted yet (checked above): quorum counts persons.
    let approvals =
        person::distinct_approvers(&action.votes) + u32::from(d.verdict == Verdict::Approve);
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
