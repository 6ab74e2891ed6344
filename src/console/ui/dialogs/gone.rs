//! The blocking notice's view: what happened to the action, and that nothing was sent.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::{DialogView, Popup};
use crate::console::core::app::Level;
use crate::console::dialogs::gone::{GoneNotice, Why};
use crate::console::model::sanitize::SafeText;

/// The blocking notice: what happened to the action, and that nothing was sent.
pub(super) fn render(v: &DialogView, n: &GoneNotice, area: Rect, buf: &mut Buffer) {
    let theme = v.theme;
    let why = n.why.text();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                SafeText::line(&n.label).plain(),
                theme.text().add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!(" was {why}."), theme.level(Level::Warn)),
        ]),
        Line::styled(
            "Nothing was sent. Keys are ignored until you close this notice.",
            theme.text(),
        ),
    ];
    if n.why == Why::Changed {
        lines.push(Line::styled(
            "Your reason is kept as a draft for this action.",
            theme.muted(),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(format!("{why} — "), theme.muted()),
        Span::styled("Esc", theme.key_hint()),
        Span::styled(" to close", theme.muted()),
    ]));
    v.frame(
        area,
        buf,
        Popup {
            width: 70,
            title: format!("{}: no longer possible", n.was),
            lines,
            danger: true,
        },
    );
}
