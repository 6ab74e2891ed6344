//! Off-hours: a request made outside the team's working hours, in the team's time zone
//! (an IANA name such as `Europe/Berlin`, so daylight saving is right, or a fixed UTC
//! offset such as `+05:30`). Fewer eyes are awake; the approver should know.

use jiff::civil::Weekday;
use jiff::tz::{Offset, TimeZone};

use super::tag;
use crate::protocol::{RiskTag, Timestamp};

/// Working hours: `start` inclusive to `end` exclusive, in minutes after midnight, on
/// `days`. `end` < `start` means the working day crosses midnight.
#[derive(Debug, Clone)]
pub struct OffHours {
    pub zone_name: String,
    pub zone: TimeZone,
    pub start: u16,
    pub end: u16,
    pub days: Vec<Weekday>,
}

impl Default for OffHours {
    fn default() -> Self {
        Self {
            zone_name: "UTC".into(),
            zone: TimeZone::UTC,
            start: 8 * 60,
            end: 18 * 60,
            days: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
        }
    }
}

impl OffHours {
    /// The default working hours in the broker machine's own time zone (`TZ`, else
    /// `/etc/localtime`; UTC when neither names one). The zone's name says where it came
    /// from, so a reason never leaves the approver guessing which clock was meant.
    pub fn system() -> Self {
        let zone = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let name = zone.iana_name().unwrap_or("UTC").to_string();
        Self {
            zone_name: format!("{name}, the broker's system zone"),
            zone,
            ..Self::default()
        }
    }
}

/// A time zone from an IANA name, `UTC`, or a fixed offset `+HH:MM` / `-HH:MM`.
pub fn parse_zone(s: &str) -> Result<TimeZone, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("utc") || s == "Z" {
        return Ok(TimeZone::UTC);
    }
    if let Some(sign) = s.chars().next().filter(|c| *c == '+' || *c == '-') {
        let (h, m) = s[1..]
            .split_once(':')
            .ok_or_else(|| format!("offset {s:?} must look like +05:30"))?;
        let h: i32 = h.parse().map_err(|_| format!("offset {s:?}: bad hours"))?;
        let m: i32 = m
            .parse()
            .map_err(|_| format!("offset {s:?}: bad minutes"))?;
        if h > 14 || m > 59 {
            return Err(format!("offset {s:?} is out of range (-14:00 to +14:00)"));
        }
        let secs = (h * 3600 + m * 60) * if sign == '-' { -1 } else { 1 };
        let off = Offset::from_seconds(secs).map_err(|e| format!("offset {s:?}: {e}"))?;
        return Ok(TimeZone::fixed(off));
    }
    TimeZone::get(s).map_err(|_| {
        format!("unknown time zone {s:?}; use an IANA name like \"Europe/Berlin\" or an offset like \"+02:00\"")
    })
}

/// `HH:MM` as minutes after midnight; `24:00` is allowed as an end.
pub fn parse_hhmm(s: &str) -> Result<u16, String> {
    let (h, m) = s
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("time {s:?} must look like 08:00"))?;
    let (h, m): (u16, u16) = match (h.parse(), m.parse()) {
        (Ok(h), Ok(m)) if m < 60 && (h < 24 || (h == 24 && m == 0)) => (h, m),
        _ => return Err(format!("time {s:?} is not a valid HH:MM")),
    };
    Ok(h * 60 + m)
}

