//! `update(&mut App, Msg) -> Vec<Effect>`: every state change, with no I/O.
//!
//! This file handles the feed, the clock and decisions in flight; keys, dialogs and the
//! mouse are in [`crate::console::core::input`].

use crate::client::FeedEvent;
use crate::protocol::messages::ServerMsg;
use crate::protocol::{ActionId, ActionRow, Status, Timestamp};

use crate::console::core::app::{App, Conn, Dialog, KeyState, Level, Screen};
use crate::console::core::ctx::push_notice;
use crate::console::core::input;
use crate::console::core::layout;
use crate::console::core::msg::{Effect, KeyRegistration, Msg};
use crate::console::core::session::{self, Watch};
use crate::console::dialogs::gone::{self, Why};
use crate::console::dialogs::login::LoginState;
use crate::console::model::sanitize::SafeText;
use crate::console::model::view_model::Entry;
use crate::console::queue::order as queue;
use crate::console::queue::{bodies, decisions};

/// Applies one message. The returned effects are for the runtime to perform.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(k) => {
            if let Some(action) = app.settings.keymap.intent(app.mode(), &k) {
                input::act(app, action, &mut fx);
            }
        }
        Msg::Mouse(m) => input::mouse(app, m, &mut fx),
        Msg::Paste(text) => input::paste(app, &text, &mut fx),
        Msg::Do(action) => input::act(app, action, &mut fx),
        Msg::Resize(w, h) => {
            app.size = (w, h);
            crate::console::history::state::clamp(&mut app.history, app.size);
            app.dirty = true;
        }
        Msg::Tick(now) => {
            tick(app, now);
            let (q, mut cx) = app.queue_cx(&mut fx);
            bodies::tick(q, &mut cx);
            refresh_if_due(app, now, &mut fx);
            if app.screen == Screen::History {
                let (h, mut cx) = app.history_cx(&mut fx);
                crate::console::history::live::tick(h, &mut cx);
            }
        }
        Msg::Feed(ev) => feed(app, ev, &mut fx),
        Msg::LoginStarted(auth) => {
            let ended = login_ended(app);
            app.dialog = Some(Dialog::Login(LoginState::Waiting { auth, ended }));
            app.dirty = true;
        }
        Msg::LoginFinished(Ok(())) => {
            if matches!(app.dialog, Some(Dialog::Login(_))) {
                app.dialog = None;
            }
            // Out of `SignedOut`, so the status bar follows the reconnect.
            app.conn = Conn::Connecting { attempt: 0 };
            notice(app, Level::Success, "signed in");
            // Whoever signed in now, the key is registered for them before the feed
            // reconnects with their session (the answer reconnects).
            app.key = KeyState::RegisteringThenReconnect;
            fx.push(Effect::RegisterKey);
        }
        Msg::LoginFinished(Err(reason)) => {
            let ended = login_ended(app);
            app.dialog = Some(Dialog::Login(LoginState::Failed { reason, ended }));
            app.dirty = true;
        }
        Msg::Started { sign_in_first } => {
            if sign_in_first {
                app.dialog = Some(Dialog::Login(LoginState::Starting { ended: None }));
                fx.push(Effect::StartLogin);
            } else {
                register_key(app, &mut fx);
            }
        }
        Msg::KeyRegistration(result) => {
            let reconnect = app.key == KeyState::RegisteringThenReconnect;
            match result {
                KeyRegistration::Registered => app.key = KeyState::Registered,
                KeyRegistration::SignedOut => app.key = KeyState::Unregistered,
                KeyRegistration::Failed(e) => {
                    app.key = KeyState::Unregistered;
                    notice(
                        app,
                        Level::Error,
                        &format!("device key not registered: {e}"),
                    );
                }
            }
            if reconnect {
                fx.push(Effect::Reconnect);
            }
        }
        Msg::TokenChecked(answer) => match session::outcome(app.token_expires_at, answer) {
            Watch::Keep => {}
            Watch::Reconnect => {
                tracing::info!("fresh token: reconnecting the feed with it");
                fx.push(Effect::Reconnect);
            }
            Watch::SignedOut(reason) => feed(app, FeedEvent::SignedOut { reason }, &mut fx),
        },
        Msg::Notice { level, text } => notice(app, level, &text),
        Msg::HistoryPage { generation, result } => {
            let (h, mut cx) = app.history_cx(&mut fx);
            crate::console::history::state::page_arrived(h, &mut cx, generation, result);
        }
        Msg::HistoryAnswer {
            ask,
            generation,
            result,
        } => {
            let (h, mut cx) = app.history_cx(&mut fx);
            crate::console::history::live::answered(h, &mut cx, ask, generation, result);
        }
    }
    super::review::select_requested(app, &mut fx);
    settle(app);
    if matches!(app.conn, Conn::Live) {
        let (q, mut cx) = app.queue_cx(&mut fx);
        bodies::request_selected(q, &mut cx);
    }
    fx
}

