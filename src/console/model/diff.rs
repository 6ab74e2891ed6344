//! The diff model: a unified diff (as sent, or computed from before/after documents)
//! parsed once into display-safe lines with old/new line numbers and intra-line
//! highlights.
//!
//! Parsing happens once per action version (the entry caches it by digest), and the view
//! renders only the visible slice, so a 1 MiB diff stays responsive.

use similar::{ChangeTag, TextDiff};

use crate::console::model::sanitize::SafeText;
use crate::protocol::Change;

/// Limits on one diff's computation: when it runs past its deadline or its memory, or
/// is cancelled (the action left), parsing stops and the pane falls back to a plain
/// side-by-side view. `progress` counts parsed lines for the pane's progress line.
pub struct Budget<'a> {
    pub deadline: Option<std::time::Instant>,
    pub max_bytes: usize,
    pub used_bytes: usize,
    pub progress: &'a dyn Fn(usize, usize),
    pub cancelled: &'a dyn Fn() -> bool,
}

/// Why a budgeted computation stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    Time,
    Memory,
    Cancelled,
}

impl Budget<'_> {
    /// No limits (small diffs, tests).
    pub fn unlimited() -> Budget<'static> {
        Budget {
            deadline: None,
            max_bytes: usize::MAX,
            used_bytes: 0,
            progress: &|_, _| {},
            cancelled: &|| false,
        }
    }

    fn check(&self, done: usize, total: usize) -> Result<(), Stopped> {
        (self.progress)(done, total);
        if (self.cancelled)() {
            Err(Stopped::Cancelled)
        } else if self.used_bytes > self.max_bytes {
            Err(Stopped::Memory)
        } else if self.deadline.is_some_and(|d| std::time::Instant::now() > d) {
            Err(Stopped::Time)
        } else {
            Ok(())
        }
    }
}

