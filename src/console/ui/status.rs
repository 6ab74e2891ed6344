//! The status bar: connection, identity and token expiry, pending count, last event age;
//! then the newest notice or the key hints.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{SPINNER, duration, safe_spans};
use crate::console::core::app::{App, Conn, Level};
use crate::console::core::msg::Action;
use crate::console::model::sanitize::SafeText;
use crate::console::ui::theme::Theme;

pub struct StatusBar<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

/// The connection state in words, e.g. `reconnecting (attempt 3, next in 4s)`.
pub fn conn_text(app: &App) -> (String, Level) {
    match &app.conn {
        Conn::Live => ("● live".into(), Level::Success),
        Conn::Handshake => ("◌ handshake…".into(), Level::Info),
        Conn::Connecting { attempt: 0 } => ("◌ connecting…".into(), Level::Info),
        Conn::Connecting { attempt } => {
            (format!("◌ reconnecting (attempt {attempt})…"), Level::Warn)
        }
        Conn::Reconnecting {
            attempt, retry_at, ..
        } => {
            let ms = app.now.millis_until(*retry_at);
            let secs = (ms + 999) / 1000;
            (
                format!(
                    "○ reconnecting (attempt {attempt}, next in {}s)",
                    secs.max(0)
                ),
                Level::Warn,
            )
        }
        Conn::SignedOut { .. } => ("✕ signed out".into(), Level::Error),
    }
}

impl Widget for StatusBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let (conn, level) = conn_text(app);
        let sep = || Span::styled(" │ ", theme.muted());
        let mut top = vec![Span::styled(conn, theme.level(level))];
        // Next to the connection state: what is waiting on it.
        let queued = app.queue.inflight.values().filter(|f| !f.sent).count();
        if queued > 0 {
            top.push(Span::styled(
                format!(" · {queued} decision(s) queued"),
                theme.level(Level::Warn),
            ));
        }
        top.push(sep());
        match &app.me {
            Some(me) => {
                let who = me.email.as_deref().unwrap_or(&me.subject);
                top.extend(safe_spans(&SafeText::line(who), theme.text(), theme));
            }
            None => top.push(Span::styled(app.settings.broker_url.clone(), theme.muted())),
        }
        if let Some(exp) = app.token_expires_at {
            let left = app.now.millis_until(exp);
            let (t, l) = if left <= 0 {
                ("token expired".to_string(), Level::Error)
            } else if left < 5 * 60_000 {
                (format!("token {}", duration(left)), Level::Warn)
            } else {
                (format!("token {}", duration(left)), Level::Info)
            };
            top.push(Span::styled(format!(" ({t})"), theme.level(l)));
        }
        top.push(sep());
        top.push(Span::styled(
            format!("{} pending", app.queue.entries.len()),
            theme.text(),
        ));
        let hidden = app
            .queue
            .entries
            .len()
            .saturating_sub(app.queue.order.len());
        let searching = !app.queue.search.value.is_empty();
        let filtering =
            !app.queue.filter.hidden_risks.is_empty() || !app.queue.filter.hidden_envs.is_empty();
        if searching || filtering {
            let by = match (searching, filtering) {
                (true, true) => "search and filter",
                (true, false) => "search",
                _ => "filter",
            };
            top.push(Span::styled(
                format!(" ({hidden} hidden by {by})"),
                theme.level(Level::Warn),
            ));
        }
        top.push(sep());
        let last = match app.last_event_at {
            Some(t) => format!("last event {} ago", duration(t.millis_until(app.now))),
            None => "no events yet".into(),
        };
        top.push(Span::styled(last, theme.muted()));
        let sending = app.queue.inflight.values().filter(|f| f.sent).count();
        if sending > 0 {
            top.push(sep());
            top.push(Span::styled(
                format!("{} sending {sending}", SPINNER[app.spinner % SPINNER.len()]),
                theme.key_hint(),
            ));
        }
        Line::from(top).render(Rect { height: 1, ..area }, buf);
        if area.height < 2 {
            return;
        }
        let bottom = Rect::new(area.x, area.y + 1, area.width, 1);
        if let Some(n) = app.current_notice() {
            let mut s = vec![Span::styled(" ", theme.level(n.level))];
            s.extend(safe_spans(
                &n.text.truncate(usize::from(area.width)),
                theme.level(n.level),
                theme,
            ));
            Line::from(s).render(bottom, buf);
            return;
        }
        let km = &app.settings.keymap;
        if app.screen == crate::console::core::app::Screen::History {
            let mut s = Vec::new();
            let keys = [
                (km.hint(Action::Search), "search"),
                (km.hint(Action::Filter), "chips"),
                ("m".into(), "mine"),
                ("t".into(), "time"),
                ("y".into(), "copy id"),
                ("e".into(), "export"),
                (km.hint(Action::NextPane), "record"),
                (km.hint(Action::History), "back"),
                (km.hint(Action::Help), "help"),
            ];
            for (k, word) in keys {
                s.push(Span::styled(format!(" {k}"), theme.key_hint()));
                s.push(Span::styled(format!(" {word}"), theme.muted()));
            }
            Line::from(s).render(bottom, buf);
            return;
        }
        let hints = [
            (Action::Approve, "approve"),
            (Action::Deny, "deny"),
            (Action::Reason, "reason"),
            (Action::Search, "search"),
            (Action::Filter, "filter"),
            (Action::Sort, "sort"),
            (Action::History, "history"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ];
        let mut s = Vec::new();
        for (a, word) in hints {
            s.push(Span::styled(format!(" {}", km.hint(a)), theme.key_hint()));
            s.push(Span::styled(format!(" {word}"), theme.muted()));
        }
        Line::from(s).render(bottom, buf);
    }
}