/// What holds after every message, whatever it was: a dialog never outlives the action
/// version it opened on (it becomes a blocking notice), and the selected action is on a
/// visible queue row.
fn settle(app: &mut App) {
    if gone::guard(&mut app.dialog, &mut app.queue, app.now) {
        app.dirty = true;
    }
    let rows = layout::areas(app.size.0, app.size.1, app.detail).queue_rows();
    let before = app.queue.offset;
    queue::keep_visible(&mut app.queue, rows);
    if app.queue.offset != before {
        app.dirty = true;
    }
}

/// Adds a notice for the status bar (and the log).
pub fn notice(app: &mut App, level: Level, text: &str) {
    push_notice(&mut app.notices, app.now, level, text);
    app.dirty = true;
}

/// Registers the device key unless it is registered or on its way.
fn register_key(app: &mut App, fx: &mut Vec<Effect>) {
    if app.key == KeyState::Unregistered {
        app.key = KeyState::Registering;
        fx.push(Effect::RegisterKey);
    }
}

/// Asks for a fresh token shortly before the feed's expires (see [`session`]), one
/// question at a time; not while signed out or signing in (the dialog is on it).
fn refresh_if_due(app: &mut App, now: Timestamp, fx: &mut Vec<Effect>) {
    let signing_in =
        matches!(app.conn, Conn::SignedOut { .. }) || matches!(app.dialog, Some(Dialog::Login(_)));
    if signing_in || !session::due(app.token_expires_at, now, app.token_asked_at) {
        return;
    }
    app.token_asked_at = Some(now);
    fx.push(Effect::RefreshToken);
}

/// Why the session ended, as the open sign-in dialog shows it (kept across its states).
fn login_ended(app: &App) -> Option<String> {
    match &app.dialog {
        Some(Dialog::Login(state)) => state.ended().map(String::from),
        _ => None,
    }
}

fn tick(app: &mut App, now: Timestamp) {
    // Countdowns change every second; the spinner every tick.
    if now.unix_millis() / 1000 != app.now.unix_millis() / 1000 || app.busy() {
        app.dirty = true;
    }
    app.now = now;
    app.spinner = app.spinner.wrapping_add(1);
    if let Some((id, _)) = app.dialog.as_ref().and_then(Dialog::action)
        && let Some(e) = app.queue.entries.get(&id).filter(|e| e.is_expired_at(now))
    {
        let label = e.label();
        if gone::replace(
            &mut app.dialog,
            &mut app.queue,
            id,
            label.clone(),
            Why::Expired,
        ) {
            app.dirty = true;
        }
        notice(
            app,
            Level::Warn,
            &format!("{label} expired while the dialog was open; it can no longer be decided"),
        );
    }
}

