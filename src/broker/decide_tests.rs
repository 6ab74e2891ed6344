//! One test per decision check, each asserting its error code.

use ed25519_dalek::SigningKey;

use super::*;
use crate::auth::PrincipalKind;
use crate::protocol::action::fixtures;
use crate::protocol::messages::Identity;
use crate::protocol::{Decision, DecisionId, Digest, KeyId};

fn sk(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn bob() -> Principal {
    Principal {
        kind: PrincipalKind::Approver,
        identity: Identity {
            subject: "bob".into(),
            email: Some("bob@example.com".into()),
            name: None,
            groups: vec!["sre".into()],
        },
        expires_at: None,
        issuer: "static".into(),
    }
}

fn action() -> Action {
    fixtures::action()
}

fn now(a: &Action) -> Timestamp {
    a.created_at.plus_secs(10)
}

fn decision(a: &Action, verdict: Verdict, reason: &str) -> SignedDecision {
    let k = sk(1);
    Decision {
        decision_id: DecisionId::new(),
        action_id: a.id,
        action_digest: a.digest(),
        verdict,
        reason: reason.into(),
        approver: "bob".into(),
        key_id: KeyId::of(&k.verifying_key()),
        issued_at: now(a),
    }
    .sign(&k)
}

fn key() -> KeyFacts {
    KeyFacts {
        subject: "bob".into(),
        key: sk(1).verifying_key(),
        revoked: false,
    }
}

fn run(p: &Principal, s: &SignedDecision, k: Option<&KeyFacts>, a: Option<&Action>) -> ErrorCode {
    let t = a.map_or(Timestamp::now(), now);
    check(p, s, k, a, t, SeenFacts::default())
        .err()
        .map(|(c, _)| c)
        .unwrap_or(ErrorCode::Internal)
}

#[test]
fn valid_approval_counts_towards_quorum() {
    let a = action();
    let s = decision(&a, Verdict::Approve, "ok");
    let out = check(
        &bob(),
        &s,
        Some(&key()),
        Some(&a),
        now(&a),
        SeenFacts::default(),
    )
    .unwrap();
    assert_eq!(out.status, Status::Pending, "two approvals are required");
    let mut a1 = a.clone();
    a1.votes.push(Vote {
        approver: "carol".into(),
        person: None,
        ..out.vote.clone()
    });
    let out = check(
        &bob(),
        &s,
        Some(&key()),
        Some(&a1),
        now(&a),
        SeenFacts::default(),
    )
    .unwrap();
    assert_eq!(out.status, Status::Approved);
}

#[test]
fn deny_is_final() {
    let a = action();
    let s = decision(&a, Verdict::Deny, "no ticket");
    let out = check(
        &bob(),
        &s,
        Some(&key()),
        Some(&a),
        now(&a),
        SeenFacts::default(),
    )
    .unwrap();
    assert_eq!(out.status, Status::Denied);
}

#[test]
fn subject_mismatch() {
    let a = action();
    let mut p = bob();
    p.identity.subject = "carol".into();
    let s = decision(&a, Verdict::Approve, "ok");
    assert_eq!(
        run(&p, &s, Some(&key()), Some(&a)),
        ErrorCode::SubjectMismatch
    );
}

#[test]
fn unknown_key() {
    let a = action();
    let s = decision(&a, Verdict::Approve, "ok");
    assert_eq!(run(&bob(), &s, None, Some(&a)), ErrorCode::UnknownKey);
    let mut k = key();
    k.subject = "carol".into();
    assert_eq!(run(&bob(), &s, Some(&k), Some(&a)), ErrorCode::UnknownKey);
}

#[test]
fn key_revoked() {
    let a = action();
    let s = decision(&a, Verdict::Approve, "ok");
    let mut k = key();
    k.revoked = true;
    assert_eq!(run(&bob(), &s, Some(&k), Some(&a)), ErrorCode::KeyRevoked);
}

#[test]
fn bad_signature() {
    let a = action();
    let mut s = decision(&a, Verdict::Approve, "ok");
    s.decision.reason = "changed after signing".into();
    assert_eq!(
        run(&bob(), &s, Some(&key()), Some(&a)),
        ErrorCode::BadSignature
    );
    s.signature = "%%%".into();
    assert_eq!(
        run(&bob(), &s, Some(&key()), Some(&a)),
        ErrorCode::BadSignature
    );
}

#[test]
fn unknown_action() {
    let a = action();
    let s = decision(&a, Verdict::Approve, "ok");
    assert_eq!(
        run(&bob(), &s, Some(&key()), None),
        ErrorCode::UnknownAction
    );
}

#[test]
fn digest_mismatch() {
    let a = action();
    let mut s = decision(&a, Verdict::Approve, "ok");
    s.decision.action_digest = Digest::of_bytes(b"another version");
    let s = s.decision.sign(&sk(1));
    assert_eq!(
        run(&bob(), &s, Some(&key()), Some(&a)),
        ErrorCode::DigestMismatch
    );
}

#[test]
fn not_pending() {
    let mut a = action();
    a.status = Status::Denied;
    let s = decision(&a, Verdict::Approve, "ok");
    assert_eq!(
        run(&bob(), &s, Some(&key()), Some(&a)),
        ErrorCode::NotPending
    );
}

#[test]
fn action_expired() {
    let a = action();
    let s = decision(&a, Verdict::Approve, "ok");
    let late = a.expires_at;
    let e = check(
        &bob(),
        &s,
        Some(&key()),
        Some(&a),
        late,
        SeenFacts::default(),
    )
    .unwrap_err();
    assert_eq!(e.0, ErrorCode::ActionExpired);
}

#[test]
fn self_approval_by_requester_or_on_behalf_of() {
    let mut a = action();
    a.requester.on_behalf_of = Some("BOB@example.com".into());
    let s = decision(&a, Verdict::Approve, "ok");
    assert_eq!(
        run(&bob(), &s, Some(&key()), Some(&a)),
        ErrorCode::SelfApproval
    );
    let mut a = action();
    a.requester.id = "bob".into();
    let s = decision(&a, Verdict::Approve, "ok");
    assert_eq!(
        run(&bob(), &s, Some(&key()), Some(&a)),
        ErrorCode::SelfApproval
    );
}

#[test]
fn not_in_group() {
    let a = action();
    let mut p = bob();
    p.identity.groups = vec!["dba".into()];
    let s = decision(&a, Verdict::Approve, "ok");
    assert_eq!(run(&p, &s, Some(&key()), Some(&a)), ErrorCode::NotInGroup);
    let mut open = action();
    open.policy.approver_groups.clear();
    let s = decision(&open, Verdict::Approve, "ok");
    let ok = check(
        &p,
        &s,
        Some(&key()),
        Some(&open),
        now(&open),
        SeenFacts::default(),
    );
    assert!(ok.is_ok(), "empty approver groups admit any approver");
}

#[test]
fn replayed_decision() {
    let a = action();
    let s = decision(&a, Verdict::Approve, "ok");
    let seen = SeenFacts {
        decision_seen: true,
    };
    let e = check(&bob(), &s, Some(&key()), Some(&a), now(&a), seen).unwrap_err();
    assert_eq!(e.0, ErrorCode::ReplayedDecision);
}

#[test]
fn already_voted() {
    let mut a = action();
    let first = decision(&a, Verdict::Approve, "ok");
    let out = check(
        &bob(),
        &first,
        Some(&key()),
        Some(&a),
        now(&a),
        SeenFacts::default(),
    );
    a.votes.push(out.unwrap().vote);
    let second = decision(&a, Verdict::Approve, "again");
    assert_eq!(
        run(&bob(), &second, Some(&key()), Some(&a)),
        ErrorCode::AlreadyVoted
    );
}

#[test]
fn reason_required_for_deny() {
    let a = action();
    let s = decision(&a, Verdict::Deny, "  ");
    assert_eq!(
        run(&bob(), &s, Some(&key()), Some(&a)),
        ErrorCode::ReasonRequired
    );
}

/// bob signed in through another issuer, as another subject, with the same email.
fn bob_elsewhere() -> Principal {
    let mut p = bob();
    p.issuer = "https://id.example.test".into();
    p.identity.subject = "0f3a-bob-oidc".into();
    p.identity.email = Some("Bob@Example.com".into());
    p
}

#[test]
fn already_voted_through_another_login_of_the_same_person() {
    let mut a = action();
    let first = decision(&a, Verdict::Approve, "ok");
    let out = check(
        &bob(),
        &first,
        Some(&key()),
        Some(&a),
        now(&a),
        SeenFacts::default(),
    );
    let vote = out.unwrap().vote;
    assert_eq!(
        vote.person.as_ref().and_then(|p| p.email.as_deref()),
        Some("bob@example.com")
    );
    a.votes.push(vote);
    let other = bob_elsewhere();
    let second = Decision {
        approver: other.identity.subject.clone(),
        ..decision(&a, Verdict::Approve, "again").decision
    }
    .sign(&sk(1));
    let e = check_vote(&other, &second, Some(&a), now(&a), SeenFacts::default()).unwrap_err();
    assert_eq!(e.0, ErrorCode::AlreadyVoted);
    assert!(e.1.contains("one person, one vote"), "{}", e.1);
}

#[test]
fn self_approval_message_names_the_field_for_a_look_alike() {
    let mut a = action();
    a.requester.on_behalf_of = Some("b\u{043e}b".into()); // Cyrillic о
    let s = decision(&a, Verdict::Approve, "ok");
    let e = check(
        &bob(),
        &s,
        Some(&key()),
        Some(&a),
        now(&a),
        SeenFacts::default(),
    )
    .unwrap_err();
    assert_eq!(e.0, ErrorCode::SelfApproval);
    assert!(e.1.contains("looks like your identity"), "{}", e.1);
}

#[test]
fn distinct_groups_policy_needs_a_new_group_per_approval() {
    let mut a = action();
    a.policy.approvals_required = 2;
    a.policy.approver_groups = vec!["sre".into(), "security".into()];
    a.policy.distinct_groups = true;
    let first = decision(&a, Verdict::Approve, "ok");
    let out = check(
        &bob(),
        &first,
        Some(&key()),
        Some(&a),
        now(&a),
        SeenFacts::default(),
    )
    .unwrap();
    assert_eq!(out.vote.group.as_deref(), Some("sre"));
    assert_eq!(out.status, Status::Pending);
    a.votes.push(out.vote);
    // carol, also only in sre: refused; dave in sre and security: counts for security.
    let mut carol = bob();
    carol.identity.subject = "carol".into();
    carol.identity.email = None;
    let s = Decision {
        approver: "carol".into(),
        ..decision(&a, Verdict::Approve, "ok").decision
    }
    .sign(&sk(1));
    let e = check_vote(&carol, &s, Some(&a), now(&a), SeenFacts::default()).unwrap_err();
    assert_eq!(e.0, ErrorCode::NotInGroup);
    assert!(e.1.contains("distinct groups; sre"), "{}", e.1);
    let mut dave = carol.clone();
    dave.identity.subject = "dave".into();
    dave.identity.groups = vec!["sre".into(), "security".into()];
    let s = Decision {
        approver: "dave".into(),
        ..decision(&a, Verdict::Approve, "ok").decision
    }
    .sign(&sk(1));
    let out = check_vote(&dave, &s, Some(&a), now(&a), SeenFacts::default()).unwrap();
    assert_eq!(out.vote.group.as_deref(), Some("security"));
    assert_eq!(out.status, Status::Approved);
}
