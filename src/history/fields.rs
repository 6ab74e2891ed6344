//! The searchable fields of a history record, and their text exactly as shown.
//!
//! The haystack, the highlighter and the views all take a field's text from
//! [`SearchField::text`], so a highlighted range always lands on the characters shown.

use std::borrow::Cow;

use crate::protocol::HistoryRecord;

/// A field that free-text search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SearchField {
    Summary,
    Kind,
    /// `system/resource`.
    Target,
    Environment,
    /// `display name (id)`, plus `for <person>` when the requester acts for someone.
    Requester,
    /// Who decided, then any other approver who voted, comma separated.
    Approver,
    /// The deciding reason, then any other vote's reason, ` | ` separated.
    Reason,
    /// The command as one line.
    Command,
}

impl SearchField {
    pub const ALL: [SearchField; 8] = [
        SearchField::Summary,
        SearchField::Kind,
        SearchField::Target,
        SearchField::Environment,
        SearchField::Requester,
        SearchField::Approver,
        SearchField::Reason,
        SearchField::Command,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SearchField::Summary => "summary",
            SearchField::Kind => "kind",
            SearchField::Target => "target",
            SearchField::Environment => "environment",
            SearchField::Requester => "requester",
            SearchField::Approver => "approver",
            SearchField::Reason => "reason",
            SearchField::Command => "command",
        }
    }

    /// The field's text for `record`, as searched and as it should be displayed.
    pub fn text(self, record: &HistoryRecord) -> Cow<'_, str> {
        let a = &record.action;
        match self {
            SearchField::Summary => Cow::Borrowed(&a.summary),
            SearchField::Kind => Cow::Borrowed(&a.kind),
            SearchField::Target => Cow::Owned(format!("{}/{}", a.target.system, a.target.resource)),
            SearchField::Environment => Cow::Borrowed(&a.target.environment),
            SearchField::Requester => {
                let r = &a.requester;
                let mut s = if r.display_name.is_empty() || r.display_name == r.id {
                    r.id.clone()
                } else {
                    format!("{} ({})", r.display_name, r.id)
                };
                if let Some(o) = &r.on_behalf_of {
                    s.push_str(" for ");
                    s.push_str(o);
                }
                Cow::Owned(s)
            }
            SearchField::Approver => {
                let mut names: Vec<&str> = record.decided_by.iter().map(String::as_str).collect();
                for v in &a.votes {
                    if !names.contains(&v.approver.as_str()) {
                        names.push(&v.approver);
                    }
                }
                Cow::Owned(names.join(", "))
            }
            SearchField::Reason => {
                let others: Vec<&str> = a
                    .votes
                    .iter()
                    .map(|v| v.reason.as_str())
                    .filter(|r| !r.is_empty() && *r != record.reason)
                    .collect();
                if others.is_empty() {
                    Cow::Borrowed(&record.reason)
                } else {
                    let mut s = record.reason.clone();
                    for o in others {
                        if !s.is_empty() {
                            s.push_str(" | ");
                        }
                        s.push_str(o);
                    }
                    Cow::Owned(s)
                }
            }
            SearchField::Command => match &a.command {
                Some(c) => Cow::Owned(c.display_line()),
                None => Cow::Borrowed(""),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::r#gen::{GenConfig, Generator};

    #[test]
    fn every_field_has_text_in_a_generated_record() {
        let g = Generator::new(GenConfig::default());
        let r = (0..50)
            .map(|i| g.record(i))
            .find(|r| r.action.command.is_some() && r.action.requester.on_behalf_of.is_some())
            .unwrap();
        for f in SearchField::ALL {
            assert!(!f.text(&r).is_empty(), "{}", f.label());
        }
        let req = SearchField::Requester.text(&r);
        assert!(req.contains(&r.action.requester.id), "{req}");
        assert!(req.contains(" for "), "{req}");
        let target = SearchField::Target.text(&r);
        assert_eq!(
            target,
            format!("{}/{}", r.action.target.system, r.action.target.resource)
        );
    }

    #[test]
    fn reason_joins_only_the_reasons_given() {
        let g = Generator::new(GenConfig::default());
        let mut r = (0..50)
            .map(|i| g.record(i))
            .find(|r| r.action.votes.len() >= 2)
            .unwrap();
        r.reason = String::new();
        for v in &mut r.action.votes {
            v.reason = String::new();
        }
        r.action.votes[1].reason = "looks fine to me".into();
        assert_eq!(SearchField::Reason.text(&r), "looks fine to me");
        r.reason = "ticket OPS-1".into();
        assert_eq!(
            SearchField::Reason.text(&r),
            "ticket OPS-1 | looks fine to me"
        );
    }
}
