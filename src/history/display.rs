//! Display-safe text for history: the one visible form of [`crate::text`], so a record
//! reads the same in the console, in a terminal table and in a pager. A history row is
//! one line, so a newline is `⟨LF⟩` and a tab `⇥`.

/// `text` as one display-safe line.
pub fn display_safe(text: &str) -> String {
    crate::text::visible_string(text)
}

/// Shortens display-safe `text` to at most `width` terminal columns, ending in `…` when
/// cut; a marker is kept whole or dropped, never split.
pub fn truncate(text: &str, width: usize) -> String {
    crate::text::truncate(text, width)
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
        assert_eq!(display_safe("a\u{1b}[2Jb"), "a⟨ESC⟩[2Jb");
        assert_eq!(display_safe("x\u{200b}y"), "x⟨U+200B⟩y");
        assert_eq!(display_safe("line1\nline2\tend"), "line1⟨LF⟩line2⇥ end");
        assert_eq!(display_safe("Zoë"), "Zoë");
    }

    #[test]
    fn separators_tags_and_fillers_are_markers() {
        assert_eq!(
            display_safe("a\u{2028}b\u{E0041}c\u{3164}d"),
            "a⟨U+2028⟩b⟨U+E0041⟩c⟨U+3164⟩d"
        );
    }

    #[test]
    fn truncates_by_columns() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("日本語テキスト", 7), "日本語…");
        assert_eq!(width("日本"), 4);
    }
}
