//! Built-in risk detectors: each a small pure function from a request (and facts) to at
//! most one [`RiskTag`] whose `reason` quotes what matched.
//!
//! Reasons are shown to approvers at 3 a.m., so they are display-safe: agent text is
//! quoted through [`quote`], in the one visible form of [`crate::text`], and is cut short so one tag cannot flood the risk pane.

use std::fmt::Write as _;

use crate::protocol::{ActionRequest, Change, Command, RiskTag};

pub mod bulk;
pub mod content;
pub mod data;
pub mod hidden;
pub mod infra;
pub mod long_line;
pub mod network;
pub mod off_hours;
pub mod public_data;
pub mod requester;
pub mod set;

/// Every built-in detector's tag id, with the short label shown on its badge.
pub const BUILTIN_TAGS: &[(&str, &str)] = &[
    ("hidden-characters", "hidden chars"),
    ("long-line", "long line"),
    ("privilege-escalation", "privilege"),
    ("destructive", "destructive"),
    ("production", "prod"),
    ("pii", "PII"),
    ("data-export", "export"),
    ("bulk", "bulk"),
    ("network-exposure", "exposed"),
    ("public-data", "public data"),
    ("unknown-kind", "unknown kind"),
    ("first-time", "first time"),
    ("off-hours", "off-hours"),
];

/// The badge label for a tag id: the built-in label, or the id itself.
pub fn label_for(id: &str) -> String {
    BUILTIN_TAGS
        .iter()
        .find(|(tag, _)| *tag == id)
        .map_or_else(|| id.to_string(), |(_, label)| (*label).to_string())
}

/// A tag with its built-in label.
pub fn tag(id: &str, reason: String) -> RiskTag {
    RiskTag {
        id: id.to_string(),
        label: label_for(id),
        reason,
    }
}

/// Longest quoted excerpt in a reason, in terminal columns.
const QUOTE_CHARS: usize = 60;

/// `s` in double quotes, in its visible form ([`crate::text::visible_string`]), cut to
/// 60 columns with `…` (a marker is kept whole or dropped, never split).
pub fn quote(s: &str) -> String {
    let shown = crate::text::visible_string(s);
    format!("\"{}\"", crate::text::truncate(&shown, QUOTE_CHARS))
}

/// Joins findings into one reason, keeping the first `max` and counting the rest.
pub fn join_findings(findings: &[String], max: usize) -> String {
    let mut out = findings
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if findings.len() > max {
        let _ = write!(out, "; and {} more", findings.len() - max);
    }
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Finds `needle` (lowercase ASCII) in `lower` (already ASCII-lowercased) where it is not
/// part of a longer word: `delete` matches `DELETE FROM` but not `deleted_at`.
pub fn find_word(lower: &str, needle: &str) -> Option<usize> {
    let hay = lower.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(pos) = lower[from..].find(needle).map(|p| p + from) {
        let end = pos + n.len();
        let starts_clean = pos == 0 || !is_word_byte(hay[pos - 1]) || !is_word_byte(n[0]);
        let ends_clean =
            end == hay.len() || !is_word_byte(hay[end]) || !is_word_byte(n[n.len() - 1]);
        if starts_clean && ends_clean {
            return Some(pos);
        }
        // Step past this occurrence's first character, which may be more than one byte
        // when a policy's own pattern starts with a non-ASCII letter.
        from = pos + needle.chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// The first of `patterns` (lowercase) found as a word in `text`, as it is written there
/// (`DROP TABLE`, `AdministratorAccess`), so the reason quotes the request itself.
pub fn first_pattern<'t>(text: &'t str, patterns: &[String]) -> Option<&'t str> {
    let lower = text.to_ascii_lowercase();
    patterns.iter().find_map(|p| {
        // ASCII lowercasing keeps every byte offset, so the match maps back exactly.
        find_word(&lower, p).and_then(|at| text.get(at..at + p.len()))
    })
}

/// The command as one line for scanning (argv joined by spaces, no quoting).
pub fn command_text(req: &ActionRequest) -> Option<String> {
    req.command.as_ref().map(|c| match c {
        Command::Argv { argv } => argv.join(" "),
        Command::Text { text } => text.clone(),
    })
}

/// The lines a change adds: `+` lines of a unified diff (not the `+++` header), or the
/// lines of `after` that are not in `before`. What a change removes grants nothing.
pub fn added_text(change: &Change) -> String {
    match change {
        Change::UnifiedDiff { diff } => diff
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .map(|l| &l[1..])
            .collect::<Vec<_>>()
            .join("\n"),
        Change::BeforeAfter { before, after, .. } => {
            let old: std::collections::HashSet<&str> = before.lines().collect();
            after
                .lines()
                .filter(|l| !old.contains(l))
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

/// Lowercases a configured pattern list and drops blanks.
pub fn normalise(patterns: impl IntoIterator<Item = String>) -> Vec<String> {
    patterns
        .into_iter()
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_makes_hidden_characters_visible_and_cuts_long_text() {
        assert_eq!(quote("ab\u{202e}c"), "\"ab⟨U+202E⟩c\"");
        assert_eq!(quote("a\u{1b}[2J\nb"), "\"a⟨ESC⟩[2J⟨LF⟩b\"");
        let long = "x".repeat(100);
        let q = quote(&long);
        assert_eq!(q.chars().count(), 60 + 2);
        assert!(q.ends_with("…\""));
    }

    #[test]
    fn find_word_respects_word_boundaries() {
        assert_eq!(find_word("delete from t", "delete"), Some(0));
        assert_eq!(find_word("select deleted_at", "delete"), None);
        assert_eq!(find_word("undelete; delete", "delete"), Some(10));
        assert_eq!(find_word("rm -rf /", "rm -rf"), Some(0));
        assert_eq!(find_word("rm -rfx", "rm -rf"), None);
        assert_eq!(find_word("farm -rf", "rm -rf"), None);
        assert_eq!(find_word("é delete", "delete"), Some(3));
        assert_eq!(find_word("anything", ""), None);
        // A non-ASCII pattern that first occurs inside a word must not split a character.
        assert_eq!(find_word("éab éa", "éa"), Some(5));
    }

    #[test]
    fn added_text_keeps_only_additions() {
        let diff = "--- a\n+++ b\n@@ -1 +1 @@\n-role: admin\n+role: viewer\n";
        assert_eq!(
            added_text(&Change::UnifiedDiff { diff: diff.into() }),
            "role: viewer"
        );
        let ba = Change::BeforeAfter {
            path: None,
            before: "a\nb\n".into(),
            after: "a\nc\n".into(),
        };
        assert_eq!(added_text(&ba), "c");
    }

    #[test]
    fn findings_are_capped() {
        let f: Vec<String> = (1..=5).map(|i| i.to_string()).collect();
        assert_eq!(join_findings(&f, 3), "1; 2; 3; and 2 more");
        assert_eq!(join_findings(&f[..2], 3), "1; 2");
    }
}
