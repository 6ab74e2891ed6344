//! Approver intents: navigation, dialogs, and building the decision to sign.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::protocol::{Decision, RiskLevel, Verdict};

use crate::console::core::app::{App, DecideDialog, Dialog, Field, Level, Pane, Screen, TextInput};
use crate::console::core::layout;
use crate::console::core::msg::{Action, Effect};
use crate::console::core::rows;
use crate::console::core::update::notice;
use crate::console::dialogs::login::LoginState;
use crate::console::queue::order as queue;
use crate::console::queue::state::InFlight;

/// Rows moved by page up / down in the detail panes.
const PAGE: i32 = 10;

pub fn act(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    app.dirty = true;
    if action != Action::Quit {
        app.quit_armed = false;
    }
    match app.dialog.take() {
        None if app.screen == Screen::History => history(app, action, fx),
        None => normal(app, action, fx),
        Some(Dialog::Decide(d)) => decide_dialog(app, d, action, fx),
        // Only Esc or Enter close the notice; every other key is swallowed.
        Some(Dialog::Gone(n)) => {
            if !matches!(action, Action::Cancel | Action::Submit) {
                app.dialog = Some(Dialog::Gone(n));
            }
        }
        Some(Dialog::Reason {
            action_id,
            label,
            mut input,
        }) => match action {
            Action::Cancel => {}
            Action::Submit => {
                let text = input.value.trim().to_string();
                if text.is_empty() {
                    app.queue.drafts.remove(&action_id);
                } else {
                    app.queue.drafts.insert(action_id, text);
                    notice(app, Level::Info, "reason saved for this action");
                }
            }
            other => {
                edit(&mut input, other);
                app.dialog = Some(Dialog::Reason {
                    action_id,
                    label,
                    input,
                });
            }
        },
        Some(Dialog::Search) => match action {
            Action::Cancel => {
                app.queue.search = TextInput::default();
                queue::rebuild(&mut app.queue);
            }
            Action::Submit => {}
            other => {
                edit(&mut app.queue.search, other);
                app.dialog = Some(Dialog::Search);
                queue::rebuild(&mut app.queue);
            }
        },
        Some(Dialog::Filter { mut cursor }) => {
            let envs = app.queue.environments();
            let n = RiskLevel::ALL.len() + envs.len();
            match action {
                Action::Cancel => return,
                Action::Down => cursor = (cursor + 1).min(n.saturating_sub(1)),
                Action::Up => cursor = cursor.saturating_sub(1),
                Action::Toggle => {
                    if let Some(level) = RiskLevel::ALL.get(cursor) {
                        toggle(&mut app.queue.filter.hidden_risks, *level);
                    } else if let Some(env) = envs.get(cursor - RiskLevel::ALL.len()) {
                        toggle(&mut app.queue.filter.hidden_envs, env.clone());
                    }
                    queue::rebuild(&mut app.queue);
                }
                _ => {}
            }
            app.dialog = Some(Dialog::Filter { cursor });
        }
        Some(Dialog::Help { scroll }) => {
            let scroll = match action {
                Action::Cancel => return,
                Action::Down => scroll.saturating_add(1),
                Action::Up => scroll.saturating_sub(1),
                _ => scroll,
            };
            app.dialog = Some(Dialog::Help { scroll });
        }
        Some(Dialog::Login(state)) => match (action, &state) {
            (Action::Submit, LoginState::Failed { ended, .. }) => {
                app.dialog = Some(Dialog::Login(LoginState::Starting {
                    ended: ended.clone(),
                }));
                fx.push(Effect::StartLogin);
            }
            (Action::Cancel, _) => {
                // Closing the dialog keeps the (stale) queue readable; nothing can be
                // decided while signed out, and the status bar says so.
                let retry = app.settings.keymap.hint(Action::Reconnect);
                notice(
                    app,
                    Level::Warn,
                    &format!("signed out: decisions are disabled; press {retry} to try again"),
                );
            }
            (Action::Quit, _) => {
                normal(app, Action::Quit, fx);
                if !app.should_quit {
                    app.dialog = Some(Dialog::Login(state));
                }
            }
            _ => app.dialog = Some(Dialog::Login(state)),
        },
    }
}

