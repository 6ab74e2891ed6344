//! The queue screen's state: the pending actions, their visible order and selection,
//! drafts and decisions in flight, the bodies fetched for viewing, and the detail panes'
//! scroll. The functions in [`order`](super::order), [`bodies`](super::bodies) and
//! [`decisions`](super::decisions) take this state (and a [`Ctx`](crate::console::core::ctx::Ctx)),
//! never the whole console.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::protocol::{ActionId, Decision, DecisionId, RiskLevel};

use crate::console::core::layout::Pane;
use crate::console::core::text_input::TextInput;
use crate::console::model::view_model::Entry;
use crate::console::queue::bodies::Bodies;

/// How the queue is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Highest risk first, then soonest expiry.
    Risk,
    /// Soonest expiry first.
    Expiry,
    /// Oldest first.
    Age,
    /// Newest first.
    Newest,
}

impl SortKey {
    pub fn next(self) -> Self {
        match self {
            SortKey::Risk => SortKey::Expiry,
            SortKey::Expiry => SortKey::Age,
            SortKey::Age => SortKey::Newest,
            SortKey::Newest => SortKey::Risk,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Risk => "risk",
            SortKey::Expiry => "expiry",
            SortKey::Age => "oldest first",
            SortKey::Newest => "newest first",
        }
    }
}

/// Queue filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// Risk levels hidden from the queue.
    pub hidden_risks: BTreeSet<RiskLevel>,
    /// Environments hidden from the queue.
    pub hidden_envs: BTreeSet<String>,
}

/// A decision sent (or waiting to be re-sent) and not yet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    pub decision: Decision,
    /// `kind system/resource`, display-safe, for notices.
    pub label: String,
    /// False while the connection is down: re-sent after reconnect if still valid.
    pub sent: bool,
    pub resent: bool,
}

/// The queue screen's state.
#[derive(Debug, Clone)]
pub struct QueueState {
    /// Pending actions by id. Boxed: an `Entry` is ~800 bytes and the map keeps up to
    /// half its buckets empty, so inline entries cost ~5 MB more at 10,000 pending (and
    /// twice that while the map grows).
    pub entries: HashMap<ActionId, Box<Entry>>,
    /// The visible queue order (after filter, search and sort).
    pub order: Vec<ActionId>,
    pub selected: Option<ActionId>,
    /// First visible queue row.
    pub offset: usize,
    pub sort: SortKey,
    pub filter: Filter,
    pub search: TextInput,
    /// Reasons typed ahead (`r`) or kept from a dialog that closed, per action.
    pub drafts: HashMap<ActionId, String>,
    pub inflight: HashMap<DecisionId, InFlight>,
    /// Actions this approver has voted on: kept out of the queue.
    pub voted: HashSet<ActionId>,
    /// Bodies fetched (`get_action`), kept for viewing and signing.
    pub bodies: Bodies,
    /// The detail panes' vertical scroll, back to the top when the selection moves.
    pub scroll: HashMap<Pane, u16>,
    /// The diff pane's first column (horizontal scroll), 0-based.
    pub diff_col: usize,
}

impl Default for QueueState {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            order: Vec::new(),
            selected: None,
            offset: 0,
            sort: SortKey::Risk,
            filter: Filter::default(),
            search: TextInput::default(),
            drafts: HashMap::new(),
            inflight: HashMap::new(),
            voted: HashSet::new(),
            bodies: Bodies::default(),
            scroll: HashMap::new(),
            diff_col: 0,
        }
    }
}

impl QueueState {
    pub fn selected_entry(&self) -> Option<&Entry> {
        self.selected
            .and_then(|id| self.entries.get(&id))
            .map(|e| &**e)
    }

    /// The in-flight decision for an action, if any.
    pub fn inflight_for(&self, id: ActionId) -> Option<&InFlight> {
        self.inflight.values().find(|f| f.decision.action_id == id)
    }

    pub fn pane_scroll(&self, pane: Pane) -> u16 {
        self.scroll.get(&pane).copied().unwrap_or(0)
    }

    /// Environments present in the queue, for the filter dialog.
    pub fn environments(&self) -> Vec<String> {
        let set: BTreeSet<String> = self
            .entries
            .values()
            .map(|e| e.row.environment.plain())
            .collect();
        set.into_iter().collect()
    }
}
