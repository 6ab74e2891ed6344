//! `GET /v1/history`: decided actions, filtered, newest first, cursor-paged.

use axum::Json;
use axum::extract::{Query, State};

use super::auth::Approver;
use crate::broker::error::HttpError;
use crate::broker::state::AppState;
use crate::protocol::{HistoryCursor, HistoryPage, HistoryQuery, RiskLevel, Status, Timestamp};

fn list<T: std::str::FromStr<Err = String>>(v: &str) -> Result<Vec<T>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

fn strings(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Query parameters to a [`HistoryQuery`]; repeated list parameters accumulate.
pub fn parse_params(params: &[(String, String)]) -> Result<HistoryQuery, String> {
    let mut q = HistoryQuery::default();
    for (k, v) in params {
        let named = |e: String| format!("{k}: {e}");
        match k.as_str() {
            "outcome" => q.outcome.extend(list::<Status>(v).map_err(named)?),
            "risk" => q.risk.extend(list::<RiskLevel>(v).map_err(named)?),
            "kind" => q.kind.extend(strings(v)),
            "env" | "environment" => q.environment.extend(strings(v)),
            "requester" => q.requester = Some(v.clone()),
            "approver" => q.approver = Some(v.clone()),
            "executed" => {
                q.executed = Some(match v.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(format!("executed: expected true or false, got {v:?}")),
                })
            }
            "since" => q.since = Some(Timestamp::parse(v).map_err(named)?),
            "until" => q.until = Some(Timestamp::parse(v).map_err(named)?),
            "q" | "text" => q.text = Some(v.clone()).filter(|t| !t.trim().is_empty()),
            "cursor" => q.cursor = Some(HistoryCursor(v.clone())),
            "limit" => {
                q.limit = Some(
                    v.parse()
                        .map_err(|_| format!("limit: expected a number, got {v:?}"))?,
                )
            }
            other => return Err(format!("unknown filter {other:?}")),
        }
    }
    q.validate()?;
    Ok(q)
}

/// Runs a validated query against the store (shared with the websocket `query_history`).
pub async fn run(state: &AppState, q: HistoryQuery) -> Result<HistoryPage, HttpError> {
    q.validate().map_err(HttpError::invalid_query)?;
    state.read(move |s| s.history(&q)).await
}

pub async fn history(
    State(state): State<AppState>,
    Approver(_p): Approver,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<HistoryPage>, HttpError> {
    let q = parse_params(&params).map_err(HttpError::invalid_query)?;
    run(&state, q).await.map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Result<HistoryQuery, String> {
        let v: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        parse_params(&v)
    }

    #[test]
    fn parses_every_filter() {
        let q = p(&[
            ("outcome", "approved,denied"),
            ("risk", "high"),
            ("risk", "critical"),
            ("env", "production"),
            ("kind", "db.export"),
            ("requester", "agent-7"),
            ("approver", "bob"),
            ("executed", "true"),
            ("since", "2026-01-01T00:00:00Z"),
            ("until", "2026-02-01T00:00:00Z"),
            ("q", "customers"),
            ("limit", "20"),
        ])
        .unwrap();
        assert_eq!(q.outcome, [Status::Approved, Status::Denied]);
        assert_eq!(q.risk, [RiskLevel::High, RiskLevel::Critical]);
        assert_eq!(q.environment, ["production"]);
        assert_eq!(q.executed, Some(true));
        assert_eq!(q.text.as_deref(), Some("customers"));
        assert_eq!(q.limit, Some(20));
    }

    #[test]
    fn refuses_bad_filters() {
        assert!(p(&[("outcome", "maybe")]).is_err());
        assert!(p(&[("outcome", "pending")]).is_err());
        assert!(p(&[("risk", "huge")]).is_err());
        assert!(p(&[("since", "yesterday")]).is_err());
        assert!(p(&[("executed", "yes")]).is_err());
        assert!(p(&[("limit", "0")]).is_err());
        assert!(p(&[("colour", "red")]).is_err());
        let e = p(&[
            ("since", "2026-02-01T00:00:00Z"),
            ("until", "2026-01-01T00:00:00Z"),
        ]);
        assert!(e.unwrap_err().contains("after"));
    }
}
