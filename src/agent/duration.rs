//! Human durations on the command line: `90s`, `30m`, `1h30m`, `2d`, or bare seconds.
//!
//! Parsed here rather than with a crate because the grammar is tiny and the error
//! message should name the flag's expected shape exactly.

use std::time::Duration;

/// Parses `90`, `90s`, `30m`, `1h30m`, `2d`, `500ms`. Units: ms, s, m, h, d.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration (try 90s, 30m or 1h)".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("duration {text:?} is too large"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad(text));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("duration {text:?} is too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" | "sec" | "secs" => Duration::from_secs(n),
            "m" | "min" | "mins" => secs(n, 60, text)?,
            "h" => secs(n, 3600, text)?,
            "d" => secs(n, 86_400, text)?,
            _ => return Err(bad(text)),
        };
        total = total
            .checked_add(part)
            .ok_or_else(|| format!("duration {text:?} is too large"))?;
    }
    Ok(total)
}

fn secs(n: u64, per: u64, text: &str) -> Result<Duration, String> {
    n.checked_mul(per)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("duration {text:?} is too large"))
}

fn bad(text: &str) -> String {
    format!("not a duration: {text:?} (try 90s, 30m, 1h30m or 2d)")
}

/// Formats a duration for messages: `2h05m`, `4m30s`, `12s`, `800ms`.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{sec}s"),
        (0, _) if sec == 0 => format!("{m}m"),
        (0, _) => format!("{m}m{sec:02}s"),
        _ if m == 0 => format!("{h}h"),
        _ => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shapes() {
        let cases = [
            ("90", 90_000),
            ("90s", 90_000),
            ("30m", 1_800_000),
            ("1h30m", 5_400_000),
            ("2d", 172_800_000),
            ("500ms", 500),
            ("1m30s", 90_000),
            (" 5m ", 300_000),
        ];
        for (text, ms) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_garbage_with_a_hint() {
        for text in ["", "m", "5x", "1.5h", "-3s", "h1"] {
            let e = parse_duration(text).unwrap_err();
            assert!(e.contains("duration"), "{text}: {e}");
        }
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_duration(Duration::from_millis(800)), "800ms");
        assert_eq!(format_duration(Duration::from_secs(12)), "12s");
        assert_eq!(format_duration(Duration::from_secs(270)), "4m30s");
        assert_eq!(format_duration(Duration::from_secs(1800)), "30m");
        assert_eq!(format_duration(Duration::from_secs(7500)), "2h05m");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
    }
}
