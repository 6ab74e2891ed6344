//! From tags to a score and a level: per-tag weights add up (each tag id once), rule
//! bonuses add on top, the sum is capped at 100, and the level follows from thresholds.
//! A rule may raise the level (never lower it): a detector's finding must stay visible.

use std::collections::BTreeMap;

use crate::protocol::{Risk, RiskLevel, RiskTag};

/// Default weight of each built-in tag.
pub const DEFAULT_WEIGHTS: &[(&str, u32)] = &[
    ("hidden-characters", 50),
    ("long-line", 20),
    ("privilege-escalation", 40),
    ("destructive", 35),
    ("production", 30),
    ("pii", 30),
    ("data-export", 20),
    ("bulk", 20),
    ("unknown-kind", 15),
    ("first-time", 15),
    ("off-hours", 10),
];

/// Weights and level thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scoring {
    /// Weight per tag id; ids not listed weigh 0.
    pub weights: BTreeMap<String, u32>,
    /// Lowest score of `medium`, `high` and `critical`, strictly increasing, at most 100.
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

impl Default for Scoring {
    fn default() -> Self {
        Self {
            weights: DEFAULT_WEIGHTS
                .iter()
                .map(|(id, w)| (id.to_string(), *w))
                .collect(),
            medium: 20,
            high: 50,
            critical: 80,
        }
    }
}

impl Scoring {
    pub fn weight(&self, id: &str) -> u32 {
        self.weights.get(id).copied().unwrap_or(0)
    }

    /// The level a score reaches.
    pub fn level_of(&self, score: u32) -> RiskLevel {
        if score >= self.critical {
            RiskLevel::Critical
        } else if score >= self.high {
            RiskLevel::High
        } else if score >= self.medium {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }

    /// The lowest score of a level.
    pub fn threshold(&self, level: RiskLevel) -> u32 {
        match level {
            RiskLevel::Low => 0,
            RiskLevel::Medium => self.medium,
            RiskLevel::High => self.high,
            RiskLevel::Critical => self.critical,
        }
    }

    /// Combines tags, rule bonuses and a rule level floor into a [`Risk`]. Tags are
    /// ordered heaviest first (stable), so the most serious reason is read first.
    pub fn combine(&self, mut tags: Vec<RiskTag>, bonus: u32, floor: RiskLevel) -> Risk {
        let mut seen: Vec<&str> = Vec::new();
        let mut sum: u32 = 0;
        for t in &tags {
            if !seen.contains(&t.id.as_str()) {
                seen.push(&t.id);
                sum = sum.saturating_add(self.weight(&t.id));
            }
        }
        let mut score = sum.saturating_add(bonus).min(100);
        let mut level = self.level_of(score);
        if floor > level {
            level = floor;
            score = score.max(self.threshold(floor));
        }
        tags.sort_by_key(|t| std::cmp::Reverse(self.weight(&t.id)));
        Risk { level, score, tags }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str) -> RiskTag {
        RiskTag {
            id: id.into(),
            label: id.into(),
            reason: String::new(),
        }
    }

    #[test]
    fn weights_add_up_once_per_id_and_cap_at_100() {
        let s = Scoring::default();
        let r = s.combine(vec![t("production"), t("destructive")], 0, RiskLevel::Low);
        assert_eq!((r.score, r.level), (65, RiskLevel::High));
        let r = s.combine(vec![t("production"), t("production")], 0, RiskLevel::Low);
        assert_eq!(r.score, 30);
        let r = s.combine(
            vec![
                t("hidden-characters"),
                t("privilege-escalation"),
                t("destructive"),
            ],
            0,
            RiskLevel::Low,
        );
        assert_eq!((r.score, r.level), (100, RiskLevel::Critical));
    }

    #[test]
    fn thresholds_pick_the_level() {
        let s = Scoring::default();
        assert_eq!(s.level_of(0), RiskLevel::Low);
        assert_eq!(s.level_of(19), RiskLevel::Low);
        assert_eq!(s.level_of(20), RiskLevel::Medium);
        assert_eq!(s.level_of(50), RiskLevel::High);
        assert_eq!(s.level_of(80), RiskLevel::Critical);
    }

    #[test]
    fn rule_floor_raises_level_and_score_but_never_lowers() {
        let s = Scoring::default();
        let r = s.combine(vec![t("off-hours")], 0, RiskLevel::Critical);
        assert_eq!((r.score, r.level), (80, RiskLevel::Critical));
        let r = s.combine(vec![t("hidden-characters")], 0, RiskLevel::Low);
        assert_eq!(r.level, RiskLevel::High);
        let r = s.combine(vec![t("custom")], 25, RiskLevel::Low);
        assert_eq!((r.score, r.level), (25, RiskLevel::Medium));
    }

    #[test]
    fn heaviest_tag_first() {
        let s = Scoring::default();
        let r = s.combine(
            vec![
                t("off-hours"),
                t("custom"),
                t("hidden-characters"),
                t("production"),
            ],
            0,
            RiskLevel::Low,
        );
        let ids: Vec<&str> = r.tags.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            ["hidden-characters", "production", "off-hours", "custom"]
        );
    }
}
