//! Data leaving its home: personal data fields (and card numbers) in the command or the
//! change, and export-shaped kinds and commands.

use super::{added_text, command_text, find_word, first_pattern, join_findings, quote, tag};
use crate::broker::policy::glob::Patterns;
use crate::protocol::{ActionRequest, RiskTag};

/// Field names that hold personal data, as `_`-separated parts. An identifier matches
/// when these parts appear in it in order: `customer_email`, `billingAddress`, `DOB`.
pub const PII_FIELDS: &[&str] = &[
    "email",
    "ssn",
    "social_security",
    "phone",
    "mobile",
    "dob",
    "date_of_birth",
    "birth_date",
    "birthdate",
    "address",
    "street",
    "postcode",
    "zip_code",
    "passport",
    "national_id",
    "tax_id",
    "iban",
    "card_number",
    "credit_card",
    "cc_number",
    "cvv",
    "first_name",
    "last_name",
    "full_name",
];

/// Commands that copy data out.
pub const EXPORT_COMMANDS: &[&str] = &[
    "pg_dump",
    "pg_dumpall",
    "mysqldump",
    "mongodump",
    "mongoexport",
    "into outfile",
    "unload",
    "bq extract",
    "\\copy",
];

/// Kinds that are exports by name.
pub const EXPORT_KINDS: &[&str] = &["*.export", "*.dump"];

/// The lowercase parts of an identifier, split at `_` and camelCase humps.
fn parts(ident: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in ident.split('_').filter(|c| !c.is_empty()) {
        let mut cur = String::new();
        let mut prev_lower = false;
        for c in chunk.chars() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            cur.push(c.to_ascii_lowercase());
        }
        out.push(cur);
    }
    out
}

/// True when `term` (parts joined by `_`) appears as consecutive parts of `ident`.
fn names_field(ident_parts: &[String], term: &str) -> bool {
    let want: Vec<&str> = term.split('_').collect();
    ident_parts.windows(want.len()).enumerate().any(|(i, w)| {
        w.iter().zip(&want).all(|(a, b)| a == b)
            // `ip_address` and `mac_address` are network addresses, not where someone lives.
            && !(term == "address" && i > 0 && ["ip", "mac"].contains(&ident_parts[i - 1].as_str()))
    })
}

/// Most identifiers collected: a reason shows four, and a cap keeps a crafted 1 MiB
/// change with thousands of distinct names from costing quadratic time.
const MAX_IDENTIFIERS: usize = 16;

/// Distinct identifiers in `text` that name a personal-data field, in order of appearance
/// (at most 16).
pub fn pii_identifiers<'t>(text: &'t str, terms: &[String]) -> Vec<&'t str> {
    let mut found: Vec<&str> = Vec::new();
    for ident in text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|s| !s.is_empty())
    {
        if found.contains(&ident) {
            continue;
        }
        let p = parts(ident);
        if terms.iter().any(|t| names_field(&p, t)) {
            found.push(ident);
            if found.len() == MAX_IDENTIFIERS {
                break;
            }
        }
    }
    found
}

/// The last four digits of the first Luhn-valid card-like number in `text`: 15, 16 or 19
/// digits (spaces or dashes allowed between them) starting 2–6, as card numbers do.
pub fn card_number(text: &str) -> Option<(usize, String)> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let mut digits = Vec::new();
        let mut j = i;
        while j < b.len() {
            if b[j].is_ascii_digit() {
                digits.push(b[j] - b'0');
                j += 1;
            } else if (b[j] == b' ' || b[j] == b'-') && b.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            } else {
                break;
            }
        }
        let clean_end = b.get(j).is_none_or(|c| !c.is_ascii_alphanumeric());
        if clean_end
            && [15, 16, 19].contains(&digits.len())
            && (2..=6).contains(&digits[0])
            && luhn(&digits)
        {
            let last4: String = digits[digits.len() - 4..]
                .iter()
                .map(|d| char::from(b'0' + d))
                .collect();
            return Some((digits.len(), last4));
        }
        i = j.max(i + 1);
    }
    None
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Personal-data field names or card numbers in the command or what the change adds.
/// A card number is named by its last four digits only: the reason must not leak it.
pub fn pii(req: &ActionRequest, terms: &[String]) -> Option<RiskTag> {
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some(cmd) = command_text(req) {
        fields.push(("command", cmd));
    }
    if let Some(change) = &req.change {
        fields.push(("change", added_text(change)));
    }
    let mut findings = Vec::new();
    for (name, text) in &fields {
        let idents = pii_identifiers(text, terms);
        if !idents.is_empty() {
            let quoted: Vec<String> = idents.iter().map(|i| quote(i)).collect();
            let noun = if idents.len() == 1 { "field" } else { "fields" };
            findings.push(format!(
                "{name} names personal-data {noun} {}",
                join_list(&quoted, 4)
            ));
        }
        if let Some((len, last4)) = card_number(text) {
            findings.push(format!(
                "{name} contains a {len}-digit card number ending {last4} (Luhn-valid)"
            ));
        }
    }
    (!findings.is_empty()).then(|| tag("pii", join_findings(&findings, 3)))
}

fn join_list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}

