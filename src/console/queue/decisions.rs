//! The life of a decision after it is sent: the broker's ack or rejection, and the
//! re-send check after a reconnect (same decision id, only if the action is still pending
//! with the digest that was signed).

use crate::protocol::{ActionId, DecisionId, ErrorCode, Status, Verdict};

use crate::console::core::app::{App, Level};
use crate::console::core::msg::Effect;
use crate::console::core::update::notice;
use crate::console::queue::order as queue;

pub(in crate::console) fn acked(
    app: &mut App,
    did: DecisionId,
    id: ActionId,
    status: Status,
    audit: &str,
) {
    let Some(f) = app.inflight.remove(&did) else {
        return;
    };
    let verdict = f.decision.verdict;
    app.entries.remove(&id);
    app.drafts.remove(&id);
    let text = match status {
        Status::Pending => {
            app.voted.insert(id);
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
    notice(app, level, &text);
    queue::rebuild(app);
}

pub(in crate::console) fn rejected(app: &mut App, did: DecisionId, code: ErrorCode, message: &str) {
    let Some(f) = app.inflight.remove(&did) else {
        return;
    };
    if f.resent && matches!(code, ErrorCode::ReplayedDecision | ErrorCode::AlreadyVoted) {
        // The first send landed before the connection dropped; only the ack was lost.
        app.voted.insert(f.decision.action_id);
        app.entries.remove(&f.decision.action_id);
        notice(
            app,
            Level::Success,
            &format!("{} was already recorded before the reconnect", f.label),
        );
    } else {
        notice(
            app,
            Level::Error,
            &format!(
                "{} {} refused: {code}: {message}",
                f.decision.verdict, f.label
            ),
        );
    }
    queue::rebuild(app);
}

/// After a reconnect, once the feed has caught up: re-send decisions that were in flight
/// when the connection dropped, but only where the action is still pending with the
/// digest that was signed; otherwise tell the approver what happened instead.
pub(in crate::console) fn catch_up_done(app: &mut App, fx: &mut Vec<Effect>) {
    let Some(head) = app.catching_up_to else {
        return;
    };
    if app.last_seq.unwrap_or(0) < head {
        return;
    }
    app.catching_up_to = None;
    let waiting: Vec<DecisionId> = app
        .inflight
        .iter()
        .filter(|(_, f)| !f.sent)
        .map(|(id, _)| *id)
        .collect();
    for did in waiting {
        let Some(f) = app.inflight.get(&did).cloned() else {
            continue;
        };
        let aid = f.decision.action_id;
        let entry = app.entries.get(&aid);
        let recorded = entry.is_some_and(|e| e.has_decision(did));
        match entry {
            _ if recorded => {
                app.inflight.remove(&did);
                app.entries.remove(&aid);
                app.voted.insert(aid);
                notice(
                    app,
                    Level::Success,
                    &format!("{} was recorded before the reconnect", f.label),
                );
            }
            Some(e) if e.digest() == &f.decision.action_digest && !e.is_expired_at(app.now) => {
                if let Some(slot) = app.inflight.get_mut(&did) {
                    slot.sent = true;
                    slot.resent = true;
                }
                fx.push(Effect::SignAndSend(f.decision.clone()));
                notice(
                    app,
                    Level::Info,
                    &format!("re-sent your {} of {}", f.decision.verdict, f.label),
                );
            }
            Some(e) if e.is_expired_at(app.now) => {
                app.inflight.remove(&did);
                notice(
                    app,
                    Level::Warn,
                    &format!(
                        "{} expired while disconnected; your {} was not sent",
                        f.label, f.decision.verdict
                    ),
                );
            }
            Some(_) => {
                app.inflight.remove(&did);
                notice(
                    app,
                    Level::Warn,
                    &format!(
                        "{} changed while disconnected; your {} was not sent — review it again",
                        f.label, f.decision.verdict
                    ),
                );
            }
            None => {
                app.inflight.remove(&did);
                notice(
                    app,
                    Level::Warn,
                    &format!(
                        "{} is no longer pending (decided while disconnected); your {} was not re-sent — check history",
                        f.label, f.decision.verdict
                    ),
                );
            }
        }
    }
    queue::rebuild(app);
}
