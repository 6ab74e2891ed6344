//! The history detail pane: the whole decision record of the selected row, every vote
//! with its signature status, the digest, the audit hash and the execution result.
//! Search matches are highlighted here too; only the rows that fit are built.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::history_rows::{highlighted, outcome_style};
use super::{duration, pane_block, safe_spans, title, wrap_spans_rows};
use crate::console::core::app::{App, Level};
use crate::console::model::sanitize::SafeText;
use crate::console::ui::theme::Theme;
use crate::history::table::outcome_label;
use crate::history::{FieldMatch, SearchField};
use crate::protocol::{HistoryRecord, Verdict};

/// Width of the label column.
const LABEL: usize = 12;

pub struct HistoryDetail<'a> {
    pub app: &'a App,
    pub theme: &'a Theme,
}

/// One labelled entry: the label and its value's spans (wrapped by the view).
type Entry = (&'static str, Vec<Span<'static>>);

fn plain(s: impl AsRef<str>, style: Style, theme: &Theme) -> Vec<Span<'static>> {
    safe_spans(&SafeText::line(s.as_ref()), style, theme)
}

/// The record's entries, in display order.
fn entries(r: &HistoryRecord, matches: &[FieldMatch], theme: &Theme) -> Vec<Entry> {
    let text = theme.text();
    let muted = theme.muted();
    let field = |f: SearchField, style: Style| {
        let t = f.text(r);
        let ranges = matches
            .iter()
            .find(|m| m.field == f)
            .map_or(&[][..], |m| &m.ranges[..]);
        highlighted(&t, ranges, style, theme)
    };
    let a = &r.action;
    let waited = duration(a.created_at.millis_until(r.decided_at));
    let mut outcome = vec![Span::styled(outcome_label(r), outcome_style(r, theme))];
    outcome.extend(plain(
        format!(" · decided {} · waited {waited}", r.decided_at),
        muted,
        theme,
    ));
    let mut risk = vec![Span::styled(
        format!("{} ({})", a.risk.level, a.risk.score),
        theme.risk(a.risk.level),
    )];
    for t in &a.risk.tags {
        risk.push(Span::styled(" · ", muted));
        risk.extend(plain(&t.label, muted, theme));
    }
    let mut out: Vec<Entry> = vec![
        ("Outcome", outcome),
        ("Summary", field(SearchField::Summary, text)),
        ("Kind", field(SearchField::Kind, text)),
        ("Target", field(SearchField::Target, text)),
        (
            "Environment",
            field(SearchField::Environment, theme.risk(a.risk.level)),
        ),
        ("Risk", risk),
        ("Requester", field(SearchField::Requester, text)),
        ("Decided by", field(SearchField::Approver, text)),
        ("Reason", field(SearchField::Reason, text)),
    ];
    if a.command.is_some() {
        let mut cmd = vec![Span::styled("$ ", muted)];
        cmd.extend(field(SearchField::Command, text));
        out.push(("Command", cmd));
    }
    if a.votes.is_empty() {
        out.push(("Votes", vec![Span::styled("none", muted)]));
    }
    for (i, v) in a.votes.iter().enumerate() {
        let (mark, verdict_style) = match v.verdict {
            Verdict::Approve => ("✓ approve ", theme.level(Level::Success)),
            Verdict::Deny => ("✗ deny ", theme.level(Level::Error)),
        };
        let (sig, sig_style) = match r.signatures_verified.get(i) {
            Some(true) => ("signature verified", theme.level(Level::Success)),
            Some(false) => ("signature FAILED", theme.level(Level::Error)),
            None => ("signature not checked", theme.level(Level::Warn)),
        };
        let mut s = vec![Span::styled(mark, verdict_style)];
        s.extend(plain(&v.approver, text, theme));
        s.extend(plain(
            format!(" at {} · key {} · ", v.at, v.key_id),
            muted,
            theme,
        ));
        s.push(Span::styled(sig, sig_style));
        if !v.reason.is_empty() {
            s.push(Span::styled(" · ", muted));
            s.extend(plain(&v.reason, text, theme));
        }
        out.push((if i == 0 { "Votes" } else { "" }, s));
    }
    let exec = match &a.execution {
        Some(e) => {
            let style = if e.exit_code == 0 {
                theme.level(Level::Success)
            } else {
                theme.level(Level::Error)
            };
            let mut s = vec![Span::styled(format!("exit code {}", e.exit_code), style)];
            s.extend(plain(
                format!(" · reported {}", e.reported_at),
                muted,
                theme,
            ));
            if let Some(d) = &e.detail {
                s.push(Span::styled(" · ", muted));
                s.extend(plain(d, text, theme));
            }
            s
        }
        None => vec![Span::styled("not reported", muted)],
    };
    out.push(("Execution", exec));
    out.push(("Digest", plain(r.digest.as_str(), muted, theme)));
    out.push(("Audit hash", plain(r.audit_hash.as_str(), muted, theme)));
    out.push(("Action id", plain(a.id.to_string(), muted, theme)));
    if !a.justification.is_empty() {
        out.push(("Why", plain(&a.justification, text, theme)));
    }
    out
}

/// The pane's rows for a width, stopping once `max_rows` are built.
fn rows(entries: Vec<Entry>, width: usize, max_rows: usize, theme: &Theme) -> Vec<Line<'static>> {
    let value_w = width.saturating_sub(LABEL).max(8);
    let mut out = Vec::new();
    for (label, spans) in entries {
        let wrapped = wrap_spans_rows(&spans, value_w, max_rows.saturating_sub(out.len()));
        for (i, row) in wrapped.into_iter().enumerate() {
            let l = if i == 0 { label } else { "" };
            let mut line = vec![Span::styled(format!("{l:<LABEL$}"), theme.muted())];
            line.extend(row);
            out.push(Line::from(line));
            if out.len() >= max_rows {
                return out;
            }
        }
    }
    out
}

/// How far the record pane scrolls for `r` in a pane of `area` (its last page at the top
/// at most), so scrolling never runs into emptiness.
pub fn max_scroll(r: &HistoryRecord, area: Rect) -> u16 {
    let theme = Theme::monochrome();
    let inner_w = usize::from(area.width.saturating_sub(2));
    let inner_h = usize::from(area.height.saturating_sub(2));
    let n = rows(entries(r, &[], &theme), inner_w, usize::MAX, &theme).len();
    u16::try_from(n.saturating_sub(inner_h)).unwrap_or(u16::MAX)
}

impl Widget for HistoryDetail<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (app, theme) = (self.app, self.theme);
        let h = &app.history;
        let focused = h.detail_focus;
        let block = pane_block(title("Record", "", focused, theme), focused, theme);
        let inner = block.inner(area);
        block.render(area, buf);
        let Some(slot) = h.selected_slot() else {
            Line::styled(" Select a record to see it in full.", theme.muted())
                .render(Rect { height: 1, ..inner }, buf);
            return;
        };
        let r = h.local().record(slot);
        let matches = if h.search.value.trim().is_empty() {
            Vec::new()
        } else {
            h.local().highlights(slot)
        };
        let scroll = usize::from(h.detail_scroll);
        let need = scroll + usize::from(inner.height);
        let lines = rows(
            entries(r, &matches, theme),
            usize::from(inner.width),
            need,
            theme,
        );
        for (i, line) in lines.into_iter().skip(scroll).enumerate() {
            let y = inner.y + i as u16;
            line.render(Rect::new(inner.x, y, inner.width, 1), buf);
        }
    }
}
