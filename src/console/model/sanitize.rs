//! Display-safe text: everything an agent sent, made visible instead of interpreted.
//!
//! An agent controls most of an action's strings. Printed raw, an escape sequence could
//! clear the screen, retitle the window or fake a "critical" badge, and a bidi override
//! could reverse what the approver reads (Trojan Source). So every agent string becomes a
//! [`SafeText`] before any widget sees it, and the views accept only `SafeText`.
//!
//! Rendering rules (the same classes as the broker's `hidden-characters` risk tag, from
//! [`crate::text::hidden_class`]):
//! - escape sequences are consumed as one unit and shown by name with their parameters:
//!   CSI as `⟨CSI 2J⟩`, OSC as `⟨OSC 0;title⟩`, DCS as `⟨DCS …⟩`, others as `⟨ESC X⟩`
//!   (the 8-bit C1 introducers U+009B/U+009D/U+0090 are treated the same way);
//! - any other control, bidi or zero-width character as its code point, `⟨U+202E⟩`;
//! - tabs expand to the next multiple of [`TAB_WIDTH`] columns;
//! - a line longer than [`MAX_LINE_CHARS`] is cut with a `…` marker; narrow cells use
//!   [`SafeText::truncate`] (also `…`), panes wrap.
//!
//! Markers are flagged as such so the theme can show them in a warning style.

use unicode_width::UnicodeWidthStr;

use crate::text::{HiddenClass, hidden_class};

/// Columns per tab stop.
pub const TAB_WIDTH: usize = 4;
/// Characters kept per line; the rest is replaced by `…`. As large as the largest text
/// the protocol admits (a 1 MiB diff), so nothing an approver signs is ever cut: long
/// lines wrap in the detail panes and are cut with `…` only in narrow cells (the queue).
pub const MAX_LINE_CHARS: usize = crate::protocol::limits::MAX_DIFF_BYTES;
/// Characters of an escape sequence's parameters shown inside its marker.
const MAX_SEQ_SHOWN: usize = 48;

/// One run of display-safe text: either the agent's own (safe) characters, or a marker
/// standing for something that was made visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub marker: bool,
}

/// A single line of text that is safe to hand to a terminal widget.
///
/// The only ways to build one are [`SafeText::line`], [`SafeText::lines`] and
/// [`SafeText::trusted`] (for the console's own words), so agent text cannot reach a
/// view without passing through the sanitizer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SafeText {
    pieces: Vec<Piece>,
}

impl SafeText {
    /// Sanitizes `s` as one line: a newline is shown as `⟨U+000A⟩`.
    pub fn line(s: &str) -> Self {
        let mut b = Builder::default();
        b.push_str(s, true);
        b.finish()
    }

    /// Sanitizes multi-line text: one `SafeText` per line (`\n` or `\r\n` ends a line).
    pub fn lines(s: &str) -> Vec<Self> {
        s.split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .map(|l| {
                let mut b = Builder::default();
                b.push_str(l, false);
                b.finish()
            })
            .collect()
    }

    /// Text written by the console itself (labels, numbers). Still checked: a hidden
    /// character here is a bug, and is made visible rather than trusted.
    pub fn trusted(s: impl AsRef<str>) -> Self {
        Self::line(s.as_ref())
    }

    /// Concatenates texts that are already display-safe, keeping their markers.
    pub fn join(parts: &[&SafeText]) -> Self {
        Self {
            pieces: parts
                .iter()
                .flat_map(|p| p.pieces.iter().cloned())
                .collect(),
        }
    }

    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The displayed characters, markers included.
    pub fn plain(&self) -> String {
        self.pieces.iter().map(|p| p.text.as_str()).collect()
    }

