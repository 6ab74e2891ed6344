//! The risk pane: level and score, then every tag with the reason it fired.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{pane_block, safe_spans, title, wrap_spans};
use crate::console::core::app::{App, Pane};
use crate::console::model::view_model::Entry;
use crate::console::ui::theme::Theme;

pub struct RiskView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub entry: Option<&'a Entry>,
}

/// Every row of the risk pane for `width` columns, wrapped (reasons under themselves).
pub fn risk_rows(e: &Entry, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let v = e.view();
    let mut rows = vec![Line::from(vec![
        Span::styled(
            format!(" {} ", v.risk.as_str().to_uppercase()),
            theme.risk_badge(v.risk),
        ),
        Span::styled(
            format!("  score {}/100 · {} tag(s)", v.score, v.tags.len()),
            theme.muted(),
        ),
    ])];
    if v.tags.is_empty() {
        rows.push(Line::styled("No risk tags fired.", theme.muted()));
    }
    for t in &v.tags {
        let mut head = vec![Span::styled("● ", theme.risk(v.risk))];
        head.extend(safe_spans(
            &t.label,
            theme.text().add_modifier(ratatui::style::Modifier::BOLD),
            theme,
        ));
        head.push(Span::styled(" [", theme.muted()));
        head.extend(safe_spans(&t.id, theme.muted(), theme));
        head.push(Span::styled("]", theme.muted()));
        rows.extend(wrap_spans(&head, width).into_iter().map(Line::from));
        for r in &t.reason {
            for row in wrap_spans(&safe_spans(r, theme.text(), theme), width.saturating_sub(2)) {
                let mut s = vec![Span::raw("  ")];
                s.extend(row);
                rows.push(Line::from(s));
            }
        }
    }
    rows
}

impl Widget for RiskView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let focused = self.app.focus == Pane::Risk;
        let block = pane_block(title("Risk", "", focused, theme), focused, theme);
        let Some(e) = self.entry else {
            Paragraph::new(Line::styled(
                "Select an action to see its risk.",
                theme.muted(),
            ))
            .block(block)
            .render(area, buf);
            return;
        };
        let inner = block.inner(area);
        block.render(area, buf);
        let scroll = usize::from(self.app.pane_scroll(Pane::Risk));
        let rows = risk_rows(e, theme, usize::from(inner.width));
        let total = rows.len();
        super::more_markers(area, total, scroll, usize::from(inner.height), buf, theme);
        for (i, row) in rows
            .into_iter()
            .skip(scroll)
            .take(usize::from(inner.height))
            .enumerate()
        {
            row.render(Rect::new(inner.x, inner.y + i as u16, inner.width, 1), buf);
        }
    }
}
