//! The history screen's state (`H`): loaded pages, filter chips, the search box and the
//! selection, with the paging rules that keep it lazy.
//!
//! Pages come from the broker's `/v1/history` through [`Effect::FetchHistory`] and stay in
//! a [`LocalHistory`], so chips and search narrow what is loaded with no round trip. A
//! chip change also refetches from the first page (the chips are server-side filters
//! too); each fetch carries a generation, and answers for an older one are dropped. The
//! next page is asked for once the selection comes near the end of the rows. Key
//! handling is in [`crate::console::history::input`].

use std::fmt;

use crate::history::LocalHistory;
use crate::history::chips::Chips;
use crate::protocol::{ActionId, HistoryCursor, HistoryPage, HistoryQuery, HistoryRecord};

use crate::console::core::ctx::Ctx;
use crate::console::core::keymap::Mode;
use crate::console::core::msg::Effect;
use crate::console::core::notice::Level;
use crate::console::core::text_input::TextInput;
use crate::console::history::chips::ChipPicker;
use crate::console::history::live::LiveState;

/// Records asked for per page.
pub const PAGE_SIZE: u32 = 200;
/// Ask for the next page when the selection is this many rows from the end.
pub const PREFETCH: usize = 40;

/// Where loading stands, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Load {
    /// Never opened.
    Idle,
    /// A page is on its way (`first`: the first page of the current filters).
    Loading { first: bool },
    /// Every page asked for arrived.
    Ready,
    /// The last request failed; the reason is shown.
    Failed(String),
}

/// A prompt or picker open over the history list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// `/`: the search box has the cursor (filters as you type).
    Search,
    /// `f`: the chip picker.
    Chips(ChipPicker),
    /// `T`: a custom time range, `SINCE [UNTIL]`.
    CustomTime {
        input: TextInput,
        error: Option<String>,
    },
}

/// The loaded records, filtered and searched. `Clone` rebuilds the index (the console
/// state is cloned only in tests).
#[derive(Default)]
pub struct Loaded(pub LocalHistory);

impl Clone for Loaded {
    fn clone(&self) -> Self {
        let h = &self.0;
        let records = h
            .index()
            .order()
            .iter()
            .map(|&s| h.record(s).clone())
            .collect();
        let mut copy = LocalHistory::new(records);
        copy.set_filter(h.filter());
        copy.set_text(h.text());
        Self(copy)
    }
}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("loaded", &self.0.loaded())
            .field("shown", &self.0.results().len())
            .finish()
    }
}

/// The history screen's state.
#[derive(Debug, Clone)]
pub struct HistoryState {
    pub loaded: Loaded,
    pub chips: Chips,
    pub search: TextInput,
    pub prompt: Option<Prompt>,
    /// Index into the shown rows.
    pub selected: usize,
    /// First visible row.
    pub offset: usize,
    /// The detail pane has the keys (j/k scroll it).
    pub detail_focus: bool,
    pub detail_scroll: u16,
    pub load: Load,
    /// Bumped on every refetch; pages for an older generation are stale.
    pub generation: u64,
    /// The server query of the current generation (no cursor).
    pub query: HistoryQuery,
    /// The broker has more pages after the last one loaded.
    pub next_cursor: Option<HistoryCursor>,
    /// Re-entering under the same chips refreshes the first page but keeps paging from
    /// where it stopped (the broker's cursor is a keyset, stable under new decisions),
    /// if the refreshed page reaches records already loaded.
    pub keep_cursor: Option<Option<HistoryCursor>>,
    /// Refreshes on feed decisions and the broker search ([`crate::console::history::live`]).
    pub live: LiveState,
}

impl Default for HistoryState {
    fn default() -> Self {
        Self::with_records(Vec::new())
    }
}

impl HistoryState {
    /// A state holding `records` as if loaded, with no network (benches, snapshots).
    pub fn with_records(records: Vec<HistoryRecord>) -> Self {
        let load = if records.is_empty() {
            Load::Idle
        } else {
            Load::Ready
        };
        Self {
            loaded: Loaded(LocalHistory::new(records)),
            chips: Chips::default(),
            search: TextInput::default(),
            prompt: None,
            selected: 0,
            offset: 0,
            detail_focus: false,
            detail_scroll: 0,
            load,
            generation: 0,
            query: HistoryQuery::default(),
            next_cursor: None,
            keep_cursor: None,
            live: LiveState::default(),
        }
    }

    /// The key table for the screen as it is now.
    pub fn mode(&self) -> Mode {
        match &self.prompt {
            None => Mode::History,
            Some(Prompt::Search | Prompt::CustomTime { .. }) => Mode::Input,
            Some(Prompt::Chips(_)) => Mode::Toggles,
        }
    }

    pub fn local(&self) -> &LocalHistory {
        &self.loaded.0
    }

    /// The shown rows: slots, newest first.
    pub fn rows(&self) -> &[u32] {
        self.loaded.0.results()
    }

    /// The slot of the selected row.
    pub fn selected_slot(&self) -> Option<u32> {
        self.rows().get(self.selected).copied()
    }

    pub fn selected_record(&self) -> Option<&HistoryRecord> {
        self.selected_slot().map(|s| self.loaded.0.record(s))
    }

