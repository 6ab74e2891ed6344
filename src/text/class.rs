//! The one classification table: which characters may reach a terminal as themselves.
//!
//! A character is shown as itself only when every terminal draws it the same, visibly,
//! at the width `unicode-width` gives it. Everything else has a [`Class`] and becomes a
//! fixed-width marker ([`super::visible`]); the broker's `hidden-characters` detector
//! lists exactly the characters this table classifies.
//!
//! The general category comes from `unicode-properties` (same Unicode version as
//! `unicode-width`, checked by a test). Default_Ignorable_Code_Point has no maintained
//! crate, so its short list is copied from `DerivedCoreProperties.txt` below.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_width::UnicodeWidthChar;

/// Why a character is not shown as itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// ESC, which starts terminal escape sequences (CSI, OSC, DCS…).
    Escape,
    /// C0 controls other than tab and newline, DEL, and C1 controls.
    Control,
    /// Bidirectional marks, embeddings, overrides and isolates (Trojan Source).
    Bidi,
    /// Other format (Cf) characters: zero-width space and joiners, soft hyphen,
    /// interlinear annotation, tag characters, musical format controls…
    Format,
    /// Default_Ignorable_Code_Point characters that are not Cf: variation selectors,
    /// the combining grapheme joiner, Hangul and Khmer fillers.
    Ignorable,
    /// U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR.
    Separator,
    /// Space-like characters other than U+0020 (no-break, em, ideographic…) and the
    /// blank braille pattern U+2800: they look like a space or like nothing.
    Blank,
    /// Private-use code points (Co): their glyph depends on the terminal's font.
    PrivateUse,
    /// Unassigned code points and noncharacters (Cn).
    Unassigned,
    /// Characters whose display width terminals disagree on: conjoining Hangul jamo,
    /// regional indicators, emoji modifiers, the replacement characters U+FFFC/U+FFFD,
    /// and other zero-width characters that do not combine with a base.
    AmbiguousWidth,
    /// A combining mark with no visible base before it, or past the second mark on one
    /// base (stacked marks can cover the letters around them).
    Combining,
}

impl Class {
    /// Short words for risk reasons and docs.
    pub fn label(self) -> &'static str {
        match self {
            Class::Escape => "escape",
            Class::Control => "control character",
            Class::Bidi => "bidi control",
            Class::Format => "invisible format character",
            Class::Ignorable => "default-ignorable character",
            Class::Separator => "line/paragraph separator",
            Class::Blank => "blank-looking character",
            Class::PrivateUse => "private-use character",
            Class::Unassigned => "unassigned code point",
            Class::AmbiguousWidth => "width-ambiguous character",
            Class::Combining => "detached or stacked combining mark",
        }
    }
}

/// Default_Ignorable_Code_Point (Unicode `DerivedCoreProperties.txt`), all ranges.
const DEFAULT_IGNORABLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

