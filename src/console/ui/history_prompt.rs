//! Overlays of the history screen: the chip picker (`f`) and the custom time range (`T`).
//! The search box is drawn in place by the screen itself.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget};

use super::{centered, safe_spans};
use crate::console::core::app::{App, Level};
use crate::console::history::state::Prompt;
use crate::console::model::sanitize::SafeText;
use crate::console::ui::theme::Theme;

pub struct PromptView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub prompt: &'a Prompt,
}

fn hints(theme: &Theme, keys: &[(&str, &str)]) -> Line<'static> {
    let mut s = vec![Span::raw(" ")];
    for (k, what) in keys {
        s.push(Span::styled(k.to_string(), theme.key_hint()));
        s.push(Span::styled(format!(" {what}  "), theme.muted()));
    }
    Line::from(s)
}

fn popup(area: Rect, buf: &mut Buffer, title: &str, lines: Vec<Line<'static>>, theme: &Theme) {
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, 60, h);
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(theme.border(true))
                .title(Span::styled(format!(" {title} "), theme.title(true)))
                .style(theme.base()),
        )
        .render(r, buf);
}

impl Widget for PromptView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        match self.prompt {
            Prompt::Search => {}
            Prompt::Chips(p) => {
                let chips = &self.app.history.chips;
                let mut all = Vec::new();
                let mut cursor_line = 0;
                let mut last_group = "";
                for (i, item) in p.items.iter().enumerate() {
                    if item.group() != last_group {
                        last_group = item.group();
                        all.push(Line::styled(format!(" {last_group}"), theme.muted()));
                    }
                    let mark = if item.is_on(chips) { "[x] " } else { "[ ] " };
                    let style = if i == p.cursor {
                        cursor_line = all.len();
                        theme.selection()
                    } else {
                        theme.text()
                    };
                    let mut s = vec![Span::styled(format!("   {mark}"), style)];
                    s.extend(safe_spans(&SafeText::line(&item.label()), style, theme));
                    all.push(Line::from(s));
                }
                // Only the lines that fit, scrolled so the cursor is always on screen.
                let room = usize::from(area.height.saturating_sub(5)).max(3);
                let first = cursor_line.saturating_sub(room - 1);
                let mut lines: Vec<Line<'static>> =
                    all.into_iter().skip(first).take(room).collect();
                lines.push(hints(
                    theme,
                    &[("Space", "toggle"), ("j/k", "move"), ("Esc", "close")],
                ));
                popup(area, buf, "Chips", lines, theme);
            }
            Prompt::CustomTime { input, error } => {
                let mut value = vec![Span::styled(" since [until] ", theme.muted())];
                value.extend(safe_spans(
                    &SafeText::line(&input.value),
                    theme.text(),
                    theme,
                ));
                value.push(Span::styled("▏", theme.key_hint()));
                let mut lines = vec![
                    Line::from(value),
                    Line::styled(
                        " RFC 3339, a UTC date, or a time ago (90m, 24h, 7d); - leaves it open",
                        theme.muted(),
                    ),
                ];
                if let Some(e) = error {
                    lines.push(Line::styled(
                        format!(" {}", SafeText::line(e).plain()),
                        theme.level(Level::Error),
                    ));
                }
                lines.push(hints(theme, &[("Enter", "apply"), ("Esc", "cancel")]));
                popup(area, buf, "Custom time range", lines, theme);
            }
        }
    }
}
