//! The chip picker (`f` on the history screen): every chip the approver can toggle, as a
//! flat list of checkboxes over [`Chips`].
//!
//! Environment, kind and requester values come from the loaded records ([`Facets`]),
//! counted once when the picker opens, so drawing it costs nothing per frame.

use crate::history::chips::{Chips, Facets, TimeRange};
use crate::history::index::HistoryIndex;
use crate::protocol::{RiskLevel, Status};

/// Most values offered per facet (the most frequent ones).
const MAX_FACET: usize = 12;

/// One toggle in the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChipItem {
    Outcome(Status),
    Executed,
    Risk(RiskLevel),
    DecidedByMe,
    Time(TimeRange),
    Environment(String, usize),
    Kind(String, usize),
    Requester(String, usize),
}

impl ChipItem {
    /// The group heading the item sits under.
    pub fn group(&self) -> &'static str {
        match self {
            ChipItem::Outcome(_) | ChipItem::Executed => "outcome",
            ChipItem::Risk(_) => "risk",
            ChipItem::DecidedByMe => "approver",
            ChipItem::Time(_) => "time",
            ChipItem::Environment(..) => "environment",
            ChipItem::Kind(..) => "kind",
            ChipItem::Requester(..) => "requested by",
        }
    }

    /// The item's text (agent-supplied values are made display-safe by the view).
    pub fn label(&self) -> String {
        match self {
            ChipItem::Outcome(s) => s.as_str().into(),
            ChipItem::Executed => "executed (cycles: executed / not executed / any)".into(),
            ChipItem::Risk(r) => r.as_str().into(),
            ChipItem::DecidedByMe => "decided by me".into(),
            ChipItem::Time(t) => t.label(),
            ChipItem::Environment(v, n) | ChipItem::Kind(v, n) | ChipItem::Requester(v, n) => {
                format!("{v} ({n})")
            }
        }
    }

    /// Whether the chip is on in `chips`.
    pub fn is_on(&self, chips: &Chips) -> bool {
        match self {
            ChipItem::Outcome(s) => chips.outcomes.contains(s),
            ChipItem::Executed => chips.executed.is_some(),
            ChipItem::Risk(r) => chips.risks.contains(r),
            ChipItem::DecidedByMe => chips.decided_by_me,
            ChipItem::Time(t) => chips.time == *t,
            ChipItem::Environment(v, _) => chips.environments.contains(v),
            ChipItem::Kind(v, _) => chips.kinds.contains(v),
            ChipItem::Requester(v, _) => chips.requested_by.as_deref() == Some(v),
        }
    }

    /// Flips the chip in `chips`.
    pub fn toggle(&self, chips: &mut Chips) {
        match self {
            ChipItem::Outcome(s) => chips.toggle_outcome(*s),
            ChipItem::Executed => chips.cycle_executed(),
            ChipItem::Risk(r) => chips.toggle_risk(*r),
            ChipItem::DecidedByMe => chips.toggle_decided_by_me(),
            // Time presets are exclusive: picking the one that is on goes back to any time.
            ChipItem::Time(t) => chips.time = if chips.time == *t { TimeRange::All } else { *t },
            ChipItem::Environment(v, _) => chips.toggle_environment(v),
            ChipItem::Kind(v, _) => chips.toggle_kind(v),
            ChipItem::Requester(v, _) => chips.toggle_requested_by(v),
        }
    }
}

/// The open picker: its items and the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipPicker {
    pub items: Vec<ChipItem>,
    pub cursor: usize,
}

impl ChipPicker {
    /// Every chip, with facet values from the loaded records; active chips whose value
    /// is no longer among the loaded ones stay listed so they can be turned off.
    pub fn new(index: &HistoryIndex, chips: &Chips) -> Self {
        let mut items: Vec<ChipItem> = [
            Status::Approved,
            Status::Denied,
            Status::Expired,
            Status::Withdrawn,
        ]
        .into_iter()
        .map(ChipItem::Outcome)
        .collect();
        items.push(ChipItem::Executed);
        items.extend(RiskLevel::ALL.iter().rev().map(|r| ChipItem::Risk(*r)));
        items.push(ChipItem::DecidedByMe);
        items.extend(TimeRange::PRESETS[1..].iter().map(|t| ChipItem::Time(*t)));
        let facets = Facets::of(index);
        let offer =
            |values: &[(String, usize)], active: &[String], make: fn(String, usize) -> ChipItem| {
                let mut out: Vec<ChipItem> = values
                    .iter()
                    .take(MAX_FACET)
                    .map(|(v, n)| make(v.clone(), *n))
                    .collect();
                for a in active {
                    if !values.iter().take(MAX_FACET).any(|(v, _)| v == a) {
                        let n = values.iter().find(|(v, _)| v == a).map_or(0, |(_, n)| *n);
                        out.push(make(a.clone(), n));
                    }
                }
                out
            };
        items.extend(offer(
            &facets.environments,
            &chips.environments,
            ChipItem::Environment,
        ));
        items.extend(offer(&facets.kinds, &chips.kinds, ChipItem::Kind));
        let requested: Vec<String> = chips.requested_by.iter().cloned().collect();
        items.extend(offer(&facets.requesters, &requested, ChipItem::Requester));
        Self { items, cursor: 0 }
    }

    pub fn current(&self) -> Option<&ChipItem> {
        self.items.get(self.cursor)
    }

    pub fn move_by(&mut self, delta: isize) {
        let max = self.items.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(delta).min(max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::r#gen::{GenConfig, Generator};

    #[test]
    fn picker_offers_every_chip_kind_and_toggles_them() {
        let g = Generator::new(GenConfig {
            count: 300,
            ..GenConfig::default()
        });
        let index = HistoryIndex::new(g.records());
        let mut chips = Chips::default();
        let p = ChipPicker::new(&index, &chips);
        for group in [
            "outcome",
            "risk",
            "approver",
            "time",
            "environment",
            "kind",
            "requested by",
        ] {
            assert!(p.items.iter().any(|i| i.group() == group), "{group}");
        }
        for item in &p.items {
            assert!(!item.is_on(&chips), "{item:?}");
            item.toggle(&mut chips);
            assert!(item.is_on(&chips), "{item:?}");
        }
        // The last time preset wins; the others are off.
        assert_eq!(chips.time, TimeRange::Last7Days);
        let env = chips.environments[0].clone();
        let again = ChipPicker::new(&HistoryIndex::new(Vec::new()), &chips);
        assert!(again.items.contains(&ChipItem::Environment(env, 0)));
    }
}
