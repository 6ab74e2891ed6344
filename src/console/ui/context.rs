//! The context pane: who asks, for whom, on what, why, under which policy, votes so far,
//! and the digest prefix the approver will sign.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{duration, pane_block, safe_spans, title, wrap_spans};
use crate::console::core::app::{App, Level, Pane};
use crate::console::model::sanitize::SafeText;
use crate::console::model::view_model::Entry;
use crate::console::ui::theme::Theme;
use crate::protocol::Verdict;

pub struct ContextView<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
    pub entry: Option<&'a Entry>,
}

const LABEL: usize = 13;

impl ContextView<'_> {
    /// Every row at `width` columns. Hanging indent: a long value wraps under itself,
    /// not under its label.
    fn rows(&self, e: &Entry, width: usize) -> Vec<Line<'static>> {
        let value_cols = width.saturating_sub(LABEL).max(1);
        let mut out = Vec::new();
        for line in self.lines(e) {
            let Some((label, value)) = line.spans.split_first() else {
                continue;
            };
            for (i, row) in wrap_spans(value, value_cols).into_iter().enumerate() {
                let mut spans = vec![if i == 0 {
                    label.clone()
                } else {
                    Span::raw(" ".repeat(LABEL))
                }];
                spans.extend(row);
                out.push(Line::from(spans));
            }
        }
        out
    }

    fn field(&self, label: &str, value: Vec<Span<'static>>) -> Line<'static> {
        let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), self.theme.muted())];
        spans.extend(value);
        Line::from(spans)
    }

    fn safe(&self, t: &SafeText, style: Style) -> Vec<Span<'static>> {
        safe_spans(t, style, self.theme)
    }

    fn lines(&self, e: &Entry) -> Vec<Line<'static>> {
        let (app, theme) = (self.app, self.theme);
        let v = e.view();
        let text = theme.text();
        let mut out = Vec::new();
        if v.hidden_chars {
            out.push(self.field(
                "⚠ Hidden",
                vec![Span::styled(
                    "this action contains hidden characters, shown as ⟨…⟩ markers",
                    theme.level(Level::Warn),
                )],
            ));
        }
        out.push(self.field(
            "Summary",
            self.safe(
                &v.summary,
                text.add_modifier(ratatui::style::Modifier::BOLD),
            ),
        ));
        out.push(self.field("Kind", self.safe(&v.kind, text)));
        let mut req = self.safe(&v.requester_name, text);
        req.push(Span::styled(" (", theme.muted()));
        req.extend(self.safe(&v.requester_id, theme.muted()));
        req.push(Span::styled(
            format!(", {})", v.requester_kind),
            theme.muted(),
        ));
        if let Some(m) = &v.model {
            req.push(Span::styled(" · model ", theme.muted()));
            req.extend(self.safe(m, text));
        }
        out.push(self.field("Requester", req));
        if let Some(o) = &v.on_behalf_of {
            out.push(self.field("On behalf of", self.safe(o, text)));
        }
        let mut target = self.safe(&v.system, text);
        target.push(Span::styled(" / ", theme.muted()));
        target.extend(self.safe(
            &v.resource,
            text.add_modifier(ratatui::style::Modifier::BOLD),
        ));
        out.push(self.field("Target", target));
        out.push(self.field("Environment", self.safe(&v.environment, theme.risk(v.risk))));
        let groups: Vec<String> = v.groups.iter().map(SafeText::plain).collect();
        let mut policy = vec![Span::styled(
            format!(
                "{} approval{} needed",
                v.required,
                if v.required == 1 { "" } else { "s" }
            ),
            text,
        )];
        if !groups.is_empty() {
            policy.push(Span::styled(format!(" from {}", groups.join(", ")), text));
        }
        if let Some(rule) = &v.rule {
            policy.push(Span::styled(" · rule ", theme.muted()));
            policy.extend(self.safe(rule, theme.muted()));
        }
        out.push(self.field("Policy", policy));
        let progress = format!("{}/{}", v.approvals, v.required);
        if v.votes.is_empty() {
            out.push(self.field(
                "Votes",
                vec![Span::styled(
                    format!("{progress} · none yet"),
                    theme.muted(),
                )],
            ));
        }
        for (i, vote) in v.votes.iter().enumerate() {
            let (word, style) = match vote.verdict {
                Verdict::Approve => ("approved", theme.level(Level::Success)),
                Verdict::Deny => ("denied", theme.level(Level::Error)),
            };
            let mut s = if i == 0 {
                vec![Span::styled(format!("{progress} · "), text)]
            } else {
                vec![Span::raw("      ")]
            };
            s.extend(self.safe(&vote.approver, text));
            s.push(Span::styled(format!(" {word} "), style));
            s.push(Span::styled(
                format!("{} ago", duration(vote.at.millis_until(app.now))),
                theme.muted(),
            ));
            if !vote.reason.is_empty() {
                s.push(Span::styled(" — ", theme.muted()));
                s.extend(self.safe(&vote.reason, text));
            }
            out.push(self.field(if i == 0 { "Votes" } else { "" }, s));
        }
        let left = app.now.millis_until(v.expires_at);
        let expiry = if left <= 0 {
            Span::styled("expired".to_string(), theme.level(Level::Error))
        } else {
            Span::styled(format!("in {} ({})", duration(left), v.expires_at), text)
        };
        out.push(self.field("Expires", vec![expiry]));
        out.push(self.field(
            "Digest",
            vec![
                Span::styled(v.digest.prefix(16).to_string(), theme.key_hint()),
                Span::styled("… (sha256, what you sign)", theme.muted()),
            ],
        ));
        if let Some(cmd) = &v.command {
            for (i, l) in cmd.iter().enumerate() {
                let label = if i == 0 { "Command" } else { "" };
                let mut s = vec![Span::styled(
                    if i == 0 { "$ " } else { "  " },
                    theme.muted(),
                )];
                s.extend(self.safe(l, text));
                out.push(self.field(label, s));
            }
        }
        let has_why = v.justification.iter().any(|l| !l.is_empty());
        if !has_why {
            out.push(self.field(
                "Why",
                vec![Span::styled("(no justification given)", theme.muted())],
            ));
        }
        for (i, l) in v.justification.iter().enumerate().filter(|_| has_why) {
            out.push(self.field(if i == 0 { "Why" } else { "" }, self.safe(l, text)));
        }
        for (ci, (k, vals)) in v.context.iter().enumerate() {
            for (i, l) in vals.iter().enumerate() {
                let mut s = Vec::new();
                if i == 0 {
                    s.extend(self.safe(k, theme.muted()));
                    s.push(Span::styled(": ", theme.muted()));
                } else {
                    s.push(Span::raw("  "));
                }
                s.extend(self.safe(l, theme.title(false)));
                out.push(self.field(if i == 0 && ci == 0 { "Context" } else { "" }, s));
            }
        }
        if let Some(draft) = app.drafts.get(&v.id) {
            out.push(self.field(
                "Your reason",
                vec![Span::styled(SafeText::line(draft).plain(), text)],
            ));
        }
        out
    }
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
        let scroll = usize::from(self.app.pane_scroll(Pane::Context));
        let inner = block.inner(area);
        block.render(area, buf);
        let rows = self.rows(e, usize::from(inner.width));
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
            row.render(Rect::new(inner.x, inner.y + i as u16, inner.width, 1), buf);
        }
    }
}

/// The number of rows the context pane needs at `width` columns (for scroll limits).
pub fn context_row_count(app: &App, e: &Entry, width: usize) -> usize {
    let theme = Theme::monochrome();
    ContextView {
        app,
        theme: &theme,
        entry: Some(e),
    }
    .rows(e, width)
    .len()
}
