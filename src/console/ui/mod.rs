//! Views: pure functions of `&App` and `&Theme`, one small widget per pane.
//!
//! Every agent string arrives here as [`SafeText`]; [`safe_spans`] is the only bridge
//! from text to spans, and it styles the made-visible markers so they stand out.

pub mod context;
pub mod dialogs;
pub mod diff;
pub mod history;
pub mod history_detail;
pub mod history_prompt;
pub mod history_rows;
pub mod queue;
pub mod risk;
pub mod status;
pub mod theme;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

use crate::console::core::app::{App, Pane, Screen};
use crate::console::core::layout;
pub use crate::console::core::rows::duration;
use crate::console::core::rows::{self, Row, Tone};
use crate::console::model::sanitize::SafeText;
use theme::Theme;

/// The whole screen.
pub struct Root<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

impl Widget for Root<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        buf.set_style(area, theme.base());
        if layout::too_small(area.width, area.height) {
            let msg = format!(
                "Window too small: {}x{}. signoff needs at least {}x{}.",
                area.width,
                area.height,
                layout::MIN_WIDTH,
                layout::MIN_HEIGHT
            );
            Paragraph::new(msg)
                .style(theme.level(crate::console::core::notice::Level::Warn))
                .wrap(ratatui::widgets::Wrap { trim: true })
                .render(area, buf);
            return;
        }
        let has_change = app
            .queue
            .selected_entry()
            .is_none_or(|e| e.diff().is_some());
        let a = layout::areas_with(area.width, area.height, app.detail, has_change);
        match app.screen {
            Screen::Queue => {
                queue::QueueView { app, theme }.render(a.queue, buf);
                if let Some(tabs) = a.tabs {
                    Tabs { app, theme }.render(tabs, buf);
                }
                let entry = app.queue.selected_entry();
                if let Some(r) = a.context {
                    context::ContextView { app, theme, entry }.render(r, buf);
                }
                if let Some(r) = a.diff {
                    diff::DiffView { app, theme, entry }.render(r, buf);
                }
                if let Some(r) = a.risk {
                    risk::RiskView { app, theme, entry }.render(r, buf);
                }
            }
            Screen::History => {
                let main = Rect {
                    height: area.height.saturating_sub(layout::STATUS_ROWS),
                    ..area
                };
                history::HistoryView { app, theme }.render(main, buf);
            }
        }
        status::StatusBar { app, theme }.render(a.status, buf);
        if let Some(dialog) = &app.dialog {
            dialogs::DialogView { app, theme, dialog }.render(area, buf);
        }
    }
}

/// The tab bar over the single detail pane of a narrow window.
struct Tabs<'a> {
    app: &'a App,
    theme: &'a Theme,
}

impl Widget for Tabs<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let mut spans = vec![Span::raw(" ")];
        for p in [Pane::Context, Pane::Diff, Pane::Risk] {
            let shown = self.app.detail == p;
            let focused = self.app.focus == p;
            let style = if shown {
                self.theme
                    .title(focused)
                    .add_modifier(ratatui::style::Modifier::REVERSED)
            } else {
                self.theme.muted()
            };
            spans.push(Span::styled(format!(" {} ", p.title()), style));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled("Tab switches", self.theme.muted()));
        Line::from(spans).render(area, buf);
    }
}

/// Marks a pane whose rows do not all fit: `↑ N above` on its top border and `↓ N more`
/// on its bottom border (right-aligned), so cut content never looks complete.
pub fn more_markers(
    area: Rect,
    total: usize,
    scroll: usize,
    shown: usize,
    buf: &mut Buffer,
    theme: &Theme,
) {
    let below = total.saturating_sub(scroll + shown);
    let mut mark = |text: String, y: u16| {
        let w = text.chars().count() as u16;
        if area.width > w + 4 {
            Line::styled(text, theme.key_hint())
                .render(Rect::new(area.x + area.width - w - 2, y, w, 1), buf);
        }
    };
    if scroll > 0 {
        mark(format!(" ↑ {scroll} above "), area.y);
    }
    if below > 0 && area.height > 1 {
        mark(format!(" ↓ {below} more "), area.y + area.height - 1);
    }
}