/// A key on the history screen (no dialog open), and what it asks of the console.
fn history(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    use crate::console::history::input::{self as history, Exit};
    let (h, mut cx) = app.history_cx(fx);
    match history::act(h, &mut cx, action) {
        None => {}
        Some(Exit::Leave) => app.screen = Screen::Queue,
        Some(Exit::Help) => app.dialog = Some(Dialog::Help { scroll: 0 }),
        Some(Exit::Quit) => quit(app, fx),
    }
}

fn toggle<T: Ord>(set: &mut std::collections::BTreeSet<T>, v: T) {
    if !set.remove(&v) {
        set.insert(v);
    }
}

/// Pasted text goes into the focused text field, line breaks as spaces; never a key.
pub fn paste(app: &mut App, text: &str, fx: &mut Vec<Effect>) {
    if app.dialog.is_none() && app.screen == Screen::History {
        let (h, mut cx) = app.history_cx(fx);
        crate::console::history::input::paste(h, &mut cx, text);
        return;
    }
    let input = match app.dialog.as_mut() {
        Some(Dialog::Decide(d)) => match (d.field, d.typed.as_mut()) {
            (Field::TypedConfirm, Some(t)) => t,
            _ => &mut d.reason,
        },
        Some(Dialog::Reason { input, .. }) => input,
        Some(Dialog::Search) => &mut app.queue.search,
        _ => return,
    };
    for c in text.chars() {
        input.insert(if c == '\n' || c == '\r' || c == '\t' {
            ' '
        } else {
            c
        });
    }
    if matches!(app.dialog, Some(Dialog::Search)) {
        queue::rebuild(&mut app.queue);
    }
    app.dirty = true;
}

fn edit(input: &mut TextInput, action: Action) {
    match action {
        Action::Insert(c) => input.insert(c),
        Action::Backspace => input.backspace(),
        Action::ClearInput => input.value.clear(),
        _ => {}
    }
}

fn normal(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Down => scroll_or_move(app, 1),
        Action::Up => scroll_or_move(app, -1),
        Action::PageDown => scroll_or_move(app, PAGE),
        Action::PageUp => scroll_or_move(app, -PAGE),
        Action::Top => scroll_or_move(app, i32::MIN / 2),
        Action::Bottom => scroll_or_move(app, i32::MAX / 2),
        Action::Left => scroll_cols(app, ColMove::Left),
        Action::Right => scroll_cols(app, ColMove::Right),
        Action::LineStart => scroll_cols(app, ColMove::Start),
        Action::LineEnd => scroll_cols(app, ColMove::End),
        Action::NextPane => cycle_pane(app, 1),
        Action::PrevPane => cycle_pane(app, -1),
        Action::FocusDetail => {
            if app.focus == Pane::Queue {
                app.focus = app.detail;
            }
        }
        // Esc steps back one thing at a time: a detail pane to the queue, then a kept
        // search (new actions must never hide behind a forgotten filter).
        Action::Cancel if app.focus != Pane::Queue => app.focus = Pane::Queue,
        Action::Cancel if !app.queue.search.value.is_empty() => {
            app.queue.search = TextInput::default();
            queue::rebuild(&mut app.queue);
            notice(app, Level::Info, "search cleared");
        }
        Action::Cancel => {}
        Action::Approve => open_decide(app, Verdict::Approve),
        Action::Deny => open_decide(app, Verdict::Deny),
        Action::Reason => {
            if let Some(e) = app.queue.selected_entry() {
                let (id, label) = (e.row.id, e.label());
                let value = app.queue.drafts.get(&id).cloned().unwrap_or_default();
                app.dialog = Some(Dialog::Reason {
                    action_id: id,
                    label,
                    input: TextInput { value },
                });
            }
        }
        Action::Search => app.dialog = Some(Dialog::Search),
        Action::Filter => app.dialog = Some(Dialog::Filter { cursor: 0 }),
        Action::Sort => {
            app.queue.sort = app.queue.sort.next();
            queue::rebuild(&mut app.queue);
            notice(
                app,
                Level::Info,
                &format!("sorted by {}", app.queue.sort.as_str()),
            );
        }
        Action::History => {
            app.screen = Screen::History;
            let (h, mut cx) = app.history_cx(fx);
            crate::console::history::state::enter(h, &mut cx);
        }
        Action::Help => app.dialog = Some(Dialog::Help { scroll: 0 }),
        Action::Reconnect => fx.push(Effect::Reconnect),
        Action::CopyReview => super::review::copy(app, fx),
        Action::Quit => quit(app, fx),
        Action::Submit
        | Action::NextField
        | Action::Toggle
        | Action::Backspace
        | Action::ClearInput
        | Action::Insert(_)
        | Action::CopyId
        | Action::Export
        | Action::DecidedByMe
        | Action::CycleTime
        | Action::CustomTime
        | Action::RequestedBy
        | Action::ClearChips => {}
    }
}