fn feed(app: &mut App, ev: FeedEvent, fx: &mut Vec<Effect>) {
    app.dirty = true;
    match ev {
        FeedEvent::Connecting { attempt } => {
            if !matches!(app.conn, Conn::SignedOut { .. }) {
                app.conn = Conn::Connecting { attempt };
            }
        }
        FeedEvent::Connected => {
            app.conn = Conn::Handshake;
            // A registration that failed (broker down at start) is retried once it is back.
            register_key(app, fx);
        }
        FeedEvent::Token { expires_at } => app.token_expires_at = expires_at,
        FeedEvent::Disconnected { reason } => {
            let attempt = match &app.conn {
                Conn::Reconnecting { attempt, .. } | Conn::Connecting { attempt } => *attempt,
                _ => 0,
            };
            app.conn = Conn::Reconnecting {
                attempt,
                retry_at: app.now,
                reason,
            };
            app.catching_up_to = None;
            for f in app.queue.inflight.values_mut() {
                f.sent = false;
            }
            bodies::disconnected(&mut app.queue);
        }
        FeedEvent::Retrying { attempt, delay } => {
            let reason = match &app.conn {
                Conn::Reconnecting { reason, .. } => reason.clone(),
                _ => String::new(),
            };
            let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            app.conn = Conn::Reconnecting {
                attempt,
                retry_at: Timestamp::from_unix_millis(app.now.unix_millis().saturating_add(ms)),
                reason,
            };
        }
        FeedEvent::SignedOut { reason } => {
            app.conn = Conn::SignedOut {
                reason: reason.clone(),
            };
            for f in app.queue.inflight.values_mut() {
                f.sent = false;
            }
            // One sign-in at a time: a feed that reports the dead session while the
            // dialog already runs a flow (e.g. at start, signed out) changes nothing.
            let running = matches!(
                app.dialog,
                Some(Dialog::Login(
                    LoginState::Starting { .. } | LoginState::Waiting { .. }
                ))
            );
            if !running {
                app.dialog = Some(Dialog::Login(LoginState::Starting {
                    ended: Some(format!("Session ended: {reason}")),
                }));
                fx.push(Effect::StartLogin);
            }
        }
        FeedEvent::Garbled { reason } => {
            notice(
                app,
                Level::Warn,
                &format!("ignored a garbled message: {reason}"),
            );
        }
        FeedEvent::Server(msg) => server(app, *msg, fx),
    }
}

