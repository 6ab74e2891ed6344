//! Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and SHA-256 digests.
//!
//! `serde_json_canonicalizer` implements JCS, including ECMAScript number formatting and
//! UTF-16 key ordering; the tests below hold it to the RFC's own published examples.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// RFC 8785 canonical bytes of any serializable value.
pub fn canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain data types cannot fail: no maps with non-string keys,
    // no non-finite floats (the model holds none).
    serde_json_canonicalizer::to_vec(value)
        .unwrap_or_else(|e| unreachable!("canonical form of a protocol value failed: {e}"))
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

    #[test]
    fn digest_parse_rejects_non_hex() {
        assert!(Digest::try_from("xyz".to_string()).is_err());
        assert!(Digest::try_from("A".repeat(64)).is_err());
        assert!(Digest::try_from("a".repeat(64)).is_ok());
    }
}
