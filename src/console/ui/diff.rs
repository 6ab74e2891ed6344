//! The diff pane: line numbers, colour by line, intra-line highlights; only the visible
//! slice of the (cached) model is turned into spans.
//!
//! Long lines scroll sideways (`h`/`l`, `←`/`→`, `0`/`$`): every row shows the same
//! columns, the title says which (`cols 1–120 of 20,000`) and a `>` in the last column
//! marks a line that goes on past the right edge, so no line's tail is out of reach.
//! A diff still being computed off the event loop shows its progress; one past its
//! budget is shown plainly side by side, and the pane says so.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{pane_block, safe_spans, title};
use crate::console::core::app::{App, Pane};
use crate::console::core::layout::diff_text_cols;
use crate::console::model::diff::{DiffLine, LineKind};
use crate::console::model::diff_job::DiffState;
use crate::console::model::sanitize::SafeText;
use crate::console::model::view_model::Entry;
use crate::console::ui::theme::Theme;
use crate::protocol::Change;
use crate::text::group_thousands as group;

pub struct DiffView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub entry: Option<&'a Entry>,
}

fn num(n: Option<u32>) -> String {
    n.map(|n| format!("{n:>5}"))
        .unwrap_or_else(|| "     ".into())
}

/// ` · cols 1–120 of 20,000` when anything is wider than the pane.
fn cols_detail(col: usize, room: usize, widest: usize) -> String {
    if widest <= room {
        return String::new();
    }
    format!(
        " · cols {}–{} of {}",
        group(col + 1),
        group((col + room).min(widest)),
        group(widest)
    )
}

/// One row: the gutter, then `body` cut to the pane's columns from `col`, then `>` when
/// the text goes on past the right edge.
fn row<'a>(
    gutter: Vec<Span<'static>>,
    parts: &[(&SafeText, Style)],
    col: usize,
    room: usize,
    theme: &Theme,
) -> Line<'a> {
    let mut spans = gutter;
    let mut used = 0;
    let mut total = 0;
    let mut start = col;
    for (text, style) in parts {
        let w = text.width();
        total += w;
        if start >= w {
            start -= w;
            continue;
        }
        let part = text.slice(start, room - used);
        start = 0;
        used += part.width();
        spans.extend(safe_spans(&part, *style, theme));
    }
    if total > col + room {
        spans.push(Span::raw(" ".repeat(room - used)));
        spans.push(Span::styled(">", theme.hidden()));
    }
    Line::from(spans)
}

impl DiffView<'_> {
    fn line(&self, l: &DiffLine, col: usize, room: usize) -> Line<'static> {
        let theme = self.theme;
        let (sign, room) = match l.kind {
            LineKind::Added => ("+", room),
            LineKind::Removed => ("-", room),
            LineKind::Context => (" ", room),
            // Headers start in the sign column.
            _ => ("", room + 1),
        };
        let gutter = vec![
            Span::styled(num(l.old_no), theme.line_number()),
            Span::styled(format!("{} ", num(l.new_no)), theme.line_number()),
            Span::styled(sign, theme.diff(l.kind)),
        ];
        let parts: Vec<(&SafeText, Style)> = l
            .segments
            .iter()
            .map(|seg| {
                let style = if seg.emph {
                    theme.diff_emph(l.kind)
                } else {
                    theme.diff(l.kind)
                };
                (&seg.text, style)
            })
            .collect();
        row(gutter, &parts, col, room, theme)
    }

    /// Past the budget: the two sides (or the diff text) as plain numbered columns.
    fn fallback(&self, change: &Change, why: &str, inner: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let first = usize::from(self.app.queue.pane_scroll(Pane::Diff));
        let width = usize::from(inner.width);
        let sides: Vec<&str> = match change {
            Change::UnifiedDiff { diff } => vec![diff],
            Change::BeforeAfter { before, after, .. } => vec![before, after],
        };
        let col_w = width / sides.len();
        let room = col_w.saturating_sub(8).max(1);
        let note = format!("Shown side by side without highlights: {why}.");
        let mut y = 0u16;
        if first == 0 {
            Line::styled(note, theme.hidden())
                .render(Rect::new(inner.x, inner.y, inner.width, 1), buf);
            y = 1;
        }
        let skip = first.saturating_sub(1);
        let rows = usize::from(inner.height.saturating_sub(y));
        for (k, side) in sides.iter().enumerate() {
            let x = inner.x + (k * col_w) as u16;
            for (i, text) in side.split('\n').skip(skip).take(rows).enumerate() {
                let gutter = vec![Span::styled(
                    format!("{:>6} ", skip + i + 1),
                    theme.line_number(),
                )];
                let t = SafeText::line(text);
                let line = row(
                    gutter,
                    &[(&t, theme.base())],
                    self.app.queue.diff_col,
                    room,
                    theme,
                );
                line.render(Rect::new(x, inner.y + y + i as u16, col_w as u16, 1), buf);
            }
        }
    }
}

