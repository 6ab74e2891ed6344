//! Records held for local filtering, each with its search haystack folded once at load.
//!
//! All haystacks live in one byte arena (`field \0 field \0 … \0` per record), so a term
//! can be found across every record with one `memmem` pass instead of one call per
//! record. Records are addressed by *slot* (their place in storage); [`HistoryIndex::order`]
//! lists slots newest first, and every result set keeps that order.

use std::collections::HashMap;
use std::sync::Arc;

use memchr::memmem::Finder;

use super::fields::SearchField;
use super::filter::matches_filter;
use super::fold::fold_into;
use crate::protocol::{ActionId, HistoryQuery, HistoryRecord};

/// Marks an arena segment whose record was replaced.
const STALE: u32 = u32::MAX;

/// Loaded history records with precomputed haystacks. Records are shared (`Arc`), so a
/// snapshot of a result set (an export) costs a pointer per record, not a deep copy.
#[derive(Debug, Default)]
pub struct HistoryIndex {
    records: Vec<Arc<HistoryRecord>>,
    by_id: HashMap<ActionId, u32>,
    arena: String,
    /// Start offset of each segment in `arena`, ascending; one segment per stored haystack.
    seg_start: Vec<u32>,
    /// The slot owning each segment, or [`STALE`].
    seg_owner: Vec<u32>,
    /// Each slot's current segment.
    slot_seg: Vec<u32>,
    /// Slots, newest decision first.
    order: Vec<u32>,
    /// Bumped on every change, so derived result sets know they are out of date.
    generation: u64,
}

impl HistoryIndex {
    pub fn new(records: Vec<HistoryRecord>) -> Self {
        let mut index = Self::default();
        index.upsert(records);
        index
    }

    /// Adds records, replacing any already held with the same action id (a record can
    /// change after its decision, when the execution result is reported).
    pub fn upsert(&mut self, records: impl IntoIterator<Item = HistoryRecord>) {
        self.upsert_shared(records.into_iter().map(Arc::new));
    }

