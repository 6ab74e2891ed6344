//! JSON that is safe to `cat`: every character the classifier would not show as itself
//! (controls, bidi, format, default-ignorable, separators, blanks, private-use,
//! unassigned, width-ambiguous) written as a `\uXXXX` escape. Still the same JSON value.

use std::fmt::Write as _;

use super::class::class;

/// `json` (serialized JSON text) with every non-printable or bidi code point escaped
/// as `\uXXXX` (a UTF-16 surrogate pair above U+FFFF). Only string contents can hold
/// such characters, and there an escape means the same character, so the value is
/// unchanged.
pub fn escape_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        let keep = c == ' ' || (!c.is_ascii_control() && class(c).is_none() && c != '\t');
        if keep {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for u in c.encode_utf16(&mut units) {
            let _ = write!(out, "\\u{u:04x}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_c1_and_tags_are_escaped_and_the_value_is_unchanged() {
        let value = serde_json::json!({
            "reason": "ok\u{202e}gnp\u{85}\u{E0041}\u{2028}\u{3164} é 😀",
            "n": 1,
        });
        let raw = serde_json::to_string(&value).unwrap_or_default();
        let safe = escape_json(&raw);
        assert!(safe.is_ascii() || safe.chars().all(|c| class(c).is_none()));
        for bad in ['\u{202e}', '\u{85}', '\u{E0041}', '\u{2028}', '\u{3164}'] {
            assert!(!safe.contains(bad), "{bad:?} in {safe}");
        }
        assert!(
            safe.contains("\\u202e") && safe.contains("\\udb40\\udc41"),
            "{safe}"
        );
        assert!(safe.contains("é 😀"));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap_or_default();
        assert_eq!(back, value);
    }
}
