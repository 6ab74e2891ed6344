//! One history row, with search matches highlighted, built only for rows on screen.
//!
//! Every field is agent-supplied or derived from it, so each piece (matched or not)
//! goes through [`SafeText`] before it becomes a span; a match boundary may split an
//! escape sequence into two markers, which is still display-safe.

use std::ops::Range;

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar as _;

use super::safe_spans;
use crate::console::core::rows;
use crate::console::model::sanitize::SafeText;
use crate::console::ui::theme::Theme;
use crate::history::table::outcome_label;
use crate::history::{FieldMatch, SearchField};
use crate::protocol::{HistoryRecord, RiskLevel, Timestamp};

/// Column widths for an inner width; zero hides a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cols {
    pub when: usize,
    pub outcome: usize,
    pub risk: usize,
    pub kind: usize,
    pub target: usize,
    pub env: usize,
    pub requester: usize,
    pub decided_by: usize,
    pub waited: usize,
    pub reason: usize,
}

/// From this inner width the row also shows who decided and the reason.
const MEDIUM: usize = 100;
/// From this inner width it also shows the requester and how long the action waited.
const WIDE: usize = 150;

impl Cols {
    pub fn for_width(w: usize) -> Self {
        let (when, outcome, risk) = (11, 12, 4);
        let mut c = Self {
            when,
            outcome,
            risk,
            kind: 14,
            target: 0,
            env: 10,
            requester: 0,
            decided_by: 0,
            waited: 0,
            reason: 0,
        };
        if w >= WIDE {
            (c.kind, c.env, c.requester, c.decided_by, c.waited) = (16, 11, 16, 20, 6);
        } else if w >= MEDIUM {
            c.decided_by = 18;
        }
        let shown = [c.kind, c.env, c.requester, c.decided_by, c.waited]
            .iter()
            .filter(|w| **w > 0)
            .count();
        let fixed = when + outcome + risk + c.kind + c.env + c.requester + c.decided_by + c.waited;
        // One space after every column, one before the first.
        let spaces = 1 + 3 + shown + 1 + usize::from(w >= MEDIUM);
        let flex = w.saturating_sub(fixed + spaces);
        if w >= MEDIUM {
            c.target = flex / 2;
            c.reason = flex - c.target;
        } else {
            c.target = flex;
        }
        c
    }

    /// The header line, aligned with [`row`].
    pub fn header(&self) -> String {
        let cols = [
            ("decided", self.when),
            ("outcome", self.outcome),
            ("risk", self.risk),
            ("kind", self.kind),
            ("target", self.target),
            ("env", self.env),
            ("requester", self.requester),
            ("decided by", self.decided_by),
            ("waited", self.waited),
            ("reason", self.reason),
        ];
        let mut s = String::from(" ");
        for (name, w) in cols {
            if w > 0 {
                s.push_str(&format!(
                    "{:<w$} ",
                    crate::history::display::truncate(name, w)
                ));
            }
        }
        s
    }
}

/// `MM-DD HH:MM` in UTC.
pub fn short_time(t: Timestamp) -> String {
    let d = t.to_datetime();
    format!(
        "{:02}-{:02} {:02}:{:02}",
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute()
    )
}

/// The outcome's style: approved and executed fine, denied and failed runs loud.
pub fn outcome_style(r: &HistoryRecord, theme: &Theme) -> Style {
    theme.tone(rows::outcome_tone(r))
}

pub fn risk_word(level: RiskLevel) -> &'static str {
    match level {
        RiskLevel::Low => "low",
        RiskLevel::Medium => "med",
        RiskLevel::High => "high",
        RiskLevel::Critical => "crit",
    }
}

/// `text` as display-safe spans, the byte `ranges` in the matched style.
pub fn highlighted(
    text: &str,
    ranges: &[Range<usize>],
    style: Style,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for (piece, matched) in rows::match_pieces(text, ranges) {
        let st = if matched {
            style.patch(theme.matched())
        } else {
            style
        };
        out.extend(safe_spans(&SafeText::line(piece), st, theme));
    }
    out
}

/// Cuts spans to `w` columns (ending in `…` when cut) and pads them, plus one space.
pub fn fit(spans: Vec<Span<'static>>, w: usize) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(|s| s.width()).sum();
    let mut out = Vec::new();
    if total <= w {
        out.extend(spans);
        out.push(Span::raw(" ".repeat(w - total + 1)));
        return out;
    }
    let mut used = 0;
    for s in spans {
        let mut kept = String::new();
        for c in s.content.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw + 1 > w {
                break;
            }
            used += cw;
            kept.push(c);
        }
        let done = kept.chars().count() < s.content.chars().count();
        if !kept.is_empty() {
            out.push(Span::styled(kept, s.style));
        }
        if done {
            break;
        }
    }
    out.push(Span::raw(format!(
        "…{}",
        " ".repeat(w.saturating_sub(used + 1) + 1)
    )));
    out
}

