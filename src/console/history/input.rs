//! Keys on the history screen: navigation, the search box, chips, copy and export.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::history::args::parse_time;
use crate::history::chips::TimeRange;

use crate::console::core::app::{App, Dialog, Level, TextInput};
use crate::console::core::msg::{Action, Effect};
use crate::console::core::update::notice;
use crate::console::history::chips::ChipPicker;
use crate::console::history::state::{self as view, Prompt};

/// Rows moved by page up / down.
const PAGE: isize = 10;

/// Applies one action on the history screen (no dialog open).
pub fn act(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    app.dirty = true;
    match app.history.prompt.take() {
        None => list(app, action, fx),
        Some(Prompt::Search) => search(app, action),
        Some(Prompt::Chips(picker)) => chips(app, picker, action, fx),
        Some(Prompt::CustomTime { input, .. }) => custom_time(app, input, action, fx),
    }
}

/// Pasted text goes into the open prompt as text.
pub fn paste(app: &mut App, text: &str) {
    let clean = text.replace(['\n', '\r', '\t'], " ");
    match app.history.prompt.as_mut() {
        Some(Prompt::Search) => {
            for c in clean.chars() {
                app.history.search.insert(c);
            }
            let t = app.history.search.value.clone();
            app.history.set_text(&t);
            crate::console::history::live::text_changed(app);
        }
        Some(Prompt::CustomTime { input, .. }) => clean.chars().for_each(|c| input.insert(c)),
        _ => return,
    }
    app.dirty = true;
}

/// Click a row to select it or the record pane to focus it; the wheel moves the
/// selection over the list and scrolls the record pane.
pub fn mouse(app: &mut App, m: MouseEvent, fx: &mut Vec<Effect>) {
    if app.history.prompt.is_some() {
        return;
    }
    let a = crate::console::core::layout::history_areas(app.size.0, app.size.1);
    let inside = |r: ratatui::layout::Rect| {
        m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
    };
    let (in_list, in_detail) = (inside(a.list), inside(a.detail));
    if !in_list && !in_detail {
        return;
    }
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) if in_detail => app.history.detail_focus = true,
        MouseEventKind::Down(MouseButton::Left) => {
            app.history.detail_focus = false;
            // Rows start under the border and the header row.
            if m.row >= a.list.y + 2 {
                let row = usize::from(m.row - a.list.y - 2);
                let target = app.history.offset + row;
                if target < app.history.rows().len() {
                    let delta = target as isize - app.history.selected as isize;
                    move_by(app, delta, fx);
                }
            }
        }
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let down = m.kind == MouseEventKind::ScrollDown;
            let before = app.history.detail_focus;
            app.history.detail_focus = in_detail;
            let step = if in_detail { 3 } else { 1 };
            move_by(app, if down { step } else { -step }, fx);
            app.history.detail_focus = before;
        }
        _ => return,
    }
    app.dirty = true;
}

fn list(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Down => move_by(app, 1, fx),
        Action::Up => move_by(app, -1, fx),
        Action::PageDown => move_by(app, PAGE, fx),
        Action::PageUp => move_by(app, -PAGE, fx),
        Action::Top => move_by(app, isize::MIN / 2, fx),
        Action::Bottom => move_by(app, isize::MAX / 2, fx),
        Action::NextPane | Action::PrevPane | Action::FocusDetail => {
            app.history.detail_focus = !app.history.detail_focus;
        }
        Action::Cancel if app.history.detail_focus => app.history.detail_focus = false,
        Action::Cancel | Action::History => view::leave(app),
        Action::Search => app.history.prompt = Some(Prompt::Search),
        Action::Filter => {
            let picker = ChipPicker::new(app.history.local().index(), &app.history.chips);
            app.history.prompt = Some(Prompt::Chips(picker));
        }
        Action::DecidedByMe => {
            if app.me.is_none() && !app.history.chips.decided_by_me {
                notice(
                    app,
                    Level::Warn,
                    "not signed in yet: who \"me\" is is unknown",
                );
                return;
            }
            app.history.chips.toggle_decided_by_me();
            view::refetch(app, fx);
        }
        Action::RequestedBy => {
            let Some(who) = app
                .history
                .selected_record()
                .map(|r| r.action.requester.id.clone())
            else {
                notice(
                    app,
                    Level::Info,
                    "select a record to filter by its requester",
                );
                return;
            };
            app.history.chips.toggle_requested_by(&who);
            view::refetch(app, fx);
        }
        Action::CycleTime => {
            app.history.chips.cycle_time();
            view::refetch(app, fx);
        }
        Action::CustomTime => {
            app.history.prompt = Some(Prompt::CustomTime {
                input: TextInput::default(),
                error: None,
            });
        }
        Action::ClearChips => {
            app.history.chips.clear();
            view::refetch(app, fx);
        }
        Action::CopyId => copy_id(app, fx),
        Action::Export => export(app, fx),
        Action::Help => app.dialog = Some(Dialog::Help { scroll: 0 }),
        Action::Reconnect => fx.push(Effect::Reconnect),
        Action::Quit => crate::console::core::input::quit(app, fx),
        _ => {}
    }
}

