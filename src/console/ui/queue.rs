//! The queue pane: one row per pending action, only the visible rows built.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{SPINNER, pane_block, safe_spans, short_duration, title};
use crate::console::core::app::{App, Conn, Level, Pane};
use crate::console::model::sanitize::SafeText;
use crate::console::model::view_model::Entry;
use crate::console::ui::theme::Theme;
use crate::protocol::RiskLevel;

pub struct QueueView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

/// Column widths for an inner width: fixed columns, the rest shared out.
struct Cols {
    kind: usize,
    target: usize,
    env: usize,
    requester: usize,
}

const MARK: usize = 2;
const BADGE: usize = 6;
const AGE: usize = 4;
const LEFT: usize = 7;
const QUORUM: usize = 4;

impl Cols {
    fn for_width(w: usize) -> Self {
        let fixed = MARK + BADGE + AGE + LEFT + QUORUM + 8;
        let flex = w.saturating_sub(fixed);
        // Narrow queues drop the requester (it is in the context pane) before cutting
        // kind, resource and environment further.
        let share = if flex < 48 { 9 } else { 12 };
        let kind = flex * 3 / share;
        let target = flex * 4 / share;
        let env = flex * 2 / share;
        let requester = if share == 9 {
            0
        } else {
            flex.saturating_sub(kind + target + env)
        };
        Self {
            kind,
            target: target
                + if share == 9 {
                    flex - kind - target - env
                } else {
                    0
                },
            env,
            requester,
        }
    }
}

fn badge(level: RiskLevel) -> &'static str {
    match level {
        RiskLevel::Low => " LOW  ",
        RiskLevel::Medium => " MED  ",
        RiskLevel::High => " HIGH ",
        RiskLevel::Critical => " CRIT ",
    }
}

fn cell(t: &SafeText, w: usize, style: Style, theme: &Theme) -> Vec<Span<'static>> {
    let t = t.truncate(w);
    let pad = w.saturating_sub(t.width());
    let mut spans = safe_spans(&t, style, theme);
    spans.push(Span::raw(" ".repeat(pad + 1)));
    spans
}

fn plain(s: &str, w: usize, style: Style) -> Span<'static> {
    Span::styled(format!("{s:>w$} "), style)
}

impl QueueView<'_> {
    fn row(
        &self,
        e: &Entry,
        cols: &Cols,
        me: Option<&crate::identity::person::PersonKey>,
        selected: bool,
    ) -> Line<'static> {
        let (app, theme) = (self.app, self.theme);
        let v = &e.row;
        let text = theme.text();
        let queued = app.queue.inflight_for(v.id).is_some_and(|f| !f.sent);
        let mark = if queued {
            Span::styled("‖ ", theme.level(crate::console::core::app::Level::Warn))
        } else if app.queue.inflight_for(v.id).is_some() {
            Span::styled(
                format!("{} ", SPINNER[app.spinner % SPINNER.len()]),
                theme.key_hint(),
            )
        } else if me.is_some_and(|me| e.names(me).is_some()) {
            // Requested by or for the approver (however spelled): theirs to not approve.
            Span::styled("⚠ ", theme.level(crate::console::core::app::Level::Warn))
        } else if app.now.millis_until(e.seen_at.plus_secs(30)) > 0 {
            Span::styled("• ", theme.key_hint())
        } else {
            Span::raw("  ")
        };
        let mut badge_style = theme.risk_badge(v.risk);
        let bar = theme.selection().bg;
        if selected && bar.is_some() && badge_style.bg == bar {
            // The badge would vanish into the selection bar (high contrast: MED and the
            // bar are both yellow): draw it inverted, as a dark block with coloured text.
            badge_style = Style::new()
                .fg(badge_style.bg.unwrap_or_default())
                .bg(badge_style.fg.unwrap_or(ratatui::style::Color::Black))
                .add_modifier(ratatui::style::Modifier::BOLD);
        }
        let mut spans = vec![mark, Span::styled(badge(v.risk), badge_style)];
        spans.push(Span::raw(" "));
        spans.extend(cell(&v.kind, cols.kind, text, theme));
        spans.extend(cell(&v.resource, cols.target, text, theme));
        spans.extend(cell(&v.environment, cols.env, theme.risk(v.risk), theme));
        if cols.requester > 0 {
            // "bob is looking" (a claim) takes the requester's place: the requester is in
            // the context pane, and who is already on it matters more in the queue.
            spans.extend(match &v.looking {
                Some(l) => cell(l, cols.requester, theme.key_hint(), theme),
                None => cell(&v.requester_name, cols.requester, theme.muted(), theme),
            });
        }
        spans.push(plain(
            &short_duration(v.created_at.millis_until(app.now)),
            AGE,
            theme.muted(),
        ));
        let left_ms = app.now.millis_until(v.expires_at);
        let left = if left_ms <= 0 {
            Span::styled(
                format!("{:>LEFT$} ", "expired"),
                theme.level(crate::console::core::app::Level::Error),
            )
        } else {
            let style = if left_ms < 60_000 {
                theme.level(crate::console::core::app::Level::Warn)
            } else {
                text
            };
            plain(&super::duration(left_ms), LEFT, style)
        };
        spans.push(left);
        spans.push(plain(
            &format!("{}/{}", v.approvals, v.required),
            QUORUM - 1,
            text,
        ));
        Line::from(spans)
    }
}

