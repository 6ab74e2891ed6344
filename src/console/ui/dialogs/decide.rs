//! The approve / deny dialog's view: what is about to be signed, the quorum after this
//! vote, the self-approval warning, the reason and the typed confirmation.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::{DialogView, LABEL, Popup, input_line};
use crate::console::core::app::Level;
use crate::console::core::quorum::{AfterVote, after_vote};
use crate::console::dialogs::decide::{DecideDialog, Field};
use crate::console::model::sanitize::SafeText;
use crate::console::ui::safe_spans;
use crate::protocol::{RiskLevel, Verdict};

/// The dialog's width, borders included.
const POPUP_WIDTH: u16 = 76;

pub(super) fn render(view: &DialogView, d: &DecideDialog, area: Rect, buf: &mut Buffer) {
    let (app, theme) = (view.app, view.theme);
    let Some(e) = app.queue.entries.get(&d.action_id) else {
        return;
    };
    let v = e.view();
    let field = |label: &str, spans: Vec<Span<'static>>| {
        let mut s = vec![Span::styled(format!("{label:<LABEL$}"), theme.muted())];
        s.extend(spans);
        Line::from(s)
    };
    let text = theme.text();
    let verb = match d.verdict {
        Verdict::Approve => "Approve",
        Verdict::Deny => "Deny",
    };
    let mut lines = vec![
        field("Kind", safe_spans(&v.kind, text, theme)),
        field(
            "Target",
            safe_spans(
                &SafeText::join(&[&v.system, &SafeText::trusted(" / "), &v.resource]),
                text.add_modifier(Modifier::BOLD),
                theme,
            ),
        ),
        field(
            "Environment",
            safe_spans(&v.environment, theme.risk(v.risk), theme),
        ),
    ];
    // The tags wrap under the value column, never back to the label column.
    let risk = vec![
        Span::styled(
            format!(" {} ", v.risk.as_str().to_uppercase()),
            theme.risk_badge(v.risk),
        ),
        Span::styled(
            if v.tags.is_empty() {
                format!(" score {} · no tags", v.score)
            } else {
                format!(
                    " score {} · {}",
                    v.score,
                    v.tags
                        .iter()
                        .map(|t| t.label.plain())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            text,
        ),
    ];
    let cols = usize::from(POPUP_WIDTH.saturating_sub(2)).saturating_sub(LABEL);
    for (i, row) in super::super::wrap_spans(&risk, cols, theme.hidden())
        .into_iter()
        .enumerate()
    {
        lines.push(field(if i == 0 { "Risk" } else { "" }, row));
    }
    let quorum = match after_vote(v.approvals, v.required, d.verdict) {
        AfterVote::Completes => format!(
            "{}/{} · your approval completes the quorum",
            v.approvals, v.required
        ),
        AfterVote::Needs { after } => format!(
            "{}/{} · your approval makes {after}/{}; more approvers needed",
            v.approvals, v.required, v.required
        ),
        AfterVote::DenyIsFinal => {
            format!("{}/{} · one deny is final", v.approvals, v.required)
        }
    };
    lines.push(field("Quorum", vec![Span::styled(quorum, text)]));
    if d.verdict == Verdict::Approve
        && let Some(lookalike) = app.names_me(&v.id)
    {
        lines.push(Line::styled(
            if lookalike {
                "⚠ Requested for someone who looks like you: the broker will refuse it."
            } else {
                "⚠ Requested by you or for you: the broker will refuse self-approval."
            },
            theme.level(Level::Warn),
        ));
    }
    lines.push(field(
        "Signs digest",
        vec![Span::styled(
            format!("{}…", v.digest.prefix(16)),
            theme.key_hint(),
        )],
    ));
    lines.push(Line::raw(""));
    let mut reason = input_line("Reason", &d.reason, d.field == Field::Reason, theme);
    let hint = match d.verdict {
        Verdict::Deny => " required",
        Verdict::Approve => " optional",
    };
    reason.spans.push(Span::styled(hint, theme.muted()));
    lines.push(reason);
    if let Some(typed) = &d.typed {
        lines.push(Line::raw(""));
        let mut s = vec![Span::styled("CRITICAL — type ", theme.level(Level::Error))];
        let (phrase, what) = match &v.confirm {
            Some(c) => (c, " (the phrase policy asks for) to confirm:"),
            None => (&v.resource, " (the resource) to confirm:"),
        };
        s.extend(safe_spans(phrase, theme.key_hint(), theme));
        s.push(Span::styled(what, theme.level(Level::Error)));
        lines.push(Line::from(s));
        lines.push(input_line(
            "Confirm",
            typed,
            d.field == Field::TypedConfirm,
            theme,
        ));
    }
    if !matches!(app.conn, crate::console::core::app::Conn::Live) {
        lines.push(Line::styled(
            "Offline: sent after reconnect, only if the action is unchanged.",
            theme.level(Level::Warn),
        ));
    }
    if let Some(err) = &d.error {
        lines.push(Line::styled(format!("✕ {err}"), theme.level(Level::Error)));
    }
    lines.push(Line::raw(""));
    let mut hints = vec![
        Span::styled("Enter", theme.key_hint()),
        Span::styled(" sign & send  ", theme.muted()),
    ];
    if d.typed.is_some() {
        hints.push(Span::styled("Tab", theme.key_hint()));
        hints.push(Span::styled(" next field  ", theme.muted()));
    }
    hints.push(Span::styled("Esc", theme.key_hint()));
    hints.push(Span::styled(" cancel", theme.muted()));
    lines.push(Line::from(hints));
    let danger = v.risk >= RiskLevel::High || d.verdict == Verdict::Deny;
    let mut title_text = SafeText::join(&[&SafeText::trusted(format!("{verb}: ")), &v.summary]);
    title_text = title_text.truncate(60);
    view.frame(
        area,
        buf,
        Popup {
            width: POPUP_WIDTH,
            title: title_text.plain(),
            lines,
            danger,
        },
    );
}
