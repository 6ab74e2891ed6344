//! Words for free-text history search, cut the way SQLite's `unicode61` tokenizer cuts
//! them: runs of letters and digits, lower-cased, Latin diacritics removed. The
//! PostgreSQL store indexes these words so that a search finds the same records there as
//! in SQLite (where FTS5 does the cutting itself).

use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// What a free-text search asks for: every whitespace-separated term must match, each a
/// phrase of its words whose last word may be a prefix (FTS5's `"term"*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextSearch {
    /// No terms: no filter.
    Any,
    /// Terms that hold no word at all match nothing (as in FTS5).
    Nothing,
    /// Phrases, each a list of words.
    Phrases(Vec<Vec<String>>),
}

pub fn search(text: &str) -> TextSearch {
    let terms: Vec<&str> = text.split_whitespace().collect();
    if terms.is_empty() {
        return TextSearch::Any;
    }
    let phrases: Vec<Vec<String>> = terms
        .iter()
        .map(|t| words(t))
        .filter(|w| !w.is_empty())
        .collect();
    if phrases.is_empty() {
        TextSearch::Nothing
    } else {
        TextSearch::Phrases(phrases)
    }
}

/// Longest word PostgreSQL indexes (bytes).
const MAX_WORD: usize = 2046;
/// Highest position a `tsvector` records.
const MAX_POS: usize = 16383;
/// Most words indexed per record (keeps the vector far below its 1 MB limit).
const MAX_WORDS: usize = 20_000;

/// A PostgreSQL `tsvector` literal of `words` with their positions (cast with
/// `::tsvector`, which takes lexemes as given: no parser, no locale).
pub fn tsvector(words: &[String]) -> String {
    let mut out = String::new();
    for (i, w) in words
        .iter()
        .filter(|w| w.len() <= MAX_WORD)
        .take(MAX_WORDS)
        .enumerate()
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("'{w}':{}", (i + 1).min(MAX_POS)));
    }
    out
}

/// A PostgreSQL `tsquery` literal (cast with `::tsquery`) for the phrases: words quoted,
/// adjacent words joined by `<->`, the last one of each phrase a prefix.
pub fn tsquery(phrases: &[Vec<String>]) -> String {
    phrases
        .iter()
        .map(|p| {
            let n = p.len();
            let parts: Vec<String> = p
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    // Words are letters and digits only: nothing to escape.
                    if i + 1 == n {
                        format!("'{w}':*")
                    } else {
                        format!("'{w}'")
                    }
                })
                .collect();
            format!("({})", parts.join(" <-> "))
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_everything_but_letters_and_digits() {
        assert_eq!(
            words("DROP db.prod-01 Café x_y"),
            ["drop", "db", "prod", "01", "cafe", "x", "y"]
        );
        assert!(words(" -- ").is_empty());
    }

    #[test]
    fn vectors_number_the_words() {
        assert_eq!(tsvector(&words("a b-a")), "'a':1 'b':2 'a':3");
    }

    #[test]
    fn searches_are_phrases_of_words() {
        assert_eq!(search("  "), TextSearch::Any);
        assert_eq!(search("- !"), TextSearch::Nothing);
        assert_eq!(
            search("drop - x-r"),
            TextSearch::Phrases(vec![vec!["drop".into()], vec!["x".into(), "r".into()]])
        );
        assert_eq!(
            tsquery(&[vec!["drop".into()], vec!["x".into(), "r".into()]]),
            "('drop':*) & ('x' <-> 'r':*)"
        );
    }
}
