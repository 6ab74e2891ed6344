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

use crate::console::core::app::{App, Screen};
use crate::console::core::msg::{Effect, HistoryAsk};
use crate::console::history::state::{self as view, Load, PAGE_SIZE};

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

/// The feed reported an action decided, expired, withdrawn or executed.
pub fn decided(app: &mut App, fx: &mut Vec<Effect>) {
    if app.screen != Screen::History || app.history.load == Load::Idle {
        return;
    }
    let live = &mut app.history.live;
    if live.refreshing {
        live.refresh_again = true;
        return;
    }
    refresh(app, fx);
}

fn refresh(app: &mut App, fx: &mut Vec<Effect>) {
    let h = &mut app.history;
    h.live.refreshing = true;
    h.live.refresh_again = false;
    fx.push(Effect::AskHistory {
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
pub fn left(app: &mut App) {
    let live = &mut app.history.live;
    live.edited_at = None;
    if matches!(live.broker, BrokerSearch::Searching { .. }) {
        live.broker = BrokerSearch::Idle;
    }
}

/// The search text changed: restart the settle clock.
pub fn text_changed(app: &mut App) {
    let live = &mut app.history.live;
    live.broker = BrokerSearch::Idle;
    live.edited_at = (!app.history.search.value.trim().is_empty()).then_some(app.now);
}

/// On each tick: send a settled search text to the broker if it has unloaded pages.
pub fn tick(app: &mut App, fx: &mut Vec<Effect>) {
    let h = &mut app.history;
    let Some(at) = h.live.edited_at else { return };
    // The first page under these chips is on its way: whether more exist is not known yet.
    let first_loading = h.load == Load::Loading { first: true };
    if app.screen != Screen::History || first_loading || at.millis_until(app.now) < SETTLE_MS {
        return;
    }
    h.live.edited_at = None;
    let text = h.search.value.trim().to_string();
    if text.is_empty() || h.next_cursor.is_none() {
        return;
    }
    h.live.broker = BrokerSearch::Searching { text: text.clone() };
    app.dirty = true;
    fx.push(Effect::AskHistory {
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
    app: &mut App,
    ask: HistoryAsk,
    generation: u64,
    result: Result<HistoryPage, String>,
    fx: &mut Vec<Effect>,
) {
    match ask {
        HistoryAsk::Refresh => {
            app.history.live.refreshing = false;
            // A newer generation refetches the first page itself.
            if generation == app.history.generation
                && let Ok(page) = result
            {
                merge(app, page);
            } else if let Err(e) = result {
                tracing::warn!(error = %e, "history refresh failed");
            }
            if app.history.live.refresh_again {
                refresh(app, fx);
            }
        }
        HistoryAsk::Search => {
            let h = &mut app.history;
            let text = h.search.value.trim().to_string();
            let asked = matches!(&h.live.broker, BrokerSearch::Searching { text: t } if *t == text);
            if generation != h.generation || !asked {
                return;
            }
            let broker = match result {
                Ok(page) => BrokerSearch::Found {
                    text,
                    added: merge(app, page),
                },
                Err(error) => BrokerSearch::Failed { text, error },
            };
            app.history.live.broker = broker;
        }
    }
    app.dirty = true;
}

/// Merges `page` into the loaded set keeping the selected record selected and the top
/// row of the viewport in place. Returns how many records were not loaded before.
fn merge(app: &mut App, page: HistoryPage) -> usize {
    let h = &mut app.history;
    let local = h.local();
    let fresh: Vec<ActionId> = page
        .records
        .iter()
        .map(|r| r.action.id)
        .filter(|id| local.index().slot_of(*id).is_none())
        .collect();
    let id_at =
        |h: &view::HistoryState, i: usize| h.rows().get(i).map(|&s| h.local().record(s).action.id);
    let selected = id_at(h, h.selected);
    let top = (h.offset > 0).then(|| id_at(h, h.offset)).flatten();
    h.loaded.0.upsert(page.records);
    let position = |h: &view::HistoryState, id: ActionId| {
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
    view::clamp(app);
    let h = &mut app.history;
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
