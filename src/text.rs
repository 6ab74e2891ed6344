//! Classification of characters an agent could use to hide what a request really says.
//!
//! Shared by the broker's `hidden-characters` risk detector and the console's
//! display-safe rendering, so both agree on what counts as hidden.

/// Why a character is dangerous to show as-is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HiddenClass {
    /// ESC, which starts terminal escape sequences (CSI, OSC, DCS…).
    Escape,
    /// Other C0 controls (except tab and newline), DEL, and C1 controls.
    Control,
    /// Bidirectional overrides, embeddings and isolates (Trojan Source).
    Bidi,
    /// Zero-width and invisible formatting characters.
    ZeroWidth,
}

impl HiddenClass {
    pub fn label(self) -> &'static str {
        match self {
            HiddenClass::Escape => "escape sequence",
            HiddenClass::Control => "control character",
            HiddenClass::Bidi => "bidi override",
            HiddenClass::ZeroWidth => "zero-width character",
        }
    }
}

/// The class of `c`, or `None` when it is safe to display. Tab and newline are safe.
pub fn hidden_class(c: char) -> Option<HiddenClass> {
    match c {
        '\u{1b}' => Some(HiddenClass::Escape),
        '\t' | '\n' => None,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some(HiddenClass::Control),
        '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061c}'
        | '\u{200e}'
        | '\u{200f}' => Some(HiddenClass::Bidi),
        '\u{200b}'..='\u{200d}'
        | '\u{2060}'..='\u{2064}'
        | '\u{feff}'
        | '\u{00ad}'
        | '\u{180e}' => Some(HiddenClass::ZeroWidth),
        _ => None,
    }
}

/// Every hidden character in `s`, with its byte offset.
pub fn hidden_chars(s: &str) -> Vec<(usize, char, HiddenClass)> {
    s.char_indices()
        .filter_map(|(i, c)| hidden_class(c).map(|k| (i, c, k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(hidden_class('\u{1b}'), Some(HiddenClass::Escape));
        assert_eq!(hidden_class('\u{7}'), Some(HiddenClass::Control));
        assert_eq!(hidden_class('\u{9b}'), Some(HiddenClass::Control)); // C1 CSI
        assert_eq!(hidden_class('\u{202e}'), Some(HiddenClass::Bidi));
        assert_eq!(hidden_class('\u{2067}'), Some(HiddenClass::Bidi));
        assert_eq!(hidden_class('\u{200b}'), Some(HiddenClass::ZeroWidth));
        assert_eq!(hidden_class('\u{feff}'), Some(HiddenClass::ZeroWidth));
        for c in ['a', '\t', '\n', 'é', '€', '😀'] {
            assert_eq!(hidden_class(c), None, "{c:?}");
        }
    }

    #[test]
    fn finds_offsets() {
        let found = hidden_chars("ok\u{202e}gnp\u{1b}[2J");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, 2);
        assert_eq!(found[1].2, HiddenClass::Escape);
    }
}
