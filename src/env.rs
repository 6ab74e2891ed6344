//! The broker URL's environment variable: `SIGNOFF_BROKER_URL` for every command.
//!
//! `signoff login`, `keys`, `history`, `request` and `gate` used to read `SIGNOFF_BROKER`
//! while the console read `SIGNOFF_BROKER_URL`. The old name still works, with a warning on
//! stderr, so existing CI configs keep running while they are renamed.

/// The environment variable naming the broker's base URL.
pub const BROKER_URL_ENV: &str = "SIGNOFF_BROKER_URL";
/// The old name, still accepted with a warning.
pub const DEPRECATED_BROKER_ENV: &str = "SIGNOFF_BROKER";

/// `given` (from `--broker` or `SIGNOFF_BROKER_URL`), else the deprecated variable, with a
/// warning on stderr when that is what was used.
pub fn or_deprecated(given: Option<String>) -> Option<String> {
    let (url, warning) = resolve(given, &|name| std::env::var(name).ok());
    if let Some(w) = warning {
        eprintln!("signoff: {w}");
    }
    url
}

/// Pure part of [`or_deprecated`]: the URL and the warning to show, if any.
pub fn resolve(
    given: Option<String>,
    var: &dyn Fn(&str) -> Option<String>,
) -> (Option<String>, Option<String>) {
    if given.as_deref().is_some_and(|g| !g.trim().is_empty()) {
        return (given, None);
    }
    match var(DEPRECATED_BROKER_ENV).filter(|v| !v.trim().is_empty()) {
        Some(old) => (
            Some(old),
            Some(format!(
                "{DEPRECATED_BROKER_ENV} is deprecated; set {BROKER_URL_ENV} instead"
            )),
        ),
        None => (given, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_name_wins_and_the_old_one_warns() {
        let old = |n: &str| (n == DEPRECATED_BROKER_ENV).then(|| "http://old".to_string());
        let none = |_: &str| None;
        assert_eq!(
            resolve(Some("http://new".into()), &old),
            (Some("http://new".into()), None)
        );
        let (url, warning) = resolve(None, &old);
        assert_eq!(url.as_deref(), Some("http://old"));
        assert!(warning.unwrap().contains("set SIGNOFF_BROKER_URL instead"));
        assert_eq!(resolve(None, &none), (None, None));
    }
}
