//! Small value parsers for policy files, each with an error that names what was wrong:
//! durations (`"15m"`, `"1h30m"`, or seconds), string-or-list fields, tag ids.

use toml::Value;

use crate::protocol::validate::MAX_TTL_SECS;

/// A duration: an integer number of seconds, or text like `"90s"`, `"15m"`, `"1h30m"`,
/// `"2d"`. Must be 1 second to 7 days.
pub fn duration(field: &str, v: &Value) -> Result<u64, String> {
    let secs = match v {
        Value::Integer(n) => u64::try_from(*n).map_err(|_| format!("{field}: {n} is negative"))?,
        Value::String(s) => parse_duration(s).map_err(|e| format!("{field}: {e}"))?,
        other => {
            return Err(format!(
                "{field}: expected seconds or a duration like \"15m\", got {}",
                other.type_str()
            ));
        }
    };
    if secs == 0 || secs > MAX_TTL_SECS {
        return Err(format!("{field}: {secs} s is outside 1 s to 7 days"));
    }
    Ok(secs)
}

fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => {
                return Err(format!(
                    "{s:?} is not a duration (use s, m, h, d: \"1h30m\")"
                ));
            }
        };
        let n: u64 = num
            .parse()
            .map_err(|_| format!("{s:?} is not a duration (a number must precede {c:?})"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        num.clear();
    }
    if !num.is_empty() {
        return Err(format!(
            "{s:?} is not a duration (a unit must follow {num})"
        ));
    }
    Ok(total)
}

/// A field that takes one string or a list of strings, as a list.
pub fn string_list(field: &str, v: &Value) -> Result<Vec<String>, String> {
    let bad = |what: &str| format!("{field}: expected a string or a list of strings, got {what}");
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| bad(i.type_str()))
            })
            .collect(),
        other => Err(bad(other.type_str())),
    }
}

/// Tag ids are lowercase `a-z`, `0-9` and `-`, like the built-in ones.
pub fn check_tag_id(field: &str, id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field}: tag id {id:?} may contain only a-z, 0-9 and '-' (e.g. \"pci-scope\")"
        ))
    }
}

/// Approver group names: non-empty, no surrounding space.
pub fn check_groups(field: &str, groups: &[String]) -> Result<(), String> {
    match groups
        .iter()
        .find(|g| g.trim().is_empty() || g.trim() != g.as_str())
    {
        Some(g) => Err(format!(
            "{field}: group name {g:?} is empty or has surrounding spaces"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = |v: Value| duration("ttl", &v);
        assert_eq!(d(Value::Integer(900)), Ok(900));
        assert_eq!(d(Value::String("15m".into())), Ok(900));
        assert_eq!(d(Value::String("1h30m".into())), Ok(5400));
        assert_eq!(d(Value::String("2d".into())), Ok(172_800));
        assert!(d(Value::String("15 minutes".into())).is_err());
        assert!(
            d(Value::String("15".into()))
                .unwrap_err()
                .contains("a unit must follow")
        );
        assert!(
            d(Value::String("8d".into()))
                .unwrap_err()
                .contains("7 days")
        );
        assert!(d(Value::Integer(0)).is_err());
        assert!(d(Value::Integer(-5)).unwrap_err().contains("negative"));
        assert!(
            d(Value::Boolean(true))
                .unwrap_err()
                .starts_with("ttl: expected")
        );
    }

    #[test]
    fn lists_and_ids() {
        assert_eq!(
            string_list("kind", &Value::String("a".into())),
            Ok(vec!["a".into()])
        );
        let arr = Value::Array(vec![Value::String("a".into()), Value::Integer(1)]);
        assert!(string_list("kind", &arr).unwrap_err().contains("integer"));
        assert!(check_tag_id("tags", "pci-scope").is_ok());
        assert!(check_tag_id("tags", "PCI").is_err());
        assert!(check_groups("g", &["sre".into()]).is_ok());
        assert!(check_groups("g", &[" sre".into()]).is_err());
    }
}
