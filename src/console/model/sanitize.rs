//! Display-safe text: everything an agent sent, made visible instead of interpreted.
//!
//! An agent controls most of an action's strings. Printed raw, an escape sequence could
//! clear the screen, retitle the window or fake a "critical" badge, and a bidi override
//! could reverse what the approver reads (Trojan Source). So every agent string becomes a
//! [`SafeText`] before any widget sees it, and the views accept only `SafeText`.
//!
//! The rendering rules are the one visible form of [`crate::text`] (the same classifier
//! as the broker's `hidden-characters` risk tag): markers such as `⟨ESC⟩` and
//! `⟨U+202E⟩`, tabs as `⇥` to the next tab stop, an unterminated escape sequence never
//! hiding what follows it. Nothing is ever cut here: long lines wrap in the detail panes
//! or scroll sideways (the diff), and are cut with `…` only in narrow cells (the queue,
//! [`SafeText::truncate`]).
//!
//! Markers are flagged as such so the theme can show them in a warning style.

use unicode_width::UnicodeWidthStr;

pub use crate::text::{Piece, TAB_WIDTH};

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
    /// Sanitizes `s` as one line: a newline is shown as `⟨LF⟩`.
    pub fn line(s: &str) -> Self {
        Self {
            pieces: crate::text::visible(s),
        }
    }

    /// [`SafeText::line`] for text that starts at column `col` of its line, so its tabs
    /// stop where the whole line's would.
    pub fn line_at(s: &str, col: usize) -> Self {
        Self {
            pieces: crate::text::visible_at(s, col),
        }
    }

    /// The columns `start..start + cols` (a wide character cut by either edge becomes
    /// a space), for horizontal scrolling.
    pub fn slice(&self, start: usize, cols: usize) -> Self {
        let end = start + cols;
        let mut out: Vec<Piece> = Vec::new();
        let mut col = 0;
        for p in &self.pieces {
            if col >= end {
                break;
            }
            let mut text = String::new();
            for c in p.text.chars() {
                let w = char_width(c);
                // A mark (width 0) goes with its letter: shown only when that is.
                if (col > start || (col == start && w > 0)) && col + w <= end {
                    text.push(c);
                } else if col < end && col + w > start {
                    // Straddles an edge: the part inside shows as spaces.
                    let inside = (col + w).min(end) - col.max(start);
                    text.extend(std::iter::repeat_n(' ', inside));
                }
                col += w;
                if col >= end {
                    break;
                }
            }
            if !text.is_empty() {
                out.push(Piece {
                    text,
                    marker: p.marker,
                });
            }
        }
        Self { pieces: out }
    }

    /// Sanitizes multi-line text: one `SafeText` per line (`\n` ends a line; a `\r`
    /// before it stays visible as `⟨CR⟩`).
    pub fn lines(s: &str) -> Vec<Self> {
        crate::text::visible_lines(s)
            .into_iter()
            .map(|pieces| Self { pieces })
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
    fn escapes_are_markers_and_never_eat_text() {
        assert_eq!(show("a\u{1b}[2Jb"), "a⟨ESC⟩[2Jb");
        assert!(SafeText::line("\u{1b}[2J").has_markers());
        assert_eq!(show("\u{1b}]0;pwned\u{7}after"), "⟨ESC⟩]0;pwned⟨BEL⟩after");
        assert_eq!(show("x\u{9b}2Jy"), "x⟨U+009B⟩2Jy");
        assert_eq!(show("end\u{1b}"), "end⟨ESC⟩");
        assert_eq!(SafeText::lines("\u{1b}]0;x\nnext")[1].plain(), "next");
    }

    #[test]
    fn controls_bidi_and_zero_width_are_markers() {
        assert_eq!(show("bell\u{7}"), "bell⟨BEL⟩");
        assert_eq!(show("nel\u{85}"), "nel⟨U+0085⟩");
        assert_eq!(show("a\nb"), "a⟨LF⟩b");
        assert_eq!(show("file\u{202e}gnp.exe"), "file⟨U+202E⟩gnp.exe");
        assert_eq!(show("ad\u{200b}min"), "ad⟨U+200B⟩min");
        assert_eq!(show("line\u{2028}sep"), "line⟨U+2028⟩sep");
    }

    #[test]
    fn tabs_expand_to_tab_stops() {
        assert_eq!(show("\tx"), "⇥   x");
        assert_eq!(show("ab\tx"), "ab⇥ x");
    }

    #[test]
    fn long_lines_are_never_cut_and_narrow_cells_truncate() {
        let s = "x".repeat(20_000);
        assert_eq!(SafeText::line(&s).width(), 20_000);
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
    fn lines_split_on_lf_and_keep_cr_visible() {
        let l: Vec<_> = SafeText::lines("a\r\nb\nc")
            .iter()
            .map(SafeText::plain)
            .collect();
        assert_eq!(l, ["a⟨CR⟩", "b", "c"]);
    }

    #[test]
    fn notification_text_cannot_break_out_of_its_sequence() {
        let n = notification_text("x\u{1b}]0;t\u{7};y\u{9c}z", 100);
        assert!(!n.chars().any(|c| c.is_control()), "{n:?}");
        assert!(!n.contains(';'));
        assert_eq!(notification_text("abcdef", 3), "abc…");
    }
}
