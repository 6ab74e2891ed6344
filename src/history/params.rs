//! [`HistoryQuery`] → `GET /v1/history` query parameters, the client half of the encoding
//! the broker parses in `broker::http::history::parse_params`.
//!
//! Names: `outcome`, `risk`, `kind`, `env`, `requester`, `approver`, `executed`, `since`,
//! `until`, `q`, `cursor`, `limit`. List values are comma separated, and a list parameter
//! may also repeat (`kind=a&kind=b`). Timestamps are RFC 3339.

use crate::protocol::HistoryQuery;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::http::history::parse_params;
    use crate::protocol::{HistoryCursor, RiskLevel, Status, Timestamp};

    fn parse(pairs: Vec<(&str, String)>) -> Result<HistoryQuery, String> {
        let owned: Vec<(String, String)> =
            pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        parse_params(&owned)
    }

    #[test]
    fn the_broker_parses_what_the_client_encodes() {
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
        assert_eq!(parse(pairs).unwrap(), q);
        assert!(to_pairs(&HistoryQuery::default()).is_empty());
        assert_eq!(parse(Vec::new()).unwrap(), HistoryQuery::default());
    }
}