/// Quits, asking again while a decision is in flight.
pub fn quit(app: &mut App, fx: &mut Vec<Effect>) {
    let sending = app.queue.inflight.len();
    if sending > 0 && !app.quit_armed {
        app.quit_armed = true;
        notice(
            app,
            Level::Warn,
            &format!("{sending} decision(s) still in flight; press quit again to leave anyway"),
        );
    } else {
        app.should_quit = true;
        fx.push(Effect::Quit);
    }
}

fn cycle_pane(app: &mut App, step: isize) {
    // An action without a change has nothing in the diff pane: Tab skips it, so the
    // risk reasons are one Tab closer.
    let no_change = app
        .queue
        .selected_entry()
        .is_some_and(|e| e.diff().is_none());
    let order: Vec<Pane> = Pane::ORDER
        .into_iter()
        .filter(|p| !(no_change && *p == Pane::Diff))
        .collect();
    let i = order.iter().position(|p| *p == app.focus).unwrap_or(0) as isize;
    let j = (i + step).rem_euclid(order.len() as isize) as usize;
    app.focus = order[j];
    if app.focus != Pane::Queue {
        app.detail = app.focus;
    }
}

fn scroll_or_move(app: &mut App, delta: i32) {
    if app.focus == Pane::Queue {
        let d = delta.clamp(-100_000, 100_000) as isize;
        queue::move_selection(&mut app.queue, d);
        let a = layout::for_app(app);
        queue::keep_visible(&mut app.queue, a.queue_rows());
    } else {
        let cur = i32::from(app.queue.pane_scroll(app.focus));
        let max = i32::from(max_scroll(app, app.focus));
        let next = (cur.saturating_add(delta)).clamp(0, max) as u16;
        app.queue.scroll.insert(app.focus, next);
    }
}

enum ColMove {
    Left,
    Right,
    Start,
    End,
}

/// `h` `l` `0` `$` (and the arrows): the diff pane's columns, half a pane at a time,
/// clamped so the longest line's end can reach the right edge and no further.
fn scroll_cols(app: &mut App, m: ColMove) {
    use crate::console::model::diff_job::DiffState;
    let a = layout::areas(app.size.0, app.size.1, app.detail);
    let Some(rect) = a.rect(Pane::Diff).or(a.context.or(a.diff).or(a.risk)) else {
        return;
    };
    let inner = usize::from(rect.width.saturating_sub(2));
    let Some(e) = app.queue.selected_entry() else {
        return;
    };
    // A fallback shows the two sides next to each other, half a pane each.
    let (widest, room) = match e.diff() {
        Some(DiffState::Ready(_)) => (layout::diff_widest(e), layout::diff_text_cols(inner)),
        Some(DiffState::Fallback { .. }) => {
            (layout::diff_widest(e), layout::diff_text_cols(inner / 2))
        }
        _ => (0, 1),
    };
    let max = widest.saturating_sub(room);
    let step = (room / 2).max(1);
    app.queue.diff_col = match m {
        ColMove::Left => app.queue.diff_col.saturating_sub(step),
        ColMove::Right => app.queue.diff_col.saturating_add(step),
        ColMove::Start => 0,
        ColMove::End => max,
    }
    .min(max);
    app.dirty = true;
}

