//! Strict decoding: what the receiver acts on is exactly what was sent, or a refusal.
//!
//! serde alone accepts more than protocol v1 allows, and silently rewrites some of it: a
//! struct written as a positional array, `null` for an absent optional field, a timestamp
//! with `+00:00` or microseconds (read back as `…Z` with milliseconds), a lowercase ULID
//! (read back uppercase). A signature checked over the rewritten form then fails for a
//! decision signed exactly as sent. So every JSON body and client frame is decoded, encoded
//! again, and compared with the input value by value: any difference is an
//! `invalid_field` naming the field and the one form that is accepted.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ProtocolError;

/// Decodes `value` as `T`, refusing anything that does not read back identically.
pub fn decode_value<T: DeserializeOwned + Serialize>(value: &Value) -> Result<T, ProtocolError> {
    let decoded = T::deserialize(value).map_err(|e| classify(&e.to_string()))?;
    let back = serde_json::to_value(&decoded)
        .map_err(|e| ProtocolError::InvalidField(format!("cannot be encoded again: {e}")))?;
    same(value, &back, &mut String::new())?;
    Ok(decoded)
}

/// Parses `text` as one JSON object and decodes it strictly as `T`.
pub fn decode_object<T: DeserializeOwned + Serialize>(text: &str) -> Result<T, ProtocolError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ProtocolError::MalformedFrame(e.to_string()))?;
    if !value.is_object() {
        return Err(ProtocolError::MalformedFrame(format!(
            "expected one JSON object, got {}",
            kind(&value)
        )));
    }
    decode_value(&value)
}

/// Turns a serde message into a typed error: a missing field is named as such.
pub fn classify(msg: &str) -> ProtocolError {
    if let Some(rest) = msg.strip_prefix("missing field `")
        && let Some(end) = rest.find('`')
    {
        return ProtocolError::MissingField(rest[..end].to_string());
    }
    ProtocolError::InvalidField(msg.to_string())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn name(path: &str) -> &str {
    if path.is_empty() { "the message" } else { path }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn invalid(path: &str, message: String) -> ProtocolError {
    ProtocolError::InvalidField(format!("{}: {message}", name(path)))
}

/// Compares the input with its re-encoding; the first difference is the error.
fn same(input: &Value, back: &Value, path: &mut String) -> Result<(), ProtocolError> {
    match (input, back) {
        (Value::Null, _) => Err(invalid(
            path,
            "is null; an absent optional field is left out, never null".into(),
        )),
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                match b.get(k) {
                    Some(bv) => same(v, bv, path)?,
                    // Left out again on output: only an empty list (a default) is the same.
                    None if matches!(v, Value::Array(x) if x.is_empty()) => {}
                    None if v.is_null() => {
                        return Err(invalid(
                            path,
                            "is null; an absent optional field is left out, never null".into(),
                        ));
                    }
                    None => return Err(invalid(path, "is not a field here".into())),
                }
                path.truncate(len);
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                same(x, y, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        (x, y) if x == y => Ok(()),
        (x, y) if std::mem::discriminant(x) != std::mem::discriminant(y) => Err(invalid(
            path,
            format!("must be {}, not {}", kind(y), kind(x)),
        )),
        (x, y) => Err(invalid(
            path,
            format!(
                "{} is not in canonical form; the accepted form is {}",
                short(x),
                short(y)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ActionRequest, SignedDecision};

    fn decision(issued_at: &str, id: &str) -> String {
        format!(
            r#"{{"decision":{{"decision_id":"{id}","action_id":"01M84B9PR0000000000000T7KY","action_digest":"{}","verdict":"approve","reason":"ok","approver":"bob","key_id":"21fe31dfa154a261","issued_at":"{issued_at}"}},"signature":"AA=="}}"#,
            "a".repeat(64)
        )
    }

    #[test]
    fn the_canonical_form_reads_back_as_sent() {
        let d: SignedDecision = decode_object(&decision(
            "2026-11-23T14:03:12.345Z",
            "01M84BFJJS00000000000002RB",
        ))
        .unwrap();
        assert_eq!(d.decision.issued_at.to_string(), "2026-11-23T14:03:12.345Z");
    }

    #[test]
    fn other_timestamp_forms_are_refused_naming_the_accepted_one() {
        for t in [
            "2026-11-23T14:03:12.345+00:00",
            "2026-11-23T14:03:12.345678Z",
            "2026-11-23T14:03:12Z",
        ] {
            let e = decode_object::<SignedDecision>(&decision(t, "01M84BFJJS00000000000002RB"))
                .unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, ProtocolError::InvalidField(_)), "{t}: {msg}");
            assert!(msg.contains("decision.issued_at"), "{msg}");
            assert!(msg.contains("2026-11-23T14:03:12."), "{msg}");
        }
    }

    #[test]
    fn a_lowercase_ulid_is_refused() {
        let e = decode_object::<SignedDecision>(&decision(
            "2026-11-23T14:03:12.345Z",
            "01m84bfjjs00000000000002rb",
        ))
        .unwrap_err();
        assert!(e.to_string().contains("decision.decision_id"), "{e}");
        assert!(e.to_string().contains("01M84BFJJS00000000000002RB"), "{e}");
    }

    #[test]
    fn arrays_where_objects_are_required_are_refused() {
        let e = decode_object::<ActionRequest>("[1,2]").unwrap_err();
        assert!(matches!(e, ProtocolError::MalformedFrame(_)));
        let req = r#"{"kind":"db.export","summary":"s","requester":["agent","a","A"],"target":{"system":"pg","resource":"r","environment":"prod"}}"#;
        let e = decode_object::<ActionRequest>(req).unwrap_err();
        assert!(
            e.to_string()
                .contains("requester: must be an object, not an array"),
            "{e}"
        );
        let signed = r#"{"decision":["01M84BFJJS00000000000002RB"],"signature":"AA=="}"#;
        assert!(decode_object::<SignedDecision>(signed).is_err());
    }

    #[test]
    fn null_and_unknown_nested_fields_are_refused() {
        let base = r#"{"kind":"db.export","summary":"s","requester":{"kind":"agent","id":"a","display_name":"A"MORE},"target":{"system":"pg","resource":"r","environment":"prod"}}"#;
        let e =
            decode_object::<ActionRequest>(&base.replace("MORE", r#","model":null"#)).unwrap_err();
        assert!(e.to_string().contains("requester.model: is null"), "{e}");
        let e =
            decode_object::<ActionRequest>(&base.replace("MORE", r#","admin":true"#)).unwrap_err();
        assert!(
            e.to_string().contains("requester.admin: is not a field"),
            "{e}"
        );
        assert!(decode_object::<ActionRequest>(&base.replace("MORE", "")).is_ok());
    }
}
