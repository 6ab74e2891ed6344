//! Keys on the history screen: navigation, the search box, chips, copy and export.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::history::args::parse_time;
use crate::history::chips::TimeRange;

use crate::console::core::ctx::Ctx;
use crate::console::core::msg::{Action, Effect};
use crate::console::core::notice::Level;
use crate::console::core::text_input::TextInput;
use crate::console::history::chips::ChipPicker;
use crate::console::history::state::{self as view, HistoryState, Prompt};

/// Rows moved by page up / down.
const PAGE: isize = 10;

/// What the history screen asks of the console around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Back to the queue (the screen's own state is already left).
    Leave,
    /// Open the help overlay.
    Help,
    /// Quit (asking again while decisions are in flight).
    Quit,
}

/// Applies one action on the history screen (no dialog open).
pub fn act(h: &mut HistoryState, cx: &mut Ctx, action: Action) -> Option<Exit> {
    cx.redraw();
    match h.prompt.take() {
        None => return list(h, cx, action),
        Some(Prompt::Search) => search(h, cx, action),
        Some(Prompt::Chips(picker)) => chips(h, cx, picker, action),
        Some(Prompt::CustomTime { input, .. }) => custom_time(h, cx, input, action),
    }
    None
}

/// Pasted text goes into the open prompt as text.
pub fn paste(h: &mut HistoryState, cx: &mut Ctx, text: &str) {
    let clean = text.replace(['\n', '\r', '\t'], " ");
    match h.prompt.as_mut() {
        Some(Prompt::Search) => {
            for c in clean.chars() {
                h.search.insert(c);
            }
            let t = h.search.value.clone();
            h.set_text(&t);
            crate::console::history::live::text_changed(h, cx);
        }
        Some(Prompt::CustomTime { input, .. }) => clean.chars().for_each(|c| input.insert(c)),
        _ => return,
    }
    cx.redraw();
}

/// Click a row to select it or the record pane to focus it; the wheel moves the
/// selection over the list and scrolls the record pane.
pub fn mouse(h: &mut HistoryState, cx: &mut Ctx, m: MouseEvent) {
    if h.prompt.is_some() {
        return;
    }
    let a = crate::console::core::layout::history_areas(cx.size.0, cx.size.1);
    let inside = |r: ratatui::layout::Rect| {
        m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
    };
    let (in_list, in_detail) = (inside(a.list), inside(a.detail));
    if !in_list && !in_detail {
        return;
    }
    match m.kind {
        MouseEventKind::Down(MouseButton::Left) if in_detail => h.detail_focus = true,
        MouseEventKind::Down(MouseButton::Left) => {
            h.detail_focus = false;
            // Rows start under the border and the header row.
            if m.row >= a.list.y + 2 {
                let row = usize::from(m.row - a.list.y - 2);
                let target = h.offset + row;
                if target < h.rows().len() {
                    let delta = target as isize - h.selected as isize;
                    move_by(h, cx, delta);
                }
            }
        }
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let down = m.kind == MouseEventKind::ScrollDown;
            let before = h.detail_focus;
            h.detail_focus = in_detail;
            let step = if in_detail { 3 } else { 1 };
            move_by(h, cx, if down { step } else { -step });
            h.detail_focus = before;
        }
        _ => return,
    }
    cx.redraw();
}