fn server(app: &mut App, msg: ServerMsg, fx: &mut Vec<Effect>) {
    let snapshot = matches!(msg, ServerMsg::Snapshot { .. });
    if let (Some(first), Some(seq)) = (msg.first_seq(), msg.seq()) {
        match app.last_seq {
            // A replay overlapping what we already applied: skip it.
            Some(last) if !snapshot && seq <= last => return,
            // A gap: events were lost; ask for a fresh snapshot rather than guess. (Events
            // this approver may not see arrive as `skipped` ranges, never as gaps.)
            Some(last) if !snapshot && first > last + 1 => {
                tracing::warn!(last, first, "gap in feed events; resynchronising");
                notice(
                    app,
                    Level::Warn,
                    &format!("missed events {}–{}; resynchronising", last + 1, first - 1),
                );
                app.catching_up_to = None;
                fx.push(Effect::Resync);
                return;
            }
            _ => {}
        }
        app.last_seq = Some(seq);
        if !matches!(msg, ServerMsg::Skipped { .. }) {
            app.last_event_at = Some(app.now);
        }
    }
    match msg {
        ServerMsg::Welcome {
            identity, head_seq, ..
        } => {
            app.me = Some(identity);
            app.conn = Conn::Live;
            app.catching_up_to = Some(head_seq);
        }
        ServerMsg::Snapshot {
            page, pages, rows, ..
        } => {
            let Some(rows) = app.queue.bodies.page(page, pages, rows) else {
                return;
            };
            let old = std::mem::take(&mut app.queue.entries);
            for a in rows {
                let id = a.id;
                if let Some(e) = old.get(&id) {
                    let kept = Box::new((**e).clone().updated(a));
                    app.queue.entries.insert(id, kept);
                } else {
                    // Not "new" just because we (re)connected: new means recently created.
                    let seen = a.created_at.min(app.now);
                    app.queue.entries.insert(id, Box::new(Entry::new(a, seen)));
                }
            }
            app.queue.entries.retain(|id, e| {
                let voted = app.me.as_ref().is_some_and(|me| e.voted_by(&me.subject));
                !voted
                    || app
                        .queue
                        .inflight
                        .values()
                        .any(|f| f.decision.action_id == *id)
            });
            // Decided elsewhere while we were away: say so rather than vanish silently.
            let gone = old
                .keys()
                .filter(|id| !app.queue.entries.contains_key(id))
                .count();
            if gone > 0 && app.last_event_at.is_some() {
                notice(
                    app,
                    Level::Info,
                    &format!("{gone} action(s) were decided while disconnected"),
                );
            }
            queue::rebuild(&mut app.queue);
        }
        ServerMsg::Skipped { .. } => {}
        ServerMsg::Executed { .. } => history_decided(app, fx),
        ServerMsg::Action {
            request_id, action, ..
        } => {
            let (q, mut cx) = app.queue_cx(fx);
            if let bodies::Arrived::OpenDialog(verdict) =
                bodies::arrived(q, &mut cx, request_id, *action)
                && app.dialog.is_none()
            {
                input::open_decide(app, verdict, fx);
            }
        }
        ServerMsg::Pending { row, .. } => arrived(app, row, fx),
        ServerMsg::Updated { row: action, .. } => {
            let id = action.id;
            let mine = app
                .me
                .as_ref()
                .is_some_and(|me| action.voted_by(&me.subject));
            if mine && app.queue.inflight_for(id).is_none() {
                app.queue.entries.remove(&id);
                app.queue.voted.insert(id);
            } else if let Some(e) = app.queue.entries.remove(&id) {
                let changed = e.digest() != &action.digest;
                app.queue.entries.insert(id, Box::new(e.updated(action)));
                if changed {
                    changed_under_dialog(app, id);
                }
            } else if !app.queue.voted.contains(&id) {
                app.queue
                    .entries
                    .insert(id, Box::new(Entry::new(action, app.now)));
            }
            queue::rebuild(&mut app.queue);
        }
        ServerMsg::Resolved {
            row: action,
            decided_by,
            reason,
            ..
        } => {
            resolved(app, action, &decided_by, &reason);
            history_decided(app, fx);
        }
        ServerMsg::Ack {
            decision_id,
            action_id,
            status,
            audit_hash,
            ..
        } => {
            let (q, mut cx) = app.queue_cx(fx);
            decisions::acked(
                q,
                &mut cx,
                decision_id,
                action_id,
                status,
                audit_hash.prefix(8),
            );
        }
        ServerMsg::Rejected {
            decision_id,
            code,
            message,
        } => {
            let (q, mut cx) = app.queue_cx(fx);
            decisions::rejected(q, &mut cx, decision_id, code, &message);
        }
        ServerMsg::QueryFailed {
            request_id,
            code,
            message,
        } => {
            let (q, mut cx) = app.queue_cx(fx);
            bodies::failed(q, &mut cx, request_id, code, &message);
        }
        // Kept on disk by the feed client (`client::checkpoints`); nothing to show.
        ServerMsg::HistoryPage { .. } | ServerMsg::Checkpoint { .. } => {}
        ServerMsg::Error { code, message } => {
            notice(app, Level::Error, &format!("broker: {code}: {message}"));
        }
    }
    // After a reconnect, once the feed has caught up: decisions in flight are re-sent
    // (or explained).
    if let Some(head) = app.catching_up_to
        && app.last_seq.unwrap_or(0) >= head
    {
        app.catching_up_to = None;
        let (q, mut cx) = app.queue_cx(fx);
        decisions::caught_up(q, &mut cx);
    }
}

/// The feed reported an action decided: the history screen, when open, refreshes.
fn history_decided(app: &mut App, fx: &mut Vec<Effect>) {
    if app.screen == Screen::History {
        let (h, mut cx) = app.history_cx(fx);
        crate::console::history::live::decided(h, &mut cx);
    }
}

fn arrived(app: &mut App, action: ActionRow, fx: &mut Vec<Effect>) {
    let id = action.id;
    if app.queue.voted.contains(&id) || action.status != Status::Pending {
        return;
    }
    if let Some(e) = app.queue.entries.remove(&id) {
        // Replayed after a resume: refresh it, but do not ring again.
        app.queue.entries.insert(id, Box::new(e.updated(action)));
        queue::rebuild(&mut app.queue);
        return;
    }
    let entry = Entry::new(action, app.now);
    let level = entry.row.risk;
    let label = entry.label();
    let env = entry.row.environment.plain();
    let summary = entry.summary_plain();
    app.queue.entries.insert(id, Box::new(entry));
    queue::rebuild(&mut app.queue);
    if level >= app.settings.alert_level {
        fx.push(Effect::Alert {
            title: format!("signoff: {level} risk approval"),
            body: format!("{label} ({env}): {summary}"),
        });
    }
}

