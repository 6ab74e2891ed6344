//! Exit codes and the one-line outcome messages of `signoff request` and `signoff gate`.
//!
//! Pipelines branch on the exit code, people read the message; both come from the final
//! [`Action`] here, as pure functions, so every combination is tested without a broker.

use std::time::Duration;

use crate::protocol::{Action, Status, Timestamp, Verdict};
use crate::text::visible_string as visible;

use super::duration::format_duration;

/// Approved (and, for `gate`, the command's own code decides).
pub const EXIT_APPROVED: u8 = 0;
/// Usage, configuration or connection error: the outcome is unknown, nothing ran.
pub const EXIT_ERROR: u8 = 1;
/// Denied by an approver.
pub const EXIT_DENIED: u8 = 2;
/// Expired before quorum, or withdrawn (including Ctrl-C while waiting).
pub const EXIT_CLOSED: u8 = 3;
/// Still pending when `--timeout` ended.
pub const EXIT_PENDING: u8 = 4;

/// The `--help` text that documents the exit codes, shared by both subcommands.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  approved (gate: the command's own exit code)
  1  usage, configuration or connection error, or the broker refused the request
     (e.g. a --callback-url it does not allow); nothing ran
  2  denied (who and why are printed)
  3  expired or withdrawn (Ctrl-C while waiting withdraws the request)
  4  still pending when --timeout ended";

/// The exit code for a final (or still pending) status.
pub fn exit_code_for(status: Status) -> u8 {
    match status {
        Status::Approved => EXIT_APPROVED,
        Status::Denied => EXIT_DENIED,
        Status::Expired | Status::Withdrawn => EXIT_CLOSED,
        Status::Pending => EXIT_PENDING,
    }
}

fn voters(action: &Action, verdict: Verdict) -> Vec<String> {
    action
        .votes
        .iter()
        .filter(|v| v.verdict == verdict)
        .map(|v| visible(&v.approver))
        .collect()
}

fn quorum(action: &Action) -> String {
    format!(
        "{} of {} approvals",
        action.approvals(),
        action.policy.approvals_required
    )
}

/// One line saying how the action ended (or where it stands), for people.
pub fn describe(action: &Action, now: Timestamp) -> String {
    let id = action.id;
    match action.status {
        Status::Approved => {
            format!(
                "approved {id} by {}",
                voters(action, Verdict::Approve).join(", ")
            )
        }
        Status::Denied => {
            let denials: Vec<String> = action
                .votes
                .iter()
                .filter(|v| v.verdict == Verdict::Deny)
                .map(|v| {
                    if v.reason.trim().is_empty() {
                        format!("{} (no reason given)", visible(&v.approver))
                    } else {
                        format!("{}: {}", visible(&v.approver), visible(&v.reason))
                    }
                })
                .collect();
            if denials.is_empty() {
                format!("denied {id}")
            } else {
                format!("denied {id} by {}", denials.join("; "))
            }
        }
        Status::Expired => format!(
            "expired {id} at {} with {}",
            action.expires_at,
            quorum(action)
        ),
        Status::Withdrawn => format!("withdrawn {id}"),
        Status::Pending => {
            let left = now.millis_until(action.expires_at).max(0) as u64;
            format!(
                "still pending {id}: {}, expires in {}",
                quorum(action),
                format_duration(Duration::from_millis(left))
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{DecisionId, KeyId, Vote};

    fn action(status: Status, votes: &[(&str, Verdict, &str)]) -> Action {
        let json = serde_json::json!({
            "id": "01JD0000000000000000000001",
            "kind": "db.export", "summary": "s",
            "requester": {"kind": "agent", "id": "a", "display_name": "A"},
            "target": {"system": "pg", "resource": "t", "environment": "prod"},
            "justification": "", "context": [],
            "risk": {"level": "high", "score": 70, "tags": []},
            "policy": {"approvals_required": 2, "approver_groups": []},
            "created_at": "2026-11-23T10:00:00.000Z",
            "expires_at": "2026-11-23T10:15:00.000Z",
            "status": status,
        });
        let mut a: Action = serde_json::from_value(json).unwrap();
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
        a
    }

    #[test]
    fn exit_codes_match_the_issue() {
        assert_eq!(exit_code_for(Status::Approved), 0);
        assert_eq!(exit_code_for(Status::Denied), 2);
        assert_eq!(exit_code_for(Status::Expired), 3);
        assert_eq!(exit_code_for(Status::Withdrawn), 3);
        assert_eq!(exit_code_for(Status::Pending), 4);
    }

    #[test]
    fn denied_says_who_and_why() {
        let a = action(
            Status::Denied,
            &[
                ("alice", Verdict::Approve, "ok"),
                ("bob", Verdict::Deny, "no ticket"),
            ],
        );
        let line = describe(&a, a.created_at);
        assert!(line.starts_with("denied 01JD"), "{line}");
        assert!(line.ends_with("by bob: no ticket"), "{line}");
    }

    #[test]
    fn approved_names_every_approver() {
        let a = action(
            Status::Approved,
            &[
                ("alice", Verdict::Approve, ""),
                ("carol", Verdict::Approve, ""),
            ],
        );
        assert!(describe(&a, a.created_at).ends_with("by alice, carol"));
    }

    #[test]
    fn pending_and_expired_show_quorum_progress() {
        let a = action(Status::Pending, &[("alice", Verdict::Approve, "")]);
        let line = describe(&a, a.created_at.plus_secs(270));
        assert!(
            line.contains("1 of 2 approvals, expires in 10m30s"),
            "{line}"
        );
        let e = action(Status::Expired, &[]);
        assert!(describe(&e, e.expires_at).contains("0 of 2 approvals"));
    }

    #[test]
    fn hostile_reasons_are_made_visible() {
        let a = action(
            Status::Denied,
            &[("bob", Verdict::Deny, "no\u{1b}[2J\u{202e}x")],
        );
        let line = describe(&a, a.created_at);
        assert!(!line.contains('\u{1b}') && !line.contains('\u{202e}'));
        assert!(line.contains("⟨ESC⟩[2J⟨U+202E⟩x"), "{line}");
    }
}
