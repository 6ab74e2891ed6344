//! The rows of the detail panes (context, risk, history record) as text with a [`Tone`]
//! (a colour by meaning), wrapped to a width.
//!
//! Why here and not in the views: `update` needs the exact number of rows a pane shows
//! to stop scrolling at its last page, and the views need the rows to paint them. One
//! builder in the core serves both, so they never disagree and the core never imports a
//! view. The views map each tone to a style with `Theme::tone`.

use std::ops::Range;

use ratatui::layout::Rect;
use unicode_width::UnicodeWidthChar as _;

use super::app::App;
use super::notice::Level;
use crate::console::model::sanitize::SafeText;
use crate::console::model::view_model::Entry;
use crate::history::table::outcome_label;
use crate::history::{FieldMatch, SearchField};
use crate::protocol::{HistoryRecord, RiskLevel, Status, Verdict};

/// What a piece of text means, which the theme turns into a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// No style of its own (padding).
    Plain,
    Text,
    /// Text, bold.
    Strong,
    Muted,
    /// A made-visible character (`⟨U+202E⟩`).
    Hidden,
    KeyHint,
    /// An unfocused pane title's colour (context values).
    Title,
    Risk(RiskLevel),
    RiskBadge(RiskLevel),
    Level(Level),
}

/// A run of text in one tone; `matched` marks characters a search matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    pub text: String,
    pub tone: Tone,
    pub matched: bool,
}

impl Seg {
    pub fn new(text: impl Into<String>, tone: Tone) -> Self {
        Self {
            text: text.into(),
            tone,
            matched: false,
        }
    }
}

/// One screen row of a pane.
pub type Row = Vec<Seg>;

/// Display-safe text as segments: markers in the [`Tone::Hidden`] tone.
pub fn safe(t: &SafeText, tone: Tone) -> Vec<Seg> {
    t.pieces()
        .iter()
        .map(|p| Seg::new(p.text.clone(), if p.marker { Tone::Hidden } else { tone }))
        .collect()
}

/// Pieces of text word-wrapped into rows of at most `cols` columns, each piece keeping
/// its tag; stops after `max_rows` rows. Always at least one row. The one wrapping rule
/// of the console: the views wrap their own spans with it too.
///
/// A row breaks after the last space that fits (the space itself is dropped: the break
/// shows it); a word longer than a row is broken where the row ends, and that row ends in
/// [`HARD_BREAK`] (tagged `mark`). Nothing else is dropped, so the text reads back
/// exactly ([`unwrap_rows`]): a row ending in the marker continues without a space, any
/// other row with exactly one.
pub fn wrap<T: Clone>(
    pieces: &[(&str, T)],
    cols: usize,
    max_rows: usize,
    mark: &T,
) -> Vec<Vec<(String, T)>> {
    let cols = cols.max(1);
    let max_rows = max_rows.max(1);
    let mark_w = unicode_width::UnicodeWidthStr::width(HARD_BREAK);
    // Each row as (char, piece index); grouped back into runs at the end.
    let mut rows: Vec<Vec<(char, usize)>> = vec![Vec::new()];
    // Rows that end inside a word.
    let mut marked: Vec<bool> = vec![false];
    let mut used = 0;
    // Where the current row may break: the index of its last space, if any.
    let mut space: Option<usize> = None;
    'all: for (p, (text, _)) in pieces.iter().enumerate() {
        for c in text.chars() {
            let w = c.width().unwrap_or(0);
            let mut breaking = false;
            // A carried word may still leave no room for `c` (a wide character): then
            // the carried part is a row of its own, hence the loop.
            while used + w > cols && used > 0 {
                if rows.len() >= max_rows {
                    break 'all;
                }
                let row = rows.last_mut().map(std::mem::take).unwrap_or_default();
                let (kept, carried) = match space {
                    // A space ends the row: it is the break.
                    _ if c == ' ' => (row, Vec::new()),
                    // Break after the last space; its word moves down.
                    Some(i) if i > 0 => {
                        let mut row = row;
                        let carried = row.split_off(i + 1);
                        row.pop();
                        (row, carried)
                    }
                    // Inside a word: make room for the marker, the rest moves down.
                    _ if cols > mark_w => {
                        let mut row = row;
                        let mut carried = Vec::new();
                        let mut w_row: usize =
                            row.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
                        while w_row + mark_w > cols {
                            let Some(ch) = row.pop() else { break };
                            w_row -= ch.0.width().unwrap_or(0);
                            carried.push(ch);
                        }
                        carried.reverse();
                        if row.is_empty() {
                            // No room for the marker beside a character: break unmarked.
                            (carried, Vec::new())
                        } else {
                            if let Some(m) = marked.last_mut() {
                                *m = true;
                            }
                            (row, carried)
                        }
                    }
                    _ => (row, Vec::new()),
                };
                if let Some(last) = rows.last_mut() {
                    *last = kept;
                }
                used = carried.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
                rows.push(carried);
                marked.push(false);
                space = None;
                breaking = true;
                if c == ' ' {
                    break;
                }
            }
            if breaking && c == ' ' {
                continue;
            }
            if let Some(row) = rows.last_mut() {
                if c == ' ' {
                    space = Some(row.len());
                }
                row.push((c, p));
            }
            used += w;
        }
    }
    rows.into_iter()
        .zip(marked)
        .map(|(row, marked)| {
            let mut out: Vec<(String, T)> = Vec::new();
            let mut last = usize::MAX;
            for (c, p) in row {
                match out.last_mut() {
                    Some((s, _)) if p == last => s.push(c),
                    _ => out.push((c.to_string(), pieces[p].1.clone())),
                }
                last = p;
            }
            if marked {
                out.push((HARD_BREAK.to_string(), mark.clone()));
            }
            out
        })
        .collect()
}