impl Widget for DiffView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let focused = app.focus == Pane::Diff;
        let state = self.entry.and_then(|e| e.diff());
        let scroll = usize::from(app.queue.pane_scroll(Pane::Diff));
        let inner_w = usize::from(area.width.saturating_sub(2));
        let room = diff_text_cols(inner_w);
        let rows = usize::from(area.height.saturating_sub(2));
        let col = app.queue.diff_col;
        let detail = match &state {
            Some(DiffState::Ready(m)) => {
                let first = scroll.min(m.lines.len().saturating_sub(1));
                format!(
                    "+{} −{} · lines {}–{} of {}{}",
                    m.added,
                    m.removed,
                    first + 1,
                    (first + rows).min(m.lines.len()),
                    m.lines.len(),
                    cols_detail(col, room, m.max_width)
                )
            }
            Some(DiffState::Computing { .. }) => "computing…".into(),
            Some(DiffState::Fallback { widest, .. }) => {
                let half = diff_text_cols(inner_w / 2);
                format!("plain side by side{}", cols_detail(col, half, *widest))
            }
            None => String::new(),
        };
        let block = pane_block(title("Diff", &detail, focused, theme), focused, theme);
        let inner = block.inner(area);
        block.render(area, buf);
        let m = match state {
            Some(DiffState::Ready(m)) => m,
            Some(DiffState::Computing { done, total }) => {
                let msg = if total == 0 {
                    "Comparing the documents… (off the event loop; keys still work)".to_string()
                } else {
                    format!(
                        "Parsing the diff… {} of {} lines ({}%)",
                        group(done),
                        group(total),
                        done * 100 / total.max(1)
                    )
                };
                Line::styled(msg, theme.muted()).render(inner, buf);
                return;
            }
            Some(DiffState::Fallback { why, change, .. }) => {
                self.fallback(change, why, inner, buf);
                return;
            }
            None => {
                let msg = match self.entry {
                    Some(e) if !e.has_body() => e.view().body_note.clone().unwrap_or_default(),
                    Some(_) => "This action carries no change.".into(),
                    None => "Select an action to see its change.".into(),
                };
                Line::styled(SafeText::line(&msg).plain(), theme.muted()).render(inner, buf);
                return;
            }
        };
        if m.lines.is_empty() {
            Line::from(safe_spans(
                &SafeText::trusted("(empty diff)"),
                theme.muted(),
                theme,
            ))
            .render(inner, buf);
            return;
        }
        let first = scroll.min(m.lines.len().saturating_sub(1));
        // Only the lines that reach the screen are cut and styled.
        for (y, l) in m.lines.iter().skip(first).take(rows).enumerate() {
            self.line(l, col, room)
                .render(Rect::new(inner.x, inner.y + y as u16, inner.width, 1), buf);
        }
    }
}
