//! Case folding for search: one function used for both the haystacks and the query, so a
//! match found in the folded text is always a match a human would agree with.
//!
//! Folding can change byte lengths (`K` KELVIN SIGN is three bytes, `k` one), so the
//! highlighter folds a field again with [`fold_with_map`] to map folded offsets back to
//! the original text. The fast path (ASCII) copies bytes one to one.

/// Appends the folded (lowercase) form of `s` to `out`.
pub fn fold_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        return;
    }
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// The folded form of `s`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// The folded form of `s`, and for each byte of it the byte range of the original
/// character it came from (`map[i]` is `(start, end)` in `s`).
pub fn fold_with_map(s: &str) -> (String, Vec<(u32, u32)>) {
    let mut out = String::with_capacity(s.len());
    let mut map = Vec::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        let span = (i as u32, (i + c.len_utf8()) as u32);
        let before = out.len();
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
        map.resize(map.len() + (out.len() - before), span);
    }
    (out, map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_ascii_and_unicode() {
        assert_eq!(fold("DROP Table"), "drop table");
        assert_eq!(fold("ZOË Ångström"), "zoë ångström");
        assert_eq!(fold("\u{212a}elvin"), "kelvin");
    }

    #[test]
    fn map_points_back_to_original_characters() {
        let s = "a\u{212a}É";
        let (f, map) = fold_with_map(s);
        assert_eq!(f, "aké");
        assert_eq!(map.len(), f.len());
        assert_eq!(map[0], (0, 1));
        assert_eq!(map[1], (1, 4)); // KELVIN SIGN (3 bytes) folds to one byte
        assert_eq!(map[2], (4, 6));
        assert_eq!(map[3], (4, 6));
    }

    #[test]
    fn dotted_capital_i_expands() {
        let (f, map) = fold_with_map("İx");
        assert_eq!(f, "i\u{307}x");
        assert_eq!(map.last(), Some(&(2, 3)));
    }
}