/// Before the first snapshot, an empty queue means nothing: say why there is no list.
pub fn not_connected(app: &App) -> Option<String> {
    if app.last_seq.is_some() {
        return None;
    }
    let url = SafeText::line(&app.settings.broker_url).plain();
    Some(match &app.conn {
        Conn::Live => return None,
        Conn::Connecting { attempt: 0 } => format!("Connecting to {url}…"),
        Conn::Handshake => format!("Connected to {url}; waiting for its welcome…"),
        Conn::Connecting { attempt } => format!("Not connected to {url} (attempt {attempt})…"),
        Conn::Reconnecting {
            attempt,
            retry_at,
            reason,
        } => {
            let secs = (app.now.millis_until(*retry_at) + 999).max(0) / 1000;
            let reason = SafeText::line(reason).plain();
            let why = if reason.is_empty() {
                String::new()
            } else {
                format!(" — {reason}")
            };
            format!("Not connected to {url}{why} (attempt {attempt}, next in {secs} s)")
        }
        Conn::SignedOut { reason } => format!(
            "Signed out of {url} — {}; sign in again to see the queue",
            SafeText::line(reason).plain()
        ),
    })
}

/// `as last seen at 14:03:12 UTC` (or `as last seen` before any event).
fn last_seen(app: &App) -> String {
    match app.last_event_at {
        Some(t) => {
            let s = t.to_string();
            format!("as last seen at {} UTC", s.get(11..19).unwrap_or(&s))
        }
        None => "as last seen".into(),
    }
}

