//! Which credentials the console starts with: the sign-in session from `signoff login`
//! (the default) or an explicit `--token` + `--key-file`, and whether it opens on the
//! sign-in dialog. Pure decisions here, file access in `cli`.

use crate::identity::{IssuerConfig, Session};
use crate::protocol::Timestamp;

/// Shown when there is neither a session nor an issuer to sign in with.
pub const NO_SIGN_IN: &str = "not signed in: run `signoff login --issuer URL --client-id ID`, \
     or set issuer and client_id in config.toml (or SIGNOFF_ISSUER and SIGNOFF_CLIENT_ID) \
     to sign in from the console";

/// The issuer the login dialog signs in with: the configured one, else the stored
/// session's. The session's settings (extra scopes, parameters, groups claim) are kept
/// when it is the same issuer and client, as `signoff login` does.
pub fn choose_issuer(
    issuer: Option<&str>,
    client_id: Option<&str>,
    session: Option<&Session>,
) -> Option<IssuerConfig> {
    let stored = session.map(|s| &s.issuer);
    match (issuer, client_id, stored) {
        (Some(i), Some(c), Some(s)) if s.issuer == i && s.client_id == c => Some(s.clone()),
        (Some(i), Some(c), _) => Some(IssuerConfig::new(i, c)),
        (None, None, Some(s)) => Some(s.clone()),
        (Some(i), None, Some(s)) if s.issuer == i => Some(s.clone()),
        (None, Some(c), Some(s)) if s.client_id == c => Some(s.clone()),
        _ => None,
    }
}

/// Whether the console must open with the login dialog: no session, or one that has
/// expired and cannot be refreshed. (A refreshable session is refreshed silently; if the
/// issuer then refuses, the feed reports the dead session and the dialog opens.)
pub fn needs_login(session: Option<&Session>, now: Timestamp) -> bool {
    match session {
        None => true,
        Some(s) => s.refresh_token.is_none() && now >= s.expires_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::Identity;

    fn session(issuer: &str, client: &str) -> Session {
        let mut cfg = IssuerConfig::new(issuer, client);
        cfg.scopes.push("groups".into());
        Session {
            issuer: cfg,
            access_token: "at".into(),
            refresh_token: Some("rt".into()),
            id_token: None,
            expires_at: Timestamp::from_unix_millis(2_000_000),
            obtained_at: Timestamp::from_unix_millis(1_000_000),
            identity: Identity {
                subject: "alice".into(),
                email: None,
                name: None,
                groups: vec![],
            },
            broker: None,
        }
    }

    #[test]
    fn the_configured_issuer_wins_and_the_sessions_settings_are_kept_when_it_matches() {
        let s = session("https://id.example", "console");
        let same = choose_issuer(Some("https://id.example"), Some("console"), Some(&s)).unwrap();
        assert_eq!(same.scopes, ["groups"], "kept the session's extra scope");
        let other = choose_issuer(Some("https://other"), Some("c2"), Some(&s)).unwrap();
        assert_eq!(
            (other.issuer.as_str(), other.scopes.len()),
            ("https://other", 0)
        );
        assert_eq!(
            choose_issuer(None, None, Some(&s)).unwrap().issuer,
            "https://id.example"
        );
        assert!(choose_issuer(Some("https://id.example"), None, Some(&s)).is_some());
        assert!(choose_issuer(None, Some("console"), Some(&s)).is_some());
    }

    #[test]
    fn no_issuer_without_a_client_id_or_a_session() {
        assert!(choose_issuer(Some("https://id.example"), None, None).is_none());
        assert!(choose_issuer(None, Some("console"), None).is_none());
        assert!(choose_issuer(None, None, None).is_none());
        let s = session("https://id.example", "console");
        assert!(choose_issuer(Some("https://other"), None, Some(&s)).is_none());
        assert!(choose_issuer(Some("https://id.example"), Some("console"), None).is_some());
    }

    #[test]
    fn a_refreshable_session_does_not_need_the_dialog() {
        let mut s = session("https://id.example", "console");
        let late = Timestamp::from_unix_millis(3_000_000);
        assert!(needs_login(None, late));
        assert!(!needs_login(Some(&s), late), "refreshed silently");
        s.refresh_token = None;
        assert!(
            needs_login(Some(&s), late),
            "expired, nothing to refresh with"
        );
        assert!(!needs_login(
            Some(&s),
            Timestamp::from_unix_millis(1_500_000)
        ));
    }
}