/// A field's text with its matches (if any) highlighted, fitted to `w`.
fn field_cell(
    r: &HistoryRecord,
    field: SearchField,
    matches: &[FieldMatch],
    w: usize,
    style: Style,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let text = field.text(r);
    let ranges = matches
        .iter()
        .find(|m| m.field == field)
        .map_or(&[][..], |m| &m.ranges[..]);
    fit(highlighted(&text, ranges, style, theme), w)
}

/// The row for `r`, with `matches` (from `LocalHistory::highlights`) highlighted.
pub fn row(r: &HistoryRecord, matches: &[FieldMatch], cols: &Cols, theme: &Theme) -> Line<'static> {
    let text = theme.text();
    let a = &r.action;
    let mut spans = vec![Span::raw(" ")];
    spans.extend(fit(
        vec![Span::styled(short_time(r.decided_at), theme.muted())],
        cols.when,
    ));
    spans.extend(fit(
        vec![Span::styled(outcome_label(r), outcome_style(r, theme))],
        cols.outcome,
    ));
    spans.extend(fit(
        vec![Span::styled(
            risk_word(a.risk.level),
            theme.risk(a.risk.level),
        )],
        cols.risk,
    ));
    spans.extend(field_cell(
        r,
        SearchField::Kind,
        matches,
        cols.kind,
        text,
        theme,
    ));
    spans.extend(field_cell(
        r,
        SearchField::Target,
        matches,
        cols.target,
        text,
        theme,
    ));
    spans.extend(field_cell(
        r,
        SearchField::Environment,
        matches,
        cols.env,
        theme.risk(a.risk.level),
        theme,
    ));
    if cols.requester > 0 {
        spans.extend(field_cell(
            r,
            SearchField::Requester,
            matches,
            cols.requester,
            theme.muted(),
            theme,
        ));
    }
    if cols.decided_by > 0 {
        spans.extend(field_cell(
            r,
            SearchField::Approver,
            matches,
            cols.decided_by,
            text,
            theme,
        ));
    }
    if cols.waited > 0 {
        let waited = super::short_duration(a.created_at.millis_until(r.decided_at));
        spans.extend(fit(vec![Span::styled(waited, theme.muted())], cols.waited));
    }
    if cols.reason > 0 {
        spans.extend(field_cell(
            r,
            SearchField::Reason,
            matches,
            cols.reason,
            text,
            theme,
        ));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(spans: &[Span<'static>]) -> String {
        spans.iter().map(|s| s.content.to_string()).collect()
    }

    #[test]
    fn highlights_only_the_matched_bytes_and_keeps_markers_visible() {
        let theme = Theme::dark();
        let spans = highlighted("drop\u{202e} table", &[0..4, 8..13], theme.text(), &theme);
        assert_eq!(text(&spans), "drop⟨U+202E⟩ table");
        let matched: Vec<String> = spans
            .iter()
            .filter(|s| s.style == theme.text().patch(theme.matched()))
            .map(|s| s.content.to_string())
            .collect();
        assert_eq!(matched, ["drop", "table"]);
        assert!(spans.iter().any(|s| s.style == theme.hidden()));
    }

    #[test]
    fn fit_cuts_by_columns_and_pads() {
        let theme = Theme::dark();
        let cut = fit(
            highlighted("abcdefgh", &[2..5, 7..8], theme.text(), &theme),
            5,
        );
        assert_eq!(text(&cut), "abcd… ");
        let pad = fit(vec![Span::raw("ab")], 5);
        assert_eq!(text(&pad), "ab    ");
        let wide = Cols::for_width(158);
        assert!(wide.reason > 20 && wide.requester > 0 && wide.target >= 20);
        let medium = Cols::for_width(118);
        assert!(medium.decided_by > 0 && medium.requester == 0 && medium.target >= 20);
        let narrow = Cols::for_width(78);
        assert_eq!((narrow.reason, narrow.decided_by), (0, 0));
        // Every width adds up: the row never runs past the pane.
        for w in [60, 78, 99, 100, 118, 149, 150, 158, 238] {
            let c = Cols::for_width(w);
            let cells = [
                c.when,
                c.outcome,
                c.risk,
                c.kind,
                c.target,
                c.env,
                c.requester,
                c.decided_by,
                c.waited,
                c.reason,
            ];
            let used: usize = 1 + cells
                .iter()
                .filter(|x| **x > 0)
                .map(|x| x + 1)
                .sum::<usize>();
            assert!(used <= w, "{w}: {used}");
        }
    }
}