    /// Display width in terminal columns.
    pub fn width(&self) -> usize {
        self.pieces.iter().map(|p| p.text.width()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.iter().all(|p| p.text.is_empty())
    }

    /// True when anything was made visible.
    pub fn has_markers(&self) -> bool {
        self.pieces.iter().any(|p| p.marker)
    }

    /// At most `cols` columns; a cut line ends with `…`.
    pub fn truncate(&self, cols: usize) -> Self {
        if self.width() <= cols {
            return self.clone();
        }
        if cols == 0 {
            return Self::default();
        }
        let mut out = Vec::new();
        let mut used = 0;
        'outer: for p in &self.pieces {
            let mut text = String::new();
            for c in p.text.chars() {
                let w = char_width(c);
                if used + w > cols - 1 {
                    if !text.is_empty() {
                        out.push(Piece {
                            text: std::mem::take(&mut text),
                            marker: p.marker,
                        });
                    }
                    break 'outer;
                }
                used += w;
                text.push(c);
            }
            out.push(Piece {
                text,
                marker: p.marker,
            });
        }
        out.push(Piece {
            text: "…".into(),
            marker: true,
        });
        Self { pieces: out }
    }

    /// Splits into rows of at most `cols` columns (hard wrap, markers kept whole where
    /// they fit).
    pub fn wrap(&self, cols: usize) -> Vec<Self> {
        let cols = cols.max(1);
        let mut rows = vec![Self::default()];
        let mut used = 0;
        for p in &self.pieces {
            for c in p.text.chars() {
                let w = char_width(c);
                if used + w > cols && used > 0 {
                    rows.push(Self::default());
                    used = 0;
                }
                let row = rows
                    .last_mut()
                    .unwrap_or_else(|| unreachable!("rows is never empty"));
                match row.pieces.last_mut() {
                    Some(last) if last.marker == p.marker => last.text.push(c),
                    _ => row.pieces.push(Piece {
                        text: c.to_string(),
                        marker: p.marker,
                    }),
                }
                used += w;
            }
        }
        rows
    }
}

fn char_width(c: char) -> usize {
    unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)
}

#[derive(Default)]
struct Builder {
    pieces: Vec<Piece>,
    col: usize,
    chars: usize,
    cut: bool,
}

impl Builder {
    fn text(&mut self, s: &str) {
        self.add(s, false);
    }

    fn marker(&mut self, s: &str) {
        self.add(s, true);
    }

    fn add(&mut self, s: &str, marker: bool) {
        if self.cut {
            return;
        }
        if self.chars >= MAX_LINE_CHARS {
            self.cut = true;
            self.pieces.push(Piece {
                text: "…".into(),
                marker: true,
            });
            return;
        }
        self.chars += s.chars().count();
        self.col += s.width();
        match self.pieces.last_mut() {
            Some(last) if last.marker == marker && !marker => last.text.push_str(s),
            _ => self.pieces.push(Piece {
                text: s.to_string(),
                marker,
            }),
        }
    }

    fn push_str(&mut self, s: &str, one_line: bool) {
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '\t' => {
                    let n = TAB_WIDTH - self.col % TAB_WIDTH;
                    self.text(&" ".repeat(n));
                }
                '\n' if one_line => self.marker("⟨U+000A⟩"),
                '\u{1b}' => self.escape(&mut it),
                '\u{9b}' => self.sequence("CSI", csi_body(&mut it)),
                '\u{9d}' => self.sequence("OSC", string_body(&mut it)),
                '\u{90}' => self.sequence("DCS", string_body(&mut it)),
                '\u{2028}' | '\u{2029}' => self.marker(&code_point(c)),
                c => match hidden_class(c) {
                    Some(HiddenClass::Escape) => self.marker("⟨ESC⟩"),
                    Some(_) => self.marker(&code_point(c)),
                    None => {
                        let mut buf = [0u8; 4];
                        self.text(c.encode_utf8(&mut buf));
                    }
                },
            }
        }
    }

    /// ESC was read: consume the whole sequence it introduces.
    fn escape(&mut self, it: &mut std::iter::Peekable<std::str::Chars<'_>>) {
        match it.peek().copied() {
            Some('[') => {
                it.next();
                let body = csi_body(it);
                self.sequence("CSI", body);
            }
            Some(']') => {
                it.next();
                let body = string_body(it);
                self.sequence("OSC", body);
            }
            Some(k @ ('P' | 'X' | '^' | '_')) => {
                it.next();
                let name = match k {
                    'P' => "DCS",
                    'X' => "SOS",
                    '^' => "PM",
                    _ => "APC",
                };
                let body = string_body(it);
                self.sequence(name, body);
            }
            Some(c) if (' '..='~').contains(&c) => {
                it.next();
                self.marker(&format!("⟨ESC {c}⟩"));
            }
            _ => self.marker("⟨ESC⟩"),
        }
    }

    fn sequence(&mut self, name: &str, body: String) {
        let shown = visible_params(&body);
        if shown.is_empty() {
            self.marker(&format!("⟨{name}⟩"));
        } else {
            self.marker(&format!("⟨{name} {shown}⟩"));
        }
    }

    fn finish(self) -> SafeText {
        SafeText {
            pieces: self.pieces,
        }
    }
}