/// Pairs of changed lines longer than this get no intra-line highlight (cost bound).
const MAX_INLINE_LEN: usize = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `--- a/x` / `+++ b/x` / `diff --git` and other headers.
    File,
    /// `@@ -1,3 +1,4 @@`.
    Hunk,
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file` and anything unrecognised.
    Meta,
}

/// One segment of a changed line; `emph` marks the part that changed within the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: SafeText,
    pub emph: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    pub old_no: Option<u32>,
    pub new_no: Option<u32>,
    pub segments: Vec<Segment>,
}

/// A parsed diff, ready to render.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiffModel {
    pub lines: Vec<DiffLine>,
    pub added: usize,
    pub removed: usize,
    /// Columns of the widest line (for horizontal scrolling).
    pub max_width: usize,
}

impl DiffModel {
    /// The model for an action's change (none when it carries no change).
    pub fn of_change(change: &Change) -> Self {
        Self::of_change_within(change, &mut Budget::unlimited())
            .unwrap_or_else(|_| unreachable!("an unlimited budget never stops"))
    }

    /// [`DiffModel::of_change`] within a time and memory budget.
    pub fn of_change_within(change: &Change, budget: &mut Budget<'_>) -> Result<Self, Stopped> {
        match change {
            Change::UnifiedDiff { diff } => Self::parse_within(diff, budget),
            Change::BeforeAfter {
                path,
                before,
                after,
            } => {
                let name = path.as_deref().unwrap_or("document");
                let mut config = TextDiff::configure();
                if let Some(d) = budget.deadline {
                    config.deadline(d);
                }
                let diff = config.diff_lines(before.as_str(), after.as_str());
                budget.check(0, 0)?;
                let text = diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string();
                drop(diff);
                Self::parse_within(&text, budget)
            }
        }
    }

    /// Parses a unified diff. Never fails: unknown lines are kept as [`LineKind::Meta`].
    pub fn parse(text: &str) -> Self {
        Self::parse_within(text, &mut Budget::unlimited())
            .unwrap_or_else(|_| unreachable!("an unlimited budget never stops"))
    }

    /// [`DiffModel::parse`] within a budget, checked every 512 lines.
    pub fn parse_within(text: &str, budget: &mut Budget<'_>) -> Result<Self, Stopped> {
        let mut model = DiffModel::default();
        let (mut old, mut new) = (0u32, 0u32);
        let raw: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let raw = match raw.split_last() {
            Some((&"", rest)) => rest,
            _ => &raw[..],
        };
        let mut i = 0;
        let mut next_check = 0;
        while i < raw.len() {
            if i >= next_check {
                budget.used_bytes = model.heap_estimate();
                budget.check(i, raw.len())?;
                next_check = i + 512;
            }
            let line = raw[i];
            if let Some((o, n)) = hunk_start(line) {
                (old, new) = (o, n);
                model.push(LineKind::Hunk, None, None, line);
                i += 1;
            } else if line.starts_with("--- ")
                || line.starts_with("+++ ")
                || line.starts_with("diff ")
                || line.starts_with("index ")
            {
                model.push(LineKind::File, None, None, line);
                i += 1;
            } else if line.starts_with('-') || line.starts_with('+') {
                // A block of removals followed by additions: pair them for highlights.
                let start = i;
                while i < raw.len() && raw[i].starts_with('-') && !raw[i].starts_with("--- ") {
                    i += 1;
                }
                let mid = i;
                while i < raw.len() && raw[i].starts_with('+') && !raw[i].starts_with("+++ ") {
                    i += 1;
                }
                if i == start {
                    // A lone `---`/`+++` header-looking line inside a hunk.
                    model.push(LineKind::Meta, None, None, line);
                    i += 1;
                    continue;
                }
                model.block(&raw[start..mid], &raw[mid..i], &mut old, &mut new);
            } else if let Some(rest) = line.strip_prefix(' ') {
                model.lines.push(DiffLine {
                    kind: LineKind::Context,
                    old_no: Some(old),
                    new_no: Some(new),
                    segments: plain(rest),
                });
                old += 1;
                new += 1;
                i += 1;
            } else {
                model.push(LineKind::Meta, None, None, line);
                i += 1;
            }
        }
        model.max_width = model.lines.iter().map(DiffLine::width).max().unwrap_or(0);
        budget.check(raw.len(), raw.len())?;
        Ok(model)
    }

    /// Rough heap bytes held (for the memory budget).
    fn heap_estimate(&self) -> usize {
        self.lines
            .iter()
            .map(|l| {
                96 + l
                    .segments
                    .iter()
                    .map(|s| {
                        64 + s
                            .text
                            .pieces()
                            .iter()
                            .map(|p| 48 + p.text.len())
                            .sum::<usize>()
                    })
                    .sum::<usize>()
            })
            .sum()
    }

    fn push(&mut self, kind: LineKind, old_no: Option<u32>, new_no: Option<u32>, text: &str) {
        self.lines.push(DiffLine {
            kind,
            old_no,
            new_no,
            segments: plain(text),
        });
    }

    fn block(&mut self, removed: &[&str], added: &[&str], old: &mut u32, new: &mut u32) {
        let pairs = if removed.len() == added.len() {
            removed.len()
        } else {
            0
        };
        let mut added_segments: Vec<Option<Vec<Segment>>> = vec![None; added.len()];
        for (k, r) in removed.iter().enumerate() {
            let text = &r[1..];
            let segments = if k < pairs {
                let (rs, as_) = inline(text, &added[k][1..]);
                added_segments[k] = Some(as_);
                rs
            } else {
                plain(text)
            };
            self.lines.push(DiffLine {
                kind: LineKind::Removed,
                old_no: Some(*old),
                new_no: None,
                segments,
            });
            *old += 1;
            self.removed += 1;
        }
        for (k, a) in added.iter().enumerate() {
            let segments = added_segments[k].take().unwrap_or_else(|| plain(&a[1..]));
            self.lines.push(DiffLine {
                kind: LineKind::Added,
                old_no: None,
                new_no: Some(*new),
                segments,
            });
            *new += 1;
            self.added += 1;
        }
    }
}

impl DiffLine {
    /// Columns the line's text takes.
    pub fn width(&self) -> usize {
        self.segments.iter().map(|s| s.text.width()).sum()
    }
}

fn plain(text: &str) -> Vec<Segment> {
    vec![Segment {
        text: SafeText::line(text),
        emph: false,
    }]
}

/// Word-level highlights for a removed/added pair.
fn inline(old: &str, new: &str) -> (Vec<Segment>, Vec<Segment>) {
    if old.len() > MAX_INLINE_LEN || new.len() > MAX_INLINE_LEN {
        return (plain(old), plain(new));
    }
    let diff = TextDiff::from_words(old, new);
    let mut o: Vec<(String, bool)> = Vec::new();
    let mut n: Vec<(String, bool)> = Vec::new();
    for change in diff.iter_all_changes() {
        let v = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                append(&mut o, v, false);
                append(&mut n, v, false);
            }
            ChangeTag::Delete => append(&mut o, v, true),
            ChangeTag::Insert => append(&mut n, v, true),
        }
    }
    // Each segment continues the line's columns, so tab stops stay where they are.
    let seg = |v: Vec<(String, bool)>| {
        let mut col = 0;
        v.into_iter()
            .map(|(t, emph)| {
                let text = SafeText::line_at(&t, col);
                col += text.width();
                Segment { text, emph }
            })
            .collect()
    };
    (seg(o), seg(n))
}

fn append(v: &mut Vec<(String, bool)>, s: &str, emph: bool) {
    match v.last_mut() {
        Some((t, e)) if *e == emph => t.push_str(s),
        _ => v.push((s.to_string(), emph)),
    }
}

/// `@@ -a[,b] +c[,d] @@` → the first old and new line numbers.
fn hunk_start(line: &str) -> Option<(u32, u32)> {
    let rest = line.strip_prefix("@@ -")?;
    let (old, rest) = rest.split_once(' ')?;
    let new = rest.strip_prefix('+')?.split(' ').next()?;
    let first = |s: &str| s.split(',').next()?.parse::<u32>().ok();
    Some((first(old)?, first(new)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(m: &DiffModel) -> Vec<(LineKind, Option<u32>, Option<u32>, String)> {
        m.lines
            .iter()
            .map(|l| {
                let t: String = l.segments.iter().map(|s| s.text.plain()).collect();
                (l.kind, l.old_no, l.new_no, t)
            })
            .collect()
    }

    #[test]
    fn parses_hunks_with_line_numbers() {
        let d = "--- a/x\n+++ b/x\n@@ -10,3 +10,3 @@\n keep\n-old\n+new\n tail\n";
        let m = DiffModel::parse(d);
        let t = texts(&m);
        assert_eq!(t[2].0, LineKind::Hunk);
        assert_eq!(t[3], (LineKind::Context, Some(10), Some(10), "keep".into()));
        assert_eq!(t[4], (LineKind::Removed, Some(11), None, "old".into()));
        assert_eq!(t[5], (LineKind::Added, None, Some(11), "new".into()));
        assert_eq!(t[6], (LineKind::Context, Some(12), Some(12), "tail".into()));
        assert_eq!((m.added, m.removed), (1, 1));
    }

    #[test]
    fn paired_lines_highlight_the_changed_words() {
        let m = DiffModel::parse("@@ -1 +1 @@\n-replicas: 3\n+replicas: 30\n");
        let removed = &m.lines[1].segments;
        let added = &m.lines[2].segments;
        assert!(removed.iter().any(|s| s.emph && s.text.plain() == "3"));
        assert!(added.iter().any(|s| s.emph && s.text.plain() == "30"));
        assert!(
            added
                .iter()
                .any(|s| !s.emph && s.text.plain().starts_with("replicas"))
        );
    }

    #[test]
    fn before_after_documents_are_diffed() {
        let c = Change::BeforeAfter {
            path: Some("deploy.yaml".into()),
            before: "a\nb\nc\n".into(),
            after: "a\nB\nc\n".into(),
        };
        let m = DiffModel::of_change(&c);
        let t = texts(&m);
        assert!(
            t.iter()
                .any(|l| l.0 == LineKind::File && l.3.contains("deploy.yaml"))
        );
        assert!(t.iter().any(|l| l.0 == LineKind::Removed && l.3 == "b"));
        assert!(t.iter().any(|l| l.0 == LineKind::Added && l.3 == "B"));
    }

    #[test]
    fn hostile_diff_text_is_made_visible() {
        let m = DiffModel::parse("@@ -1 +1 @@\n-a\n+b\u{1b}[2J\u{202e}c\n");
        let t = texts(&m);
        assert_eq!(t[2].3, "b⟨ESC⟩[2J⟨U+202E⟩c");
    }

    #[test]
    fn garbage_is_kept_as_meta() {
        let m = DiffModel::parse("not a diff\n\\ No newline at end of file\n");
        assert!(m.lines.iter().all(|l| l.kind == LineKind::Meta));
        assert_eq!(m.lines.len(), 2);
    }

    #[test]
    fn a_one_mebibyte_diff_parses_quickly() {
        let mut d = String::from("--- a/big\n+++ b/big\n@@ -1,20000 +1,20000 @@\n");
        while d.len() < 1024 * 1024 {
            d.push_str("-value = \"some old configuration line\"\n");
            d.push_str("+value = \"some new configuration line\"\n");
        }
        let t = std::time::Instant::now();
        let m = DiffModel::parse(&d);
        let took = t.elapsed();
        assert!(m.lines.len() > 20_000);
        // Generous bound for an unoptimised build on a loaded 2-core machine.
        assert!(took.as_secs() < 10, "took {took:?}");
    }
}
