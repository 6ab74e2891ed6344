//! The filter dialog (`f`): risk levels, then the environments on the queue, each a
//! toggle that hides or shows its actions at once.

use std::collections::BTreeSet;

use crate::console::core::msg::Action;
use crate::console::queue::order;
use crate::console::queue::state::QueueState;
use crate::protocol::RiskLevel;

/// The dialog's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FilterDialog {
    /// The toggle under the cursor: risk levels first, then environments.
    pub cursor: usize,
}

impl FilterDialog {
    /// A key in the dialog: the dialog as it stays open, or `None` when it closes.
    pub fn key(mut self, q: &mut QueueState, action: Action) -> Option<Self> {
        let envs = q.environments();
        let n = RiskLevel::ALL.len() + envs.len();
        match action {
            Action::Cancel => return None,
            Action::Down => self.cursor = (self.cursor + 1).min(n.saturating_sub(1)),
            Action::Up => self.cursor = self.cursor.saturating_sub(1),
            Action::Toggle => {
                if let Some(level) = RiskLevel::ALL.get(self.cursor) {
                    toggle(&mut q.filter.hidden_risks, *level);
                } else if let Some(env) = envs.get(self.cursor - RiskLevel::ALL.len()) {
                    toggle(&mut q.filter.hidden_envs, env.clone());
                }
                order::rebuild(q);
            }
            _ => {}
        }
        Some(self)
    }
}

fn toggle<T: Ord>(set: &mut BTreeSet<T>, v: T) {
    if !set.remove(&v) {
        set.insert(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::fixtures::{live_app, sample_queue};

    #[test]
    fn space_hides_a_risk_level_at_once_and_esc_closes() {
        let mut q = live_app(sample_queue(), (100, 30)).queue;
        let all = q.order.len();
        let f = FilterDialog::default();
        // The cursor starts on the first level: hide it.
        let low = q
            .entries
            .values()
            .filter(|e| e.row.risk == RiskLevel::ALL[0])
            .count();
        let f = f.key(&mut q, Action::Toggle).expect("stays open");
        assert_eq!(q.order.len(), all - low);
        let f = f.key(&mut q, Action::Toggle).expect("stays open");
        assert_eq!(q.order.len(), all, "toggled back");
        let f = f.key(&mut q, Action::Up).expect("stays open");
        assert_eq!(f.cursor, 0, "never above the first toggle");
        assert_eq!(f.key(&mut q, Action::Cancel), None);
    }
}
