//! The risk pane: level and score, then every tag with the reason it fired.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

use super::{paint, pane_block, title};
use crate::console::core::app::{App, Pane};
use crate::console::core::rows;
use crate::console::model::view_model::Entry;
use crate::console::ui::theme::Theme;

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
        let inner = block.inner(area);
        block.render(area, buf);
        let scroll = usize::from(self.app.queue.pane_scroll(Pane::Risk));
        let rows = rows::risk(e, usize::from(inner.width));
        let total = rows.len();
        super::more_markers(area, total, scroll, usize::from(inner.height), buf, theme);
        for (i, row) in rows
            .into_iter()
            .skip(scroll)
            .take(usize::from(inner.height))
            .enumerate()
        {
            paint(row, theme).render(Rect::new(inner.x, inner.y + i as u16, inner.width, 1), buf);
        }
    }
}
