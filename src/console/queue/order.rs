//! Queue order: filter, search and sort, keeping the selection on the same action.

use std::cmp::Reverse;

use crate::protocol::ActionId;

use crate::console::core::app::{App, SortKey};
use crate::console::model::view_model::Entry;

/// True when the entry passes the filter and the search text.
pub fn visible(app: &App, e: &Entry) -> bool {
    let v = &e.row;
    if app.filter.hidden_risks.contains(&v.risk) {
        return false;
    }
    if app.filter.hidden_envs.contains(&v.environment.plain()) {
        return false;
    }
    let q = app.search.value.trim().to_lowercase();
    if q.is_empty() {
        return true;
    }
    e.matches(&q)
}

/// Recomputes `app.order` and keeps the selection: on the same action when it is still
/// visible, else on the row where it was, else nothing.
pub fn rebuild(app: &mut App) {
    let old_index = app
        .selected
        .and_then(|id| app.order.iter().position(|x| *x == id));
    let mut ids: Vec<&Entry> = app.entries.values().filter(|e| visible(app, e)).collect();
    match app.sort {
        SortKey::Risk => ids.sort_by_key(|e| (Reverse(e.row.risk), e.row.expires_at, e.row.id)),
        SortKey::Expiry => ids.sort_by_key(|e| (e.row.expires_at, e.row.id)),
        SortKey::Age => ids.sort_by_key(|e| (e.row.created_at, e.row.id)),
    }
    let order: Vec<ActionId> = ids.iter().map(|e| e.row.id).collect();
    app.order = order;
    let before = app.selected;
    let keep = app.selected.filter(|id| app.order.contains(id));
    app.selected = keep.or_else(|| {
        if app.order.is_empty() {
            None
        } else {
            let i = old_index.unwrap_or(0).min(app.order.len() - 1);
            Some(app.order[i])
        }
    });
    if app.selected != before {
        // The detail panes show another action now: from its top.
        app.scroll.clear();
    }
    forget_if_left(app, before);
    app.dirty = true;
}

/// Drops the full view of the action the selection just left (rebuilt if it comes
/// back), so scrolling through 10,000 actions does not leave 10,000 views behind.
fn forget_if_left(app: &mut App, before: Option<ActionId>) {
    if let Some(old) = before
        && app.selected != Some(old)
        && let Some(e) = app.entries.get_mut(&old)
    {
        e.forget_view();
    }
}

/// Index of the selection in the visible order.
pub fn selected_index(app: &App) -> Option<usize> {
    app.selected
        .and_then(|id| app.order.iter().position(|x| *x == id))
}

/// Moves the selection by `delta` rows (clamped).
pub fn move_selection(app: &mut App, delta: isize) {
    if app.order.is_empty() {
        return;
    }
    let i = selected_index(app).unwrap_or(0) as isize;
    let j = (i + delta).clamp(0, app.order.len() as isize - 1) as usize;
    select_index(app, j);
}

pub fn select_index(app: &mut App, i: usize) {
    if let Some(id) = app.order.get(i).copied()
        && app.selected != Some(id)
    {
        let before = app.selected.replace(id);
        forget_if_left(app, before);
        app.scroll.clear();
        app.diff_col = 0;
        app.dirty = true;
    }
}

/// Keeps the selected row inside a window of `rows` rows starting at `queue_offset`.
pub fn keep_visible(app: &mut App, rows: usize) {
    let rows = rows.max(1);
    if let Some(i) = selected_index(app) {
        if i < app.queue_offset {
            app.queue_offset = i;
        } else if i >= app.queue_offset + rows {
            app.queue_offset = i + 1 - rows;
        }
    }
    let max_offset = app.order.len().saturating_sub(rows);
    app.queue_offset = app.queue_offset.min(max_offset);
}
