//! The history screen (`H`): the chips line, the search box, the list of decided actions
//! (newest first, only the visible rows built) and the record pane below it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::history_detail::HistoryDetail;
use super::history_rows::{Cols, row};
use super::{pane_block, safe_spans, title};
use crate::console::core::app::{App, Level};
use crate::console::core::layout;
use crate::console::history::live::{BrokerSearch, LiveState};
use crate::console::history::state::{Load, Prompt};
use crate::console::model::sanitize::SafeText;
use crate::console::ui::theme::Theme;

pub struct HistoryView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

impl HistoryView<'_> {
    fn chips_line(&self) -> Line<'static> {
        let (h, theme) = (&self.app.history, self.theme);
        let mut spans = vec![Span::styled(" Chips ", theme.title(false))];
        let active = h.chips.active();
        if active.is_empty() {
            spans.push(Span::styled(
                "none · f add · m mine · t time",
                theme.muted(),
            ));
        }
        for chip in active {
            let style = theme.selection().remove_modifier(Modifier::BOLD);
            spans.push(Span::raw(" "));
            spans.extend(safe_spans(
                &SafeText::line(&format!(" {} ", chip.label())),
                style,
                theme,
            ));
        }
        Line::from(spans)
    }

    fn search_line(&self) -> Line<'static> {
        let (h, theme) = (&self.app.history, self.theme);
        let typing = matches!(h.prompt, Some(Prompt::Search));
        let mut spans = vec![Span::styled(" / ", theme.key_hint())];
        if h.search.value.is_empty() && !typing {
            spans.push(Span::styled(
                "search summary, kind, target, requester, approver, reason, command",
                theme.muted(),
            ));
        } else {
            spans.extend(safe_spans(
                &SafeText::line(&h.search.value),
                theme.text(),
                theme,
            ));
            if typing {
                spans.push(Span::styled("▏", theme.key_hint()));
            }
        }
        Line::from(spans)
    }

    /// The list title's detail: counts and where loading stands.
    fn status(&self) -> (String, Option<Level>) {
        let h = &self.app.history;
        let shown = h.rows().len();
        let loaded = h.local().loaded();
        let counts = format!("{shown} shown · {loaded} loaded");
        match &h.load {
            Load::Idle => ("not loaded yet".into(), None),
            Load::Loading { first: true } => (format!("{counts} · loading…"), Some(Level::Info)),
            Load::Loading { first: false } => {
                (format!("{counts} · loading more…"), Some(Level::Info))
            }
            Load::Failed(e) => (
                format!(
                    "{counts} · error: {}",
                    SafeText::line(e).truncate(60).plain()
                ),
                Some(Level::Error),
            ),
            Load::Ready if h.next_cursor.is_some() => {
                (format!("{counts} · more on the broker"), None)
            }
            Load::Ready => (format!("{counts} · all loaded"), None),
        }
    }

    fn list(&self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let h = &app.history;
        let focused = !h.detail_focus;
        let (mut status, level) = self.status();
        status.push_str(&live_status(&h.live));
        let mut t = title("History", "", focused, theme);
        t.spans.push(Span::styled(
            format!("{status} "),
            level.map_or(theme.muted(), |l| theme.level(l)),
        ));
        let block = pane_block(t, focused, theme);
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.height == 0 {
            return;
        }
        let cols = Cols::for_width(usize::from(inner.width));
        Line::styled(cols.header(), theme.muted()).render(Rect { height: 1, ..inner }, buf);
        let rows = usize::from(inner.height.saturating_sub(1));
        let shown = h.rows();
        if shown.is_empty() {
            let msg = match &h.load {
                Load::Loading { .. } => "Loading decided actions from the broker…",
                Load::Failed(_) => {
                    "Could not load history; the error is in the title. H to go back."
                }
                _ if h.local().loaded() == 0 => "No decided actions yet.",
                _ => "Nothing loaded matches these chips or this search (x clears chips).",
            };
            Line::styled(format!(" {msg}"), theme.muted())
                .render(Rect::new(inner.x, inner.y + 1, inner.width, 1), buf);
            return;
        }
        let searching = !h.search.value.trim().is_empty();
        let offset = h.offset.min(shown.len().saturating_sub(1));
        for (i, &slot) in shown.iter().enumerate().skip(offset).take(rows) {
            let record = h.local().record(slot);
            let matches = if searching {
                h.local().highlights(slot)
            } else {
                Vec::new()
            };
            let y = inner.y + 1 + (i - offset) as u16;
            let r = Rect::new(inner.x, y, inner.width, 1);
            row(record, &matches, &cols, theme).render(r, buf);
            if i == h.selected {
                let style = if focused {
                    theme.selection()
                } else {
                    theme.selection().remove_modifier(Modifier::BOLD)
                };
                for x in r.x..r.x + r.width {
                    if let Some(c) = buf.cell_mut((x, y)) {
                        let cur = c.style();
                        if cur.bg.is_none() || cur.bg == Some(ratatui::style::Color::Reset) {
                            c.set_bg(style.bg.unwrap_or(ratatui::style::Color::Reset));
                            c.modifier.insert(style.add_modifier);
                        }
                    }
                }
            }
        }
        if shown.len() > rows {
            let more = format!(
                " {}–{} of {} ",
                offset + 1,
                (offset + rows).min(shown.len()),
                shown.len()
            );
            let w = more.chars().count() as u16;
            if inner.width > w + 2 {
                Line::styled(more, theme.muted()).render(
                    Rect::new(area.x + area.width - w - 2, area.y + area.height - 1, w, 1),
                    buf,
                );
            }
        }
    }
}

/// What the live refresh and the broker search add to the list title.
fn live_status(live: &LiveState) -> String {
    let mut out = String::new();
    if live.new_above > 0 {
        out.push_str(&format!(" · {} new ↑", live.new_above));
    }
    match &live.broker {
        BrokerSearch::Idle => {}
        BrokerSearch::Searching { .. } => out.push_str(" · searching the broker…"),
        BrokerSearch::Found { added, .. } => {
            out.push_str(&format!(" · {added} more from the broker"));
        }
        BrokerSearch::Failed { error, .. } => out.push_str(&format!(
            " · broker search failed: {}",
            SafeText::line(error).truncate(40).plain()
        )),
    }
    out
}

impl Widget for HistoryView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let a = layout::history_areas(area.width, area.height + layout::STATUS_ROWS);
        let at = |r: Rect| Rect::new(area.x + r.x, area.y + r.y, r.width, r.height);
        self.chips_line().render(at(a.chips), buf);
        self.search_line().render(at(a.search), buf);
        self.list(at(a.list), buf);
        HistoryDetail {
            app: self.app,
            theme: self.theme,
        }
        .render(at(a.detail), buf);
        if let Some(p) = &self.app.history.prompt {
            super::history_prompt::PromptView {
                app: self.app,
                theme: self.theme,
                prompt: p,
            }
            .render(area, buf);
        }
    }
}
