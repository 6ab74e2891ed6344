//! The one pass over a string that every renderer and the detector share.
//!
//! It never consumes text on behalf of an escape sequence: ESC is always its own marker
//! and whatever follows is scanned as ordinary characters. A *complete* sequence (CSI
//! with its final byte, a string sequence with its terminator, a two-byte escape) is
//! only flagged, so views can draw its bytes in the marker style; an unterminated one is
//! just an ESC marker followed by the rest of the field, shown as text.

use super::class::{Class, class, is_combining};

/// Combining marks shown on one base before the next is a marker.
pub const MAX_MARKS_PER_BASE: u8 = 2;

/// One step of the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// Characters shown as themselves; `seq` when they belong to a complete escape
    /// sequence (drawn in the marker style).
    Text {
        text: &'a str,
        seq: bool,
    },
    /// A character shown as a marker because of its class, at byte offset `at`.
    Hidden {
        at: usize,
        c: char,
        class: Class,
    },
    /// A printable character that is the renderer's own syntax (`⟨`, `⇥`), shown as a
    /// code-point marker so the visible form reads back unambiguously.
    Syntax(char),
    Tab,
    Newline,
}

/// Characters the visible form uses as syntax; a literal one is escaped.
pub const SYNTAX: [char; 2] = ['⟨', '⇥'];

/// Calls `f` with each token of `s`, in order.
pub fn scan<'a>(s: &'a str, mut f: impl FnMut(Token<'a>)) {
    let mut run_start: Option<usize> = None;
    let mut run_seq = false;
    let mut seq_end = 0usize;
    let mut base = false;
    // Whether the base was inside a complete sequence: a mark must be in the same run
    // (views draw runs as separate spans, and a span cannot start with a mark).
    let mut base_seq = false;
    let mut marks = 0u8;
    let flush = |f: &mut dyn FnMut(Token<'a>), start: &mut Option<usize>, end: usize, seq: bool| {
        if let Some(st) = start.take()
            && st < end
        {
            f(Token::Text {
                text: &s[st..end],
                seq,
            });
        }
    };
    for (i, c) in s.char_indices() {
        let in_seq = i < seq_end;
        if c == '\u{1b}' && !in_seq {
            seq_end = complete_sequence(&s[i..]).map_or(0, |len| i + len);
        }
        let shown = match c {
            '\t' | '\n' => None,
            c if SYNTAX.contains(&c) => None,
            c => match class(c) {
                Some(k) => Some(Err(k)),
                None if is_combining(c) => {
                    if base && base_seq == in_seq && marks < MAX_MARKS_PER_BASE {
                        marks += 1;
                        Some(Ok(()))
                    } else {
                        Some(Err(Class::Combining))
                    }
                }
                None => {
                    base = c != ' ';
                    base_seq = in_seq;
                    marks = 0;
                    Some(Ok(()))
                }
            },
        };
        if shown == Some(Ok(())) {
            if run_start.is_some() && run_seq != in_seq {
                flush(&mut f, &mut run_start, i, run_seq);
            }
            if run_start.is_none() {
                run_start = Some(i);
                run_seq = in_seq;
            }
            continue;
        }
        flush(&mut f, &mut run_start, i, run_seq);
        base = false;
        marks = 0;
        f(match (c, shown) {
            ('\t', _) => Token::Tab,
            ('\n', _) => Token::Newline,
            (_, Some(Err(class))) => Token::Hidden { at: i, c, class },
            _ => Token::Syntax(c),
        });
    }
    flush(&mut f, &mut run_start, s.len(), run_seq);
}

/// The byte length of the complete escape sequence at the start of `s` (which starts
/// with ESC), or `None` when it is unterminated or malformed. ECMA-48: CSI is
/// parameters 0x30–0x3F, intermediates 0x20–0x2F, one final byte 0x40–0x7E; OSC, DCS,
/// SOS, PM and APC run to BEL (OSC only), ST (`ESC \`) or U+009C, and any other control
/// inside them aborts them; other escapes are intermediates 0x20–0x2F and a final byte
/// 0x30–0x7E.
pub fn complete_sequence(s: &str) -> Option<usize> {
    let mut it = s.char_indices().skip(1).peekable();
    let (_, kind) = *it.peek()?;
    match kind {
        '[' => {
            it.next();
            let mut intermediates = false;
            for (i, c) in it {
                match c {
                    '\u{30}'..='\u{3f}' if !intermediates => {}
                    '\u{20}'..='\u{2f}' => intermediates = true,
                    '\u{40}'..='\u{7e}' => return Some(i + 1),
                    _ => return None,
                }
            }
            None
        }
        ']' | 'P' | 'X' | '^' | '_' => {
            it.next();
            while let Some((i, c)) = it.next() {
                match c {
                    '\u{7}' if kind == ']' => return Some(i + 1),
                    '\u{9c}' => return Some(i + c.len_utf8()),
                    '\u{1b}' => {
                        return match it.next() {
                            Some((j, '\\')) => Some(j + 1),
                            _ => None,
                        };
                    }
                    c if c.is_control() => return None,
                    _ => {}
                }
            }
            None
        }
        _ => {
            for (i, c) in it {
                match c {
                    '\u{20}'..='\u{2f}' => {}
                    '\u{30}'..='\u{7e}' => return Some(i + 1),
                    _ => return None,
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<Token<'_>> {
        let mut v = Vec::new();
        scan(s, |t| v.push(t));
        v
    }

    #[test]
    fn sequences_are_recognised_only_when_complete() {
        assert_eq!(complete_sequence("\u{1b}[2Jx"), Some(4));
        assert_eq!(complete_sequence("\u{1b}[1;31m"), Some(7));
        assert_eq!(complete_sequence("\u{1b}]0;t\u{7}x"), Some(6));
        assert_eq!(complete_sequence("\u{1b}]8;;u\u{1b}\\x"), Some(8));
        assert_eq!(complete_sequence("\u{1b}7"), Some(2));
        assert_eq!(complete_sequence("\u{1b}]0;xxx AND DROP"), None);
        assert_eq!(complete_sequence("\u{1b}[12"), None);
        assert_eq!(complete_sequence("\u{1b}]0;a\nb\u{7}"), None);
        assert_eq!(complete_sequence("\u{1b}"), None);
    }

    #[test]
    fn text_after_an_unterminated_sequence_is_text() {
        let t = tokens("a\u{1b}]0;x b");
        assert_eq!(
            t,
            [
                Token::Text {
                    text: "a",
                    seq: false
                },
                Token::Hidden {
                    at: 1,
                    c: '\u{1b}',
                    class: Class::Escape
                },
                Token::Text {
                    text: "]0;x b",
                    seq: false
                },
            ]
        );
    }

    #[test]
    fn a_complete_sequence_is_flagged() {
        let t = tokens("\u{1b}[2Jok");
        assert_eq!(
            t[1..],
            [
                Token::Text {
                    text: "[2J",
                    seq: true
                },
                Token::Text {
                    text: "ok",
                    seq: false
                },
            ]
        );
    }

    #[test]
    fn combining_marks_need_a_base_and_stack_at_most_two() {
        let t = tokens("e\u{301}\u{302}\u{303} \u{301}");
        assert_eq!(
            t,
            [
                Token::Text {
                    text: "e\u{301}\u{302}",
                    seq: false
                },
                Token::Hidden {
                    at: 5,
                    c: '\u{303}',
                    class: Class::Combining
                },
                Token::Text {
                    text: " ",
                    seq: false
                },
                Token::Hidden {
                    at: 8,
                    c: '\u{301}',
                    class: Class::Combining
                },
            ]
        );
    }
}