fn move_by(app: &mut App, delta: isize, fx: &mut Vec<Effect>) {
    let h = &mut app.history;
    if h.detail_focus {
        let area = crate::console::core::layout::history_areas(app.size.0, app.size.1).detail;
        let max = h.selected_record().map_or(0, |r| {
            crate::console::core::rows::record_max_scroll(r, area)
        });
        let d = delta.clamp(-1000, 1000) as i32;
        let next = (i32::from(h.detail_scroll) + d).clamp(0, i32::from(max));
        h.detail_scroll = next as u16;
        return;
    }
    let before = h.selected;
    h.selected = h.selected.saturating_add_signed(delta);
    view::clamp(app);
    if app.history.selected != before {
        app.history.detail_scroll = 0;
    }
    view::more_if_near_end(app, fx);
}

fn search(app: &mut App, action: Action) {
    let h = &mut app.history;
    match action {
        Action::Submit => return,
        Action::Cancel => h.search = TextInput::default(),
        Action::Insert(c) => {
            h.search.insert(c);
            h.prompt = Some(Prompt::Search);
        }
        Action::Backspace => {
            h.search.backspace();
            h.prompt = Some(Prompt::Search);
        }
        Action::ClearInput => {
            h.search.value.clear();
            h.prompt = Some(Prompt::Search);
        }
        _ => {
            h.prompt = Some(Prompt::Search);
            return;
        }
    }
    let text = h.search.value.clone();
    h.set_text(&text);
    crate::console::history::live::text_changed(app);
}

fn chips(app: &mut App, mut picker: ChipPicker, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::Cancel => return,
        Action::Down => picker.move_by(1),
        Action::Up => picker.move_by(-1),
        Action::Toggle => {
            if let Some(item) = picker.current().cloned() {
                let mine = matches!(item, crate::console::history::chips::ChipItem::DecidedByMe);
                if mine && app.me.is_none() && !app.history.chips.decided_by_me {
                    notice(
                        app,
                        Level::Warn,
                        "not signed in yet: who \"me\" is is unknown",
                    );
                } else {
                    item.toggle(&mut app.history.chips);
                    view::refetch(app, fx);
                }
            }
        }
        _ => {}
    }
    app.history.prompt = Some(Prompt::Chips(picker));
}

fn custom_time(app: &mut App, mut input: TextInput, action: Action, fx: &mut Vec<Effect>) {
    let error = match action {
        Action::Cancel => return,
        Action::Submit => match parse_range(&input.value, app.now) {
            Ok((since, until)) => {
                app.history.chips.time = TimeRange::Custom { since, until };
                view::refetch(app, fx);
                return;
            }
            Err(e) => Some(e),
        },
        Action::Insert(c) => {
            input.insert(c);
            None
        }
        Action::Backspace => {
            input.backspace();
            None
        }
        Action::ClearInput => {
            input.value.clear();
            None
        }
        _ => None,
    };
    app.history.prompt = Some(Prompt::CustomTime { input, error });
}

/// `SINCE [UNTIL]`: each an RFC 3339 time, a UTC date or a time ago (`90m`, `7d`); `-`
/// leaves a bound open.
pub fn parse_range(
    text: &str,
    now: crate::protocol::Timestamp,
) -> Result<
    (
        Option<crate::protocol::Timestamp>,
        Option<crate::protocol::Timestamp>,
    ),
    String,
> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || words.len() > 2 {
        return Err("type SINCE [UNTIL], e.g. `2026-11-01 2026-11-15` or `3d 1d`".into());
    }
    let bound = |w: Option<&&str>| -> Result<_, String> {
        match w {
            None | Some(&"-") => Ok(None),
            Some(w) => parse_time(w, now).map(Some),
        }
    };
    let since = bound(words.first())?;
    let until = bound(words.get(1))?;
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        return Err(format!("since ({s}) is after until ({u})"));
    }
    Ok((since, until))
}

fn copy_id(app: &mut App, fx: &mut Vec<Effect>) {
    let Some(id) = app.history.selected_record().map(|r| r.action.id) else {
        notice(app, Level::Info, "nothing selected");
        return;
    };
    fx.push(Effect::CopyToClipboard(id.to_string()));
    notice(app, Level::Success, &format!("copied action id {id}"));
}

fn export(app: &mut App, fx: &mut Vec<Effect>) {
    let records = app.history.local().shared_results();
    if records.is_empty() {
        notice(app, Level::Info, "nothing to export: no record matches");
        return;
    }
    fx.push(Effect::ExportHistory {
        file_name: view::export_name(app.now),
        records,
    });
}
