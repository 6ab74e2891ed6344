//! Search as you type over a [`HistoryIndex`], incremental where it pays.
//!
//! Each keystroke's result is kept on a stack. A keystroke that narrows the text (every
//! earlier term is inside some new term: typing on, adding a word) searches only the
//! previous result, and only for the terms that are new. Backspace pops the stack back
//! to the last result that still applies, so deleting is as cheap as typing. Highlight
//! ranges are computed on demand, only for the rows on screen.

use std::ops::Range;

use memchr::memmem::Finder;

use super::fields::SearchField;
use super::fold::fold_with_map;
use super::index::HistoryIndex;
use super::terms::Terms;

/// Results older than this many keystrokes are dropped from the stack.
const MAX_LEVELS: usize = 48;

/// Below this share of all records, scanning candidates one by one beats one arena pass.
const SCAN_ALL_DIVISOR: usize = 6;

struct Level {
    terms: Terms,
    hits: Vec<u32>,
}

/// Incremental search state over one base set (the records that pass the filters).
pub struct Search {
    base: Vec<u32>,
    generation: u64,
    levels: Vec<Level>,
    terms: Terms,
}

impl Search {
    /// A search over `base` (slots of `index`, in display order) with no text yet.
    pub fn new(index: &HistoryIndex, base: Vec<u32>) -> Self {
        Self {
            base,
            generation: index.generation(),
            levels: Vec::new(),
            terms: Terms::default(),
        }
    }

    /// The current terms, for highlighting.
    pub fn terms(&self) -> &Terms {
        &self.terms
    }

    /// The base set this search narrows.
    pub fn base(&self) -> &[u32] {
        &self.base
    }

    /// The slots matching the current text, in base order.
    pub fn results(&self) -> &[u32] {
        match self.levels.last() {
            Some(level) if !self.terms.is_empty() => &level.hits,
            _ => &self.base,
        }
    }

    /// Sets the search text and returns the matching slots, in base order.
    ///
    /// `index` must be the index the base came from; if it changed since, the stack of
    /// earlier results is dropped and the search starts over.
    pub fn set_text(&mut self, index: &HistoryIndex, text: &str) -> &[u32] {
        if index.generation() != self.generation {
            self.levels.clear();
            self.generation = index.generation();
        }
        let terms = Terms::parse(text);
        self.terms = terms.clone();
        if terms.is_empty() {
            self.levels.clear();
            return &self.base;
        }
        while let Some(top) = self.levels.last() {
            if top.terms.is_narrowed_by(&terms) {
                break;
            }
            self.levels.pop();
        }
        if self.levels.last().is_some_and(|top| top.terms == terms) {
            return self.results();
        }
        let (from, new_terms): (&[u32], Vec<&str>) = match self.levels.last() {
            Some(top) => (&top.hits, top.terms.new_in(&terms)),
            None => (
                &self.base,
                terms.as_slice().iter().map(String::as_str).collect(),
            ),
        };
        let hits = narrow(index, from, &new_terms);
        if self.levels.len() == MAX_LEVELS {
            self.levels.remove(0);
        }
        self.levels.push(Level { terms, hits });
        self.results()
    }

    /// Every field of `slot` where a current term occurs, with the matched byte ranges.
    pub fn highlights(&self, index: &HistoryIndex, slot: u32) -> Vec<FieldMatch> {
        let record = index.record(slot);
        SearchField::ALL
            .into_iter()
            .filter_map(|field| {
                let text = field.text(record);
                let ranges = match_ranges(&text, &self.terms);
                (!ranges.is_empty()).then(|| FieldMatch {
                    field,
                    text: text.into_owned(),
                    ranges,
                })
            })
            .collect()
    }
}

/// One field's text and the byte ranges in it that matched, sorted and merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMatch {
    pub field: SearchField,
    pub text: String,
    pub ranges: Vec<Range<usize>>,
}

/// The slots of `from` whose haystack contains every term, in `from`'s order.
pub fn narrow(index: &HistoryIndex, from: &[u32], terms: &[&str]) -> Vec<u32> {
    let mut current: Vec<u32> = from.to_vec();
    for term in terms {
        let finder = Finder::new(term.as_bytes());
        if current.len() * SCAN_ALL_DIVISOR >= index.len().max(1) {
            let marks = index.scan_all(&finder);
            current.retain(|&s| marks[s as usize]);
        } else {
            current.retain(|&s| finder.find(index.haystack(s)).is_some());
        }
        if current.is_empty() {
            break;
        }
    }
    current
}

/// Byte ranges of `text` where any term occurs (case-insensitively), sorted and merged.
/// Ranges always start and end on character boundaries of `text`.
pub fn match_ranges(text: &str, terms: &Terms) -> Vec<Range<usize>> {
    if terms.is_empty() || text.is_empty() {
        return Vec::new();
    }
    let (folded, map) = fold_with_map(text);
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for term in terms.as_slice() {
        let finder = Finder::new(term.as_bytes());
        for at in finder.find_iter(folded.as_bytes()) {
            let end = at + term.len();
            ranges.push(map[at].0 as usize..map[end - 1].1 as usize);
        }
    }
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

#[cfg(test)]
mod tests;