/// Ends a row that breaks inside a word. Starts with `⟨`, which the visible form never
/// shows literally, so it cannot be faked by the text.
pub const HARD_BREAK: &str = "⟨↩⟩";

/// The text rows of [`wrap`] spell, joined back: a row ending in [`HARD_BREAK`] runs on,
/// any other is followed by the one space the break replaced.
pub fn unwrap_rows(rows: &[String]) -> String {
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        match r.strip_suffix(HARD_BREAK) {
            Some(head) => out.push_str(head),
            None => {
                out.push_str(r);
                if i + 1 < rows.len() {
                    out.push(' ');
                }
            }
        }
    }
    out
}

/// [`wrap`] for segments.
pub fn wrap_segs(segs: &[Seg], cols: usize, max_rows: usize) -> Vec<Row> {
    let pieces: Vec<(&str, (Tone, bool))> = segs
        .iter()
        .map(|s| (s.text.as_str(), (s.tone, s.matched)))
        .collect();
    wrap(&pieces, cols, max_rows, &(Tone::Hidden, false))
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(text, (tone, matched))| Seg {
                    text,
                    tone,
                    matched,
                })
                .collect()
        })
        .collect()
}

/// `4s`, `12m05s`, `3h07m`, `2d04h`.
pub fn duration(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// How a pane lays out its labelled values.
struct Labels {
    /// Width of the label column.
    width: usize,
    /// The value column is at least this wide.
    min_value: usize,
    /// The tone of the blank label beside a value's continuation rows.
    continuation: Tone,
}

/// Labelled values, each wrapped under itself (hanging indent) at `width` columns.
/// Stops after `max_rows` rows.
fn labelled(
    entries: Vec<(String, Vec<Seg>)>,
    width: usize,
    labels: &Labels,
    max_rows: usize,
) -> Vec<Row> {
    let label_w = labels.width;
    let value_cols = width.saturating_sub(label_w).max(labels.min_value);
    let mut out = Vec::new();
    for (label, value) in entries {
        let wrapped = wrap_segs(&value, value_cols, max_rows.saturating_sub(out.len()));
        for (i, row) in wrapped.into_iter().enumerate() {
            let mut line = vec![if i == 0 {
                Seg::new(format!("{label:<label_w$}"), Tone::Muted)
            } else {
                Seg::new(" ".repeat(label_w), labels.continuation)
            }];
            line.extend(row);
            out.push(line);
            if out.len() >= max_rows {
                return out;
            }
        }
    }
    out
}

/// The context pane's labels: 13 columns, blank beside continuation rows.
const CONTEXT_LABELS: Labels = Labels {
    width: 13,
    min_value: 1,
    continuation: Tone::Plain,
};

/// Every row of the context pane for `e` at `width` columns: who asks, for whom, on
/// what, why, under which policy, votes so far, and the digest prefix that is signed.
pub fn context(app: &App, e: &Entry, width: usize) -> Vec<Row> {
    let mut out: Vec<(String, Vec<Seg>)> = Vec::new();
    let mut field = |label: &str, value: Vec<Seg>| out.push((label.to_string(), value));
    let v = e.view();
    let text = Tone::Text;
    let muted = |s: String| Seg::new(s, Tone::Muted);
    if v.hidden_chars {
        field(
            "⚠ Hidden",
            vec![Seg::new(
                "this action contains hidden characters, shown as ⟨…⟩ markers",
                Tone::Level(Level::Warn),
            )],
        );
    }
    field("Summary", safe(&v.summary, Tone::Strong));
    field("Kind", safe(&v.kind, text));
    let mut req = safe(&v.requester_name, text);
    req.push(muted(" (".into()));
    req.extend(safe(&v.requester_id, Tone::Muted));
    req.push(muted(format!(", {})", v.requester_kind)));
    if let Some(m) = &v.model {
        req.push(muted(" · model ".into()));
        req.extend(safe(m, text));
    }
    field("Requester", req);
    if let Some(o) = &v.on_behalf_of {
        field("On behalf of", safe(o, text));
    }
    if let Some(lookalike) = app.names_me(&v.id) {
        field(
            "",
            vec![Seg::new(
                if lookalike {
                    "⚠ names someone who looks like you: your approval will be refused"
                } else {
                    "⚠ requested by you or for you: your approval will be refused"
                },
                Tone::Level(Level::Warn),
            )],
        );
    }
    let mut target = safe(&v.system, text);
    target.push(muted(" / ".into()));
    target.extend(safe(&v.resource, Tone::Strong));
    field("Target", target);
    field("Environment", safe(&v.environment, Tone::Risk(v.risk)));
    // A narrow window shows one detail pane at a time: the level and every tag are
    // here too (one row), so what fired is read without a Tab; the reasons are in Risk.
    if super::layout::for_app(app).tabs.is_some() {
        let mut s = vec![
            Seg::new(v.risk.as_str().to_uppercase(), Tone::Risk(v.risk)),
            muted(format!(" {}", v.score)),
        ];
        for (i, t) in v.tags.iter().enumerate() {
            s.push(muted(if i == 0 { " · " } else { ", " }.into()));
            s.extend(safe(&t.label, Tone::Strong));
        }
        if !v.tags.is_empty() {
            s.push(muted(" (reasons: Risk tab)".into()));
        }
        field("Risk", s);
    }
    let groups: Vec<String> = v.groups.iter().map(SafeText::plain).collect();
    let mut policy = vec![Seg::new(
        // Approvers, not approvals: the quorum counts distinct people.
        format!(
            "{} approver{} needed",
            v.required,
            if v.required == 1 { "" } else { "s" }
        ),
        text,
    )];
    if !groups.is_empty() {
        policy.push(Seg::new(format!(" from {}", groups.join(", ")), text));
    }
    if let Some(rule) = &v.rule {
        policy.push(muted(" · rule ".into()));
        policy.extend(safe(rule, Tone::Muted));
    }
    field("Policy", policy);
    let progress = format!("{}/{}", v.approvals, v.required);
    if v.votes.is_empty() {
        field("Votes", vec![muted(format!("{progress} · none yet"))]);
    }
    for (i, vote) in v.votes.iter().enumerate() {
        let (word, tone) = match vote.verdict {
            Verdict::Approve => ("approved", Tone::Level(Level::Success)),
            Verdict::Deny => ("denied", Tone::Level(Level::Error)),
        };
        let mut s = if i == 0 {
            vec![Seg::new(format!("{progress} · "), text)]
        } else {
            vec![Seg::new("      ", Tone::Plain)]
        };
        s.extend(safe(&vote.approver, text));
        s.push(Seg::new(format!(" {word} "), tone));
        s.push(muted(format!(
            "{} ago",
            duration(vote.at.millis_until(app.now))
        )));
        if !vote.reason.is_empty() {
            s.push(muted(" — ".into()));
            s.extend(safe(&vote.reason, text));
        }
        field(if i == 0 { "Votes" } else { "" }, s);
    }
    let left = app.now.millis_until(v.expires_at);
    let expiry = if left <= 0 {
        Seg::new("expired", Tone::Level(Level::Error))
    } else {
        Seg::new(format!("in {} ({})", duration(left), v.expires_at), text)
    };
    field("Expires", vec![expiry]);
    field(
        "Digest",
        vec![
            Seg::new(v.digest.prefix(16), Tone::KeyHint),
            muted("… (sha256, what you sign)".into()),
        ],
    );
    if let Some(note) = &v.body_note {
        let tone = if note.starts_with("refused") || note.contains("did not send") {
            Tone::Level(Level::Error)
        } else {
            Tone::Muted
        };
        field(
            "Content",
            vec![Seg::new(SafeText::line(note).plain(), tone)],
        );
        return labelled(out, width, &CONTEXT_LABELS, usize::MAX);
    }
    if let Some(cmd) = &v.command {
        for (i, l) in cmd.iter().enumerate() {
            let mut s = vec![muted(if i == 0 { "$ " } else { "  " }.into())];
            s.extend(safe(l, text));
            field(if i == 0 { "Command" } else { "" }, s);
        }
    }
    let has_why = v.justification.iter().any(|l| !l.is_empty());
    if !has_why {
        field("Why", vec![muted("(no justification given)".into())]);
    }
    for (i, l) in v.justification.iter().enumerate().filter(|_| has_why) {
        field(if i == 0 { "Why" } else { "" }, safe(l, text));
    }
    for (ci, (k, vals)) in v.context.iter().enumerate() {
        for (i, l) in vals.iter().enumerate() {
            let mut s = Vec::new();
            if i == 0 {
                s.extend(safe(k, Tone::Muted));
                s.push(muted(": ".into()));
            } else {
                s.push(Seg::new("  ", Tone::Plain));
            }
            s.extend(safe(l, Tone::Title));
            field(if i == 0 && ci == 0 { "Context" } else { "" }, s);
        }
    }
    if let Some(draft) = app.queue.drafts.get(&v.id) {
        field(
            "Your reason",
            vec![Seg::new(SafeText::line(draft).plain(), text)],
        );
    }
    labelled(out, width, &CONTEXT_LABELS, usize::MAX)
}

/// Every row of the risk pane for `e` at `width` columns: level and score, then every
/// tag with its reasons wrapped under it.
pub fn risk(e: &Entry, width: usize) -> Vec<Row> {
    let v = e.view();
    let mut rows = vec![vec![
        Seg::new(
            format!(" {} ", v.risk.as_str().to_uppercase()),
            Tone::RiskBadge(v.risk),
        ),
        Seg::new(
            format!("  score {}/100 · {} tag(s)", v.score, v.tags.len()),
            Tone::Muted,
        ),
    ]];
    if v.tags.is_empty() {
        rows.push(vec![Seg::new("No risk tags fired.", Tone::Muted)]);
    }
    for t in &v.tags {
        let mut head = vec![Seg::new("● ", Tone::Risk(v.risk))];
        head.extend(safe(&t.label, Tone::Strong));
        head.push(Seg::new(" [", Tone::Muted));
        head.extend(safe(&t.id, Tone::Muted));
        head.push(Seg::new("]", Tone::Muted));
        rows.extend(wrap_segs(&head, width, usize::MAX));
        for r in &t.reason {
            for row in wrap_segs(&safe(r, Tone::Text), width.saturating_sub(2), usize::MAX) {
                let mut s = vec![Seg::new("  ", Tone::Plain)];
                s.extend(row);
                rows.push(s);
            }
        }
    }
    rows
}

/// The tone of a decided action's outcome word.
pub fn outcome_tone(r: &HistoryRecord) -> Tone {
    match (&r.action.status, &r.action.execution) {
        (Status::Approved, Some(e)) if e.exit_code != 0 => Tone::Level(Level::Error),
        (Status::Approved, _) => Tone::Level(Level::Success),
        (Status::Denied, _) => Tone::Level(Level::Error),
        (Status::Expired, _) => Tone::Level(Level::Warn),
        _ => Tone::Muted,
    }
}

/// `text` cut at the byte `ranges` a search matched: each piece with whether it matched.
/// Ranges out of order or off a character boundary are skipped.
pub fn match_pieces<'t>(text: &'t str, ranges: &[Range<usize>]) -> Vec<(&'t str, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    for r in ranges {
        let (start, end) = (r.start.min(text.len()), r.end.min(text.len()));
        if start < at || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        out.push((&text[at..start], false));
        out.push((&text[start..end], true));
        at = end;
    }
    out.push((&text[at..], false));
    out.retain(|(s, _)| !s.is_empty());
    out
}