/// True for a Default_Ignorable_Code_Point.
pub fn is_default_ignorable(c: char) -> bool {
    DEFAULT_IGNORABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Bidi formatting characters: ALM, LRM, RLM, the embeddings and overrides, the isolates.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// True for a mark that draws on the character before it (Mn, Me, and zero-width Mc).
pub fn is_combining(c: char) -> bool {
    if c.is_ascii() {
        return false;
    }
    match bmp_entry(c) {
        Some(e) => e & COMBINING != 0,
        None => is_combining_uncached(c),
    }
}

fn is_combining_uncached(c: char) -> bool {
    match c.general_category() {
        GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark => true,
        GeneralCategory::SpacingMark => c.width() == Some(0),
        _ => false,
    }
}

/// The class of `c` on its own, or `None` when it may be shown as itself. Tab and
/// newline are `None`: the renderer gives them their own forms. Combining marks are
/// `None` here; whether one may be shown depends on what precedes it
/// ([`super::scan`] decides, as [`Class::Combining`]).
pub fn class(c: char) -> Option<Class> {
    if c.is_ascii() {
        return match c {
            '\u{1b}' => Some(Class::Escape),
            '\t' | '\n' => None,
            '\u{0}'..='\u{1f}' | '\u{7f}' => Some(Class::Control),
            _ => None,
        };
    }
    match bmp_entry(c) {
        Some(e) => CLASSES.get(usize::from(e & CLASS_BITS)).copied().flatten(),
        None => class_uncached(c),
    }
}

/// Every class, in the order the BMP table numbers them (0 is "shown as itself").
const CLASSES: [Option<Class>; 12] = [
    None,
    Some(Class::Escape),
    Some(Class::Control),
    Some(Class::Bidi),
    Some(Class::Format),
    Some(Class::Ignorable),
    Some(Class::Separator),
    Some(Class::Blank),
    Some(Class::PrivateUse),
    Some(Class::Unassigned),
    Some(Class::AmbiguousWidth),
    Some(Class::Combining),
];
const CLASS_BITS: u8 = 0x0f;
const COMBINING: u8 = 0x10;

/// The class and combining flag of every Basic Multilingual Plane character, computed
/// once (64 KiB, a few milliseconds): the general-category lookups behind them are
/// binary searches, and every frame of the console classifies every visible field.
fn bmp_table() -> &'static [u8] {
    static TABLE: std::sync::OnceLock<Box<[u8]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..=0xFFFFu32)
            .map(|n| {
                // Surrogates are not chars; they never reach `class`.
                let Some(c) = char::from_u32(n) else { return 0 };
                let class = if c.is_ascii() {
                    None
                } else {
                    class_uncached(c)
                };
                let index = CLASSES.iter().position(|k| *k == class).unwrap_or(0) as u8;
                index
                    | if is_combining_uncached(c) {
                        COMBINING
                    } else {
                        0
                    }
            })
            .collect()
    })
}

/// The BMP table's entry for `c`, or `None` outside the BMP.
fn bmp_entry(c: char) -> Option<u8> {
    bmp_table().get(u32::from(c) as usize).copied()
}

/// [`class`] from the Unicode tables themselves, for non-ASCII `c`.
fn class_uncached(c: char) -> Option<Class> {
    if is_bidi(c) {
        return Some(Class::Bidi);
    }
    let category = c.general_category();
    let by_category = match category {
        GeneralCategory::Control => Some(Class::Control),
        GeneralCategory::Format => Some(Class::Format),
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
            Some(Class::Separator)
        }
        GeneralCategory::SpaceSeparator => Some(Class::Blank),
        GeneralCategory::PrivateUse => Some(Class::PrivateUse),
        GeneralCategory::Unassigned | GeneralCategory::Surrogate => Some(Class::Unassigned),
        _ => None,
    };
    if by_category.is_some() {
        return by_category;
    }
    if is_default_ignorable(c) {
        return Some(Class::Ignorable);
    }
    if c == '\u{2800}' {
        return Some(Class::Blank);
    }
    let conjoining_jamo =
        matches!(c, '\u{1100}'..='\u{11FF}' | '\u{A960}'..='\u{A97F}' | '\u{D7B0}'..='\u{D7FF}');
    let regional_or_modifier = matches!(c, '\u{1F1E6}'..='\u{1F1FF}' | '\u{1F3FB}'..='\u{1F3FF}');
    // U+FFFC/U+FFFD stand for something lost; some terminals drop U+FFFD as a decoding
    // error (found by the view property test against vt100), shifting the rest.
    let replacement = matches!(c, '\u{FFFC}' | '\u{FFFD}');
    if conjoining_jamo || regional_or_modifier || replacement {
        return Some(Class::AmbiguousWidth);
    }
    if c.width() != Some(0) || is_combining_uncached(c) {
        None
    } else {
        Some(Class::AmbiguousWidth)
    }
}

