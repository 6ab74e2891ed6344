//! The structured part of a [`HistoryQuery`] (everything but the free text), as a
//! predicate over one record. The broker's SQL must mean the same; the rules are:
//!
//! - `outcome`, `risk`, `kind`, `environment`: the record's value is one of those listed
//!   (kind and environment compare exactly);
//! - `requester`: equals the requester's id or its display name (exactly);
//! - `approver`: equals the subject of an approver who voted (either way);
//! - `executed`: an execution result was (or was not) reported;
//! - `since` ≤ decided_at < `until`.

use crate::protocol::{HistoryQuery, HistoryRecord};

/// True when `record` passes every structured filter of `query`.
pub fn matches_filter(query: &HistoryQuery, record: &HistoryRecord) -> bool {
    let a = &record.action;
    if !query.outcome.is_empty() && !query.outcome.contains(&a.status) {
        return false;
    }
    if !query.risk.is_empty() && !query.risk.contains(&a.risk.level) {
        return false;
    }
    if !query.kind.is_empty() && !query.kind.contains(&a.kind) {
        return false;
    }
    if !query.environment.is_empty() && !query.environment.contains(&a.target.environment) {
        return false;
    }
    if let Some(who) = &query.requester
        && a.requester.id != *who
        && a.requester.display_name != *who
    {
        return false;
    }
    if let Some(who) = &query.approver
        && !a.votes.iter().any(|v| v.approver == *who)
    {
        return false;
    }
    if let Some(executed) = query.executed
        && a.execution.is_some() != executed
    {
        return false;
    }
    if let Some(since) = query.since
        && record.decided_at < since
    {
        return false;
    }
    if let Some(until) = query.until
        && record.decided_at >= until
    {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::r#gen::{GenConfig, Generator};
    use crate::protocol::{RiskLevel, Status};

    fn records() -> Vec<HistoryRecord> {
        let g = Generator::new(GenConfig::default());
        (0..2000).map(|i| g.record(i)).collect()
    }

    type Check = (HistoryQuery, Box<dyn Fn(&HistoryRecord) -> bool>);

    fn count(q: &HistoryQuery, rs: &[HistoryRecord]) -> usize {
        rs.iter().filter(|r| matches_filter(q, r)).count()
    }

    #[test]
    fn each_filter_alone() {
        let rs = records();
        let all = rs.len();
        let checks: Vec<Check> = vec![
            (
                HistoryQuery {
                    outcome: vec![Status::Denied],
                    ..Default::default()
                },
                Box::new(|r| r.action.status == Status::Denied),
            ),
            (
                HistoryQuery {
                    risk: vec![RiskLevel::Critical],
                    ..Default::default()
                },
                Box::new(|r| r.action.risk.level == RiskLevel::Critical),
            ),
            (
                HistoryQuery {
                    kind: vec!["terraform.apply".into()],
                    ..Default::default()
                },
                Box::new(|r| r.action.kind == "terraform.apply"),
            ),
            (
                HistoryQuery {
                    environment: vec!["staging".into()],
                    ..Default::default()
                },
                Box::new(|r| r.action.target.environment == "staging"),
            ),
            (
                HistoryQuery {
                    executed: Some(true),
                    ..Default::default()
                },
                Box::new(|r| r.action.execution.is_some()),
            ),
            (
                HistoryQuery {
                    approver: Some("maria.garcia@example.com".into()),
                    ..Default::default()
                },
                Box::new(|r| {
                    r.action
                        .votes
                        .iter()
                        .any(|v| v.approver == "maria.garcia@example.com")
                }),
            ),
        ];
        for (i, (q, want)) in checks.iter().enumerate() {
            let n = count(q, &rs);
            let expect = rs.iter().filter(|r| want(r)).count();
            assert_eq!(n, expect, "check #{i}");
            assert!(
                n > 0 && n < all,
                "check #{i} should select some but not all: {n}"
            );
        }
    }

    #[test]
    fn requester_by_id_or_display_name() {
        let rs = records();
        let r0 = &rs[0].action.requester;
        let by_id = HistoryQuery {
            requester: Some(r0.id.clone()),
            ..Default::default()
        };
        let by_name = HistoryQuery {
            requester: Some(r0.display_name.clone()),
            ..Default::default()
        };
        assert!(count(&by_id, &rs) > 0);
        assert_eq!(count(&by_id, &rs), count(&by_name, &rs));
    }

    #[test]
    fn time_range_is_half_open() {
        let rs = records();
        let t = rs[10].decided_at;
        let since = HistoryQuery {
            since: Some(t),
            ..Default::default()
        };
        let until = HistoryQuery {
            until: Some(t),
            ..Default::default()
        };
        assert!(matches_filter(&since, &rs[10]));
        assert!(!matches_filter(&until, &rs[10]));
        assert_eq!(count(&since, &rs) + count(&until, &rs), rs.len());
    }

    #[test]
    fn filters_combine_with_and() {
        let rs = records();
        let q = HistoryQuery {
            outcome: vec![Status::Approved],
            environment: vec!["production".into()],
            risk: vec![RiskLevel::High, RiskLevel::Critical],
            ..Default::default()
        };
        let n = count(&q, &rs);
        let expect = rs
            .iter()
            .filter(|r| {
                r.action.status == Status::Approved
                    && r.action.target.environment == "production"
                    && r.action.risk.level >= RiskLevel::High
            })
            .count();
        assert_eq!(n, expect);
        assert!(n > 0);
    }
}
