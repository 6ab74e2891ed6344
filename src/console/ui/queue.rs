//! The queue pane: one row per pending action, only the visible rows built.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{SPINNER, pane_block, safe_spans, short_duration, title};
use crate::console::core::app::{App, Pane};
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
    fn row(&self, e: &Entry, cols: &Cols) -> Line<'static> {
        let (app, theme) = (self.app, self.theme);
        let v = &e.row;
        let text = theme.text();
        let queued = app.inflight_for(v.id).is_some_and(|f| !f.sent);
        let mark = if queued {
            Span::styled("‖ ", theme.level(crate::console::core::app::Level::Warn))
        } else if app.inflight_for(v.id).is_some() {
            Span::styled(
                format!("{} ", SPINNER[app.spinner % SPINNER.len()]),
                theme.key_hint(),
            )
        } else if app.me_key().is_some_and(|me| v.names(&me).is_some()) {
            // Requested by or for the approver (however spelled): theirs to not approve.
            Span::styled("⚠ ", theme.level(crate::console::core::app::Level::Warn))
        } else if app.now.millis_until(e.seen_at.plus_secs(30)) > 0 {
            Span::styled("• ", theme.key_hint())
        } else {
            Span::raw("  ")
        };
        let mut spans = vec![mark, Span::styled(badge(v.risk), theme.risk_badge(v.risk))];
        spans.push(Span::raw(" "));
        spans.extend(cell(&v.kind, cols.kind, text, theme));
        spans.extend(cell(&v.resource, cols.target, text, theme));
        spans.extend(cell(&v.environment, cols.env, theme.risk(v.risk), theme));
        if cols.requester > 0 {
            spans.extend(cell(
                &v.requester_name,
                cols.requester,
                theme.muted(),
                theme,
            ));
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

impl Widget for QueueView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let focused = app.focus == Pane::Queue;
        let mut detail = format!("{} pending · sort {}", app.order.len(), app.sort.as_str());
        let hidden = app.entries.len().saturating_sub(app.order.len());
        if !matches!(app.conn, crate::console::core::app::Conn::Live) && app.last_seq.is_some() {
            // The console never guesses: say the list may be stale.
            detail.push_str(" · offline, as last seen");
        }
        if hidden > 0 {
            detail.push_str(&format!(" · {hidden} filtered out"));
        }
        if !app.search.value.is_empty() {
            detail.push_str(&format!(
                " · /{}",
                SafeText::line(&app.search.value).plain()
            ));
        }
        let block = pane_block(title("Queue", &detail, focused, theme), focused, theme);
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
        if app.order.is_empty() {
            let msg = if app.entries.is_empty() {
                "No pending actions. New requests appear here as they arrive."
            } else {
                "Nothing matches the filter or search (f, /)."
            };
            Line::styled(format!("  {msg}"), theme.muted())
                .render(Rect::new(inner.x, inner.y + 1, inner.width, 1), buf);
            return;
        }
        let offset = app.queue_offset.min(app.order.len().saturating_sub(1));
        for (i, id) in app.order.iter().enumerate().skip(offset).take(rows) {
            let Some(e) = app.entries.get(id) else {
                continue;
            };
            let y = inner.y + 1 + (i - offset) as u16;
            let r = Rect::new(inner.x, y, inner.width, 1);
            self.row(e, &cols).render(r, buf);
            if app.selected == Some(*id) {
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
                for x in r.x..r.x + r.width {
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
        if app.order.len() > rows {
            let more = format!(
                " {}–{} of {} ",
                offset + 1,
                (offset + rows).min(app.order.len()),
                app.order.len()
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
