//! Display-safe text for history: hidden characters made visible, never interpreted.
//!
//! Agent-supplied text may carry escape sequences, bidi overrides or zero-width
//! characters ([`crate::text::hidden_class`]). History shows each as `⟨U+202E⟩`, so a
//! record reads the same in the console, in a terminal table and in a pager. Line breaks
//! become `⏎` and tabs a space, because a history row is one line.

use std::ops::Range;

use crate::text::hidden_class;

/// How a hidden character is shown.
pub fn visible_code(c: char) -> String {
    format!("⟨U+{:04X}⟩", u32::from(c))
}

/// `text` as one display-safe line.
pub fn display_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_safe(&mut out, c);
    }
    out
}

fn push_safe(out: &mut String, c: char) -> bool {
    match c {
        '\n' => out.push('⏎'),
        '\t' => out.push(' '),
        c if hidden_class(c).is_some() => {
            out.push_str(&visible_code(c));
            return true;
        }
        c => out.push(c),
    }
    false
}

/// A run of display-safe text with one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    /// Inside a search match: draw highlighted.
    pub matched: bool,
    /// A hidden character made visible: draw as a warning.
    pub hidden: bool,
}

/// Splits `text` into display-safe segments, marking the byte `ranges` (as returned by
/// [`super::match_ranges`]) as matched and each hidden character as hidden.
pub fn segments(text: &str, ranges: &[Range<usize>]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut next_range = 0;
    for (i, c) in text.char_indices() {
        while next_range < ranges.len() && ranges[next_range].end <= i {
            next_range += 1;
        }
        let matched = ranges
            .get(next_range)
            .is_some_and(|r| r.start <= i && i < r.end);
        let mut piece = String::new();
        let hidden = push_safe(&mut piece, c);
        match out.last_mut() {
            Some(last) if last.matched == matched && last.hidden == hidden && !hidden => {
                last.text.push_str(&piece);
            }
            _ => out.push(Segment {
                text: piece,
                matched,
                hidden,
            }),
        }
    }
    out
}

/// Shortens `text` to at most `width` terminal columns, ending in `…` when cut.
pub fn truncate(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let total: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// Terminal columns `text` takes.
pub fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_become_visible() {
        assert_eq!(display_safe("ok\u{202e}gnp"), "ok⟨U+202E⟩gnp");
        assert_eq!(display_safe("a\u{1b}[2Jb"), "a⟨U+001B⟩[2Jb");
        assert_eq!(display_safe("x\u{200b}y"), "x⟨U+200B⟩y");
        assert_eq!(display_safe("line1\nline2\tend"), "line1⏎line2 end");
        assert_eq!(display_safe("Zoë"), "Zoë");
    }

    #[test]
    fn segments_mark_matches_and_hidden() {
        let text = "drop\u{202e} table";
        let segs = segments(text, &[0..4, 8..13]);
        let shown: Vec<(&str, bool, bool)> = segs
            .iter()
            .map(|s| (s.text.as_str(), s.matched, s.hidden))
            .collect();
        assert_eq!(
            shown,
            [
                ("drop", true, false),
                ("⟨U+202E⟩", false, true),
                (" ", false, false),
                ("table", true, false)
            ]
        );
        let all: String = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(all, display_safe(text));
    }

    #[test]
    fn truncates_by_columns() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("日本語テキスト", 7), "日本語…");
        assert_eq!(width("日本"), 4);
    }
}
