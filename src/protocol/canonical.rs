//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and SHA-256 digests.
//!
//! `serde_json_canonicalizer` implements JCS, including ECMAScript number formatting and
//! UTF-16 key ordering; the tests below hold it to the RFC's own published examples.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// RFC 8785 canonical bytes of any serializable value.
///
/// The protocol's values hold strings, booleans, integers and nesting only, and for those
/// JCS is simple: keys sorted by UTF-16 code units, strings escaped as `serde_json` escapes
/// them (the short forms and `\u00xx` in lowercase hex, nothing else), integers in
/// decimal. That path is taken directly ([`write_simple`]); anything else (a float, an
/// integer past 2^53, where ECMAScript number formatting matters) goes through
/// `serde_json_canonicalizer`. The direct path is several times faster, and the broker
/// computes a canonical form for every submission, every vote's signature check and every
/// audit entry; the tests hold both paths to the same bytes.
pub fn canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    if let Ok(v) = serde_json::to_value(value) {
        let mut out = Vec::with_capacity(512);
        if write_simple(&v, &mut out) {
            return out;
        }
    }
    full_jcs(value)
}

/// JCS through `serde_json_canonicalizer`, for any value.
fn full_jcs<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain data types cannot fail: no maps with non-string keys,
    // no non-finite floats (the model holds none).
    serde_json_canonicalizer::to_vec(value)
        .unwrap_or_else(|e| unreachable!("canonical form of a protocol value failed: {e}"))
}

/// Integers up to this magnitude print the same in JCS (ECMAScript doubles) as in decimal.
pub(crate) const EXACT_INTEGER: u64 = 1 << 53;

/// Writes `v` canonically when it holds no float and no integer past 2^53; false (with
/// `out` to be discarded) otherwise.
pub(crate) fn write_simple(v: &serde_json::Value, out: &mut Vec<u8>) -> bool {
    use serde_json::Value;
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64().filter(|u| *u <= EXACT_INTEGER) {
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT_INTEGER) {
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                return false;
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if !write_simple(item, out) {
                    return false;
                }
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                if !write_simple(item, out) {
                    return false;
                }
            }
            out.push(b'}');
        }
    }
    true
}

/// A JSON string as JCS writes it (which is how `serde_json` writes it).
pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    // Writing a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// SHA-256 of the canonical form, as lowercase hex.
pub fn digest_of<T: Serialize>(value: &T) -> Digest {
    Digest::of_bytes(&canonical_json(value))
}

/// A SHA-256 digest as 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first `n` hex characters, for display.
    pub fn prefix(&self, n: usize) -> &str {
        &self.0[..n.min(self.0.len())]
    }
}

impl TryFrom<String> for Digest {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(s))
        } else {
            Err(format!(
                "a digest is 64 lowercase hex characters, got {} characters",
                s.len()
            ))
        }
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon_str(json: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        String::from_utf8(canonical_json(&v)).unwrap()
    }

    /// RFC 8785 section 3.2.2: the sample input and its canonical output.
    #[test]
    fn rfc8785_sample() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        let expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,\
                        0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        assert_eq!(canon_str(input), expected);
    }

    /// RFC 8785 section 3.2.3: keys sorted by UTF-16 code units, not by UTF-8 bytes.
    #[test]
    fn rfc8785_utf16_key_order() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
                        \"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\
                        \"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon_str(input), expected);
    }

    /// RFC 8785 appendix B: IEEE 754 doubles and their ECMAScript serialization.
    #[test]
    fn rfc8785_number_formatting() {
        let cases: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(bits, want) in cases {
            let v = serde_json::Value::from(f64::from_bits(bits));
            let got = String::from_utf8(canonical_json(&v)).unwrap();
            assert_eq!(got, want, "bits {bits:#018x}");
        }
    }

    #[test]
    fn escaping_uses_short_forms_and_lowercase_hex() {
        assert_eq!(
            canon_str(r#""\u0008\u0009\u000a\u000c\u000d\u001f""#),
            r#""\b\t\n\f\r\u001f""#
        );
        // Non-ASCII and U+2028 are emitted as UTF-8, not escaped.
        assert_eq!(canon_str(r#""\u2028é""#), "\"\u{2028}é\"");
    }

    #[test]
    fn digest_is_sha256_hex_of_canonical_bytes() {
        let d = digest_of(&serde_json::json!({"b": 1, "a": [true]}));
        // sha256(b'{"a":[true],"b":1}')
        assert_eq!(d, Digest::of_bytes(br#"{"a":[true],"b":1}"#));
        assert_eq!(d.as_str().len(), 64);
    }

    /// Both paths give the same bytes: the direct one is checked against the
    /// canonicalizer crate over generated JSON (every control character, non-ASCII and
    /// astral keys and strings, integers at the edges, nesting).
    #[test]
    fn the_direct_path_writes_what_the_canonicalizer_writes() {
        use proptest::prelude::*;
        use serde_json::Value;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-zA-Z0-9_]{0,8}",
                "[\\x00-\\x7f]{0,8}",
                "[\\u{80}-\\u{10ffff}]{0,6}",
                "[\\u{d7ff}-\\u{e001}\\u{fffd}-\\u{10002}a\\u{1f}\"\\\\]{0,6}",
            ]
        }
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-(1i64 << 53)..=(1i64 << 53)).prop_map(Value::from),
            prop_oneof![Just(1u64 << 53), Just((1u64 << 53) + 1), Just(u64::MAX)]
                .prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            text().prop_map(Value::from),
        ];
        let tree = leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        });
        proptest!(ProptestConfig::with_cases(2000), |(v in tree)| {
            let mut direct = Vec::new();
            if write_simple(&v, &mut direct) {
                let full = full_jcs(&v);
                prop_assert_eq!(String::from_utf8_lossy(&direct), String::from_utf8_lossy(&full));
            }
            prop_assert_eq!(canonical_json(&v), full_jcs(&v));
        });
    }

    #[test]
    fn floats_and_big_integers_take_the_full_path() {
        for v in [
            serde_json::json!({"a": 4.5}),
            serde_json::json!([1u64 << 60]),
            serde_json::json!({"n": -(1i64 << 54)}),
        ] {
            assert!(!write_simple(&v, &mut Vec::new()), "{v}");
            assert_eq!(canonical_json(&v), full_jcs(&v));
        }
        let mut out = Vec::new();
        assert!(write_simple(
            &serde_json::json!({"b": [1, -2, true], "a": "x\u{1}"}),
            &mut out
        ));
        assert_eq!(out, br#"{"a":"x\u0001","b":[1,-2,true]}"#);
    }

    #[test]
    fn digest_parse_rejects_non_hex() {
        assert!(Digest::try_from("xyz".to_string()).is_err());
        assert!(Digest::try_from("A".repeat(64)).is_err());
        assert!(Digest::try_from("a".repeat(64)).is_ok());
    }
}
