//! Approver intents: navigation on the queue screen, and handing keys to the open
//! dialog (each in `dialogs/`) or the history screen.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::protocol::Verdict;

use crate::console::core::app::{App, Conn, Dialog, Level, Pane, Screen, TextInput};
use crate::console::core::layout;
use crate::console::core::msg::{Action, Effect};
use crate::console::core::rows;
use crate::console::core::update::notice;
use crate::console::dialogs::decide::{DecideDialog, Next, Signing};
use crate::console::dialogs::filter::FilterDialog;
use crate::console::dialogs::help::HelpDialog;
use crate::console::dialogs::login::LoginKey;
use crate::console::dialogs::reason::ReasonDialog;
use crate::console::dialogs::search;
use crate::console::queue::order as queue;

/// Rows moved by page up / down in the detail panes.
const PAGE: i32 = 10;

/// Applies one intent: to the open dialog, else to the screen.
pub fn act(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    app.dirty = true;
    if action != Action::Quit {
        app.quit_armed = false;
    }
    match app.dialog.take() {
        None if app.screen == Screen::History => history(app, action, fx),
        None => normal(app, action, fx),
        Some(dialog) => dialog_key(app, dialog, action, fx),
    }
}

/// A key for the open dialog (taken out of the state): it handles it on its own
/// sub-state and says whether it stays open.
fn dialog_key(app: &mut App, dialog: Dialog, action: Action, fx: &mut Vec<Effect>) {
    let reopen = match dialog {
        Dialog::Decide(d) => {
            let signing = Signing {
                decision_id: app.next_decision_id(),
                key_id: app.settings.key_id.clone(),
                live: matches!(app.conn, Conn::Live),
            };
            let (q, mut cx) = app.queue_cx(fx);
            match d.key(q, &mut cx, action, signing) {
                Next::Open(d) => Some(Dialog::Decide(d)),
                Next::Closed => None,
                Next::Sent => {
                    app.decisions_built += 1;
                    None
                }
            }
        }
        Dialog::Gone(n) => n.key(action).map(Dialog::Gone),
        Dialog::Reason(r) => {
            let (q, mut cx) = app.queue_cx(fx);
            r.key(q, &mut cx, action).map(Dialog::Reason)
        }
        Dialog::Search => search::key(&mut app.queue, action).then_some(Dialog::Search),
        Dialog::Filter(f) => f.key(&mut app.queue, action).map(Dialog::Filter),
        Dialog::Help(h) => h.key(action).map(Dialog::Help),
        Dialog::Login(state) => {
            let retry = app.settings.keymap.hint(Action::Reconnect);
            let (_, mut cx) = app.queue_cx(fx);
            match state.key(&mut cx, action, &retry) {
                LoginKey::Open(state) => Some(Dialog::Login(state)),
                LoginKey::Closed => None,
                LoginKey::Quit(state) => {
                    quit(app, fx);
                    (!app.should_quit).then_some(Dialog::Login(state))
                }
            }
        }
    };
    app.dialog = reopen;
}

/// A key on the history screen (no dialog open), and what it asks of the console.
fn history(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    use crate::console::history::input::{self as history, Exit};
    let (h, mut cx) = app.history_cx(fx);
    match history::act(h, &mut cx, action) {
        None => {}
        Some(Exit::Leave) => app.screen = Screen::Queue,
        Some(Exit::Help) => app.dialog = Some(Dialog::Help(HelpDialog::default())),
        Some(Exit::Quit) => quit(app, fx),
    }
}

/// Pasted text goes into the focused text field, line breaks as spaces; never a key.
pub fn paste(app: &mut App, text: &str, fx: &mut Vec<Effect>) {
    if app.dialog.is_none() && app.screen == Screen::History {
        let (h, mut cx) = app.history_cx(fx);
        crate::console::history::input::paste(h, &mut cx, text);
        return;
    }
    match app.dialog.as_mut() {
        Some(Dialog::Decide(d)) => d.input_mut().paste(text),
        Some(Dialog::Reason(r)) => r.input.paste(text),
        Some(Dialog::Search) => search::paste(&mut app.queue, text),
        _ => return,
    }
    app.dirty = true;
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
        Action::Approve => open_decide(app, Verdict::Approve, fx),
        Action::Deny => open_decide(app, Verdict::Deny, fx),
        Action::Reason => {
            if let Some(r) = ReasonDialog::open(&app.queue) {
                app.dialog = Some(Dialog::Reason(r));
            }
        }
        Action::Search => app.dialog = Some(Dialog::Search),
        Action::Filter => app.dialog = Some(Dialog::Filter(FilterDialog::default())),
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
        Action::Help => app.dialog = Some(Dialog::Help(HelpDialog::default())),
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

/// `a` / `d`: opens the dialog on the selected action, unless it cannot be decided now.
pub fn open_decide(app: &mut App, verdict: Verdict, fx: &mut Vec<Effect>) {
    let signed_out = matches!(app.conn, Conn::SignedOut { .. });
    let (q, mut cx) = app.queue_cx(fx);
    if let Some(d) = DecideDialog::open(q, &mut cx, verdict, signed_out) {
        app.dialog = Some(Dialog::Decide(d));
    }
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
