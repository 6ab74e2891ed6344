//! The `?` overlay: every binding as currently configured.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget};

use crate::console::core::app::App;
use crate::console::core::keymap::Keymap;
use crate::console::core::msg::Action;
use crate::console::ui::centered;
use crate::console::ui::theme::Theme;

/// Every key bound to `action`, as configured (`-` when none).
fn keys_label(km: &Keymap, action: Action) -> String {
    let keys: Vec<String> = km.keys_for(action).iter().map(|k| k.label()).collect();
    if keys.is_empty() {
        "-".into()
    } else {
        keys.join(" ")
    }
}

pub struct HelpView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub scroll: u16,
}

impl Widget for HelpView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let km = &self.app.settings.keymap;
        let mut lines = Vec::new();
        // Session lines (the demo's second-terminal commands) first, never cut: the
        // overlay widens for them as far as the window allows.
        let intro_width = self
            .app
            .intro
            .iter()
            .map(|l| l.chars().count() as u16 + 3)
            .max()
            .unwrap_or(0);
        if !self.app.intro.is_empty() {
            for l in &self.app.intro {
                let text = crate::console::model::sanitize::SafeText::line(l);
                let mut spans = vec![Span::raw(" ")];
                spans.extend(super::safe_spans(&text, theme.text(), theme));
                lines.push(Line::from(spans));
            }
            lines.push(Line::raw(""));
        }
        for (action, _name, help) in Action::BINDABLE {
            let keys = keys_label(km, *action);
            lines.push(Line::from(vec![
                Span::styled(format!(" {keys:<16}"), theme.key_hint()),
                Span::styled(help.to_string(), theme.text()),
            ]));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(" History screen (H)", theme.title(false)));
        let on_history = [
            (
                km.hint(Action::Search),
                "search as you type (highlights matches)",
            ),
            (
                km.hint(Action::Filter),
                "filter chips: outcome, risk, env, kind, requester, time",
            ),
            (
                km.hint(Action::NextPane),
                "focus the record pane (j/k scroll it)",
            ),
            (
                format!("{} Esc", km.hint(Action::History)),
                "back to the queue",
            ),
        ];
        let own = Action::HISTORY_BINDABLE
            .iter()
            .map(|(action, _name, help)| (keys_label(km, *action), *help));
        for (keys, help) in on_history.into_iter().chain(own) {
            lines.push(Line::from(vec![
                Span::styled(format!(" {keys:<16}"), theme.key_hint()),
                Span::styled(help.to_string(), theme.text()),
            ]));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            " In dialogs: Enter confirm · Esc cancel · Tab next field",
            theme.muted(),
        ));
        lines.push(Line::styled(
            " Mouse: click to select or focus, wheel to scroll",
            theme.muted(),
        ));
        lines.push(Line::styled(
            " Rebind keys in config.toml [keys] by action name",
            theme.muted(),
        ));
        // Notices fade from the status bar after a few seconds; the last ones stay here.
        if !self.app.notices.is_empty() {
            lines.push(Line::raw(""));
            lines.push(Line::styled(" Recent notices", theme.title(false)));
            for n in self.app.notices.iter().rev().take(8) {
                let ago = crate::console::ui::short_duration(n.at.millis_until(self.app.now));
                let mut spans = vec![Span::styled(format!(" {ago:>4} ago  "), theme.muted())];
                spans.extend(super::safe_spans(&n.text, theme.level(n.level), theme));
                lines.push(Line::from(spans));
            }
        }
        let h = lines.len() as u16 + 2;
        let title = if h > area.height {
            " Keys — j/k scroll · ? or Esc to close "
        } else {
            " Keys — ? or Esc to close "
        };
        let r = centered(area, intro_width.max(76), h);
        Clear.render(r, buf);
        Paragraph::new(lines)
            .block(
                Block::bordered()
                    .border_type(BorderType::Rounded)
                    .border_style(theme.border(true))
                    .title(Span::styled(title, theme.title(true)))
                    .style(theme.base()),
            )
            .scroll((self.scroll, 0))
            .render(r, buf);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::console::fixtures::live_app;

    fn text(app: &App) -> String {
        let area = Rect::new(0, 0, 100, 60);
        let mut buf = Buffer::empty(area);
        let theme = Theme::dark();
        HelpView {
            app,
            theme: &theme,
            scroll: 0,
        }
        .render(area, &mut buf);
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect()
    }

    fn line_with<'a>(text: &'a str, help: &str) -> &'a str {
        text.lines().find(|l| l.contains(help)).unwrap_or("")
    }

    #[test]
    fn the_overlay_shows_history_keys_as_configured() {
        let mut app = live_app(Vec::new(), (100, 60));
        let before = text(&app);
        assert!(line_with(&before, "export the filtered").contains(" e "));
        let mut o = BTreeMap::new();
        o.insert("export".to_string(), vec!["E".to_string()]);
        o.insert(
            "clear_chips".to_string(),
            vec!["ctrl-x".to_string(), "X".to_string()],
        );
        app.settings.keymap = Keymap::with_overrides(&o).unwrap();
        let after = text(&app);
        let export = line_with(&after, "export the filtered");
        assert!(
            export.contains(" E ") && !export.contains(" e "),
            "{export}"
        );
        assert!(
            line_with(&after, "clear every chip").contains("C-x X"),
            "{after}"
        );
        assert!(line_with(&after, "copy the action id").contains(" y "));
    }
}
