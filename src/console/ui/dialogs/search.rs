//! The queue search prompt's view: one line over the status bar.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use super::DialogView;
use crate::console::model::sanitize::SafeText;
use crate::console::ui::safe_spans;

pub(super) fn render(v: &DialogView, area: Rect, buf: &mut Buffer) {
    let theme = v.theme;
    let r = Rect::new(
        area.x,
        area.y + area.height.saturating_sub(3),
        area.width,
        1,
    );
    Clear.render(r, buf);
    let mut s = vec![Span::styled(" / ", theme.key_hint())];
    s.extend(safe_spans(
        &SafeText::line(&v.app.queue.search.value),
        theme.text(),
        theme,
    ));
    s.push(Span::styled("▏", theme.key_hint()));
    s.push(Span::styled("   Enter keep · Esc clear", theme.muted()));
    Line::from(s).render(r, buf);
}
