//! The diff pane: line numbers, colour by line, intra-line highlights; only the visible
//! slice of the (cached) model is turned into spans.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{pane_block, safe_spans, title, wrap_styled_rows};
use crate::console::core::app::{App, Pane};
use crate::console::model::diff::{DiffLine, LineKind};
use crate::console::model::sanitize::SafeText;
use crate::console::model::view_model::Entry;
use crate::console::ui::theme::Theme;

pub struct DiffView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub entry: Option<&'a Entry>,
}

fn num(n: Option<u32>) -> String {
    n.map(|n| format!("{n:>5}"))
        .unwrap_or_else(|| "     ".into())
}

impl DiffView<'_> {
    /// The screen rows for one diff line: long lines wrap (an agent could hide text past
    /// the right edge), continuation rows marked `↪` in the gutter.
    fn rows(&self, l: &DiffLine, width: usize, max_rows: usize) -> Vec<Line<'static>> {
        let theme = self.theme;
        let sign = match l.kind {
            LineKind::Added => "+",
            LineKind::Removed => "-",
            LineKind::Context => " ",
            _ => "",
        };
        let room = width.saturating_sub(GUTTER + sign.len()).max(1);
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
        let wrapped = wrap_styled_rows(&parts, room, max_rows, theme);
        wrapped
            .into_iter()
            .enumerate()
            .map(|(i, body)| {
                let mut spans = if i == 0 {
                    vec![
                        Span::styled(num(l.old_no), theme.line_number()),
                        Span::styled(format!("{} ", num(l.new_no)), theme.line_number()),
                        Span::styled(sign, theme.diff(l.kind)),
                    ]
                } else {
                    vec![Span::styled(
                        format!("{:>w$}", "↪ ", w = GUTTER + sign.len()),
                        theme.line_number(),
                    )]
                };
                spans.extend(body);
                Line::from(spans)
            })
            .collect()
    }
}

/// Columns taken by the two line numbers.
const GUTTER: usize = 12;

impl Widget for DiffView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let focused = app.focus == Pane::Diff;
        let model = self.entry.and_then(|e| e.diff());
        let scroll = usize::from(app.pane_scroll(Pane::Diff));
        let detail = match model {
            Some(m) => {
                let rows = usize::from(area.height.saturating_sub(2));
                let first = scroll.min(m.lines.len().saturating_sub(1));
                format!(
                    "+{} −{} · lines {}–{} of {}",
                    m.added,
                    m.removed,
                    first + 1,
                    (first + rows).min(m.lines.len()),
                    m.lines.len()
                )
            }
            None => String::new(),
        };
        let block = pane_block(title("Diff", &detail, focused, theme), focused, theme);
        let inner = block.inner(area);
        block.render(area, buf);
        let Some(m) = model else {
            let msg = match self.entry {
                Some(_) => "This action carries no change.",
                None => "Select an action to see its change.",
            };
            Line::styled(msg, theme.muted()).render(inner, buf);
            return;
        };
        let first = scroll.min(m.lines.len().saturating_sub(1));
        let width = usize::from(inner.width);
        // Only the lines that reach the screen are wrapped and styled.
        let mut y = 0u16;
        'lines: for l in m.lines.iter().skip(first) {
            for row in self.rows(l, width, usize::from(inner.height.saturating_sub(y))) {
                if y >= inner.height {
                    break 'lines;
                }
                row.render(Rect::new(inner.x, inner.y + y, inner.width, 1), buf);
                y += 1;
            }
        }
        if m.lines.is_empty() {
            Line::from(safe_spans(
                &SafeText::trusted("(empty diff)"),
                theme.muted(),
                theme,
            ))
            .render(inner, buf);
        }
    }
}
