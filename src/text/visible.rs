//! The visible form: what any string looks like on the console and in every CLI output.
//!
//! Rules (one table, documented in docs/console.md):
//! - a character with a [`super::Class`] is a marker: C0 controls and DEL by name (`⟨ESC⟩`,
//!   `⟨BEL⟩`, `⟨CR⟩`), everything else by code point (`⟨U+202E⟩`, `⟨U+E0100⟩`);
//! - ESC is only ever `⟨ESC⟩`; the bytes after it are shown as text, in the marker style
//!   when they form a complete sequence, so an unterminated sequence never hides the rest;
//! - a tab is `⇥` padded with spaces to the next multiple of [`TAB_WIDTH`] columns;
//! - a newline ends the line (multi-line fields) or is `⟨LF⟩` (one-line fields);
//! - a literal `⟨` or `⇥` is shown as its code point, so markers cannot be faked and
//!   the original reads back unambiguously ([`read_back`]).

use unicode_width::UnicodeWidthStr;

use super::scan::{Token, scan};

/// Columns per tab stop.
pub const TAB_WIDTH: usize = 4;

/// A run of the visible form: the string's own characters, or a marker (styled as a
/// warning by views) standing for what was made visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub marker: bool,
}

const C0_NAMES: [&str; 32] = [
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR",
    "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC",
    "FS", "GS", "RS", "US",
];

/// The marker for one character: `⟨ESC⟩`, `⟨DEL⟩`, `⟨U+202E⟩`.
pub fn marker(c: char) -> String {
    let n = u32::from(c);
    match n {
        0..=0x1f => format!("⟨{}⟩", C0_NAMES[n as usize]),
        0x7f => "⟨DEL⟩".to_string(),
        _ => format!("⟨U+{n:04X}⟩"),
    }
}

/// The character a marker's inside (`ESC`, `U+202E`) stands for.
fn unmarker(name: &str) -> Option<char> {
    if let Some(i) = C0_NAMES.iter().position(|n| *n == name) {
        return char::from_u32(i as u32);
    }
    if name == "DEL" {
        return Some('\u{7f}');
    }
    let hex = name.strip_prefix("U+")?;
    if hex.len() < 4
        || !hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase())
    {
        return None;
    }
    char::from_u32(u32::from_str_radix(hex, 16).ok()?)
}

/// Walks `s` as its visible form from column `start_col`: `f(source byte range, shown text, marker)` for each
/// run, and `f(range, "\n", false)` where a multi-line form breaks the line.
fn shown_from(
    s: &str,
    one_line: bool,
    start_col: usize,
    mut f: impl FnMut(std::ops::Range<usize>, &str, bool),
) {
    let mut col = start_col;
    let mut pos = 0usize;
    scan(s, |t| {
        let (len, shown, is_marker): (usize, std::borrow::Cow<'_, str>, bool) = match t {
            Token::Text { text, seq } => (text.len(), text.into(), seq),
            Token::Hidden { c, .. } | Token::Syntax(c) => (c.len_utf8(), marker(c).into(), true),
            Token::Tab => {
                let pad = TAB_WIDTH - 1 - col % TAB_WIDTH;
                let mut t = String::from("⇥");
                t.extend(std::iter::repeat_n(' ', pad));
                (1, t.into(), true)
            }
            Token::Newline if one_line => (1, marker('\n').into(), true),
            Token::Newline => {
                f(pos..pos + 1, "\n", false);
                pos += 1;
                col = 0;
                return;
            }
        };
        col += shown.width();
        f(pos..pos + len, &shown, is_marker);
        pos += len;
    });
}

fn build(s: &str, one_line: bool, start_col: usize) -> Vec<Vec<Piece>> {
    // Most fields are printable ASCII, shown as they are: skip the scan.
    if !s.is_empty() && s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return vec![vec![Piece {
            text: s.to_string(),
            marker: false,
        }]];
    }
    let mut lines: Vec<Vec<Piece>> = vec![Vec::new()];
    shown_from(s, one_line, start_col, |_, shown, marker| {
        if !marker && shown == "\n" && !one_line {
            lines.push(Vec::new());
            return;
        }
        let line = lines
            .last_mut()
            .unwrap_or_else(|| unreachable!("there is always a line"));
        match line.last_mut() {
            Some(last) if last.marker == marker => last.text.push_str(shown),
            _ => line.push(Piece {
                text: shown.to_string(),
                marker,
            }),
        }
    });
    lines
}