/// The class of `c` as it stands in `s` at each position: every character the renderer
/// shows as a marker because of what it is (not tab, newline, or the renderer's own
/// escaped brackets), with its byte offset. The broker's detector lists these.
pub fn hidden_chars(s: &str) -> Vec<(usize, char, Class)> {
    let mut out = Vec::new();
    super::scan::scan(s, |t| {
        if let super::scan::Token::Hidden { at, c, class } = t {
            out.push((at, c, class));
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_share_one_unicode_version() {
        let (a, b, c) = unicode_properties::UNICODE_VERSION;
        let (x, y, z) = unicode_width::UNICODE_VERSION;
        assert_eq!((a, b, c), (u64::from(x), u64::from(y), u64::from(z)));
    }

    #[test]
    fn the_bmp_table_agrees_with_the_unicode_tables_for_every_character() {
        for c in (0x80..=0xFFFFu32).filter_map(char::from_u32) {
            assert_eq!(class(c), class_uncached(c), "U+{:04X}", u32::from(c));
            assert_eq!(
                is_combining(c),
                is_combining_uncached(c),
                "U+{:04X}",
                u32::from(c)
            );
        }
        assert!(CLASSES.len() <= usize::from(CLASS_BITS) + 1);
    }

    #[test]
    fn default_ignorable_table_is_sorted_and_disjoint() {
        for w in DEFAULT_IGNORABLE.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:?}");
        }
    }

    #[test]
    fn every_case_from_the_issue_is_classified() {
        let cases = [
            ('\u{FFF9}', Class::Format),
            ('\u{FFFA}', Class::Format),
            ('\u{FFFB}', Class::Format),
            ('\u{3164}', Class::Ignorable),
            ('\u{FFA0}', Class::Ignorable),
            ('\u{2800}', Class::Blank),
            ('\u{206A}', Class::Format),
            ('\u{206F}', Class::Format),
            ('\u{034F}', Class::Ignorable),
            ('\u{FE0F}', Class::Ignorable),
            ('\u{E0100}', Class::Ignorable),
            ('\u{17B4}', Class::Ignorable),
            ('\u{1D173}', Class::Format),
            ('\u{E0001}', Class::Format),
            ('\u{E0041}', Class::Format),
            ('\u{E007F}', Class::Format),
            ('\u{E0000}', Class::Unassigned),
            ('\u{2028}', Class::Separator),
            ('\u{2029}', Class::Separator),
        ];
        for (c, want) in cases {
            assert_eq!(class(c), Some(want), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn classes() {
        assert_eq!(class('\u{1b}'), Some(Class::Escape));
        assert_eq!(class('\u{7}'), Some(Class::Control));
        assert_eq!(class('\u{9b}'), Some(Class::Control));
        assert_eq!(class('\u{202e}'), Some(Class::Bidi));
        assert_eq!(class('\u{2067}'), Some(Class::Bidi));
        assert_eq!(class('\u{200b}'), Some(Class::Format));
        assert_eq!(class('\u{feff}'), Some(Class::Format));
        assert_eq!(class('\u{a0}'), Some(Class::Blank));
        assert_eq!(class('\u{3000}'), Some(Class::Blank));
        assert_eq!(class('\u{E000}'), Some(Class::PrivateUse));
        assert_eq!(class('\u{10FFFF}'), Some(Class::Unassigned));
        assert_eq!(class('\u{1F1E6}'), Some(Class::AmbiguousWidth));
        assert_eq!(class('\u{1F3FB}'), Some(Class::AmbiguousWidth));
        assert_eq!(class('\u{1161}'), Some(Class::AmbiguousWidth));
        for c in [
            'a', ' ', '\t', '\n', 'é', '€', '😀', '日', 'ß', 'α', 'ж', '\u{301}',
        ] {
            assert_eq!(class(c), None, "{c:?}");
        }
    }

    #[test]
    fn nothing_shown_as_itself_has_zero_width_unless_it_combines() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            if class(c).is_none() && c != '\t' && c != '\n' {
                let w = c.width().unwrap_or(0);
                assert!(
                    w > 0 || is_combining(c),
                    "U+{:04X} is shown but has width 0",
                    u32::from(c)
                );
            }
        }
    }
}
