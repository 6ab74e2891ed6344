//! Keeping the feed's token alive: a connected feed keeps the bearer it connected with,
//! and the broker does not close it when that token expires. So shortly before expiry
//! the console asks its token source again: a fresh token (silent refresh) means
//! reconnect with it; a dead session (refresh refused, signed out elsewhere) opens the
//! login dialog. Pure decisions here: `update` decides when to ask
//! ([`crate::console::Effect::RefreshToken`]) and what the answer ([`Answer`]) means
//! against the token the feed holds when it arrives; the runtime only asks.

use crate::client::token_expiry;
use crate::identity::TokenError;
use crate::protocol::Timestamp;

/// Ask this long before the feed's token expires (the session store refreshes 60 s
/// before expiry, so asking inside that window gets a fresh token).
pub const MARGIN_SECS: i64 = 45;
/// At most one question per this many seconds (the issuer may be down).
pub const EVERY_SECS: i64 = 15;

/// Whether to ask the token source now. `expires_at` is the expiry of the token the feed
/// connected with (`None`: opaque or unknown, never asked).
pub fn due(expires_at: Option<Timestamp>, now: Timestamp, last_asked: Option<Timestamp>) -> bool {
    let Some(exp) = expires_at else {
        return false;
    };
    let near = now.millis_until(exp) <= MARGIN_SECS * 1000;
    let rested = last_asked.is_none_or(|t| t.millis_until(now) >= EVERY_SECS * 1000);
    near && rested
}

/// The token source's answer to [`crate::console::Effect::RefreshToken`], as the runtime
/// reports it: the expiry of the token it gave (read from the token, `None` when
/// opaque), or why it gave none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Token {
        expires_at: Option<Timestamp>,
    },
    /// The issuer is out of reach; the current token may still work.
    Unreachable,
    /// The session is dead (refresh refused, signed out elsewhere).
    SignedOut(String),
}

impl Answer {
    /// The answer of a token source (at the edge: the token is only read for its expiry).
    pub fn of(answer: Result<String, TokenError>) -> Self {
        match answer {
            Ok(token) => Answer::Token {
                expires_at: token_expiry(&token),
            },
            Err(TokenError::SignedOut(reason)) => Answer::SignedOut(reason),
            Err(TokenError::Unreachable(_)) => Answer::Unreachable,
        }
    }
}

/// What the answer means for the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// A token that outlives the feed's: reconnect with it.
    Reconnect,
    /// Nothing new (e.g. the issuer is unreachable and the current token still works).
    Keep,
    /// The session is dead: sign in again.
    SignedOut(String),
}

/// Reads the answer against the expiry of the token the feed holds *now* (it may have
/// reconnected with a fresher one since the question was asked).
pub fn outcome(current: Option<Timestamp>, answer: Answer) -> Watch {
    match answer {
        Answer::Token { expires_at } => match (expires_at, current) {
            (Some(new), Some(old)) if new > old => Watch::Reconnect,
            _ => Watch::Keep,
        },
        Answer::SignedOut(reason) => Watch::SignedOut(reason),
        Answer::Unreachable => Watch::Keep,
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn jwt(exp_secs: i64) -> String {
        let claims = URL_SAFE_NO_PAD.encode(format!("{{\"exp\":{exp_secs}}}"));
        format!("e30.{claims}.sig")
    }

    #[test]
    fn asks_only_near_expiry_and_not_too_often() {
        let exp = Timestamp::from_unix_millis(1_000_000);
        let early = Timestamp::from_unix_millis(1_000_000 - 46_000);
        let near = Timestamp::from_unix_millis(1_000_000 - 44_000);
        assert!(!due(Some(exp), early, None));
        assert!(due(Some(exp), near, None));
        assert!(!due(None, near, None), "opaque tokens are not watched");
        assert!(!due(Some(exp), near, Some(near.plus_secs(-5))));
        assert!(due(Some(exp), near, Some(near.plus_secs(-15))));
        // Long expired (the issuer was down): still asked, at the same pace.
        assert!(due(Some(exp), exp.plus_secs(600), Some(exp.plus_secs(580))));
    }

    #[test]
    fn a_later_token_reconnects_a_dead_session_signs_out_and_the_rest_keeps() {
        let old = Some(Timestamp::from_unix_millis(1_000_000));
        let of = |r| outcome(old, Answer::of(r));
        assert_eq!(of(Ok(jwt(1_900))), Watch::Reconnect);
        assert_eq!(of(Ok(jwt(1_000))), Watch::Keep, "same token");
        assert_eq!(of(Ok("opaque".into())), Watch::Keep);
        assert_eq!(of(Err(TokenError::Unreachable("down".into()))), Watch::Keep);
        assert_eq!(
            of(Err(TokenError::SignedOut("refresh refused".into()))),
            Watch::SignedOut("refresh refused".into())
        );
    }
}
