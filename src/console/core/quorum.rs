//! Quorum arithmetic: what one more vote does to an action's count. The decision dialog
//! shows it; the core owns the rule.

use crate::protocol::Verdict;

/// What the approver's vote would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterVote {
    /// This approval reaches the required count.
    Completes,
    /// Approved, and the count becomes `after`: more approvers are still needed.
    Needs { after: u32 },
    /// A deny decides the action alone.
    DenyIsFinal,
}

/// The effect of a `verdict` on an action with `approvals` of `required` so far.
pub fn after_vote(approvals: u32, required: u32, verdict: Verdict) -> AfterVote {
    match verdict {
        Verdict::Deny => AfterVote::DenyIsFinal,
        Verdict::Approve => {
            let after = approvals.saturating_add(1);
            if after >= required {
                AfterVote::Completes
            } else {
                AfterVote::Needs { after }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_more_approval_completes_or_needs_more() {
        assert_eq!(after_vote(0, 1, Verdict::Approve), AfterVote::Completes);
        assert_eq!(after_vote(1, 2, Verdict::Approve), AfterVote::Completes);
        assert_eq!(
            after_vote(0, 3, Verdict::Approve),
            AfterVote::Needs { after: 1 }
        );
        assert_eq!(after_vote(5, 3, Verdict::Approve), AfterVote::Completes);
        assert_eq!(after_vote(0, 2, Verdict::Deny), AfterVote::DenyIsFinal);
        assert_eq!(
            after_vote(u32::MAX, 2, Verdict::Approve),
            AfterVote::Completes
        );
    }
}
