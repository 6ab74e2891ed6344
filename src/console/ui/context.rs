//! The context pane: who asks, for whom, on what, why, under which policy, votes so far,
//! and the digest prefix the approver will sign. The rows come from [`rows::context`]
//! (shared with `update`, which stops scrolling at the last page); this view paints them.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

use super::{paint, pane_block, title};
use crate::console::core::app::{App, Pane};
use crate::console::core::rows;
use crate::console::model::view_model::Entry;
use crate::console::ui::theme::Theme;

pub struct ContextView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub entry: Option<&'a Entry>,
}

impl Widget for ContextView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let focused = self.app.focus == Pane::Context;
        let block = pane_block(
            title("Context", "", focused, self.theme),
            focused,
            self.theme,
        );
        let Some(e) = self.entry else {
            Paragraph::new(Line::styled(
                "Select an action to see its context.",
                self.theme.muted(),
            ))
            .block(block)
            .render(area, buf);
            return;
        };
        let scroll = usize::from(self.app.queue.pane_scroll(Pane::Context));
        let inner = block.inner(area);
        block.render(area, buf);
        let rows = rows::context(self.app, e, usize::from(inner.width));
        let total = rows.len();
        super::more_markers(
            area,
            total,
            scroll,
            usize::from(inner.height),
            buf,
            self.theme,
        );
        for (i, row) in rows
            .into_iter()
            .skip(scroll)
            .take(usize::from(inner.height))
            .enumerate()
        {
            paint(row, self.theme)
                .render(Rect::new(inner.x, inner.y + i as u16, inner.width, 1), buf);
        }
    }
}
