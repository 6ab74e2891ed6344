//! The filter dialog's view: a toggle per risk level and environment.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::{DialogView, Popup, toggle_line};
use crate::console::dialogs::filter::FilterDialog;
use crate::console::model::sanitize::SafeText;
use crate::protocol::RiskLevel;

pub(super) fn render(v: &DialogView, f: &FilterDialog, area: Rect, buf: &mut Buffer) {
    let theme = v.theme;
    let hidden = &v.app.queue.filter;
    let mut lines = vec![Line::styled("Risk levels", theme.muted())];
    let mut i = 0;
    for level in RiskLevel::ALL {
        let on = !hidden.hidden_risks.contains(&level);
        lines.push(toggle_line(level.as_str(), on, f.cursor == i, theme));
        i += 1;
    }
    lines.push(Line::styled("Environments", theme.muted()));
    for env in v.app.queue.environments() {
        let on = !hidden.hidden_envs.contains(&env);
        lines.push(toggle_line(
            &SafeText::line(&env).plain(),
            on,
            f.cursor == i,
            theme,
        ));
        i += 1;
    }
    lines.push(Line::from(vec![
        Span::styled("Space", theme.key_hint()),
        Span::styled(" toggle  ", theme.muted()),
        Span::styled("j/k", theme.key_hint()),
        Span::styled(" move  ", theme.muted()),
        Span::styled("Esc", theme.key_hint()),
        Span::styled(" close", theme.muted()),
    ]));
    v.frame(
        area,
        buf,
        Popup {
            width: 44,
            title: "Filter".into(),
            lines,
            danger: false,
        },
    );
}
