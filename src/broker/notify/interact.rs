//! Slack interactivity: the "I'm looking" button on a Slack message.
//!
//! Slack posts a click to the app's *Request URL* (`POST /v1/notify/slack/interactions`)
//! as `application/x-www-form-urlencoded` with one field, `payload` (JSON), signed with
//! the app's signing secret: `X-Slack-Signature: v0=` + hex(HMAC-SHA256(secret,
//! `v0:{X-Slack-Request-Timestamp}:{body}`)). This module checks that signature (in
//! constant time, refusing timestamps more than five minutes away) and reads the click.
//! The button only ever claims ("bob is looking"); nothing from chat approves or denies.

use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

/// The `action_id` of the "I'm looking" button.
pub const LOOKING: &str = "signoff_looking";
/// Requests signed longer ago (or further ahead) than this are refused: a captured request
/// cannot be replayed later.
pub const MAX_AGE_SECS: i64 = 5 * 60;
/// The largest interaction body taken (Slack sends the message's blocks along).
pub const MAX_BODY: usize = 256 * 1024;

/// Why a request was refused before its content was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `X-Slack-Request-Timestamp` or `X-Slack-Signature`, or not of their form.
    Missing,
    /// Signed more than [`MAX_AGE_SECS`] from now.
    Stale,
    /// The signature does not match the body.
    BadSignature,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Missing => "missing or malformed Slack signature headers",
            Refusal::Stale => "the request's timestamp is more than five minutes away",
            Refusal::BadSignature => "the Slack signature does not match",
        }
    }
}

/// Checks Slack's v0 signature of `body` at `timestamp` (Unix seconds, as sent) against
/// `secret`, as of `now` (Unix seconds).
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
) -> Result<(), Refusal> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| Refusal::Missing)?;
    if (now - ts).abs() > MAX_AGE_SECS {
        return Err(Refusal::Stale);
    }
    let sig = signature
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(Refusal::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| Refusal::BadSignature)?;
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    // Constant time.
    mac.verify_slice(&sig).map_err(|_| Refusal::BadSignature)
}

/// A click on the "I'm looking" button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    /// The Slack user who clicked (`U0123ABCD`).
    pub user: String,
    /// The button's value: the action id.
    pub action: String,
    /// Where Slack takes a reply to this click (ephemeral messages).
    pub response_url: Option<String>,
}

/// Reads the click out of a signed body; `Ok(None)` for an interaction that is not a click
/// on our button (Slack sends every interaction of the app to one URL).
pub fn parse(body: &[u8]) -> Result<Option<Click>, String> {
    let payload = form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned())
        .ok_or("no payload field")?;
    let v: Value =
        serde_json::from_str(&payload).map_err(|e| format!("payload is not JSON: {e}"))?;
    if v["type"] != "block_actions" {
        return Ok(None);
    }
    let Some(a) = v["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["action_id"] == LOOKING))
    else {
        return Ok(None);
    };
    let user = v["user"]["id"].as_str().ok_or("no user.id")?.to_string();
    let action = a["value"]
        .as_str()
        .ok_or("the button has no value")?
        .to_string();
    Ok(Some(Click {
        user,
        action,
        response_url: v["response_url"].as_str().map(str::to_string),
    }))
}

/// A reply only the clicking user sees (the HTTP answer, and the body posted to the
/// click's `response_url`); the message itself stays as it is.
pub fn ephemeral(text: &str) -> Value {
    json!({"response_type": "ephemeral", "replace_original": false, "text": text})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's documented example (docs.slack.dev, "Verifying requests from Slack").
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slacks_own_example_verifies_and_any_change_does_not() {
        let now = 1531420618 + 10;
        assert_eq!(
            verify(SECRET.as_bytes(), TS, SIG, BODY.as_bytes(), now),
            Ok(())
        );
        let tampered = BODY.replace("roadrunner", "coyote");
        assert_eq!(
            verify(SECRET.as_bytes(), TS, SIG, tampered.as_bytes(), now),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(b"another-secret", TS, SIG, BODY.as_bytes(), now),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(SECRET.as_bytes(), TS, "v1=00", BODY.as_bytes(), now),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(SECRET.as_bytes(), "soon", SIG, BODY.as_bytes(), now),
            Err(Refusal::Missing)
        );
    }

    #[test]
    fn timestamps_more_than_five_minutes_away_are_refused() {
        let ts = 1531420618;
        let check = |now| verify(SECRET.as_bytes(), TS, SIG, BODY.as_bytes(), now);
        assert_eq!(check(ts + MAX_AGE_SECS), Ok(()));
        assert_eq!(check(ts + MAX_AGE_SECS + 1), Err(Refusal::Stale));
        assert_eq!(check(ts - MAX_AGE_SECS - 1), Err(Refusal::Stale));
    }

    fn form(payload: &Value) -> Vec<u8> {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish()
            .into_bytes()
    }

    #[test]
    fn a_click_on_the_button_is_read_and_other_interactions_are_not() {
        let click = json!({"type": "block_actions", "user": {"id": "U0BOB"},
            "response_url": "https://hooks.slack.com/actions/T1/2/x",
            "actions": [{"action_id": LOOKING, "value": "01JDXQ1R6C7V3M9T2K5W8Y4Z0A",
                         "type": "button"}]});
        assert_eq!(
            parse(&form(&click)).unwrap(),
            Some(Click {
                user: "U0BOB".into(),
                action: "01JDXQ1R6C7V3M9T2K5W8Y4Z0A".into(),
                response_url: Some("https://hooks.slack.com/actions/T1/2/x".into()),
            })
        );
        let other = json!({"type": "block_actions", "user": {"id": "U0BOB"},
            "actions": [{"action_id": "something_else", "value": "x"}]});
        assert_eq!(parse(&form(&other)).unwrap(), None);
        let shortcut = json!({"type": "shortcut", "user": {"id": "U0BOB"}});
        assert_eq!(parse(&form(&shortcut)).unwrap(), None);
        assert!(parse(b"payload=%7Bnot-json").is_err());
        assert!(parse(b"nothing=here").is_err());
    }
}
