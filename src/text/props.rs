//! Properties of the visible form over generated hostile strings.

use proptest::prelude::*;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::strategy::hostile;
use super::*;

fn joined(lines: &[Vec<Piece>]) -> String {
    lines
        .iter()
        .map(|l| l.iter().map(|p| p.text.as_str()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_original_reads_back_from_its_visible_form(s in hostile(24)) {
        prop_assert_eq!(read_back(&visible_string(&s)), Some(s.clone()));
        prop_assert_eq!(read_back(&joined(&visible_lines(&s))), Some(s.clone()));
    }

    #[test]
    fn the_visible_form_holds_only_plain_characters(s in hostile(24)) {
        let shown = visible_string(&s);
        for c in shown.chars() {
            prop_assert!(class(c).is_none() && c != '\n' && c != '\t', "U+{:04X} in {:?}", u32::from(c), shown);
            // Every character is either visible with a width, or a mark on a base.
            prop_assert!(c.width().unwrap_or(0) > 0 || is_combining(c));
        }
        // A string's width is the sum of its characters' widths: no sequence (emoji
        // joiners, variation selectors, jamo) changes a width a terminal might disagree on.
        let sum: usize = shown.chars().map(|c| c.width().unwrap_or(0)).sum();
        prop_assert_eq!(shown.width(), sum);
    }

    #[test]
    fn the_detector_lists_every_character_the_view_marks(s in hostile(24)) {
        let found = hidden_chars(&s);
        let mut n = 0;
        scan::scan(&s, |t| n += usize::from(matches!(t, scan::Token::Hidden { .. })));
        prop_assert_eq!(found.len(), n);
        prop_assert_eq!(has_hidden(&s), n > 0);
    }

    #[test]
    fn text_after_any_escape_is_shown(prefix in hostile(8), tail in "[A-Z]{8}") {
        let s = format!("{prefix}\u{1b}]0;{}{tail}", "x".repeat(50));
        prop_assert!(visible_string(&s).ends_with(&tail));
        let s = format!("{prefix}\u{1b}[{}{tail}", "9".repeat(60));
        prop_assert!(visible_string(&s).ends_with(&tail[1..]));
    }
}