    /// Sets the search text and goes back to the top.
    pub fn set_text(&mut self, text: &str) {
        self.loaded.0.set_text(text);
        self.selected = 0;
        self.offset = 0;
        self.detail_scroll = 0;
    }

    /// Keeps the selection in the rows and on screen (`rows` visible).
    pub fn clamp(&mut self, visible: usize) {
        let n = self.rows().len();
        self.selected = self.selected.min(n.saturating_sub(1));
        let visible = visible.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + visible {
            self.offset = self.selected + 1 - visible;
        }
        self.offset = self.offset.min(n.saturating_sub(1));
        if self.offset == 0 {
            self.live.new_above = 0;
        }
    }

    /// Selects the row of `id` again after the rows changed, if it is still shown.
    fn reselect(&mut self, id: Option<ActionId>) {
        let Some(id) = id else { return };
        let local = &self.loaded.0;
        if self.selected_record().is_some_and(|r| r.action.id == id) {
            return;
        }
        if let Some(i) = self
            .rows()
            .iter()
            .position(|&s| local.record(s).action.id == id)
        {
            self.selected = i;
        }
    }
}

/// `H` from the queue (the caller shows the screen): fetch the first page.
pub fn enter(h: &mut HistoryState, cx: &mut Ctx) {
    let me = cx.subject().unwrap_or_default().to_string();
    h.prompt = None;
    let same = HistoryQuery {
        limit: Some(PAGE_SIZE),
        ..h.chips.to_query(cx.now, &me)
    } == h.query;
    let kept = (same && h.load == Load::Ready).then(|| h.next_cursor.clone());
    refetch(h, cx);
    h.keep_cursor = kept;
}

/// `H` or Esc: back to the queue (the caller shows it; what was loaded stays for next
/// time).
pub fn leave(h: &mut HistoryState) {
    h.prompt = None;
    h.detail_focus = false;
    crate::console::history::live::left(h);
}

/// The chips changed (or the screen opened): filter what is loaded at once, and ask the
/// broker for the first page under the new filters.
pub fn refetch(h: &mut HistoryState, cx: &mut Ctx) {
    let me = cx.subject().unwrap_or_default().to_string();
    let mut query = h.chips.to_query(cx.now, &me);
    let id = h.selected_record().map(|r| r.action.id);
    h.loaded.0.set_filter(&query);
    h.reselect(id);
    query.limit = Some(PAGE_SIZE);
    h.generation += 1;
    h.query = query.clone();
    h.next_cursor = None;
    h.keep_cursor = None;
    h.load = Load::Loading { first: true };
    cx.effect(Effect::FetchHistory {
        generation: h.generation,
        query,
    });
    clamp(h, cx.size);
    // The broker search runs again under the new filters.
    crate::console::history::live::text_changed(h, cx);
}

/// A page arrived (or failed).
pub fn page_arrived(
    h: &mut HistoryState,
    cx: &mut Ctx,
    generation: u64,
    result: Result<HistoryPage, String>,
) {
    if generation != h.generation {
        return;
    }
    cx.redraw();
    match result {
        Ok(page) => {
            let id = h.selected_record().map(|r| r.action.id);
            let reaches_loaded = page
                .records
                .last()
                .is_some_and(|r| h.local().index().slot_of(r.action.id).is_some());
            h.loaded.0.upsert(page.records);
            h.reselect(id);
            h.next_cursor = match h.keep_cursor.take() {
                Some(kept) if reaches_loaded && page.next_cursor.is_some() => kept,
                _ => page.next_cursor,
            };
            h.load = Load::Ready;
            clamp(h, cx.size);
            // Fill the screen, but let the approver pull further pages while searching:
            // a rare word would otherwise page through the whole history on its own.
            if h.search.value.is_empty() {
                more_if_near_end(h, cx);
            }
        }
        Err(e) => {
            h.load = Load::Failed(e.clone());
            cx.notice(Level::Error, &format!("history: {e}"));
        }
    }
}

/// Asks for the next page when the selection is near the end and nothing is on its way
/// (after a failed page, moving again retries it).
pub fn more_if_near_end(h: &mut HistoryState, cx: &mut Ctx) {
    let near_end = h.selected + PREFETCH >= h.rows().len();
    let idle = matches!(h.load, Load::Ready | Load::Failed(_));
    if !near_end || !idle {
        return;
    }
    let Some(cursor) = h.next_cursor.clone() else {
        return;
    };
    h.load = Load::Loading { first: false };
    cx.effect(Effect::FetchHistory {
        generation: h.generation,
        query: HistoryQuery {
            cursor: Some(cursor),
            ..h.query.clone()
        },
    });
}

/// Keeps the selection valid and visible for a window of `size` (columns, rows).
pub fn clamp(h: &mut HistoryState, size: (u16, u16)) {
    let rows = crate::console::core::layout::history_list_rows(size.0, size.1);
    h.clamp(rows);
}

/// The export file's name: `signoff-history-YYYYMMDD-HHMMSS.jsonl` (UTC).
pub fn export_name(now: crate::protocol::Timestamp) -> String {
    let t = now.to_datetime();
    format!(
        "signoff-history-{:04}{:02}{:02}-{:02}{:02}{:02}.jsonl",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
