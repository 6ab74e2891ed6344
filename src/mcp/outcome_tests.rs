use super::*;
use crate::protocol::{Action, DecisionId, KeyId, Vote};

fn view(status: Status, command: Option<Command>, votes: &[(&str, Verdict, &str)]) -> ActionView {
    let json = serde_json::json!({
        "id": "01JD0000000000000000000001",
        "kind": "command.exec", "summary": "s",
        "requester": {"kind": "agent", "id": "a", "display_name": "A"},
        "target": {"system": "command", "resource": "rm", "environment": "prod"},
        "justification": "", "context": [],
        "risk": {"level": "high", "score": 70, "tags": []},
        "policy": {"approvals_required": 1, "approver_groups": []},
        "created_at": "2026-11-23T10:00:00.000Z",
        "expires_at": "2026-11-23T10:15:00.000Z",
        "status": status,
    });
    let mut a: Action = serde_json::from_value(json).unwrap();
    a.command = command;
    for (who, verdict, reason) in votes {
        a.votes.push(Vote {
            decision_id: DecisionId::new(),
            approver: (*who).into(),
            verdict: *verdict,
            reason: (*reason).into(),
            key_id: KeyId("0123456789abcdef".into()),
            at: a.created_at,
            person: None,
            group: None,
        });
    }
    let digest = a.digest();
    ActionView { action: a, digest }
}

fn argv() -> Option<Command> {
    Some(Command::Argv {
        argv: vec!["echo".into(), "hi".into()],
    })
}

#[test]
fn only_a_final_approval_is_approved_and_an_argv_is_runnable() {
    let v = view(Status::Approved, argv(), &[("alice", Verdict::Approve, "")]);
    let o = from_view(&v, v.action.created_at);
    assert!(o.approved && o.runnable);
    assert_eq!(o.status, OutcomeStatus::Approved);
    assert_eq!(o.approved_by, vec!["alice".to_string()]);
    assert!(o.next.contains("run_approved"), "{}", o.next);
    assert!(o.text().starts_with("APPROVED: "));

    let text = view(
        Status::Approved,
        Some(Command::Text {
            text: "DROP".into(),
        }),
        &[],
    );
    let o = from_view(&text, text.action.created_at);
    assert!(o.approved && !o.runnable);
    assert!(!o.next.contains("run_approved"));

    for status in [
        Status::Pending,
        Status::Denied,
        Status::Expired,
        Status::Withdrawn,
    ] {
        let v = view(status, argv(), &[]);
        let o = from_view(&v, v.action.created_at);
        assert!(!o.approved && !o.runnable, "{status:?}");
        assert!(o.text().starts_with("NOT APPROVED"), "{}", o.text());
        assert!(o.next.contains("not proceed") || o.next.contains("Do not"));
    }
}

#[test]
fn pending_says_to_wait_again_with_the_id() {
    let v = view(Status::Pending, argv(), &[]);
    let o = from_view(&v, v.action.created_at);
    assert_eq!(o.status, OutcomeStatus::Pending);
    assert!(
        o.next.starts_with("Still pending: do not proceed"),
        "{}",
        o.next
    );
    assert!(o.next.contains("wait_for_decision"));
    assert!(o.next.contains("01JD0000000000000000000001"));
}

#[test]
fn denial_carries_who_and_why_made_visible() {
    let v = view(
        Status::Denied,
        argv(),
        &[("bob", Verdict::Deny, "freeze\u{1b}[2J")],
    );
    let o = from_view(&v, v.action.created_at);
    assert_eq!(o.status, OutcomeStatus::Denied);
    assert_eq!(o.denied_by[0].approver, "bob");
    assert_eq!(o.denied_by[0].reason, "freeze⟨ESC⟩[2J");
    assert!(o.next.contains("bob: freeze"), "{}", o.next);
    assert!(!o.text().contains('\u{1b}'));
}

#[test]
fn unknown_and_cancelled_are_never_approved() {
    let id = ActionId::new();
    let o = unknown(Some(id), "cannot reach the broker");
    assert!(!o.approved && !o.runnable);
    assert_eq!(o.status, OutcomeStatus::Unknown);
    assert!(o.next.contains("approval_status"));
    let o = unknown(None, "missing target");
    assert!(o.id.is_none() && o.message.contains("not submitted"));
    let o = cancelled(id);
    assert!(!o.approved);
    assert_eq!(o.status, OutcomeStatus::Withdrawn);
}
