//! Glob patterns as policy files write them: case-insensitive, `*` matches any run of
//! characters (including `/`), `?` one character, `{a,b}` alternatives, `[abc]` classes.

use globset::{GlobBuilder, GlobMatcher};

/// One compiled pattern, keeping its text so a reason can say which pattern matched.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    matcher: GlobMatcher,
}

impl Pattern {
    pub fn is_match(&self, s: &str) -> bool {
        self.matcher.is_match(s)
    }
}

/// A list of patterns; matches when any entry matches.
#[derive(Debug, Clone, Default)]
pub struct Patterns(pub Vec<Pattern>);

impl Patterns {
    /// Compiles every pattern, naming the first bad one.
    pub fn compile(patterns: &[String]) -> Result<Self, String> {
        patterns
            .iter()
            .map(|p| {
                if p.trim().is_empty() {
                    return Err("an empty pattern matches nothing; remove it".to_string());
                }
                GlobBuilder::new(p)
                    .case_insensitive(true)
                    .literal_separator(false)
                    .build()
                    .map(|g| Pattern {
                        text: p.clone(),
                        matcher: g.compile_matcher(),
                    })
                    .map_err(|e| format!("pattern {p:?} is not a valid glob: {}", e.kind()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first pattern matching `s`.
    pub fn find(&self, s: &str) -> Option<&Pattern> {
        self.0.iter().find(|p| p.is_match(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(p: &[&str]) -> Patterns {
        Patterns::compile(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn matching_is_case_insensitive_and_star_crosses_slashes() {
        let p = pats(&["prod*", "namespace/*"]);
        assert!(p.find("Production").is_some());
        assert!(p.find("namespace/payments/deploy").is_some());
        assert!(p.find("staging").is_none());
        assert_eq!(p.find("prod-eu").map(|m| m.text.as_str()), Some("prod*"));
    }

    #[test]
    fn alternatives_and_bad_globs() {
        let p = pats(&["{k8s,helm}.delete"]);
        assert!(p.find("helm.delete").is_some());
        let e = Patterns::compile(&["[unclosed".to_string()]).unwrap_err();
        assert!(e.contains("\"[unclosed\""), "{e}");
        assert!(Patterns::compile(&[" ".to_string()]).is_err());
    }
}
