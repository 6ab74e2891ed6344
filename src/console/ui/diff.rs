//! The diff pane: line numbers, colour by line, intra-line highlights; only the visible
//! slice of the (cached) model is turned into spans.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{pane_block, safe_spans, title};
use crate::console::app::{App, Pane};
use crate::console::diff::{DiffLine, LineKind};
use crate::console::sanitize::SafeText;
use crate::console::theme::Theme;
use crate::console::view_model::Entry;

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
    fn line(&self, l: &DiffLine, width: usize) -> Line<'static> {
        let theme = self.theme;
        let mut spans = vec![
            Span::styled(num(l.old_no), theme.line_number()),
            Span::styled(format!("{} ", num(l.new_no)), theme.line_number()),
        ];
        let sign = match l.kind {
            LineKind::Added => "+",
            LineKind::Removed => "-",
            LineKind::Context => " ",
            _ => "",
        };
        spans.push(Span::styled(sign, theme.diff(l.kind)));
        let mut room = width.saturating_sub(12 + sign.len());
        for seg in &l.segments {
            if room == 0 {
                break;
            }
            let t = if seg.text.width() > room {
                seg.text.truncate(room)
            } else {
                seg.text.clone()
            };
            room = room.saturating_sub(t.width());
            let style = if seg.emph {
                theme.diff_emph(l.kind)
            } else {
                theme.diff(l.kind)
            };
            spans.extend(safe_spans(&t, style, theme));
        }
        Line::from(spans)
    }
}

impl Widget for DiffView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let focused = app.focus == Pane::Diff;
        let model = self.entry.and_then(|e| e.diff.as_deref());
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
        for (i, l) in m
            .lines
            .iter()
            .skip(first)
            .take(usize::from(inner.height))
            .enumerate()
        {
            let r = Rect::new(inner.x, inner.y + i as u16, inner.width, 1);
            self.line(l, width).render(r, buf);
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
