//! The full action behind a queue row: fetched when viewed, checked before it is shown.
//!
//! The feed carries rows (see `protocol::row`); the body — justification, context,
//! command, change — is asked for with `get_action` when the approver selects the action,
//! and kept only when the digest this console computes from it is the one the row
//! announced. A body that does not match is refused loudly and never shown or signable.
//! The few most recently viewed bodies are kept ([`KEEP`]); older ones are dropped and
//! fetched again if viewed again, so memory follows what is on screen, not the queue.

use std::collections::{HashMap, VecDeque};

use crate::protocol::{Action, ActionId, ActionRow, ClientMsg, ErrorCode};

use crate::console::core::app::{App, Conn, Level};
use crate::console::core::msg::Effect;
use crate::console::core::update::notice;
use crate::console::model::view_model::BodyFetch;

/// Bodies kept besides the one on screen.
pub const KEEP: usize = 16;

/// Body requests in flight, recently viewed bodies, and a snapshot arriving in pages.
#[derive(Debug, Clone, Default)]
pub struct Bodies {
    next_request: u64,
    requests: HashMap<u64, ActionId>,
    recent: VecDeque<ActionId>,
    /// Rows of a snapshot whose last page has not arrived yet.
    pub pages: Vec<ActionRow>,
    /// `a` or `d` pressed while the body was loading: the dialog opens when it is here.
    pub intent: Option<(ActionId, crate::protocol::Verdict)>,
}

/// Asks for the selected action's body when it is neither here nor on its way.
pub fn request_selected(app: &mut App, fx: &mut Vec<Effect>) {
    if !matches!(app.conn, Conn::Live) {
        return;
    }
    let Some(id) = app.selected else {
        return;
    };
    let Some(e) = app.entries.get_mut(&id) else {
        return;
    };
    if e.has_body() || e.fetch != BodyFetch::Missing {
        return;
    }
    e.fetch = BodyFetch::Requested;
    let b = &mut app.bodies;
    b.next_request += 1;
    let request_id = b.next_request;
    b.requests.insert(request_id, id);
    fx.push(Effect::Send(ClientMsg::GetAction {
        request_id,
        action_id: id,
    }));
}

/// The answer to a `get_action`: kept when it matches its row, refused loudly otherwise.
/// False when the request was not one of ours.
pub fn arrived(app: &mut App, request_id: u64, action: Action) -> bool {
    let Some(id) = app.bodies.requests.remove(&request_id) else {
        return false;
    };
    let Some(e) = app.entries.get_mut(&id) else {
        return true; // Decided meanwhile: nothing to show.
    };
    match e.set_body(action) {
        Ok(()) => {
            if let Some((want, verdict)) = app.bodies.intent
                && want == id
            {
                app.bodies.intent = None;
                if app.selected == Some(id) && app.dialog.is_none() {
                    crate::console::core::input::open_decide(app, verdict);
                }
            }
            let b = &mut app.bodies;
            b.recent.retain(|x| *x != id);
            b.recent.push_back(id);
            while b.recent.len() > KEEP {
                if let Some(old) = b.recent.pop_front()
                    && Some(old) != app.selected
                    && let Some(e) = app.entries.get_mut(&old)
                {
                    e.forget_body();
                }
            }
        }
        Err(m) => {
            let label = e.label();
            tracing::error!(action = %id, announced = %m.announced, computed = %m.computed, "body digest mismatch");
            notice(
                app,
                Level::Error,
                &format!(
                    "REFUSED the content of {label}: its digest {} is not the {} the queue announced; not shown, cannot be signed",
                    m.computed.prefix(12),
                    m.announced.prefix(12)
                ),
            );
        }
    }
    app.dirty = true;
    true
}

/// A `get_action` failed. False when the request was not one of ours.
pub fn failed(app: &mut App, request_id: u64, code: ErrorCode, message: &str) -> bool {
    let Some(id) = app.bodies.requests.remove(&request_id) else {
        return false;
    };
    if let Some(e) = app.entries.get_mut(&id) {
        e.fetch = BodyFetch::Refused(format!("the broker did not send it ({code}: {message})"));
        e.forget_view();
        let label = e.label();
        notice(
            app,
            Level::Warn,
            &format!("could not load {label}: {code}: {message}"),
        );
    }
    true
}

/// The connection ended: answers to requests in flight will not come; ask again once live.
pub fn disconnected(app: &mut App) {
    for id in std::mem::take(&mut app.bodies.requests).into_values() {
        if let Some(e) = app.entries.get_mut(&id)
            && e.fetch == BodyFetch::Requested
        {
            e.fetch = BodyFetch::Missing;
        }
    }
    app.bodies.pages.clear();
    app.bodies.intent = None;
}

/// Adds one snapshot page; the full snapshot once its last page is here.
pub fn page(app: &mut App, page: u32, pages: u32, rows: Vec<ActionRow>) -> Option<Vec<ActionRow>> {
    let b = &mut app.bodies;
    if page <= 1 {
        b.pages.clear();
    }
    b.pages.extend(rows);
    (page >= pages).then(|| std::mem::take(&mut b.pages))
}