fn resolved(app: &mut App, action: ActionRow, decided_by: &[String], reason: &str) {
    let id = action.id;
    let label = app
        .queue
        .entries
        .get(&id)
        .map(|e| e.label())
        .unwrap_or_else(|| {
            format!(
                "{} {}/{}",
                action.kind, action.target.system, action.target.resource
            )
        });
    let was_listed = app.queue.entries.remove(&id).is_some();
    let voted_on = app.queue.voted.remove(&id);
    app.queue.drafts.remove(&id);
    let mine = app.queue.inflight_for(id).map(|f| f.decision.decision_id);
    let who = if decided_by.is_empty() {
        "the broker".to_string()
    } else {
        decided_by.join(", ")
    };
    let status = action.status;
    // "expired by system" says nothing: expiry and withdrawal have no decider to name.
    let ended = match status {
        Status::Expired => "expired before a decision".to_string(),
        Status::Withdrawn => "withdrawn by its requester".to_string(),
        _ => format!("{status} by {who}"),
    };
    let dialog_open = gone::open_on(&app.dialog, id);
    let mut why_text = ended.clone();
    if dialog_open {
        let why = match status {
            Status::Withdrawn => Why::Withdrawn,
            Status::Expired => Why::Expired,
            Status::Approved | Status::Denied => Why::Decided {
                status,
                by: SafeText::line(&who).plain(),
            },
            Status::Pending => Why::Gone,
        };
        why_text = why.text();
        if gone::replace(&mut app.dialog, &mut app.queue, id, label.clone(), why) {
            app.dirty = true;
        }
    }
    if let Some(did) = mine {
        let by_me = decided_by
            .iter()
            .any(|d| Some(d) == app.me.as_ref().map(|m| &m.subject));
        let sent = app.queue.inflight.get(&did).is_some_and(|f| f.sent);
        if !by_me {
            // Someone else decided first; the broker will refuse ours, and this says why.
            app.queue.inflight.remove(&did);
            notice(
                app,
                Level::Warn,
                &format!("{label} was {ended} before your decision landed"),
            );
        } else if !sent {
            // Replayed after a reconnect: our vote landed, only the ack was lost.
            app.queue.inflight.remove(&did);
            notice(
                app,
                Level::Success,
                &format!("{label} {status}: your decision was recorded before the reconnect"),
            );
        }
        // Otherwise the ack for our decision follows and reports it.
    } else if dialog_open {
        notice(
            app,
            Level::Warn,
            &format!("{label} was {why_text} while your dialog was open ({reason})"),
        );
    } else if was_listed || voted_on {
        let level = if status == Status::Expired {
            Level::Warn
        } else {
            Level::Info
        };
        // An approver whose vote was one of several hears how it ended.
        let yours = if voted_on { " (you voted on it)" } else { "" };
        notice(app, level, &format!("{label} {ended}{yours}"));
    }
    queue::rebuild(&mut app.queue);
}

/// The action under an open dialog changed content: the approver must look again.
fn changed_under_dialog(app: &mut App, id: ActionId) {
    if gone::open_on(&app.dialog, id) {
        let label = app
            .queue
            .entries
            .get(&id)
            .map(|e| e.label())
            .unwrap_or_default();
        if gone::replace(&mut app.dialog, &mut app.queue, id, label, Why::Changed) {
            app.dirty = true;
        }
        notice(
            app,
            Level::Warn,
            "the action changed while the dialog was open; review it again",
        );
    }
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "update_reconnect_tests.rs"]
mod reconnect_tests;

#[cfg(test)]
#[path = "update_nav_tests.rs"]
mod nav_tests;

#[cfg(test)]
#[path = "update_login_tests.rs"]
mod login_tests;

#[cfg(test)]
#[path = "update_integrity_tests.rs"]
mod integrity_tests;

#[cfg(test)]
#[path = "update_session_tests.rs"]
mod session_tests;
