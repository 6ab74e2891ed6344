//! The history detail pane: the whole decision record of the selected row, every vote
//! with its signature status, the digest, the audit hash and the execution result.
//! Search matches are highlighted here too; only the rows that fit are built (by
//! [`rows::record`], which `update` also uses to stop scrolling at the last page).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Widget;

use super::{paint, pane_block, title};
use crate::console::core::app::App;
use crate::console::core::rows;
use crate::console::ui::theme::Theme;

pub struct HistoryDetail<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

impl Widget for HistoryDetail<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let h = &app.history;
        let focused = h.detail_focus;
        let block = pane_block(title("Record", "", focused, theme), focused, theme);
        let inner = block.inner(area);
        block.render(area, buf);
        let Some(slot) = h.selected_slot() else {
            Line::styled(" Select a record to see it in full.", theme.muted())
                .render(Rect { height: 1, ..inner }, buf);
            return;
        };
        let r = h.local().record(slot);
        let matches = if h.search.value.trim().is_empty() {
            Vec::new()
        } else {
            h.local().highlights(slot)
        };
        let scroll = usize::from(h.detail_scroll);
        let need = scroll + usize::from(inner.height);
        let lines = rows::record(r, &matches, usize::from(inner.width), need);
        for (i, line) in lines.into_iter().skip(scroll).enumerate() {
            let y = inner.y + i as u16;
            paint(line, theme).render(Rect::new(inner.x, y, inner.width, 1), buf);
        }
    }
}