/// A weekday from `mon` or `monday` (any case).
pub fn parse_day(s: &str) -> Result<Weekday, String> {
    let d = s.trim().to_ascii_lowercase();
    let all = [
        ("mon", "monday", Weekday::Monday),
        ("tue", "tuesday", Weekday::Tuesday),
        ("wed", "wednesday", Weekday::Wednesday),
        ("thu", "thursday", Weekday::Thursday),
        ("fri", "friday", Weekday::Friday),
        ("sat", "saturday", Weekday::Saturday),
        ("sun", "sunday", Weekday::Sunday),
    ];
    all.iter()
        .find(|(short, long, _)| d == *short || d == *long)
        .map(|(_, _, w)| *w)
        .ok_or_else(|| format!("unknown day {s:?}; use mon, tue, wed, thu, fri, sat, sun"))
}

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Tags a request made outside working hours at `now`.
pub fn off_hours(cfg: &OffHours, now: Timestamp) -> Option<RiskTag> {
    let ts = jiff::Timestamp::from_millisecond(now.unix_millis()).ok()?;
    let local = cfg.zone.to_datetime(ts);
    let minute = local.hour() as u16 * 60 + local.minute() as u16;
    let day = local.weekday();
    let in_hours = if cfg.start <= cfg.end {
        minute >= cfg.start && minute < cfg.end
    } else {
        minute >= cfg.start || minute < cfg.end
    };
    if cfg.days.contains(&day) && in_hours {
        return None;
    }
    let days: Vec<&str> = cfg.days.iter().map(|d| day_name(*d)).collect();
    Some(tag(
        "off-hours",
        format!(
            "requested {} {} ({}); working hours are {}–{} {}",
            day_name(day),
            hhmm(minute),
            cfg.zone_name,
            hhmm(cfg.start),
            hhmm(cfg.end),
            days.join(" ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn berlin() -> OffHours {
        OffHours {
            zone_name: "Europe/Berlin".into(),
            zone: parse_zone("Europe/Berlin").unwrap_or_else(|e| panic!("{e}")),
            ..OffHours::default()
        }
    }

    #[test]
    fn inside_and_outside_working_hours() {
        // Mon 2026-11-23 09:30 in Berlin (UTC+1 in winter).
        assert_eq!(off_hours(&berlin(), at("2026-11-23T08:30:00Z")), None);
        let t =
            off_hours(&berlin(), at("2026-11-23T02:14:00Z")).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "requested Mon 03:14 (Europe/Berlin); working hours are 08:00–18:00 Mon Tue Wed Thu Fri"
        );
        // Saturday noon is off-hours.
        assert!(off_hours(&berlin(), at("2026-11-28T11:00:00Z")).is_some());
    }

    #[test]
    fn without_a_configured_zone_the_system_zone_is_named() {
        let cfg = OffHours::system();
        assert!(
            cfg.zone_name.ends_with(", the broker's system zone"),
            "{}",
            cfg.zone_name
        );
        // Saturday is outside the default Mon–Fri in every zone on Earth at 12:00 UTC.
        let t = off_hours(&cfg, at("2026-11-28T12:00:00Z")).unwrap_or_else(|| panic!("no tag"));
        assert!(
            t.reason.contains("the broker's system zone"),
            "{}",
            t.reason
        );
    }

    #[test]
    fn daylight_saving_is_followed() {
        // 06:30 UTC is 08:30 in Berlin in summer (UTC+2) but 07:30 in winter (UTC+1).
        assert_eq!(off_hours(&berlin(), at("2026-07-06T06:30:00Z")), None);
        assert!(off_hours(&berlin(), at("2026-11-23T06:30:00Z")).is_some());
    }

    #[test]
    fn fixed_offsets_and_overnight_shifts() {
        let cfg = OffHours {
            zone_name: "+05:30".into(),
            zone: parse_zone("+05:30").unwrap_or_else(|e| panic!("{e}")),
            start: parse_hhmm("22:00").unwrap_or_default(),
            end: parse_hhmm("06:00").unwrap_or_default(),
            ..OffHours::default()
        };
        // 20:00 UTC Monday is 01:30 Tuesday in +05:30: inside the night shift.
        assert_eq!(off_hours(&cfg, at("2026-11-23T20:00:00Z")), None);
        assert!(off_hours(&cfg, at("2026-11-23T08:00:00Z")).is_some());
    }

    #[test]
    fn parsing_errors_are_clear() {
        assert!(
            parse_zone("Mars/Olympus")
                .unwrap_err()
                .contains("unknown time zone")
        );
        assert!(parse_zone("+25:00").is_err());
        assert!(parse_zone("-03:00").is_ok());
        assert_eq!(parse_hhmm("24:00"), Ok(1440));
        assert!(parse_hhmm("8am").is_err());
        assert!(parse_hhmm("12:60").is_err());
        assert_eq!(parse_day("Saturday"), Ok(Weekday::Saturday));
        assert_eq!(parse_day("tue"), Ok(Weekday::Tuesday));
        assert!(parse_day("tuesdax").is_err());
        assert!(parse_day("t").is_err());
    }
}