/// Export-shaped kinds (`*.export`) and commands that copy data out (`pg_dump`,
/// `COPY … TO`).
pub fn export(req: &ActionRequest, kinds: &Patterns, commands: &[String]) -> Option<RiskTag> {
    let mut findings = Vec::new();
    if let Some(p) = kinds.find(&req.kind) {
        findings.push(format!(
            "kind {} matches {}",
            quote(&req.kind),
            quote(&p.text)
        ));
    }
    if let Some(cmd) = command_text(req) {
        if let Some(m) = first_pattern(&cmd, commands) {
            findings.push(format!("command contains {}", quote(m)));
        } else if let Some(stmt) = sql_copy_to(&cmd) {
            findings.push(format!("command copies data out: {}", quote(stmt)));
        }
    }
    (!findings.is_empty()).then(|| tag("data-export", join_findings(&findings, 3)))
}

/// An SQL `COPY … TO …` statement (an export; `COPY … FROM` is an import).
fn sql_copy_to(cmd: &str) -> Option<&str> {
    let lower = cmd.to_ascii_lowercase();
    let at = find_word(&lower, "copy")?;
    let rest = &lower[at..];
    let end = rest.find(';').unwrap_or(rest.len());
    let stmt = &rest[..end];
    let to = find_word(stmt, "to")?;
    match find_word(stmt, "from") {
        Some(from) if from < to => None,
        _ => cmd.get(at..at + end),
    }
}

#[cfg(test)]
mod tests {
    use super::super::normalise;
    use super::*;
    use crate::protocol::{Change, Command};

    fn terms() -> Vec<String> {
        normalise(PII_FIELDS.iter().map(|s| s.to_string()))
    }

    fn req(kind: &str, cmd: &str) -> ActionRequest {
        serde_json::from_value(serde_json::json!({
            "kind": kind,
            "summary": "s",
            "requester": {"kind": "agent", "id": "a", "display_name": "A"},
            "target": {"system": "postgres", "resource": "customers", "environment": "prod"},
            "command": {"type": "text", "text": cmd},
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn identifiers_naming_personal_data() {
        let t = terms();
        let text = "SELECT id, customer_email, billingAddress, DOB, ip_address, emails_sent FROM c";
        assert_eq!(
            pii_identifiers(text, &t),
            ["customer_email", "billingAddress", "DOB"]
        );
        assert!(pii_identifiers("SELECT date_of_birth, created_at", &t).contains(&"date_of_birth"));
        assert!(pii_identifiers("SELECT id, total FROM orders", &t).is_empty());
    }

    #[test]
    fn pii_reason_lists_fields() {
        let r = req("db.query", "SELECT email, ssn, phone_number FROM customers");
        let tag = pii(&r, &terms()).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            tag.reason,
            "command names personal-data fields \"email\", \"ssn\", \"phone_number\""
        );
    }

    #[test]
    fn card_numbers_are_found_and_masked() {
        assert_eq!(
            card_number("pay 4111 1111 1111 1111 now"),
            Some((16, "1111".into()))
        );
        assert_eq!(
            card_number("amex 378282246310005"),
            Some((15, "0005".into()))
        );
        // A millisecond or nanosecond timestamp is not a card number.
        assert_eq!(card_number("at 1795000000000 or 1795000000000000000"), None);
        assert_eq!(card_number("4111111111111112"), None, "fails Luhn");
        assert_eq!(card_number("id x4111111111111111"), None, "part of a word");
        let mut r = req("db.update", "UPDATE c SET note='card 5555-5555-5555-4444'");
        r.change = None;
        let tag = pii(&r, &terms()).unwrap_or_else(|| panic!("no tag"));
        assert!(
            tag.reason.contains("16-digit card number ending 4444"),
            "{}",
            tag.reason
        );
        assert!(
            !tag.reason.contains("5555-5555"),
            "the number itself is not repeated"
        );
    }

    #[test]
    fn pii_in_added_diff_lines() {
        let mut r = req("db.migrate", "migrate up");
        r.command = Some(Command::Argv {
            argv: vec!["migrate".into()],
        });
        r.change = Some(Change::UnifiedDiff {
            diff: "--- a\n+++ b\n@@ -1 +1,2 @@\n id\n+home_address text\n".into(),
        });
        let tag = pii(&r, &terms()).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            tag.reason,
            "change names personal-data field \"home_address\""
        );
    }

    #[test]
    fn export_by_kind_and_command() {
        let kinds = Patterns::compile(
            &EXPORT_KINDS
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let cmds = normalise(EXPORT_COMMANDS.iter().map(|s| s.to_string()));
        let t = export(
            &req("db.export", "COPY customers TO 's3://b/x.csv'"),
            &kinds,
            &cmds,
        )
        .unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "kind \"db.export\" matches \"*.export\"; command copies data out: \"COPY customers TO 's3://b/x.csv'\""
        );
        let t = export(
            &req("db.backup", "pg_dump -t customers prod"),
            &kinds,
            &cmds,
        )
        .unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.reason, "command contains \"pg_dump\"");
        assert_eq!(
            export(
                &req("db.load", "COPY customers FROM '/tmp/x.csv'"),
                &kinds,
                &cmds
            ),
            None
        );
    }
}
