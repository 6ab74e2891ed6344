//! The history screen's slot. Issue 6 fills it with the decided-actions view (filter
//! chips and search over `query_history`); until then it says so and how to go back.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget};

use super::{pane_block, title};
use crate::console::app::App;
use crate::console::msg::Action;
use crate::console::theme::Theme;

pub struct HistoryView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

impl Widget for HistoryView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let back = self.app.settings.keymap.hint(Action::History);
        Paragraph::new(vec![
            Line::styled(
                "Decision history is not part of this build yet.",
                self.theme.text(),
            ),
            Line::styled(
                format!("Press {back} or Esc to return to the queue."),
                self.theme.muted(),
            ),
        ])
        .block(pane_block(
            title("History", "", true, self.theme),
            true,
            self.theme,
        ))
        .render(area, buf);
    }
}
