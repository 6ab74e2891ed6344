//! `GET /v1/history` query parameters ⇄ [`HistoryQuery`], so the CLI (and any client) and
//! the broker agree on one encoding.
//!
//! Names: `outcome`, `risk`, `kind`, `env`, `requester`, `approver`, `executed`, `since`,
//! `until`, `q`, `cursor`, `limit`. List values are comma separated, and a list parameter
//! may also repeat (`kind=a&kind=b`). Timestamps are RFC 3339.

use crate::protocol::{HistoryCursor, HistoryQuery, RiskLevel, Status, Timestamp};

/// The query as `(name, value)` pairs, ready for URL encoding. Unset filters are left out.
pub fn to_pairs(query: &HistoryQuery) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let join = |items: Vec<&str>| items.join(",");
    if !query.outcome.is_empty() {
        out.push((
            "outcome",
            join(query.outcome.iter().map(|s| s.as_str()).collect()),
        ));
    }
    if !query.risk.is_empty() {
        out.push((
            "risk",
            join(query.risk.iter().map(|r| r.as_str()).collect()),
        ));
    }
    if !query.kind.is_empty() {
        out.push((
            "kind",
            join(query.kind.iter().map(String::as_str).collect()),
        ));
    }
    if !query.environment.is_empty() {
        out.push((
            "env",
            join(query.environment.iter().map(String::as_str).collect()),
        ));
    }
    let mut single = |name: &'static str, value: Option<String>| {
        if let Some(v) = value {
            out.push((name, v));
        }
    };
    single("requester", query.requester.clone());
    single("approver", query.approver.clone());
    single("executed", query.executed.map(|e| e.to_string()));
    single("since", query.since.map(|t| t.to_string()));
    single("until", query.until.map(|t| t.to_string()));
    single("q", query.text.clone());
    single("cursor", query.cursor.as_ref().map(|c| c.0.clone()));
    single("limit", query.limit.map(|l| l.to_string()));
    out
}

/// Parses decoded query pairs into a validated query. The error names the parameter
/// and what was wrong, for a `400 invalid_query`.
pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<HistoryQuery, String>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut q = HistoryQuery::default();
    for (name, value) in pairs {
        let (name, value) = (name.as_ref(), value.as_ref());
        let items = || value.split(',').map(str::trim).filter(|s| !s.is_empty());
        let bad = |e: String| format!("{name}: {e}");
        match name {
            "outcome" => {
                for s in items() {
                    q.outcome.push(s.parse::<Status>().map_err(bad)?);
                }
            }
            "risk" => {
                for s in items() {
                    q.risk.push(s.parse::<RiskLevel>().map_err(bad)?);
                }
            }
            "kind" => q.kind.extend(items().map(String::from)),
            "env" => q.environment.extend(items().map(String::from)),
            "requester" => q.requester = Some(value.to_string()),
            "approver" => q.approver = Some(value.to_string()),
            "executed" => {
                q.executed = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad(format!("expected true or false, got {value:?}"))),
                })
            }
            "since" => q.since = Some(Timestamp::parse(value).map_err(bad)?),
            "until" => q.until = Some(Timestamp::parse(value).map_err(bad)?),
            "q" => q.text = Some(value.to_string()).filter(|t| !t.trim().is_empty()),
            "cursor" => q.cursor = Some(HistoryCursor(value.to_string())),
            "limit" => {
                q.limit = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| bad(format!("expected a whole number, got {value:?}")))?,
                )
            }
            other => return Err(format!("unknown parameter {other:?}")),
        }
    }
    q.validate()?;
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let q = HistoryQuery {
            outcome: vec![Status::Approved, Status::Denied],
            risk: vec![RiskLevel::High, RiskLevel::Critical],
            kind: vec!["db.export".into()],
            environment: vec!["production".into(), "eu-production".into()],
            requester: Some("agent-7".into()),
            approver: Some("maria@example.com".into()),
            executed: Some(true),
            since: Some(Timestamp::parse("2026-11-01T00:00:00Z").unwrap()),
            until: Some(Timestamp::parse("2026-11-02T00:00:00Z").unwrap()),
            text: Some("drop table".into()),
            cursor: Some(HistoryCursor("abc".into())),
            limit: Some(50),
        };
        let pairs = to_pairs(&q);
        assert_eq!(pairs[0], ("outcome", "approved,denied".to_string()));
        assert_eq!(pairs[3], ("env", "production,eu-production".to_string()));
        assert_eq!(from_pairs(pairs).unwrap(), q);
        assert!(to_pairs(&HistoryQuery::default()).is_empty());
    }

    #[test]
    fn repeated_lists_and_clear_errors() {
        let q = from_pairs([("kind", "a"), ("kind", "b,c")]).unwrap();
        assert_eq!(q.kind, ["a", "b", "c"]);
        let e = from_pairs([("risk", "severe")]).unwrap_err();
        assert!(e.starts_with("risk: unknown risk level \"severe\""), "{e}");
        let e = from_pairs([("outcome", "pending")]).unwrap_err();
        assert!(e.contains("pending"), "{e}");
        assert!(
            from_pairs([("since", "yesterday")])
                .unwrap_err()
                .starts_with("since:")
        );
        assert!(from_pairs([("limit", "-1")]).is_err());
        assert!(from_pairs([("executed", "yes")]).is_err());
        assert!(
            from_pairs([("colour", "red")])
                .unwrap_err()
                .contains("colour")
        );
        let e = from_pairs([
            ("since", "2026-11-02T00:00:00Z"),
            ("until", "2026-11-01T00:00:00Z"),
        ]);
        assert!(e.unwrap_err().contains("after"));
    }
}
