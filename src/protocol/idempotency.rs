//! `Idempotency-Key` on `POST /v1/actions`: the key's grammar and the rule that decides
//! between creating an action, answering with the one a key already made, and refusing.
//!
//! An agent that lost the answer to a submission (the broker died between committing the
//! action and answering, or the connection dropped) sends the same request again with the
//! same key and gets the original action back instead of a second one. The rule is pure,
//! so it is tested here; the broker applies it inside its single writer, against the
//! batch being staged, the batch being committed and the store (see `docs/protocol.md`).

use crate::protocol::{ActionId, Digest, Timestamp};

/// The request header that carries the key.
pub const HEADER: &str = "Idempotency-Key";
/// The response header set to `true` on an answer that repeats an earlier one.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
/// Longest key, in bytes.
pub const MAX_KEY_LEN: usize = 255;
/// How long a key is remembered: a retry with the same key within this window gets the
/// original action; after it, the key is free again (and a new action is created).
pub const WINDOW_SECS: i64 = 24 * 3600;

/// Checks a key: 1 to [`MAX_KEY_LEN`] visible ASCII characters (`!` to `~`, no spaces).
/// The message says what is wrong, never echoing more than a short prefix of the key.
pub fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("must not be empty".into());
    }
    if key.len() > MAX_KEY_LEN {
        return Err(format!(
            "is {} bytes; at most {MAX_KEY_LEN} are allowed",
            key.len()
        ));
    }
    if let Some(pos) = key.bytes().position(|b| !(b'!'..=b'~').contains(&b)) {
        return Err(format!(
            "must be visible ASCII characters (`!` to `~`, no spaces); byte {} is not",
            pos + 1
        ));
    }
    Ok(())
}

/// What the broker remembers about one key of one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The agent principal (token subject) that sent the key.
    pub agent: String,
    pub key: String,
    /// SHA-256 of the canonical form (RFC 8785) of the request body.
    pub body_hash: Digest,
    /// The action the first request created.
    pub action_id: ActionId,
    pub created_at: Timestamp,
}

/// What to do with a keyed submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The key is new (or its record is older than the window): create the action and
    /// remember the key with it.
    Create,
    /// Same key, same body, within the window: answer with this action, create nothing.
    Replay(ActionId),
    /// Same key, another body, within the window: refuse (`409 idempotency_conflict`).
    Conflict { action_id: ActionId },
}

/// The rule: `known` is the record for this agent and key, if any.
pub fn decide(known: Option<&Record>, body_hash: &Digest, now: Timestamp) -> Outcome {
    decide_within(known, body_hash, now, WINDOW_SECS)
}

/// [`decide`] with an explicit window in seconds (for tests).
pub fn decide_within(
    known: Option<&Record>,
    body_hash: &Digest,
    now: Timestamp,
    window_secs: i64,
) -> Outcome {
    match known {
        Some(r) if r.created_at.millis_until(now) < window_secs.saturating_mul(1000) => {
            if &r.body_hash == body_hash {
                Outcome::Replay(r.action_id)
            } else {
                Outcome::Conflict {
                    action_id: r.action_id,
                }
            }
        }
        _ => Outcome::Create,
    }
}

/// A fresh random key (32 hex characters), for a client that has no key of its own.
pub fn random_key() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: a new ULID is still unique enough for one invocation.
        return ActionId::new().to_string().to_ascii_lowercase();
    }
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(validate_key("ci-run-1234/attempt-1").is_ok());
        assert!(validate_key("a").is_ok());
        assert!(validate_key(&"k".repeat(MAX_KEY_LEN)).is_ok());
        assert!(validate_key("!~").is_ok());
        let e = validate_key("").unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = validate_key(&"k".repeat(MAX_KEY_LEN + 1)).unwrap_err();
        assert!(e.contains("256 bytes"), "{e}");
        for bad in [
            "has space",
            "tab\there",
            "é",
            "nul\0",
            "del\x7f",
            "new\nline",
        ] {
            let e = validate_key(bad).unwrap_err();
            assert!(e.contains("visible ASCII"), "{bad:?}: {e}");
        }
        assert!(validate_key("has space").unwrap_err().contains("byte 4"));
    }

    #[test]
    fn header_names_are_the_ones_the_broker_matches() {
        // The broker matches lowercase names (HTTP header names are case-insensitive).
        assert_eq!(HEADER.to_ascii_lowercase(), "idempotency-key");
        assert_eq!(REPLAYED_HEADER.to_ascii_lowercase(), "idempotent-replayed");
    }

    #[test]
    fn random_keys_are_valid_and_distinct() {
        let (a, b) = (random_key(), random_key());
        assert!(validate_key(&a).is_ok() && validate_key(&b).is_ok());
        assert_ne!(a, b);
    }

    fn record(at: Timestamp, body: &[u8]) -> Record {
        Record {
            agent: "agent-7".into(),
            key: "k1".into(),
            body_hash: Digest::of_bytes(body),
            action_id: crate::protocol::ActionId::new(),
            created_at: at,
        }
    }

    #[test]
    fn same_key_same_body_replays_and_another_body_conflicts_within_the_window() {
        let t0 = Timestamp::from_unix_millis(1_800_000_000_000);
        let r = record(t0, b"body");
        let same = Digest::of_bytes(b"body");
        let other = Digest::of_bytes(b"other body");
        assert_eq!(decide(None, &same, t0), Outcome::Create);
        assert_eq!(decide(Some(&r), &same, t0), Outcome::Replay(r.action_id));
        assert_eq!(
            decide(Some(&r), &other, t0),
            Outcome::Conflict {
                action_id: r.action_id
            }
        );
        // Just inside the window, then at its end: the key is free again.
        let inside = t0.plus_secs(WINDOW_SECS - 1);
        assert_eq!(
            decide(Some(&r), &same, inside),
            Outcome::Replay(r.action_id)
        );
        let after = t0.plus_secs(WINDOW_SECS);
        assert_eq!(decide(Some(&r), &same, after), Outcome::Create);
        assert_eq!(decide(Some(&r), &other, after), Outcome::Create);
        // A short window for tests behaves the same way.
        assert_eq!(
            decide_within(Some(&r), &same, t0.plus_secs(10), 10),
            Outcome::Create
        );
        // A clock that stepped back still replays (the record is not "from the future").
        let before = Timestamp::from_unix_millis(1_799_999_999_000);
        assert_eq!(
            decide(Some(&r), &same, before),
            Outcome::Replay(r.action_id)
        );
    }
}