/// The parameters and final byte of a CSI sequence (ECMA-48: parameter and intermediate
/// bytes 0x20–0x3F, then one final byte 0x40–0x7E).
fn csi_body(it: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut body = String::new();
    while let Some(&c) = it.peek() {
        if ('\u{20}'..='\u{3f}').contains(&c) {
            body.push(c);
            it.next();
        } else {
            if ('\u{40}'..='\u{7e}').contains(&c) {
                body.push(c);
                it.next();
            }
            break;
        }
    }
    body
}

/// The body of a string sequence (OSC, DCS…), up to BEL, ST (`ESC \`) or U+009C.
fn string_body(it: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut body = String::new();
    while let Some(c) = it.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if it.peek() == Some(&'\\') {
                    it.next();
                }
                break;
            }
            '\n' => break,
            c => body.push(c),
        }
    }
    body
}

/// A sequence's parameters as shown inside its marker: hidden characters as code
/// points, length capped.
fn visible_params(body: &str) -> String {
    let mut out = String::new();
    for (i, c) in body.chars().enumerate() {
        if i >= MAX_SEQ_SHOWN {
            out.push('…');
            break;
        }
        if hidden_class(c).is_some() || c == '\t' || c == '\n' {
            out.push_str(&code_point(c));
        } else {
            out.push(c);
        }
    }
    out
}

fn code_point(c: char) -> String {
    format!("⟨U+{:04X}⟩", c as u32)
}

