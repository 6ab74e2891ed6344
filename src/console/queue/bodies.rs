//! The full action behind a queue row: fetched when viewed, checked before it is shown.
//!
//! The feed carries rows (see `protocol::row`); the body — justification, context,
//! command, change — is asked for with `get_action` when the approver selects the action,
//! and kept only when the digest this console computes from it is the one the row
//! announced. A body that does not match is refused loudly and never shown or signable.
//! The few most recently viewed bodies are kept ([`KEEP`]); older ones are dropped and
//! fetched again if viewed again, so memory follows what is on screen, not the queue.

use std::collections::{HashMap, VecDeque};

use crate::protocol::{Action, ActionId, ActionRow, ClientMsg, ErrorCode, Timestamp};

use crate::console::core::ctx::Ctx;
use crate::console::core::msg::Effect;
use crate::console::core::notice::Level;
use crate::console::model::view_model::BodyFetch;
use crate::console::queue::state::QueueState;

/// Bodies kept besides the one on screen.
pub const KEEP: usize = 16;
/// A `get_action` without an answer after this long is given up and asked again.
pub const ANSWER_WITHIN_MS: i64 = 15_000;
/// Retries after a failure that may pass, before the body is refused for good.
pub const MAX_RETRIES: u32 = 5;

/// The wait before retry `attempt` (1, 2, …): 1 s, 2 s, 4 s, 8 s, 16 s.
pub fn retry_delay_ms(attempt: u32) -> i64 {
    1000 << attempt.saturating_sub(1).min(4)
}

/// Failures worth asking again: the broker's own trouble, not a refusal about the action.
fn transient(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Internal | ErrorCode::RateLimited | ErrorCode::ServerShutdown
    )
}

/// Body requests in flight, recently viewed bodies, and a snapshot arriving in pages.
#[derive(Debug, Clone, Default)]
pub struct Bodies {
    next_request: u64,
    /// Requests in flight: the action and when it was asked for.
    requests: HashMap<u64, (ActionId, Timestamp)>,
    recent: VecDeque<ActionId>,
    /// Rows of a snapshot whose last page has not arrived yet.
    pub pages: Vec<ActionRow>,
    /// `a` or `d` pressed while the body was loading: the dialog opens when it is here.
    pub intent: Option<(ActionId, crate::protocol::Verdict)>,
    /// Failed attempts per action since its last good fetch.
    attempts: HashMap<ActionId, u32>,
}

impl Bodies {
    /// Adds one snapshot page; the full snapshot once its last page is here.
    pub fn page(&mut self, page: u32, pages: u32, rows: Vec<ActionRow>) -> Option<Vec<ActionRow>> {
        if page <= 1 {
            self.pages.clear();
        }
        self.pages.extend(rows);
        (page >= pages).then(|| std::mem::take(&mut self.pages))
    }
}

/// Asks for the selected action's body when it is neither here nor on its way (the
/// caller asks only while the feed is live).
pub fn request_selected(q: &mut QueueState, cx: &mut Ctx) {
    let Some(id) = q.selected else {
        return;
    };
    let Some(e) = q.entries.get_mut(&id) else {
        return;
    };
    let due = match &e.fetch {
        BodyFetch::Missing => true,
        BodyFetch::Retry { at, .. } => *at <= cx.now,
        BodyFetch::Requested | BodyFetch::Refused(_) => false,
    };
    if e.has_body() || !due {
        return;
    }
    e.fetch = BodyFetch::Requested;
    let b = &mut q.bodies;
    b.next_request += 1;
    let request_id = b.next_request;
    b.requests.insert(request_id, (id, cx.now));
    cx.effect(Effect::Send(ClientMsg::GetAction {
        request_id,
        action_id: id,
    }));
}

/// How a `get_action` answer was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrived {
    /// Not a request of ours.
    NotOurs,
    /// Kept (or refused loudly).
    Taken,
    /// Kept, and `a` or `d` was pressed while it loaded with the action still selected:
    /// the caller opens that dialog if no other is open.
    OpenDialog(crate::protocol::Verdict),
}

