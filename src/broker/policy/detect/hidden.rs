//! Hidden characters anywhere in the request: every character the console shows as a
//! marker because of what it is (escape, controls, bidi, format and default-ignorable
//! characters, separators, blanks, private-use, unassigned, width-ambiguous, detached
//! or stacked combining marks), from the one classifier in [`crate::text`]. The reason
//! names the field and each code point, never the raw character.

use super::{join_findings, tag};
use crate::protocol::{ActionRequest, RiskTag};
use crate::text::{Class, hidden_chars};

/// Distinct code points listed per field before "and N more".
const LIST_PER_FIELD: usize = 12;
/// Fields listed before "and N more".
const LIST_FIELDS: usize = 8;

/// One finding per field: each distinct hidden character as `U+202E (bidi control)`,
/// with a count when it occurs more than once.
fn describe(field: &str, found: &[(usize, char, Class)]) -> String {
    let mut distinct: Vec<(char, Class, usize)> = Vec::new();
    for &(_, c, class) in found {
        match distinct.iter_mut().find(|(d, _, _)| *d == c) {
            Some(entry) => entry.2 += 1,
            None => distinct.push((c, class, 1)),
        }
    }
    let chars: Vec<String> = distinct
        .iter()
        .take(LIST_PER_FIELD)
        .map(|(c, class, n)| {
            let times = if *n > 1 {
                format!(" ×{n}")
            } else {
                String::new()
            };
            format!("U+{:04X} ({}){times}", u32::from(*c), class.label())
        })
        .collect();
    let more = match distinct.len().saturating_sub(LIST_PER_FIELD) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    format!("{field} has {}{more}", chars.join(", "))
}

/// Tags the request when any field holds a hidden character.
pub fn hidden(req: &ActionRequest) -> Option<RiskTag> {
    let findings: Vec<String> = req
        .agent_texts()
        .iter()
        .filter_map(|(field, text)| {
            let found = hidden_chars(text);
            (!found.is_empty()).then(|| describe(field, &found))
        })
        .collect();
    (!findings.is_empty()).then(|| tag("hidden-characters", join_findings(&findings, LIST_FIELDS)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ContextEntry;
    use crate::protocol::{Change, Command};

    fn req() -> ActionRequest {
        serde_json::from_value(serde_json::json!({
            "kind": "k8s.exec",
            "summary": "Restart payments",
            "requester": {"kind": "agent", "id": "a", "display_name": "A"},
            "target": {"system": "k8s", "resource": "payments", "environment": "prod"},
            "command": {"type": "argv", "argv": ["kubectl", "rollout", "restart"]},
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn clean_request_is_not_tagged() {
        let mut r = req();
        r.justification = "tabs\tand\nnewlines are fine, é and 😀 too".into();
        assert_eq!(hidden(&r), None);
    }

    #[test]
    fn names_field_and_code_point_never_the_raw_char() {
        let mut r = req();
        r.summary = "Restart \u{202e}gnp.exe".into();
        r.context.push(ContextEntry {
            key: "note".into(),
            value: "\u{1b}[2J\u{1b}[Hok\u{200b}".into(),
        });
        r.command = Some(Command::Argv {
            argv: vec!["kubectl".into(), "delete\u{200b}".into()],
        });
        let t = hidden(&r).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.id, "hidden-characters");
        assert_eq!(
            t.reason,
            "summary has U+202E (bidi control); \
             context[0].value has U+001B (escape) ×2, U+200B (invisible format character); \
             command.argv[1] has U+200B (invisible format character)"
        );
        assert!(crate::text::is_plain(&t.reason), "{}", t.reason);
    }

    #[test]
    fn every_field_is_scanned() {
        let base = req();
        type Edit = Box<dyn Fn(&mut ActionRequest)>;
        let edits: Vec<Edit> = vec![
            Box::new(|r| r.kind.push('\u{7}')),
            Box::new(|r| r.requester.id.push('\u{7}')),
            Box::new(|r| r.requester.display_name.push('\u{7}')),
            Box::new(|r| r.requester.model = Some("\u{7}".into())),
            Box::new(|r| r.requester.on_behalf_of = Some("\u{7}".into())),
            Box::new(|r| r.target.system.push('\u{7}')),
            Box::new(|r| r.target.resource.push('\u{7}')),
            Box::new(|r| r.target.environment.push('\u{7}')),
            Box::new(|r| r.justification.push('\u{7}')),
            Box::new(|r| {
                r.context.push(ContextEntry {
                    key: "\u{7}".into(),
                    value: String::new(),
                })
            }),
            Box::new(|r| {
                r.command = Some(Command::Text {
                    text: "\u{7}".into(),
                })
            }),
            Box::new(|r| {
                r.change = Some(Change::UnifiedDiff {
                    diff: "\u{7}".into(),
                })
            }),
            Box::new(|r| {
                r.change = Some(Change::BeforeAfter {
                    path: Some("\u{7}".into()),
                    before: String::new(),
                    after: String::new(),
                })
            }),
            Box::new(|r| {
                r.change = Some(Change::BeforeAfter {
                    path: None,
                    before: String::new(),
                    after: "\u{7}".into(),
                })
            }),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut r = base.clone();
            edit(&mut r);
            assert!(hidden(&r).is_some(), "edit {i} not detected");
        }
    }

    #[test]
    fn every_invisible_from_the_issue_is_listed() {
        let cases = [
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
            '\u{E000}',
            '\u{1F1E6}',
        ];
        for c in cases {
            let mut r = req();
            r.summary = format!("Requester AAAA{c}PLAIN deploy");
            let t = hidden(&r).unwrap_or_else(|| panic!("U+{:04X} not tagged", u32::from(c)));
            let code = format!("U+{:04X}", u32::from(c));
            assert!(t.reason.contains(&code), "{code} not in {}", t.reason);
        }
    }

    #[test]
    fn lists_many_distinct_characters_and_counts_the_rest() {
        let mut r = req();
        r.summary = ('\u{E0041}'..='\u{E005A}').collect();
        let t = hidden(&r).unwrap_or_else(|| panic!("no tag"));
        assert!(
            t.reason.contains("U+E0041") && t.reason.contains("U+E004C"),
            "{}",
            t.reason
        );
        assert!(t.reason.ends_with("and 14 more"), "{}", t.reason);
    }
}