/// The furthest a detail pane scrolls: to its last page (the diff: its last line), so
/// everything is reachable and the approver never scrolls into emptiness.
fn max_scroll(app: &App, pane: Pane) -> u16 {
    let Some(e) = app.queue.selected_entry() else {
        return 0;
    };
    let a = layout::for_app(app);
    // Inside the pane's border; a narrow window shows the pane in the detail slot.
    let rect = a.rect(pane).or(a.context.or(a.diff).or(a.risk));
    let width = rect.map_or(1, |r| usize::from(r.width.saturating_sub(2)));
    let height = rect.map_or(1, |r| usize::from(r.height.saturating_sub(2)));
    let max = match pane {
        Pane::Queue => 0,
        // Diff lines may wrap, so the last line may need to reach the top.
        Pane::Diff => layout::diff_rows(e).saturating_sub(1),
        // Wrapped rows are known exactly: stop when the last page is full.
        Pane::Risk => rows::risk(e, width).len().saturating_sub(height),
        Pane::Context => rows::context(app, e, width).len().saturating_sub(height),
    };
    u16::try_from(max).unwrap_or(u16::MAX)
}

/// `a` / `d`: opens the dialog, unless the action cannot be decided now.
pub fn open_decide(app: &mut App, verdict: Verdict) {
    let Some(entry) = app.queue.selected_entry() else {
        notice(app, Level::Info, "nothing selected");
        return;
    };
    let id = entry.row.id;
    let digest = entry.digest().clone();
    let label = entry.label();
    let critical = entry.row.risk == RiskLevel::Critical;
    let loading = !entry.has_body()
        && !matches!(
            entry.fetch,
            crate::console::model::view_model::BodyFetch::Refused(_)
        );
    let why_not = if entry.is_expired_at(app.now) {
        Some("it has expired and can no longer be decided".to_string())
    } else if let crate::console::model::view_model::BodyFetch::Refused(why) = &entry.fetch {
        Some(format!("its content was {why}"))
    } else if app.queue.inflight_for(id).is_some() {
        Some("a decision for it is already in flight".into())
    } else if matches!(app.conn, crate::console::core::app::Conn::SignedOut { .. }) {
        Some("signed out; sign in again first".into())
    } else if app.me.is_none() {
        Some("not connected to the broker yet".into())
    } else {
        None
    };
    if let Some(why) = why_not {
        notice(app, Level::Warn, &format!("cannot {verdict}: {why}"));
        return;
    }
    if loading {
        // Nothing unseen is signed: the dialog opens once the full action is here and
        // checked (if the selection is still on it).
        app.queue.bodies.intent = Some((id, verdict));
        notice(
            app,
            Level::Info,
            "loading the full action; the dialog opens when it is here",
        );
        return;
    }
    let typed = (verdict == Verdict::Approve && critical).then(TextInput::default);
    let field = if typed.is_some() {
        Field::TypedConfirm
    } else {
        Field::Reason
    };
    app.dialog = Some(Dialog::Decide(DecideDialog {
        action_id: id,
        digest,
        label,
        verdict,
        reason: TextInput {
            value: app.queue.drafts.get(&id).cloned().unwrap_or_default(),
        },
        typed,
        field,
        error: None,
    }));
}