/// The answer to a `get_action`: kept when it matches its row, refused loudly otherwise.
pub fn arrived(q: &mut QueueState, cx: &mut Ctx, request_id: u64, action: Action) -> Arrived {
    let Some((id, _)) = q.bodies.requests.remove(&request_id) else {
        return Arrived::NotOurs;
    };
    q.bodies.attempts.remove(&id);
    let Some(e) = q.entries.get_mut(&id) else {
        return Arrived::Taken; // Decided meanwhile: nothing to show.
    };
    let mut taken = Arrived::Taken;
    match e.set_body(action) {
        Ok(()) => {
            if let Some((want, verdict)) = q.bodies.intent
                && want == id
            {
                q.bodies.intent = None;
                if q.selected == Some(id) {
                    taken = Arrived::OpenDialog(verdict);
                }
            }
            let b = &mut q.bodies;
            b.recent.retain(|x| *x != id);
            b.recent.push_back(id);
            while b.recent.len() > KEEP {
                if let Some(old) = b.recent.pop_front()
                    && Some(old) != q.selected
                    && let Some(e) = q.entries.get_mut(&old)
                {
                    e.forget_body();
                }
            }
        }
        Err(m) => {
            let label = e.label();
            tracing::error!(action = %id, announced = %m.announced, computed = %m.computed, "body digest mismatch");
            cx.notice(
                Level::Error,
                &format!(
                    "REFUSED the content of {label}: its digest {} is not the {} the queue announced; not shown, cannot be signed",
                    m.computed.prefix(12),
                    m.announced.prefix(12)
                ),
            );
        }
    }
    cx.redraw();
    taken
}

/// A `get_action` failed. False when the request was not one of ours.
pub fn failed(
    q: &mut QueueState,
    cx: &mut Ctx,
    request_id: u64,
    code: ErrorCode,
    message: &str,
) -> bool {
    let Some((id, _)) = q.bodies.requests.remove(&request_id) else {
        return false;
    };
    let why = format!("{code}: {message}");
    if transient(code) {
        retry_later(q, cx, id, why);
    } else {
        refuse(q, cx, id, format!("the broker did not send it ({why})"));
    }
    true
}

/// Gives up on requests unanswered for [`ANSWER_WITHIN_MS`] (a broker that hangs): each
/// is retried like a transient failure. Called on every tick.
pub fn tick(q: &mut QueueState, cx: &mut Ctx) {
    let now = cx.now;
    let late: Vec<(u64, ActionId)> = q
        .bodies
        .requests
        .iter()
        .filter(|(_, (_, at))| at.millis_until(now) >= ANSWER_WITHIN_MS)
        .map(|(r, (id, _))| (*r, *id))
        .collect();
    for (r, id) in late {
        q.bodies.requests.remove(&r);
        retry_later(
            q,
            cx,
            id,
            format!("no answer in {} s", ANSWER_WITHIN_MS / 1000),
        );
    }
}

/// Schedules another request for `id`, or refuses it after [`MAX_RETRIES`].
fn retry_later(q: &mut QueueState, cx: &mut Ctx, id: ActionId, why: String) {
    let attempt = {
        let n = q.bodies.attempts.entry(id).or_insert(0);
        *n += 1;
        *n
    };
    if attempt > MAX_RETRIES {
        q.bodies.attempts.remove(&id);
        refuse(
            q,
            cx,
            id,
            format!("the broker did not send it after {MAX_RETRIES} retries ({why})"),
        );
        return;
    }
    let at = Timestamp::from_unix_millis(cx.now.unix_millis() + retry_delay_ms(attempt));
    if let Some(e) = q.entries.get_mut(&id) {
        e.fetch = BodyFetch::Retry { at, attempt, why };
        e.forget_view();
        cx.redraw();
    }
}

fn refuse(q: &mut QueueState, cx: &mut Ctx, id: ActionId, why: String) {
    if let Some(e) = q.entries.get_mut(&id) {
        e.fetch = BodyFetch::Refused(why.clone());
        e.forget_view();
        let label = e.label();
        cx.notice(Level::Warn, &format!("could not load {label}: {why}"));
    }
}

/// The connection ended: answers to requests in flight will not come; ask again once live.
pub fn disconnected(q: &mut QueueState) {
    for (id, _) in std::mem::take(&mut q.bodies.requests).into_values() {
        if let Some(e) = q.entries.get_mut(&id)
            && e.fetch == BodyFetch::Requested
        {
            e.fetch = BodyFetch::Missing;
        }
    }
    q.bodies.pages.clear();
    q.bodies.intent = None;
}
