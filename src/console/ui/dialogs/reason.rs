//! The reason prompt's view.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{DialogView, Popup, input_line};
use crate::console::dialogs::reason::ReasonDialog;

pub(super) fn render(v: &DialogView, r: &ReasonDialog, area: Rect, buf: &mut Buffer) {
    let theme = v.theme;
    let lines = vec![
        Line::styled("Used when you approve or deny this action.", theme.muted()),
        input_line("Reason", &r.input, true, theme),
        Line::from(vec![
            Span::styled("Enter", theme.key_hint()),
            Span::styled(" save  ", theme.muted()),
            Span::styled("Esc", theme.key_hint()),
            Span::styled(" cancel", theme.muted()),
        ]),
    ];
    v.frame(
        area,
        buf,
        Popup {
            width: 70,
            title: "Reason".into(),
            lines,
            danger: false,
        },
    );
}