/// Text safe to embed in a terminal notification (OSC 9 / OSC 777): printable ASCII
/// and ordinary Unicode only, no `;` (the OSC 777 field separator), capped length.
pub fn notification_text(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for c in SafeText::line(s).plain().chars() {
        if out.chars().count() >= max_chars {
            out.push('…');
            break;
        }
        if c == ';' {
            out.push(',');
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> String {
        SafeText::line(s).plain()
    }

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(show("drop table users; é € 😀"), "drop table users; é € 😀");
        assert!(!SafeText::line("ok").has_markers());
    }

    #[test]
    fn csi_is_one_visible_unit() {
        assert_eq!(show("a\u{1b}[2Jb"), "a⟨CSI 2J⟩b");
        assert_eq!(show("\u{1b}[1;31mRED\u{1b}[0m"), "⟨CSI 1;31m⟩RED⟨CSI 0m⟩");
        assert_eq!(show("x\u{9b}2Jy"), "x⟨CSI 2J⟩y");
        assert!(SafeText::line("\u{1b}[2J").has_markers());
    }

    #[test]
    fn osc_and_dcs_are_consumed_up_to_their_terminator() {
        assert_eq!(show("\u{1b}]0;pwned\u{7}after"), "⟨OSC 0;pwned⟩after");
        assert_eq!(
            show("\u{1b}]8;;http://x\u{1b}\\link"),
            "⟨OSC 8;;http://x⟩link"
        );
        assert_eq!(show("\u{1b}Pq#0\u{1b}\\z"), "⟨DCS q#0⟩z");
        assert_eq!(show("\u{1b}7"), "⟨ESC 7⟩");
        assert_eq!(show("end\u{1b}"), "end⟨ESC⟩");
        // An unterminated OSC stops at the end of the line, never swallows the rest.
        assert_eq!(SafeText::lines("\u{1b}]0;x\nnext")[1].plain(), "next");
    }

    #[test]
    fn controls_inside_a_sequence_are_shown_too() {
        assert_eq!(show("\u{1b}]0;a\u{202e}b\u{7}"), "⟨OSC 0;a⟨U+202E⟩b⟩");
    }

    #[test]
    fn c0_and_c1_controls_are_code_points() {
        assert_eq!(show("bell\u{7}"), "bell⟨U+0007⟩");
        assert_eq!(show("cr\rlf"), "cr⟨U+000D⟩lf");
        assert_eq!(show("del\u{7f}"), "del⟨U+007F⟩");
        assert_eq!(show("nel\u{85}"), "nel⟨U+0085⟩");
        assert_eq!(show("nul\u{0}"), "nul⟨U+0000⟩");
        assert_eq!(show("a\nb"), "a⟨U+000A⟩b");
    }

    #[test]
    fn bidi_overrides_are_code_points() {
        assert_eq!(show("file\u{202e}gnp.exe"), "file⟨U+202E⟩gnp.exe");
        assert_eq!(show("\u{2066}x\u{2069}"), "⟨U+2066⟩x⟨U+2069⟩");
        assert_eq!(show("\u{200f}"), "⟨U+200F⟩");
    }

    #[test]
    fn zero_width_characters_are_code_points() {
        assert_eq!(show("ad\u{200b}min"), "ad⟨U+200B⟩min");
        assert_eq!(show("\u{feff}x"), "⟨U+FEFF⟩x");
        assert_eq!(show("soft\u{ad}hyphen"), "soft⟨U+00AD⟩hyphen");
        assert_eq!(show("line\u{2028}sep"), "line⟨U+2028⟩sep");
    }

    #[test]
    fn tabs_expand_to_tab_stops() {
        assert_eq!(show("\tx"), "    x");
        assert_eq!(show("ab\tx"), "ab  x");
        assert_eq!(show("abcd\tx"), "abcd    x");
    }

    #[test]
    fn long_lines_are_cut_with_a_marker() {
        let s = "x".repeat(MAX_LINE_CHARS + 100);
        let t = SafeText::line(&s);
        assert_eq!(t.plain().chars().count(), MAX_LINE_CHARS + 1);
        assert!(t.plain().ends_with('…'));
        let short = SafeText::line("hello world").truncate(6);
        assert_eq!(short.plain(), "hello…");
        assert_eq!(short.width(), 6);
        assert_eq!(SafeText::line("hi").truncate(6).plain(), "hi");
    }

    #[test]
    fn wrap_splits_by_columns() {
        let rows = SafeText::line("abcdefg").wrap(3);
        let rows: Vec<_> = rows.iter().map(SafeText::plain).collect();
        assert_eq!(rows, ["abc", "def", "g"]);
        let wide = SafeText::line("日本語").wrap(4);
        assert_eq!(wide.len(), 2);
    }

    #[test]
    fn lines_split_on_lf_and_crlf() {
        let l: Vec<_> = SafeText::lines("a\r\nb\nc")
            .iter()
            .map(SafeText::plain)
            .collect();
        assert_eq!(l, ["a", "b", "c"]);
    }

    #[test]
    fn notification_text_cannot_break_out_of_its_sequence() {
        let n = notification_text("x\u{1b}]0;t\u{7};y\u{9c}z", 100);
        assert!(!n.chars().any(|c| c.is_control()), "{n:?}");
        assert!(!n.contains(';'));
        assert_eq!(notification_text("abcdef", 3), "abc…");
    }
}
