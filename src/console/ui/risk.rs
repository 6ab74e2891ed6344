//! The risk pane: level and score, then every tag with the reason it fired.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{pane_block, safe_spans, title};
use crate::console::app::{App, Pane};
use crate::console::theme::Theme;
use crate::console::view_model::Entry;

pub struct RiskView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub entry: Option<&'a Entry>,
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
        let v = &e.view;
        let mut lines = vec![Line::from(vec![
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
            lines.push(Line::styled("No risk tags fired.", theme.muted()));
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
            lines.push(Line::from(head));
            for r in &t.reason {
                let mut s = vec![Span::raw("  ")];
                s.extend(safe_spans(r, theme.text(), theme));
                lines.push(Line::from(s));
            }
        }
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((self.app.pane_scroll(Pane::Risk), 0))
            .render(area, buf);
    }
}