fn decide_dialog(app: &mut App, mut d: DecideDialog, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Cancel => return,
        Action::NextField => {
            if d.typed.is_some() {
                d.field = match d.field {
                    Field::Reason => Field::TypedConfirm,
                    Field::TypedConfirm => Field::Reason,
                };
            }
        }
        Action::Submit => match submit(app, &d) {
            Ok(decision) => {
                app.decisions_built += 1;
                let label = app
                    .queue
                    .entries
                    .get(&d.action_id)
                    .map(|e| e.label())
                    .unwrap_or_default();
                let live = matches!(app.conn, crate::console::core::app::Conn::Live);
                app.queue.inflight.insert(
                    decision.decision_id,
                    InFlight {
                        decision: decision.clone(),
                        label,
                        sent: live,
                        resent: false,
                    },
                );
                if live {
                    fx.push(Effect::SignAndSend(decision));
                } else {
                    notice(
                        app,
                        Level::Warn,
                        "offline: the decision will be sent after reconnect if the action is unchanged",
                    );
                }
                return;
            }
            Err(e) => d.error = Some(e),
        },
        other => {
            let input = match (d.field, d.typed.as_mut()) {
                (Field::TypedConfirm, Some(t)) => t,
                _ => &mut d.reason,
            };
            edit(input, other);
            d.error = None;
        }
    }
    app.dialog = Some(Dialog::Decide(d));
}

/// Checks the dialog and builds the decision over the digest the console computed from
/// the action it displayed.
fn submit(app: &App, d: &DecideDialog) -> Result<Decision, String> {
    let entry = app
        .queue
        .entries
        .get(&d.action_id)
        .ok_or("the action is no longer pending")?;
    if entry.is_expired_at(app.now) {
        return Err("the action has expired".into());
    }
    let reason = d.reason.value.trim();
    if d.verdict == Verdict::Deny && reason.is_empty() {
        return Err("a reason is required to deny".into());
    }
    if let Some(typed) = &d.typed
        && !entry.confirms(&typed.value)
    {
        return Err(if entry.view().confirm.is_some() {
            "type the confirmation phrase exactly to approve a critical action".into()
        } else {
            "type the resource name exactly to approve a critical action".into()
        });
    }
    let me = app.me.as_ref().ok_or("not connected to the broker")?;
    let (action_id, action_digest) = entry
        .signing_basis()
        .ok_or("the full action is not loaded; nothing unseen can be signed")?;
    Ok(Decision {
        decision_id: app.next_decision_id(),
        action_id,
        action_digest,
        verdict: d.verdict,
        reason: reason.to_string(),
        approver: me.subject.clone(),
        key_id: app.settings.key_id.clone(),
        issued_at: app.now,
    })
}

pub fn mouse(app: &mut App, m: MouseEvent, fx: &mut Vec<Effect>) {
    if app.dialog.is_none() && app.screen == Screen::History {
        let (h, mut cx) = app.history_cx(fx);
        crate::console::history::input::mouse(h, &mut cx, m);
        return;
    }
    if app.dialog.is_some() || app.screen != Screen::Queue {
        return;
    }
    let a = layout::for_app(app);
    if let (MouseEventKind::Down(MouseButton::Left), Some(tab)) =
        (m.kind, a.tab_at(m.column, m.row))
    {
        app.detail = tab;
        app.focus = tab;
        app.dirty = true;
        return;
    }
    let Some(pane) = a.pane_at(m.column, m.row) else {
        return;
    };
    let before = app.focus;
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            app.focus = pane;
            if pane != Pane::Queue {
                app.detail = pane;
            } else {
                // Rows start under the border and the header row.
                let row = m.row.saturating_sub(a.queue.y + 2) as usize;
                if m.row >= a.queue.y + 2 {
                    let i = app.queue.offset + row;
                    queue::select_index(&mut app.queue, i);
                }
            }
            app.dirty = true;
        }
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let delta: i32 = if m.kind == MouseEventKind::ScrollDown {
                3
            } else {
                -3
            };
            app.focus = pane;
            scroll_or_move(
                app,
                if pane == Pane::Queue {
                    delta.signum()
                } else {
                    delta
                },
            );
            app.focus = before;
            app.dirty = true;
        }
        _ => {}
    }
}