fn list(h: &mut HistoryState, cx: &mut Ctx, action: Action) -> Option<Exit> {
    match action {
        Action::Down => move_by(h, cx, 1),
        Action::Up => move_by(h, cx, -1),
        Action::PageDown => move_by(h, cx, PAGE),
        Action::PageUp => move_by(h, cx, -PAGE),
        Action::Top => move_by(h, cx, isize::MIN / 2),
        Action::Bottom => move_by(h, cx, isize::MAX / 2),
        Action::NextPane | Action::PrevPane | Action::FocusDetail => {
            h.detail_focus = !h.detail_focus;
        }
        Action::Cancel if h.detail_focus => h.detail_focus = false,
        Action::Cancel | Action::History => {
            view::leave(h);
            return Some(Exit::Leave);
        }
        Action::Search => h.prompt = Some(Prompt::Search),
        Action::Filter => {
            let picker = ChipPicker::new(h.local().index(), &h.chips);
            h.prompt = Some(Prompt::Chips(picker));
        }
        Action::DecidedByMe => {
            if cx.me.is_none() && !h.chips.decided_by_me {
                cx.notice(Level::Warn, "not signed in yet: who \"me\" is is unknown");
                return None;
            }
            h.chips.toggle_decided_by_me();
            view::refetch(h, cx);
        }
        Action::RequestedBy => {
            let Some(who) = h.selected_record().map(|r| r.action.requester.id.clone()) else {
                cx.notice(Level::Info, "select a record to filter by its requester");
                return None;
            };
            h.chips.toggle_requested_by(&who);
            view::refetch(h, cx);
        }
        Action::CycleTime => {
            h.chips.cycle_time();
            view::refetch(h, cx);
        }
        Action::CustomTime => {
            h.prompt = Some(Prompt::CustomTime {
                input: TextInput::default(),
                error: None,
            });
        }
        Action::ClearChips => {
            h.chips.clear();
            view::refetch(h, cx);
        }
        Action::CopyId => copy_id(h, cx),
        Action::Export => export(h, cx),
        Action::Help => return Some(Exit::Help),
        Action::Reconnect => cx.effect(Effect::Reconnect),
        Action::Quit => return Some(Exit::Quit),
        _ => {}
    }
    None
}

fn move_by(h: &mut HistoryState, cx: &mut Ctx, delta: isize) {
    if h.detail_focus {
        let area = crate::console::core::layout::history_areas(cx.size.0, cx.size.1).detail;
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
    view::clamp(h, cx.size);
    if h.selected != before {
        h.detail_scroll = 0;
    }
    view::more_if_near_end(h, cx);
}

fn search(h: &mut HistoryState, cx: &mut Ctx, action: Action) {
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
    crate::console::history::live::text_changed(h, cx);
}

fn chips(h: &mut HistoryState, cx: &mut Ctx, mut picker: ChipPicker, action: Action) {
    match action {
        Action::Cancel => return,
        Action::Down => picker.move_by(1),
        Action::Up => picker.move_by(-1),
        Action::Toggle => {
            if let Some(item) = picker.current().cloned() {
                let mine = matches!(item, crate::console::history::chips::ChipItem::DecidedByMe);
                if mine && cx.me.is_none() && !h.chips.decided_by_me {
                    cx.notice(Level::Warn, "not signed in yet: who \"me\" is is unknown");
                } else {
                    item.toggle(&mut h.chips);
                    view::refetch(h, cx);
                }
            }
        }
        _ => {}
    }
    h.prompt = Some(Prompt::Chips(picker));
}

fn custom_time(h: &mut HistoryState, cx: &mut Ctx, mut input: TextInput, action: Action) {
    let error = match action {
        Action::Cancel => return,
        Action::Submit => match parse_range(&input.value, cx.now) {
            Ok((since, until)) => {
                h.chips.time = TimeRange::Custom { since, until };
                view::refetch(h, cx);
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
    h.prompt = Some(Prompt::CustomTime { input, error });
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

fn copy_id(h: &mut HistoryState, cx: &mut Ctx) {
    let Some(id) = h.selected_record().map(|r| r.action.id) else {
        cx.notice(Level::Info, "nothing selected");
        return;
    };
    cx.effect(Effect::CopyToClipboard(id.to_string()));
    // OSC 52 has no answer: a terminal that ignores it copies nothing, so never claim
    // success; the id is in the notice to copy by hand.
    cx.notice(
        Level::Info,
        &format!(
            "sent {id} to the clipboard via OSC 52: it copies only where the terminal allows it (the id is also in the record pane)"
        ),
    );
}

fn export(h: &mut HistoryState, cx: &mut Ctx) {
    let records = h.local().shared_results();
    if records.is_empty() {
        cx.notice(Level::Info, "nothing to export: no record matches");
        return;
    }
    cx.effect(Effect::ExportHistory {
        file_name: view::export_name(cx.now),
        records,
    });
}