impl Widget for QueueView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let focused = app.focus == Pane::Queue;
        let mut detail = format!(
            "{} pending · sort {}",
            app.queue.order.len(),
            app.queue.sort.as_str()
        );
        let hidden = app
            .queue
            .entries
            .len()
            .saturating_sub(app.queue.order.len());
        if !matches!(app.conn, Conn::Live) && app.last_seq.is_some() {
            // The console never guesses: say the list may be stale, and since when.
            detail.push_str(&format!(" · offline, {}", last_seen(app)));
        }
        // An active filter or search is loud: new actions may be hiding behind it.
        let mut narrowing = Vec::new();
        if !app.queue.search.value.is_empty() {
            narrowing.push(format!(
                "/{}",
                SafeText::line(&app.queue.search.value).plain()
            ));
        }
        if !app.queue.filter.hidden_risks.is_empty() || !app.queue.filter.hidden_envs.is_empty() {
            narrowing.push("filter on".into());
        }
        if hidden > 0 {
            narrowing.push(format!("{hidden} hidden"));
        }
        let mut heading = title("Queue", &detail, focused, theme);
        if !narrowing.is_empty() {
            heading.push_span(ratatui::text::Span::styled(
                format!(
                    " {}{} ",
                    narrowing.join(" · "),
                    if app.queue.search.value.is_empty() {
                        ""
                    } else {
                        " (Esc clears)"
                    }
                ),
                theme
                    .level(Level::Warn)
                    .add_modifier(ratatui::style::Modifier::REVERSED),
            ));
        }
        let block = pane_block(heading, focused, theme);
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.height == 0 {
            return;
        }
        let cols = Cols::for_width(usize::from(inner.width));
        let mut header = format!(
            "  {:<BADGE$} {:<k$} {:<t$} {:<e$} ",
            "risk",
            "kind",
            "resource",
            "env",
            k = cols.kind,
            t = cols.target,
            e = cols.env,
        );
        if cols.requester > 0 {
            header.push_str(&format!("{:<r$} ", "requester", r = cols.requester));
        }
        header.push_str(&format!(
            "{:>AGE$} {:>LEFT$} {:>q$}",
            "age",
            "left",
            "ok",
            q = QUORUM - 1
        ));
        Line::styled(header, theme.muted()).render(Rect { height: 1, ..inner }, buf);
        let rows = usize::from(inner.height.saturating_sub(1));
        if app.queue.order.is_empty() {
            let (msg, style) = match not_connected(app) {
                Some(why) => (why, theme.level(Level::Warn)),
                None if app.queue.entries.is_empty() && !matches!(app.conn, Conn::Live) => (
                    format!(
                        "No pending actions {}; offline now, so new ones cannot arrive.",
                        last_seen(app).replacen("as ", "when ", 1)
                    ),
                    theme.level(Level::Warn),
                ),
                None if app.queue.entries.is_empty() => (
                    "No pending actions. New requests appear here as they arrive.".into(),
                    theme.muted(),
                ),
                None => (
                    "Nothing matches the filter or search (f, /; Esc clears).".into(),
                    theme.muted(),
                ),
            };
            let para = ratatui::widgets::Paragraph::new(msg)
                .style(style)
                .wrap(ratatui::widgets::Wrap { trim: true });
            para.render(
                Rect::new(
                    inner.x + 2,
                    inner.y + 1,
                    inner.width.saturating_sub(2),
                    inner.height - 1,
                ),
                buf,
            );
            return;
        }
        let offset = app
            .queue
            .offset
            .min(app.queue.order.len().saturating_sub(1));
        // The approver's person key, folded once per frame rather than once per row.
        let me = app.me_key();
        for (i, id) in app.queue.order.iter().enumerate().skip(offset).take(rows) {
            let Some(e) = app.queue.entries.get(id) else {
                continue;
            };
            let y = inner.y + 1 + (i - offset) as u16;
            let r = Rect::new(inner.x, y, inner.width, 1);
            self.row(e, &cols, me.as_ref(), app.queue.selected == Some(*id))
                .render(r, buf);
            if app.queue.selected == Some(*id) {
                let style = if focused {
                    theme.selection()
                } else {
                    theme
                        .selection()
                        .remove_modifier(ratatui::style::Modifier::BOLD)
                };
                // Keep the badge and markers readable: style only the row's background
                // (the theme's own, which is a colour in themes that set `bg`).
                let page = theme.base().bg;
                let badge = r.x + MARK as u16..r.x + (MARK + BADGE) as u16;
                for x in (r.x..r.x + r.width).filter(|x| !badge.contains(x)) {
                    if let Some(c) = buf.cell_mut((x, y)) {
                        let cur = c.style();
                        if cur.bg.is_none()
                            || cur.bg == Some(ratatui::style::Color::Reset)
                            || cur.bg == page
                        {
                            c.set_style(style);
                        }
                    }
                }
            }
        }
        if app.queue.order.len() > rows {
            let more = format!(
                " {}–{} of {} ",
                offset + 1,
                (offset + rows).min(app.queue.order.len()),
                app.queue.order.len()
            );
            let w = more.chars().count() as u16;
            if inner.width > w + 2 {
                Line::styled(more, theme.muted()).render(
                    Rect::new(area.x + area.width - w - 2, area.y + area.height - 1, w, 1),
                    buf,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::widgets::Widget as _;

    use super::QueueView;
    use crate::console::fixtures::{action, live_app};
    use crate::console::ui::theme::Theme;
    use crate::protocol::RiskLevel;

    /// Issue 17: "bob is looking" (a claim) shows on the row, after the quorum.
    #[test]
    fn a_claim_shows_on_the_row() {
        let mut a = action(1, "k8s.scale", "api", "staging", RiskLevel::Medium);
        a.looking = vec!["bob".into(), "carol".into()];
        let app = live_app(vec![a], (160, 24));
        let theme = Theme::dark();
        let area = Rect::new(0, 0, 160, 8);
        let mut buf = Buffer::empty(area);
        QueueView {
            app: &app,
            theme: &theme,
        }
        .render(area, &mut buf);
        let row: String = (0..160u16)
            .map(|x| buf[(x, 2)].symbol().to_string())
            .collect();
        assert!(row.contains("bob and carol are looking"), "{row}");
        assert!(
            !row.contains("Data assistant"),
            "in the requester's place: {row}"
        );
    }

    /// Issue 18: in high contrast a selected MED badge stayed yellow on the yellow bar.
    #[test]
    fn a_selected_badge_never_merges_into_the_selection_bar() {
        let a = action(1, "k8s.scale", "api", "staging", RiskLevel::Medium);
        let app = live_app(vec![a.clone()], (80, 24));
        assert_eq!(app.queue.selected, Some(a.id));
        let theme = Theme::load("high-contrast", None).unwrap_or_else(|e| panic!("{e}"));
        let area = Rect::new(0, 0, 80, 8);
        let mut buf = Buffer::empty(area);
        QueueView {
            app: &app,
            theme: &theme,
        }
        .render(area, &mut buf);
        let row = 2; // border, header, first row
        let cell = |x: u16| buf.cell((x, row)).cloned().unwrap_or_default();
        let badge_x = (0..80)
            .find(|x| cell(*x).symbol() == "M")
            .unwrap_or_else(|| panic!());
        assert_ne!(
            cell(badge_x).bg,
            cell(badge_x + 10).bg,
            "badge and bar differ"
        );
        assert_eq!(
            cell(badge_x + 10).bg,
            theme.selection().bg.unwrap_or_default()
        );
    }
}
