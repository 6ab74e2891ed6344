//! The bytes that announce a new risky action: the bell, and a desktop notification
//! through the terminal (OSC 9 or OSC 777). The text comes from an agent, so it is
//! reduced to characters that cannot end or extend the sequence.

use crate::console::edge::config::NotifyMode;
use crate::console::model::sanitize::notification_text;

/// Longest notification body sent.
const MAX_BODY: usize = 160;

/// What to write to the terminal for an alert.
pub fn alert_bytes(mode: NotifyMode, title: &str, body: &str) -> Vec<u8> {
    let title = notification_text(title, 60);
    let body = notification_text(body, MAX_BODY);
    let seq = match mode {
        NotifyMode::Off => return Vec::new(),
        NotifyMode::Bell => String::from("\x07"),
        NotifyMode::Osc9 => format!("\x07\x1b]9;{title}: {body}\x1b\\"),
        NotifyMode::Osc777 => format!("\x07\x1b]777;notify;{title};{body}\x1b\\"),
    };
    seq.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert!(alert_bytes(NotifyMode::Off, "t", "b").is_empty());
        assert_eq!(alert_bytes(NotifyMode::Bell, "t", "b"), b"\x07");
        assert_eq!(
            alert_bytes(NotifyMode::Osc9, "t", "b"),
            b"\x07\x1b]9;t: b\x1b\\"
        );
        assert_eq!(
            alert_bytes(NotifyMode::Osc777, "t", "b"),
            b"\x07\x1b]777;notify;t;b\x1b\\"
        );
    }

    #[test]
    fn hostile_text_cannot_escape_the_sequence() {
        let out = alert_bytes(NotifyMode::Osc777, "x", "a\x1b\\\x1b]0;owned\x07;b\u{9c}");
        let s = String::from_utf8(out).unwrap();
        // Exactly one ESC for the OSC start and one for the terminator.
        assert_eq!(s.matches('\x1b').count(), 2, "{s:?}");
        assert_eq!(s.matches('\x07').count(), 1);
        assert_eq!(
            s.matches(';').count(),
            3,
            "only the sequence's own separators"
        );
    }
}
