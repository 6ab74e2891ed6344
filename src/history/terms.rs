//! The search box's text, parsed into folded terms.
//!
//! Semantics (the same words mean the same thing in the console and in `--query`):
//! whitespace separates terms; a double-quoted phrase is one term (an unclosed quote runs
//! to the end, so a phrase still being typed already filters); matching ignores case; a
//! record matches when every term occurs somewhere in its searchable fields.

use super::fold::fold;

/// A parsed, folded search text. Empty means "everything".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terms(Vec<String>);

impl Terms {
    pub fn parse(text: &str) -> Self {
        let mut terms = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        for c in text.chars() {
            match c {
                '"' => {
                    push_term(&mut terms, &mut current);
                    quoted = !quoted;
                }
                // The haystack separator can never be part of a term.
                '\0' => {}
                c if c.is_whitespace() && !quoted => push_term(&mut terms, &mut current),
                c => current.push(c),
            }
        }
        push_term(&mut terms, &mut current);
        // Longest first: a longer term is usually the more selective one to scan for.
        terms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        terms.dedup();
        Self(terms)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// True when every record matching `self` also matches `narrower`: each of our terms
    /// occurs inside one of its terms. A keystroke that extends the text has this shape,
    /// so its results can be found among ours instead of among all records.
    pub fn is_narrowed_by(&self, narrower: &Terms) -> bool {
        self.0
            .iter()
            .all(|t| narrower.0.iter().any(|n| n.contains(t.as_str())))
    }

    /// The terms of `narrower` that are not already implied by one of ours.
    pub fn new_in<'a>(&self, narrower: &'a Terms) -> Vec<&'a str> {
        narrower
            .0
            .iter()
            .filter(|n| !self.0.contains(n))
            .map(String::as_str)
            .collect()
    }
}

fn push_term(terms: &mut Vec<String>, current: &mut String) {
    let trimmed = current.trim();
    if !trimmed.is_empty() {
        terms.push(fold(trimmed));
    }
    current.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Vec<String> {
        Terms::parse(s).0
    }

    #[test]
    fn splits_folds_and_orders() {
        assert_eq!(t("  Drop  TABLE "), vec!["table", "drop"]);
        assert_eq!(t(""), Vec::<String>::new());
        assert_eq!(t("a a"), vec!["a"]);
    }

    #[test]
    fn phrases() {
        assert_eq!(t("\"drop table\" prod"), vec!["drop table", "prod"]);
        assert_eq!(t("prod \"drop ta"), vec!["drop ta", "prod"]);
        assert_eq!(t("\"\""), Vec::<String>::new());
        assert_eq!(t("a\0b"), vec!["ab"]);
    }

    #[test]
    fn narrowing() {
        let p = |s| Terms::parse(s);
        assert!(p("dro").is_narrowed_by(&p("drop")));
        assert!(p("drop").is_narrowed_by(&p("drop t")));
        assert!(p("").is_narrowed_by(&p("x")));
        assert!(p("\"drop").is_narrowed_by(&p("\"drop table\"")));
        assert!(!p("drop").is_narrowed_by(&p("dro")));
        assert!(!p("drop x").is_narrowed_by(&p("drop")));
        assert_eq!(p("drop").new_in(&p("drop t")), vec!["t"]);
    }
}
