use super::*;
use crate::history::filter::matches_filter;
use crate::history::r#gen::{GenConfig, Generator};

const ME: &str = "maria.garcia@example.com";

fn now() -> Timestamp {
    GenConfig::default().end
}

#[test]
fn toggles_on_and_off() {
    let mut c = Chips::default();
    c.toggle_outcome(Status::Denied);
    c.toggle_outcome(Status::Pending);
    c.toggle_risk(RiskLevel::Critical);
    c.toggle_environment("production");
    c.toggle_kind("iam.grant");
    c.toggle_decided_by_me();
    c.toggle_requested_by("agent-release-bot");
    c.cycle_time();
    c.cycle_executed();
    let labels: Vec<String> = c.active().iter().map(Chip::label).collect();
    assert_eq!(
        labels,
        [
            "denied",
            "executed",
            "risk critical",
            "env production",
            "kind iam.grant",
            "decided by me",
            "requested by agent-release-bot",
            "last 1h"
        ]
    );
    for chip in c.active() {
        c.remove(&chip);
    }
    assert_eq!(c, Chips::default());
    c.toggle_kind("a");
    c.toggle_kind("a");
    c.toggle_requested_by("x");
    c.toggle_requested_by("x");
    assert_eq!(c, Chips::default());
}

#[test]
fn time_presets_cycle_and_bound() {
    let mut t = TimeRange::All;
    let mut seen = Vec::new();
    for _ in 0..4 {
        t = t.next();
        seen.push(t);
    }
    assert_eq!(seen.last(), Some(&TimeRange::All));
    let n = now();
    assert_eq!(TimeRange::LastHour.bounds(n).0, Some(n.plus_secs(-3600)));
    assert_eq!(
        TimeRange::Last7Days.bounds(n).0,
        Some(n.plus_secs(-604_800))
    );
    let custom = TimeRange::Custom {
        since: Some(n.plus_secs(-10)),
        until: Some(n),
    };
    assert_eq!(custom.bounds(n), (Some(n.plus_secs(-10)), Some(n)));
    assert_eq!(custom.next(), TimeRange::All);
}

#[test]
fn query_selects_what_the_chips_say() {
    let g = Generator::new(GenConfig {
        count: 5000,
        ..GenConfig::default()
    });
    let rs = g.records();
    let mut c = Chips::default();
    c.toggle_decided_by_me();
    c.time = TimeRange::Last7Days;
    let q = c.to_query(now(), ME);
    assert_eq!(q.approver.as_deref(), Some(ME));
    let hits: Vec<_> = rs.iter().filter(|r| matches_filter(&q, r)).collect();
    assert!(!hits.is_empty());
    for r in &hits {
        assert!(r.action.votes.iter().any(|v| v.approver == ME));
        assert!(r.decided_at >= now().plus_secs(-604_800));
    }
    assert!(q.validate().is_ok());
}

#[test]
fn facets_count_loaded_values() {
    let g = Generator::new(GenConfig {
        count: 1000,
        ..GenConfig::default()
    });
    let index = HistoryIndex::new(g.records());
    let f = Facets::of(&index);
    assert_eq!(f.environments[0].0, "production");
    assert_eq!(f.environments.iter().map(|e| e.1).sum::<usize>(), 1000);
    assert!(f.kinds.windows(2).all(|w| w[0].1 >= w[1].1));
    assert!(f.requesters.len() >= 10);
}
