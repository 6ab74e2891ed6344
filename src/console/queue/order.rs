//! Queue order: filter, search and sort, keeping the selection on the same action.
//!
//! These change only [`QueueState`]; the caller redraws (every key, paste and feed
//! message does).

use std::cmp::Reverse;

use crate::protocol::ActionId;

use crate::console::model::view_model::Entry;
use crate::console::queue::state::{QueueState, SortKey};

/// True when the entry passes the filter and the search text.
pub fn visible(q: &QueueState, e: &Entry) -> bool {
    let v = &e.row;
    if q.filter.hidden_risks.contains(&v.risk) {
        return false;
    }
    if q.filter.hidden_envs.contains(&v.environment.plain()) {
        return false;
    }
    let text = q.search.value.trim().to_lowercase();
    if text.is_empty() {
        return true;
    }
    e.matches(&text)
}

/// Recomputes `order` and keeps the selection: on the same action when it is still
/// visible, else on the row where it was, else nothing.
pub fn rebuild(q: &mut QueueState) {
    let old_index = q
        .selected
        .and_then(|id| q.order.iter().position(|x| *x == id));
    let mut ids: Vec<&Entry> = q
        .entries
        .values()
        .map(|e| &**e)
        .filter(|e| visible(q, e))
        .collect();
    match q.sort {
        SortKey::Risk => ids.sort_by_key(|e| (Reverse(e.row.risk), e.row.expires_at, e.row.id)),
        SortKey::Expiry => ids.sort_by_key(|e| (e.row.expires_at, e.row.id)),
        SortKey::Age => ids.sort_by_key(|e| (e.row.created_at, e.row.id)),
        SortKey::Newest => ids.sort_by_key(|e| (Reverse(e.row.created_at), Reverse(e.row.id))),
    }
    let order: Vec<ActionId> = ids.iter().map(|e| e.row.id).collect();
    q.order = order;
    let before = q.selected;
    let keep = q.selected.filter(|id| q.order.contains(id));
    q.selected = keep.or_else(|| {
        if q.order.is_empty() {
            None
        } else {
            let i = old_index.unwrap_or(0).min(q.order.len() - 1);
            Some(q.order[i])
        }
    });
    if q.selected != before {
        // The detail panes show another action now: from its top.
        q.scroll.clear();
    }
    forget_if_left(q, before);
}

/// Drops the full view of the action the selection just left (rebuilt if it comes
/// back), so scrolling through 10,000 actions does not leave 10,000 views behind.
fn forget_if_left(q: &mut QueueState, before: Option<ActionId>) {
    if let Some(old) = before
        && q.selected != Some(old)
        && let Some(e) = q.entries.get_mut(&old)
    {
        e.forget_view();
    }
}

/// Index of the selection in the visible order.
pub fn selected_index(q: &QueueState) -> Option<usize> {
    q.selected
        .and_then(|id| q.order.iter().position(|x| *x == id))
}

/// Moves the selection by `delta` rows (clamped).
pub fn move_selection(q: &mut QueueState, delta: isize) {
    if q.order.is_empty() {
        return;
    }
    let i = selected_index(q).unwrap_or(0) as isize;
    let j = (i + delta).clamp(0, q.order.len() as isize - 1) as usize;
    select_index(q, j);
}

/// Selects row `i` of the visible order; the detail panes start at their top.
pub fn select_index(q: &mut QueueState, i: usize) {
    if let Some(id) = q.order.get(i).copied()
        && q.selected != Some(id)
    {
        let before = q.selected.replace(id);
        forget_if_left(q, before);
        q.scroll.clear();
        q.diff_col = 0;
    }
}

/// Keeps the selected row inside a window of `rows` rows starting at `offset`.
pub fn keep_visible(q: &mut QueueState, rows: usize) {
    let rows = rows.max(1);
    if let Some(i) = selected_index(q) {
        if i < q.offset {
            q.offset = i;
        } else if i >= q.offset + rows {
            q.offset = i + 1 - rows;
        }
    }
    let max_offset = q.order.len().saturating_sub(rows);
    q.offset = q.offset.min(max_offset);
}