/// `text` made display-safe in `tone`, the matched pieces marked.
pub fn highlighted(text: &str, ranges: &[Range<usize>], tone: Tone) -> Vec<Seg> {
    let mut out = Vec::new();
    for (piece, matched) in match_pieces(text, ranges) {
        out.extend(safe(&SafeText::line(piece), tone).into_iter().map(|mut s| {
            s.matched = matched && s.tone != Tone::Hidden;
            s
        }));
    }
    out
}

/// The history record pane's labels: 12 columns, the value at least 8.
const RECORD_LABELS: Labels = Labels {
    width: 12,
    min_value: 8,
    continuation: Tone::Muted,
};

fn plain(s: impl AsRef<str>, tone: Tone) -> Vec<Seg> {
    safe(&SafeText::line(s.as_ref()), tone)
}

/// The history record pane's rows for `r` at `width` columns (search `matches`
/// highlighted), stopping once `max_rows` are built.
pub fn record(
    r: &HistoryRecord,
    matches: &[FieldMatch],
    width: usize,
    max_rows: usize,
) -> Vec<Row> {
    let text = Tone::Text;
    let muted = Tone::Muted;
    let field = |f: SearchField, tone: Tone| {
        let t = f.text(r);
        let ranges = matches
            .iter()
            .find(|m| m.field == f)
            .map_or(&[][..], |m| &m.ranges[..]);
        highlighted(&t, ranges, tone)
    };
    let a = &r.action;
    let waited = duration(a.created_at.millis_until(r.decided_at));
    let mut outcome = vec![Seg::new(outcome_label(r), outcome_tone(r))];
    outcome.extend(plain(
        format!(" · decided {} · waited {waited}", r.decided_at),
        muted,
    ));
    let mut risk = vec![Seg::new(
        format!("{} ({})", a.risk.level, a.risk.score),
        Tone::Risk(a.risk.level),
    )];
    for t in &a.risk.tags {
        risk.push(Seg::new(" · ", muted));
        risk.extend(plain(&t.label, muted));
    }
    let mut out: Vec<(&str, Vec<Seg>)> = vec![
        ("Outcome", outcome),
        ("Summary", field(SearchField::Summary, text)),
        ("Kind", field(SearchField::Kind, text)),
        ("Target", field(SearchField::Target, text)),
        (
            "Environment",
            field(SearchField::Environment, Tone::Risk(a.risk.level)),
        ),
        ("Risk", risk),
        ("Requester", field(SearchField::Requester, text)),
        ("Decided by", field(SearchField::Approver, text)),
        ("Reason", field(SearchField::Reason, text)),
    ];
    if a.command.is_some() {
        let mut cmd = vec![Seg::new("$ ", muted)];
        cmd.extend(field(SearchField::Command, text));
        out.push(("Command", cmd));
    }
    if a.votes.is_empty() {
        out.push(("Votes", vec![Seg::new("none", muted)]));
    }
    for (i, v) in a.votes.iter().enumerate() {
        let (mark, verdict_tone) = match v.verdict {
            Verdict::Approve => ("✓ approve ", Tone::Level(Level::Success)),
            Verdict::Deny => ("✗ deny ", Tone::Level(Level::Error)),
        };
        let (sig, sig_tone) = match r.signatures_verified.get(i) {
            Some(true) => ("signature verified", Tone::Level(Level::Success)),
            Some(false) => ("signature FAILED", Tone::Level(Level::Error)),
            None => ("signature not checked", Tone::Level(Level::Warn)),
        };
        let mut s = vec![Seg::new(mark, verdict_tone)];
        s.extend(plain(&v.approver, text));
        s.extend(plain(format!(" at {} · key {} · ", v.at, v.key_id), muted));
        s.push(Seg::new(sig, sig_tone));
        if !v.reason.is_empty() {
            s.push(Seg::new(" · ", muted));
            s.extend(plain(&v.reason, text));
        }
        out.push((if i == 0 { "Votes" } else { "" }, s));
    }
    let exec = match &a.execution {
        Some(e) => {
            let tone = Tone::Level(if e.exit_code == 0 {
                Level::Success
            } else {
                Level::Error
            });
            let mut s = vec![Seg::new(format!("exit code {}", e.exit_code), tone)];
            s.extend(plain(format!(" · reported {}", e.reported_at), muted));
            if let Some(d) = &e.detail {
                s.push(Seg::new(" · ", muted));
                s.extend(plain(d, text));
            }
            s
        }
        None => vec![Seg::new("not reported", muted)],
    };
    out.push(("Execution", exec));
    out.push(("Digest", plain(r.digest.as_str(), muted)));
    out.push(("Audit hash", plain(r.audit_hash.as_str(), muted)));
    out.push(("Action id", plain(a.id.to_string(), muted)));
    if !a.justification.is_empty() {
        out.push(("Why", plain(&a.justification, text)));
    }
    let entries = out.into_iter().map(|(l, v)| (l.to_string(), v)).collect();
    labelled(entries, width, &RECORD_LABELS, max_rows)
}

