//! The history screen kept live while it is open: decisions reported by the feed refresh
//! the first page, and a settled search text asks the broker's full-text search.
//!
//! Both ask through [`Effect::AskHistory`] and merge the answer into the loaded set
//! without moving the selection. A refresh is debounced: one request at a time, and a
//! burst of decisions during it costs a single follow-up request. A search goes out once
//! the text has not changed for [`SETTLE_MS`] (checked on the tick, so `update` never
//! starts a timer), and only while the broker has pages that are not loaded.

use std::collections::HashSet;

use crate::protocol::{ActionId, HistoryPage, HistoryQuery, Timestamp};

use crate::console::core::ctx::Ctx;
use crate::console::core::msg::{Effect, HistoryAsk};
use crate::console::history::state::{self as view, HistoryState, Load, PAGE_SIZE};

/// A search text unchanged this long is sent to the broker.
pub const SETTLE_MS: i64 = 300;

/// Where the broker search for the current text stands, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BrokerSearch {
    /// Nothing asked (no text, typing, or everything is loaded).
    #[default]
    Idle,
    /// Asked for `text`; the answer is on its way.
    Searching { text: String },
    /// The broker found `added` matches for `text` that were not loaded.
    Found { text: String, added: usize },
    /// The broker search failed; local results still show.
    Failed { text: String, error: String },
}

/// The live state of the history screen.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    /// A refresh of the first page is on its way.
    refreshing: bool,
    /// A decision arrived during that refresh: one more when it lands.
    refresh_again: bool,
    /// New rows merged above the viewport since the approver last saw the top.
    pub new_above: usize,
    /// When the search text last changed (cleared once it was sent).
    edited_at: Option<Timestamp>,
    pub broker: BrokerSearch,
}

impl LiveState {
    /// A search text is waiting to settle (the runtime ticks faster meanwhile).
    pub fn settling(&self) -> bool {
        self.edited_at.is_some() || matches!(self.broker, BrokerSearch::Searching { .. })
    }
}

/// The feed reported an action decided, expired, withdrawn or executed (the caller
/// tells only while the screen is open).
pub fn decided(h: &mut HistoryState, cx: &mut Ctx) {
    if h.load == Load::Idle {
        return;
    }
    if h.live.refreshing {
        h.live.refresh_again = true;
        return;
    }
    refresh(h, cx);
}

fn refresh(h: &mut HistoryState, cx: &mut Ctx) {
    h.live.refreshing = true;
    h.live.refresh_again = false;
    cx.effect(Effect::AskHistory {
        ask: HistoryAsk::Refresh,
        generation: h.generation,
        query: HistoryQuery {
            cursor: None,
            limit: Some(PAGE_SIZE),
            ..h.query.clone()
        },
    });
}

/// The screen closed: nothing is waiting to settle (entering again restarts it).
pub fn left(h: &mut HistoryState) {
    let live = &mut h.live;
    live.edited_at = None;
    if matches!(live.broker, BrokerSearch::Searching { .. }) {
        live.broker = BrokerSearch::Idle;
    }
}

/// The search text changed: restart the settle clock.
pub fn text_changed(h: &mut HistoryState, cx: &Ctx) {
    h.live.broker = BrokerSearch::Idle;
    h.live.edited_at = (!h.search.value.trim().is_empty()).then_some(cx.now);
}

/// On each tick while the screen is open: send a settled search text to the broker if
/// it has unloaded pages.
pub fn tick(h: &mut HistoryState, cx: &mut Ctx) {
    let Some(at) = h.live.edited_at else { return };
    // The first page under these chips is on its way: whether more exist is not known yet.
    let first_loading = h.load == Load::Loading { first: true };
    if first_loading || at.millis_until(cx.now) < SETTLE_MS {
        return;
    }
    h.live.edited_at = None;
    let text = h.search.value.trim().to_string();
    if text.is_empty() || h.next_cursor.is_none() {
        return;
    }
    h.live.broker = BrokerSearch::Searching { text: text.clone() };
    cx.redraw();
    cx.effect(Effect::AskHistory {
        ask: HistoryAsk::Search,
        generation: h.generation,
        query: HistoryQuery {
            text: Some(text),
            cursor: None,
            limit: Some(PAGE_SIZE),
            ..h.query.clone()
        },
    });
}

/// A refresh or search answer arrived.
pub fn answered(
    h: &mut HistoryState,
    cx: &mut Ctx,
    ask: HistoryAsk,
    generation: u64,
    result: Result<HistoryPage, String>,
) {
    match ask {
        HistoryAsk::Refresh => {
            h.live.refreshing = false;
            // A newer generation refetches the first page itself.
            if generation == h.generation
                && let Ok(page) = result
            {
                merge(h, cx.size, page);
            } else if let Err(e) = result {
                tracing::warn!(error = %e, "history refresh failed");
            }
            if h.live.refresh_again {
                refresh(h, cx);
            }
        }
        HistoryAsk::Search => {
            let text = h.search.value.trim().to_string();
            let asked = matches!(&h.live.broker, BrokerSearch::Searching { text: t } if *t == text);
            if generation != h.generation || !asked {
                return;
            }
            let broker = match result {
                Ok(page) => BrokerSearch::Found {
                    text,
                    added: merge(h, cx.size, page),
                },
                Err(error) => BrokerSearch::Failed { text, error },
            };
            h.live.broker = broker;
        }
    }
    cx.redraw();
}

/// Merges `page` into the loaded set keeping the selected record selected and the top
/// row of the viewport in place (in a window of `size`). Returns how many records were
/// not loaded before.
fn merge(h: &mut HistoryState, size: (u16, u16), page: HistoryPage) -> usize {
    let local = h.local();
    let fresh: Vec<ActionId> = page
        .records
        .iter()
        .map(|r| r.action.id)
        .filter(|id| local.index().slot_of(*id).is_none())
        .collect();
    let id_at =
        |h: &HistoryState, i: usize| h.rows().get(i).map(|&s| h.local().record(s).action.id);
    let selected = id_at(h, h.selected);
    let top = (h.offset > 0).then(|| id_at(h, h.offset)).flatten();
    h.loaded.0.upsert(page.records);
    let position = |h: &HistoryState, id: ActionId| {
        h.rows()
            .iter()
            .position(|&s| h.local().record(s).action.id == id)
    };
    if let Some(i) = selected.and_then(|id| position(h, id)) {
        h.selected = i;
    }
    if let Some(i) = top.and_then(|id| position(h, id)) {
        h.offset = i;
    }
    view::clamp(h, size);
    let fresh_slots: HashSet<u32> = fresh
        .iter()
        .filter_map(|id| h.local().index().slot_of(*id))
        .collect();
    let above = h.rows()[..h.offset.min(h.rows().len())]
        .iter()
        .filter(|s| fresh_slots.contains(s))
        .count();
    h.live.new_above = (h.live.new_above + above).min(h.offset);
    fresh.len()
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