    fn upsert_shared(&mut self, records: impl IntoIterator<Item = Arc<HistoryRecord>>) {
        for record in records {
            let seg = self.push_haystack(&record);
            match self.by_id.get(&record.action.id) {
                Some(&slot) => {
                    self.seg_owner[self.slot_seg[slot as usize] as usize] = STALE;
                    self.seg_owner[seg as usize] = slot;
                    self.slot_seg[slot as usize] = seg;
                    self.records[slot as usize] = record;
                }
                None => {
                    let slot = self.records.len() as u32;
                    self.by_id.insert(record.action.id, slot);
                    self.seg_owner[seg as usize] = slot;
                    self.slot_seg.push(seg);
                    self.records.push(record);
                }
            }
        }
        let records = &self.records;
        let mut order: Vec<u32> = (0..records.len() as u32).collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (&records[a as usize], &records[b as usize]);
            rb.decided_at
                .cmp(&ra.decided_at)
                .then_with(|| rb.action.id.cmp(&ra.action.id))
        });
        self.order = order;
        self.generation += 1;
        if self.stale_bytes() > self.arena.len() / 2 {
            self.compact();
        }
    }

    fn push_haystack(&mut self, record: &HistoryRecord) -> u32 {
        let seg = self.seg_start.len() as u32;
        self.seg_start.push(self.arena.len() as u32);
        self.seg_owner.push(STALE);
        for field in SearchField::ALL {
            fold_into(&field.text(record), &mut self.arena);
            self.arena.push('\0');
        }
        seg
    }

    fn stale_bytes(&self) -> usize {
        (0..self.seg_start.len())
            .filter(|&s| self.seg_owner[s] == STALE)
            .map(|s| self.seg_range(s).len())
            .sum()
    }

    /// Rebuilds the arena without the haystacks of replaced records.
    fn compact(&mut self) {
        let records = std::mem::take(&mut self.records);
        let generation = self.generation;
        *self = Self::default();
        self.upsert_shared(records);
        self.generation = generation + 1;
    }

    fn seg_range(&self, seg: usize) -> std::ops::Range<usize> {
        let start = self.seg_start[seg] as usize;
        let end = self
            .seg_start
            .get(seg + 1)
            .map_or(self.arena.len(), |&e| e as usize);
        start..end
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes of folded haystack held (memory cost of the index, roughly).
    pub fn haystack_bytes(&self) -> usize {
        self.arena.len()
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The record in `slot`. Slots come from this index's result sets.
    pub fn record(&self, slot: u32) -> &HistoryRecord {
        &self.records[slot as usize]
    }

    /// The record in `slot`, shared: for snapshots that outlive a borrow of the index.
    pub fn shared(&self, slot: u32) -> Arc<HistoryRecord> {
        self.records[slot as usize].clone()
    }

    /// The slot holding the action `id`, if it is loaded.
    pub fn slot_of(&self, id: ActionId) -> Option<u32> {
        self.by_id.get(&id).copied()
    }

    /// Every slot, newest decision first.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// The folded haystack of `slot`.
    pub fn haystack(&self, slot: u32) -> &[u8] {
        let range = self.seg_range(self.slot_seg[slot as usize] as usize);
        &self.arena.as_bytes()[range]
    }

    /// Slots matching the structured filters of `query` (not its text), newest first.
    pub fn filter(&self, query: &HistoryQuery) -> Vec<u32> {
        self.order
            .iter()
            .copied()
            .filter(|&s| matches_filter(query, self.record(s)))
            .collect()
    }

    /// One pass over the whole arena: `marks[slot]` is true when the term occurs in it.
    pub fn scan_all(&self, finder: &Finder<'_>) -> Vec<bool> {
        let mut marks = vec![false; self.records.len()];
        let bytes = self.arena.as_bytes();
        let mut pos = 0;
        let mut seg = 0;
        while let Some(hit) = finder.find(&bytes[pos..]) {
            let at = pos + hit;
            // `seg` holds `pos`; a frequent term usually hits that very segment, so only
            // search further when the next segment starts at or before the hit.
            if self
                .seg_start
                .get(seg + 1)
                .is_some_and(|&s| s as usize <= at)
            {
                seg += self.seg_start[seg..].partition_point(|&s| s as usize <= at) - 1;
            }
            let owner = self.seg_owner[seg];
            if owner != STALE {
                marks[owner as usize] = true;
            }
            pos = self.seg_range(seg).end;
            seg += 1;
            if pos >= bytes.len() {
                break;
            }
        }
        marks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::r#gen::{GenConfig, Generator};

    fn records(n: usize) -> Vec<HistoryRecord> {
        let g = Generator::new(GenConfig::default());
        (0..n).map(|i| g.record(i)).collect()
    }

    #[test]
    fn order_is_newest_first() {
        let index = HistoryIndex::new(records(300));
        let times: Vec<_> = index
            .order()
            .iter()
            .map(|&s| index.record(s).decided_at)
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(index.order().len(), 300);
    }

    #[test]
    fn scan_all_agrees_with_per_record_search() {
        let index = HistoryIndex::new(records(500));
        for term in ["prod", "e", "terraform", "zzz-not-there", "o"] {
            let finder = Finder::new(term.as_bytes());
            let marks = index.scan_all(&finder);
            for s in 0..index.len() as u32 {
                let expect = finder.find(index.haystack(s)).is_some();
                assert_eq!(marks[s as usize], expect, "{term} slot {s}");
            }
        }
    }

    #[test]
    fn upsert_replaces_and_compacts() {
        let mut all = records(40);
        let mut index = HistoryIndex::new(all.clone());
        let g0 = index.generation();
        for round in 0..5 {
            for r in &mut all {
                r.reason = format!("round {round} marker{round}");
            }
            index.upsert(all.clone());
        }
        assert!(index.generation() > g0);
        assert_eq!(index.len(), 40);
        let marks = index.scan_all(&Finder::new(b"marker4"));
        assert!(marks.iter().all(|&m| m));
        let old = index.scan_all(&Finder::new(b"marker3"));
        assert!(
            old.iter().all(|&m| !m),
            "a replaced haystack must not match"
        );
        assert!(index.stale_bytes() <= index.arena.len() / 2);
    }
}