/// How far the record pane scrolls for `r` in a pane of `area` (its last page at the top
/// at most), so scrolling never runs into emptiness.
pub fn record_max_scroll(r: &HistoryRecord, area: Rect) -> u16 {
    let inner_w = usize::from(area.width.saturating_sub(2));
    let inner_h = usize::from(area.height.saturating_sub(2));
    let n = record(r, &[], inner_w, usize::MAX).len();
    u16::try_from(n.saturating_sub(inner_h)).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod wrap_tests {
    use super::{HARD_BREAK, unwrap_rows, wrap};

    fn texts(pieces: &[(&str, u8)], cols: usize) -> Vec<String> {
        wrap(pieces, cols, usize::MAX, &9)
            .into_iter()
            .map(|r| r.into_iter().map(|(s, _)| s).collect())
            .collect()
    }

    fn fits(rows: &[String], cols: usize) -> bool {
        rows.iter()
            .all(|r| unicode_width::UnicodeWidthStr::width(r.as_str()) <= cols)
    }

    #[test]
    fn breaks_between_words_not_inside_them() {
        let t = texts(&[("a quick analysis of the plan", 0)], 12);
        assert_eq!(t, ["a quick", "analysis of", "the plan"]);
    }

    #[test]
    fn a_word_longer_than_a_row_is_broken_and_marked() {
        let t = texts(&[("see 0123456789abcdef end", 0)], 8);
        assert_eq!(t, ["see", "01234⟨↩⟩", "56789⟨↩⟩", "abcdef", "end"]);
    }

    /// What a reader sees reads back to exactly the text: an unmarked row end is one
    /// space, a marked one none; and no row is wider than the pane.
    #[test]
    fn rows_read_back_to_the_text_at_every_width() {
        let texts_ = [
            "rm  -rf /data  AND   drop  database prod_customers",
            "0123456789abcdefghij klmnopqrstuvwxyz0123456789 x",
            "ab 漢字漢字漢字 c",
            "  leading and trailing  ",
            "a b c d e f g h i j k",
        ];
        for s in texts_ {
            for cols in 2..=24 {
                let rows = texts(&[(s, 0)], cols);
                assert!(fits(&rows, cols), "cols {cols}: {rows:?}");
                if cols > 4 {
                    assert_eq!(unwrap_rows(&rows), s, "cols {cols}: {rows:?}");
                }
            }
        }
    }

    #[test]
    fn tags_follow_their_characters_and_the_marker_has_its_own() {
        let rows = wrap(&[("abc de", 1u8), ("f", 2u8)], 5, usize::MAX, &9);
        assert_eq!(rows[0], [("abc".to_string(), 1)]);
        assert_eq!(rows[1], [("de".to_string(), 1), ("f".to_string(), 2)]);
        let rows = wrap(&[("abcdefgh", 1u8)], 6, usize::MAX, &9);
        assert_eq!(
            rows[0],
            [("abc".to_string(), 1), (HARD_BREAK.to_string(), 9)]
        );
    }

    #[test]
    fn stops_after_max_rows() {
        let rows = wrap(&[("one two three four five", 0u8)], 5, 2, &9);
        assert_eq!(rows.len(), 2);
    }
}
