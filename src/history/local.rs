//! The console's history model in one place: loaded records, the active filter, and the
//! search box, kept consistent with each other.
//!
//! The view asks for [`LocalHistory::results`] (slots, newest first), reads each visible
//! row with [`LocalHistory::record`] and asks [`LocalHistory::highlights`] for those rows
//! only. Loading a page, changing a chip or typing a key each update just what they must.

use std::sync::Arc;

use crate::protocol::{HistoryQuery, HistoryRecord};

use super::index::HistoryIndex;
use super::search::{FieldMatch, Search};

/// Loaded history with a filter and a search text applied.
pub struct LocalHistory {
    index: HistoryIndex,
    filter: HistoryQuery,
    search: Search,
    text: String,
}

impl Default for LocalHistory {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl LocalHistory {
    pub fn new(records: Vec<HistoryRecord>) -> Self {
        let index = HistoryIndex::new(records);
        let search = Search::new(&index, index.order().to_vec());
        Self {
            index,
            filter: HistoryQuery::default(),
            search,
            text: String::new(),
        }
    }

    /// Adds or replaces records (a page arrived, an execution result was reported).
    pub fn upsert(&mut self, records: impl IntoIterator<Item = HistoryRecord>) {
        self.index.upsert(records);
        self.rebuild();
    }

    /// Applies the structured filters of `query` (its text, cursor and limit are ignored:
    /// the search box holds the text).
    pub fn set_filter(&mut self, query: &HistoryQuery) {
        self.filter = HistoryQuery {
            text: None,
            cursor: None,
            limit: None,
            ..query.clone()
        };
        self.rebuild();
    }

    /// Sets the search text; returns the matching slots, newest first.
    pub fn set_text(&mut self, text: &str) -> &[u32] {
        self.text = text.to_string();
        self.search.set_text(&self.index, text)
    }

    fn rebuild(&mut self) {
        self.search = Search::new(&self.index, self.index.filter(&self.filter));
        self.search.set_text(&self.index, &self.text);
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn filter(&self) -> &HistoryQuery {
        &self.filter
    }

    /// The slots shown: filtered, searched, newest first.
    pub fn results(&self) -> &[u32] {
        self.search.results()
    }

    pub fn record(&self, slot: u32) -> &HistoryRecord {
        self.index.record(slot)
    }

    /// The records shown, in order (for `e`: export the current filtered set).
    pub fn result_records(&self) -> impl Iterator<Item = &HistoryRecord> {
        self.results().iter().map(|&s| self.index.record(s))
    }

    /// The records shown, in order, as shared pointers: a snapshot for `e` (export) that
    /// copies no record.
    pub fn shared_results(&self) -> Vec<Arc<HistoryRecord>> {
        self.results()
            .iter()
            .map(|&s| self.index.shared(s))
            .collect()
    }

    /// Matched fields and ranges of one shown row.
    pub fn highlights(&self, slot: u32) -> Vec<FieldMatch> {
        self.search.highlights(&self.index, slot)
    }

    pub fn index(&self) -> &HistoryIndex {
        &self.index
    }

    /// How many records are loaded (before filtering).
    pub fn loaded(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::SearchField;
    use crate::history::r#gen::{GenConfig, Generator};
    use crate::protocol::Status;

    #[test]
    fn filter_then_search_then_load_more() {
        let g = Generator::new(GenConfig {
            count: 2000,
            ..GenConfig::default()
        });
        let all = g.records();
        let mut h = LocalHistory::new(all[..1000].to_vec());
        h.set_filter(&HistoryQuery {
            outcome: vec![Status::Denied],
            text: Some("ignored".into()),
            ..Default::default()
        });
        assert!(h.filter().text.is_none());
        let denied = h.results().len();
        assert!(denied > 0);
        assert!(
            h.result_records()
                .all(|r| r.action.status == Status::Denied)
        );
        let n = h.set_text("window").len();
        assert!(n > 0 && n < denied);
        let slot = h.results()[0];
        assert!(!h.highlights(slot).is_empty());
        // A later page keeps both the filter and the text applied.
        h.upsert(all[1000..].to_vec());
        assert_eq!(h.loaded(), 2000);
        assert!(h.results().len() > n);
        assert!(h.result_records().all(|r| {
            r.action.status == Status::Denied
                && SearchField::ALL
                    .iter()
                    .any(|f| f.text(r).to_lowercase().contains("window"))
        }));
        let times: Vec<_> = h.result_records().map(|r| r.decided_at).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]));
        h.set_filter(&HistoryQuery::default());
        h.set_text("");
        assert_eq!(h.results().len(), 2000);
    }
}