/// `s` as one line of pieces: a newline is `⟨LF⟩`.
pub fn visible(s: &str) -> Vec<Piece> {
    build(s, true, 0).pop().unwrap_or_default()
}

/// [`visible`] for text that starts at column `col` of its line (tab stops count from
/// the line's start: a diff line drawn in several highlighted segments).
pub fn visible_at(s: &str, col: usize) -> Vec<Piece> {
    build(s, true, col).pop().unwrap_or_default()
}

/// `s` as lines of pieces, one per `\n` (a `\r` before it stays visible as `⟨CR⟩`).
pub fn visible_lines(s: &str) -> Vec<Vec<Piece>> {
    build(s, false, 0)
}

/// `s` as one display-safe line of plain text, for CLI output and logs.
pub fn visible_string(s: &str) -> String {
    visible(s).into_iter().map(|p| p.text).collect()
}

/// True when `s` is shown exactly as it is (nothing made visible, no tab, no newline).
pub fn is_plain(s: &str) -> bool {
    let mut plain = true;
    scan(s, |t| {
        if !matches!(t, Token::Text { seq: false, .. }) {
            plain = false;
        }
    });
    plain
}

/// The original string, read back from its visible form (`lines` joined by `\n`):
/// proof that the form hides nothing. `None` when `shown` is not a visible form.
pub fn read_back(shown: &str) -> Option<String> {
    let mut out = String::with_capacity(shown.len());
    for (n, line) in shown.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let mut col = 0usize;
        let mut rest = line;
        while let Some(c) = rest.chars().next() {
            match c {
                '⟨' => {
                    let end = rest.find('⟩')?;
                    out.push(unmarker(&rest['⟨'.len_utf8()..end])?);
                    col += rest[..end + '⟩'.len_utf8()].width();
                    rest = &rest[end + '⟩'.len_utf8()..];
                }
                '⇥' => {
                    out.push('\t');
                    col += 1;
                    rest = &rest['⇥'.len_utf8()..];
                    while !col.is_multiple_of(TAB_WIDTH) {
                        rest = rest.strip_prefix(' ')?;
                        col += 1;
                    }
                }
                c => {
                    out.push(c);
                    col += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
    }
    Some(out)
}

/// `shown` (a visible form) cut to at most `cols` columns, ending in `…` when cut. A
/// marker is never split: it is kept whole or dropped, and the `…` says text follows.
pub fn truncate(shown: &str, cols: usize) -> String {
    if shown.width() <= cols {
        return shown.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    let mut rest = shown;
    while !rest.is_empty() {
        let unit_len = if rest.starts_with('⟨') {
            rest.find('⟩').map_or(rest.len(), |e| e + '⟩'.len_utf8())
        } else {
            rest.chars().next().map_or(0, char::len_utf8)
        };
        let unit = &rest[..unit_len];
        let w = unit.width();
        if used + w + 1 > cols {
            break;
        }
        used += w;
        out.push_str(unit);
        rest = &rest[unit_len..];
    }
    if cols > 0 {
        out.push('…');
    }
    out
}

/// Every hidden class found in `s` (for quick "has anything hidden" checks).
pub fn has_hidden(s: &str) -> bool {
    let mut found = false;
    scan(s, |t| found |= matches!(t, Token::Hidden { .. }));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> String {
        visible_string(s)
    }

    fn lines(s: &str) -> Vec<String> {
        visible_lines(s)
            .into_iter()
            .map(|l| l.into_iter().map(|p| p.text).collect())
            .collect()
    }

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(
            line("drop table users; é € 😀 日本"),
            "drop table users; é € 😀 日本"
        );
        assert!(is_plain("ok"));
        assert!(!is_plain("a\tb"));
    }

    #[test]
    fn unterminated_osc_never_eats_the_rest_of_the_field() {
        let s = format!(
            "restart web\u{1b}]0;{} AND DROP DATABASE prod_customers",
            "x".repeat(50)
        );
        let shown = line(&s);
        assert_eq!(
            shown,
            format!(
                "restart web⟨ESC⟩]0;{} AND DROP DATABASE prod_customers",
                "x".repeat(50)
            )
        );
    }

    #[test]
    fn a_long_csi_never_hides_the_amount() {
        let s = format!("pay \u{1b}[{}1000000 USD", "9".repeat(60));
        let shown = line(&s);
        assert!(shown.ends_with("1000000 USD"), "{shown}");
        assert!(shown.starts_with("pay ⟨ESC⟩["));
    }

    #[test]
    fn complete_sequences_are_drawn_as_markers() {
        let p = visible("a\u{1b}[2Jb");
        assert_eq!(
            p,
            [
                Piece {
                    text: "a".into(),
                    marker: false
                },
                Piece {
                    text: "⟨ESC⟩[2J".into(),
                    marker: true
                },
                Piece {
                    text: "b".into(),
                    marker: false
                },
            ]
        );
        assert_eq!(line("\u{1b}]0;pwned\u{7}after"), "⟨ESC⟩]0;pwned⟨BEL⟩after");
    }

    #[test]
    fn controls_have_names_and_the_rest_code_points() {
        assert_eq!(line("bell\u{7}"), "bell⟨BEL⟩");
        assert_eq!(line("cr\rlf"), "cr⟨CR⟩lf");
        assert_eq!(line("del\u{7f}"), "del⟨DEL⟩");
        assert_eq!(line("nel\u{85}"), "nel⟨U+0085⟩");
        assert_eq!(line("a\nb"), "a⟨LF⟩b");
        assert_eq!(line("file\u{202e}gnp.exe"), "file⟨U+202E⟩gnp.exe");
        assert_eq!(line("x\u{E0100}"), "x⟨U+E0100⟩");
    }

    #[test]
    fn every_invisible_from_the_issue_is_a_marker() {
        for c in [
            '\u{FFF9}',
            '\u{FFFA}',
            '\u{FFFB}',
            '\u{3164}',
            '\u{FFA0}',
            '\u{2800}',
            '\u{206A}',
            '\u{206F}',
            '\u{034F}',
            '\u{FE0F}',
            '\u{E0100}',
            '\u{17B4}',
            '\u{1D173}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}',
            '\u{2028}',
            '\u{2029}',
        ] {
            let s = format!("AAAA{c}PLAIN");
            assert_eq!(line(&s), format!("AAAA{}PLAIN", marker(c)));
        }
    }

    #[test]
    fn tabs_show_an_arrow_and_keep_tab_stops() {
        assert_eq!(line("\tx"), "⇥   x");
        assert_eq!(line("ab\tx"), "ab⇥ x");
        assert_eq!(line("abc\tx"), "abc⇥x");
        assert_eq!(lines("a\n\tb"), ["a", "⇥   b"]);
    }

    #[test]
    fn the_renderers_own_syntax_is_escaped() {
        assert_eq!(line("⟨U+202E⟩"), "⟨U+27E8⟩U+202E⟩");
        assert_eq!(line("⇥"), "⟨U+21E5⟩");
    }

    #[test]
    fn lines_keep_carriage_returns_visible() {
        assert_eq!(lines("a\r\nb\nc"), ["a⟨CR⟩", "b", "c"]);
    }

    #[test]
    fn read_back_recovers_the_original() {
        for s in [
            "plain",
            "a\tb\tcc\td",
            "x\u{1b}]0;t\u{7}y\u{1b}[2J",
            "⟨U+0041⟩ ⇥ ⟩",
            "l1\r\nl2\n\u{202e}\u{E0100}",
            "e\u{301}\u{302}\u{303}",
        ] {
            let shown: Vec<String> = lines(s);
            assert_eq!(read_back(&shown.join("\n")).as_deref(), Some(s), "{s:?}");
            assert_eq!(read_back(&line(s)).as_deref(), Some(s), "{s:?}");
        }
    }

    #[test]
    fn truncate_never_splits_a_marker() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("ab⟨U+202E⟩cd", 6), "ab…");
        assert_eq!(truncate("日本語テキスト", 7), "日本語…");
    }
}