/// Spans for display-safe text: markers in the theme's `hidden` style.
pub fn safe_spans(t: &SafeText, style: Style, theme: &Theme) -> Vec<Span<'static>> {
    rows::safe(t, Tone::Text)
        .into_iter()
        .map(|seg| match seg.tone {
            Tone::Hidden => Span::styled(seg.text, theme.hidden()),
            _ => Span::styled(seg.text, style),
        })
        .collect()
}

/// A row of the core's toned segments as a line in the theme's styles.
pub fn paint(row: Row, theme: &Theme) -> Line<'static> {
    Line::from(
        row.into_iter()
            .map(|seg| {
                let style = theme.seg(&seg);
                Span::styled(seg.text, style)
            })
            .collect::<Vec<_>>(),
    )
}

/// Display-safe texts with their styles, hard-wrapped into rows of at most `cols`
/// columns; markers keep the `hidden` style.
pub fn wrap_styled(
    parts: &[(&SafeText, Style)],
    cols: usize,
    theme: &Theme,
) -> Vec<Vec<Span<'static>>> {
    wrap_styled_rows(parts, cols, usize::MAX, theme)
}

/// [`wrap_styled`], stopping after `max_rows` rows (a view needs only what fits).
pub fn wrap_styled_rows(
    parts: &[(&SafeText, Style)],
    cols: usize,
    max_rows: usize,
    theme: &Theme,
) -> Vec<Vec<Span<'static>>> {
    let spans: Vec<Span<'static>> = parts
        .iter()
        .flat_map(|(t, style)| safe_spans(t, *style, theme))
        .collect();
    wrap_spans_rows(&spans, cols, max_rows, theme.hidden())
}

/// Spans (already display-safe) word-wrapped into rows of at most `cols` columns,
/// styles kept; a word broken across rows is marked in the `mark` style. Always at least
/// one row.
pub fn wrap_spans(spans: &[Span<'static>], cols: usize, mark: Style) -> Vec<Vec<Span<'static>>> {
    wrap_spans_rows(spans, cols, usize::MAX, mark)
}

/// [`wrap_spans`], stopping after `max_rows` rows (the core's one wrapping rule).
pub fn wrap_spans_rows(
    spans: &[Span<'static>],
    cols: usize,
    max_rows: usize,
    mark: Style,
) -> Vec<Vec<Span<'static>>> {
    let pieces: Vec<(&str, Style)> = spans
        .iter()
        .map(|s| (s.content.as_ref(), s.style))
        .collect();
    rows::wrap(&pieces, cols, max_rows, &mark)
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(text, style)| Span::styled(text, style))
                .collect()
        })
        .collect()
}

/// A bordered block with the focus-aware title and border.
pub fn pane_block<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(theme.border(focused))
        .title(title)
}

/// A pane title: ` Name ` in the focus-aware style plus optional muted detail.
pub fn title<'a>(name: &str, detail: &str, focused: bool, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(format!(" {name} "), theme.title(focused))];
    if !detail.is_empty() {
        spans.push(Span::styled(format!("{detail} "), theme.muted()));
    }
    Line::from(spans)
}

/// Compact age for narrow columns: `4s`, `12m`, `3h`, `2d`.
pub fn short_duration(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// A rectangle of at most `w`×`h` centred in `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_styled_keeps_styles_and_breaks_by_columns() {
        let theme = Theme::dark();
        let a = SafeText::line("abcdef");
        let b = SafeText::line("gh\u{202e}");
        let rows = wrap_styled(&[(&a, Style::new()), (&b, theme.muted())], 10, &theme);
        let text: Vec<String> = rows
            .iter()
            .map(|r| r.iter().map(|s| s.content.to_string()).collect())
            .collect();
        assert_eq!(text, ["abcdefg⟨↩⟩", "h⟨U+202E⟩"]);
        assert_eq!(rows[0][1].style, theme.muted());
        assert_eq!(rows[0][2].style, theme.hidden(), "the break marker");
        assert_eq!(rows[1][1].style, theme.hidden());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(4_000), "4s");
        assert_eq!(duration(725_000), "12m05s");
        assert_eq!(duration(3 * 3_600_000 + 7 * 60_000), "3h07m");
        assert_eq!(duration(-5), "0s");
        assert_eq!(short_duration(2 * 86_400_000), "2d");
    }
}

#[cfg(test)]
mod wysiwys_tests;
