//! The life of a decision after it is sent: the broker's ack or rejection, and the
//! re-send check after a reconnect (same decision id, only if the action is still pending
//! with the digest that was signed).

use crate::protocol::{ActionId, DecisionId, ErrorCode, Status, Verdict};

use crate::console::core::ctx::Ctx;
use crate::console::core::msg::Effect;
use crate::console::core::notice::Level;
use crate::console::queue::order;
use crate::console::queue::state::QueueState;

/// The broker recorded our decision.
pub(in crate::console) fn acked(
    q: &mut QueueState,
    cx: &mut Ctx,
    did: DecisionId,
    id: ActionId,
    status: Status,
    audit: &str,
) {
    let Some(f) = q.inflight.remove(&did) else {
        return;
    };
    let verdict = f.decision.verdict;
    q.entries.remove(&id);
    q.drafts.remove(&id);
    let text = match status {
        Status::Pending => {
            q.voted.insert(id);
            format!(
                "approval of {} recorded; waiting for more approvers (audit {audit})",
                f.label
            )
        }
        s => format!("{} {s} (audit {audit})", f.label),
    };
    let level = if verdict == Verdict::Approve {
        Level::Success
    } else {
        Level::Info
    };
    cx.notice(level, &text);
    order::rebuild(q);
}

/// The broker refused our decision.
pub(in crate::console) fn rejected(
    q: &mut QueueState,
    cx: &mut Ctx,
    did: DecisionId,
    code: ErrorCode,
    message: &str,
) {
    let Some(f) = q.inflight.remove(&did) else {
        return;
    };
    if f.resent && matches!(code, ErrorCode::ReplayedDecision | ErrorCode::AlreadyVoted) {
        // The first send landed before the connection dropped; only the ack was lost.
        q.voted.insert(f.decision.action_id);
        q.entries.remove(&f.decision.action_id);
        cx.notice(
            Level::Success,
            &format!("{} was already recorded before the reconnect", f.label),
        );
    } else {
        cx.notice(
            Level::Error,
            &format!(
                "{} {} refused: {code}: {message}",
                f.decision.verdict, f.label
            ),
        );
    }
    order::rebuild(q);
}

/// After a reconnect, once the feed has caught up (the caller knows): re-send decisions
/// that were in flight when the connection dropped, but only where the action is still
/// pending with the digest that was signed; otherwise tell the approver what happened
/// instead.
pub(in crate::console) fn caught_up(q: &mut QueueState, cx: &mut Ctx) {
    let waiting: Vec<DecisionId> = q
        .inflight
        .iter()
        .filter(|(_, f)| !f.sent)
        .map(|(id, _)| *id)
        .collect();
    for did in waiting {
        let Some(f) = q.inflight.get(&did).cloned() else {
            continue;
        };
        let aid = f.decision.action_id;
        let entry = q.entries.get(&aid);
        let recorded = entry.is_some_and(|e| e.has_decision(did));
        match entry {
            _ if recorded => {
                q.inflight.remove(&did);
                q.entries.remove(&aid);
                q.voted.insert(aid);
                cx.notice(
                    Level::Success,
                    &format!("{} was recorded before the reconnect", f.label),
                );
            }
            Some(e) if e.digest() == &f.decision.action_digest && !e.is_expired_at(cx.now) => {
                if let Some(slot) = q.inflight.get_mut(&did) {
                    slot.sent = true;
                    slot.resent = true;
                }
                cx.effect(Effect::SignAndSend(f.decision.clone()));
                cx.notice(
                    Level::Info,
                    &format!("re-sent your {} of {}", f.decision.verdict, f.label),
                );
            }
            Some(e) if e.is_expired_at(cx.now) => {
                q.inflight.remove(&did);
                cx.notice(
                    Level::Warn,
                    &format!(
                        "{} expired while disconnected; your {} was not sent",
                        f.label, f.decision.verdict
                    ),
                );
            }
            Some(_) => {
                q.inflight.remove(&did);
                cx.notice(
                    Level::Warn,
                    &format!(
                        "{} changed while disconnected; your {} was not sent — review it again",
                        f.label, f.decision.verdict
                    ),
                );
            }
            None => {
                q.inflight.remove(&did);
                cx.notice(
                    Level::Warn,
                    &format!(
                        "{} is no longer pending (decided while disconnected); your {} was not re-sent — check history",
                        f.label, f.decision.verdict
                    ),
                );
            }
        }
    }
    order::rebuild(q);
}
