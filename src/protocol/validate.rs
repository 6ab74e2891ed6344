//! Field-level validation of an agent's [`ActionRequest`].
//!
//! Hidden characters are *not* refused here in free text: they are shown to the approver
//! and tagged as a risk. What is refused is what cannot be shown or decided sensibly:
//! empty required fields, sizes past the limits, and identity fields (`requester.id`,
//! `requester.on_behalf_of`) outside their grammar — an identity must compare as one
//! person, so whitespace around it and invisible characters in it are refused.

use serde::{Deserialize, Serialize};

use super::action::{ActionRequest, Command};
use super::limits::*;

/// The longest time to live an action may ask for: 7 days.
pub const MAX_TTL_SECS: u64 = 7 * 24 * 3600;

/// One problem with one field, as returned in a 400 response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Dotted path, e.g. `target.environment` or `context[3].value`.
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn required_short(out: &mut Vec<FieldError>, field: &str, value: &str) {
    if value.trim().is_empty() {
        out.push(err(field, "must not be empty"));
    } else if value.len() > MAX_SHORT_FIELD {
        out.push(err(
            field,
            format!("is {} bytes; the limit is {MAX_SHORT_FIELD}", value.len()),
        ));
    }
}

fn bounded(out: &mut Vec<FieldError>, field: &str, value: &str, limit: usize) {
    if value.len() > limit {
        out.push(err(
            field,
            format!("is {} bytes; the limit is {limit}", value.len()),
        ));
    }
}

/// An identity field: an email address or a subject token, nothing hidden around or in it
/// (see [`check_identifier`](crate::protocol::person::check_identifier)).
fn identifier(out: &mut Vec<FieldError>, field: &str, value: &str) {
    if let Err(m) = crate::protocol::person::check_identifier(value) {
        out.push(err(field, m));
    }
}

/// Checks every field; returns all problems found, not only the first.
pub fn validate_request(req: &ActionRequest) -> Result<(), Vec<FieldError>> {
    let mut out = Vec::new();
    required_short(&mut out, "kind", &req.kind);
    if !req.kind.is_empty()
        && !req
            .kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    {
        out.push(err(
            "kind",
            "may contain only a-z, 0-9, '.', '_' and '-' (e.g. `db.export`)",
        ));
    }
    required_short(&mut out, "summary", &req.summary);
    identifier(&mut out, "requester.id", &req.requester.id);
    required_short(
        &mut out,
        "requester.display_name",
        &req.requester.display_name,
    );
    if let Some(m) = &req.requester.model {
        bounded(&mut out, "requester.model", m, MAX_SHORT_FIELD);
    }
    if let Some(o) = &req.requester.on_behalf_of {
        identifier(&mut out, "requester.on_behalf_of", o);
    }
    required_short(&mut out, "target.system", &req.target.system);
    required_short(&mut out, "target.resource", &req.target.resource);
    required_short(&mut out, "target.environment", &req.target.environment);
    bounded(
        &mut out,
        "justification",
        &req.justification,
        MAX_TEXT_FIELD,
    );
    if req.context.len() > MAX_CONTEXT_ENTRIES {
        out.push(err(
            "context",
            format!(
                "has {} entries; the limit is {MAX_CONTEXT_ENTRIES}",
                req.context.len()
            ),
        ));
    }
    for (i, c) in req.context.iter().enumerate() {
        required_short(&mut out, &format!("context[{i}].key"), &c.key);
        bounded(
            &mut out,
            &format!("context[{i}].value"),
            &c.value,
            MAX_TEXT_FIELD,
        );
    }
    match &req.command {
        Some(Command::Argv { argv }) => {
            if argv.is_empty() || argv[0].is_empty() {
                out.push(err("command.argv", "needs at least a program name"));
            }
            if argv.len() > MAX_ARGV {
                out.push(err(
                    "command.argv",
                    format!("has {} elements; the limit is {MAX_ARGV}", argv.len()),
                ));
            }
            let total: usize = argv.iter().map(String::len).sum();
            if total > MAX_COMMAND_BYTES {
                out.push(err(
                    "command.argv",
                    format!("is {total} bytes; the limit is {MAX_COMMAND_BYTES}"),
                ));
            }
        }
        Some(Command::Text { text }) => {
            if text.trim().is_empty() {
                out.push(err("command.text", "is empty"));
            }
            bounded(&mut out, "command.text", text, MAX_COMMAND_BYTES);
        }
        None => {}
    }
    if let Some(change) = &req.change
        && change.byte_len() > MAX_DIFF_BYTES
    {
        out.push(err(
            "change",
            format!(
                "is {} bytes; the limit is {MAX_DIFF_BYTES}",
                change.byte_len()
            ),
        ));
    }
    match req.ttl_secs {
        Some(0) => out.push(err("ttl_secs", "must be at least 1 second")),
        Some(t) if t > MAX_TTL_SECS => out.push(err(
            "ttl_secs",
            format!("is {t}; the limit is {MAX_TTL_SECS} (7 days)"),
        )),
        _ => {}
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::action::Change;
    use crate::protocol::action::fixtures::request;

    fn fields(req: &ActionRequest) -> Vec<String> {
        validate_request(req)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn fixture_is_valid() {
        assert_eq!(validate_request(&request()), Ok(()));
    }

    #[test]
    fn missing_fields_are_each_named() {
        let mut r = request();
        r.summary = " ".into();
        r.target.environment.clear();
        assert_eq!(fields(&r), ["summary", "target.environment"]);
    }

    #[test]
    fn oversized_diff_is_refused() {
        let mut r = request();
        r.change = Some(Change::UnifiedDiff {
            diff: "+".repeat(MAX_DIFF_BYTES + 1),
        });
        assert_eq!(fields(&r), ["change"]);
    }

    #[test]
    fn bad_kind_and_ttl() {
        let mut r = request();
        r.kind = "DB Export".into();
        r.ttl_secs = Some(0);
        assert_eq!(fields(&r), ["kind", "ttl_secs"]);
    }

    #[test]
    fn identity_fields_follow_the_identifier_grammar() {
        let mut r = request();
        r.requester.on_behalf_of = Some("alice ".into());
        assert_eq!(fields(&r), ["requester.on_behalf_of"]);
        r.requester.on_behalf_of = Some("al\u{200b}ice".into());
        assert_eq!(fields(&r), ["requester.on_behalf_of"]);
        r.requester.on_behalf_of = Some("Alice <alice@example.test>".into());
        r.requester.id = "\tagent".into();
        assert_eq!(fields(&r), ["requester.id"]);
    }

    #[test]
    fn hidden_characters_are_allowed_here() {
        let mut r = request();
        r.summary = "restart \u{202e}gnp.exe".into();
        assert_eq!(validate_request(&r), Ok(()));
    }
}
