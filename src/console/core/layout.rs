//! Where each pane goes, as a pure function of the window size, so drawing and mouse
//! hit-testing agree.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

use crate::console::model::diff_job::DiffState;
use crate::console::model::view_model::Entry;

/// A pane of the queue screen, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Queue,
    Context,
    Diff,
    Risk,
}

impl Pane {
    pub const ORDER: [Pane; 4] = [Pane::Queue, Pane::Context, Pane::Diff, Pane::Risk];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Queue => "Queue",
            Pane::Context => "Context",
            Pane::Diff => "Diff",
            Pane::Risk => "Risk",
        }
    }
}

/// Smallest usable window.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// From this width (and [`WIDE_HEIGHT`] rows) every pane shows at once.
pub const WIDE_WIDTH: u16 = 140;
pub const WIDE_HEIGHT: u16 = 30;
/// Rows of the status bar.
pub const STATUS_ROWS: u16 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub queue: Rect,
    /// The tab bar over the single detail pane (narrow windows only).
    pub tabs: Option<Rect>,
    pub context: Option<Rect>,
    pub diff: Option<Rect>,
    pub risk: Option<Rect>,
    pub status: Rect,
}

impl Areas {
    /// The pane under a cell, for mouse clicks and scrolling.
    pub fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        let hit = |r: &Rect| x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
        [
            (Some(self.queue), Pane::Queue),
            (self.context, Pane::Context),
            (self.diff, Pane::Diff),
            (self.risk, Pane::Risk),
        ]
        .into_iter()
        .find(|(r, _)| r.as_ref().is_some_and(hit))
        .map(|(_, p)| p)
    }

    /// Rows of actions the queue pane shows (inside its border, below its header row).
    pub fn queue_rows(&self) -> usize {
        usize::from(self.queue.height.saturating_sub(3))
    }

    /// The detail tab under a cell of the tab bar (narrow windows): the labels are
    /// buttons too.
    pub fn tab_at(&self, x: u16, y: u16) -> Option<Pane> {
        let tabs = self.tabs?;
        if y != tabs.y {
            return None;
        }
        tab_labels(tabs)
            .into_iter()
            .find(|(_, from, to)| x >= *from && x < *to)
            .map(|(p, _, _)| p)
    }

    pub fn rect(&self, pane: Pane) -> Option<Rect> {
        match pane {
            Pane::Queue => Some(self.queue),
            Pane::Context => self.context,
            Pane::Diff => self.diff,
            Pane::Risk => self.risk,
        }
    }
}

pub fn too_small(width: u16, height: u16) -> bool {
    width < MIN_WIDTH || height < MIN_HEIGHT
}

/// The detail tabs in the order the tab bar draws them, with the columns each label
/// takes (` Context ` and one space between labels, after a one-column margin).
pub fn tab_labels(tabs: Rect) -> Vec<(Pane, u16, u16)> {
    let mut x = tabs.x + 1;
    [Pane::Context, Pane::Diff, Pane::Risk]
        .into_iter()
        .map(|p| {
            let w = p.title().len() as u16 + 2;
            let label = (p, x, x + w);
            x += w + 1;
            label
        })
        .collect()
}

/// The layout of the queue screen for `app`: its size, the detail pane a narrow window
/// shows, and whether the selected action carries a change (an empty diff pane is
/// collapsed and its rows go to the others).
pub fn for_app(app: &crate::console::core::app::App) -> Areas {
    let has_change = app
        .queue
        .selected_entry()
        .is_none_or(|e| e.diff().is_some());
    areas_with(app.size.0, app.size.1, app.detail, has_change)
}

/// The layout for a `width`×`height` window; `detail` is the pane a narrow window shows.
pub fn areas(width: u16, height: u16, detail: Pane) -> Areas {
    areas_with(width, height, detail, true)
}

/// [`areas`], with the diff pane cut to a one-line note when there is no change.
pub fn areas_with(width: u16, height: u16, detail: Pane, has_change: bool) -> Areas {
    let full = Rect::new(0, 0, width, height);
    let [main, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(STATUS_ROWS)]).areas(full);
    if width >= WIDE_WIDTH && height >= WIDE_HEIGHT {
        let [queue, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Min(40)]).areas(main);
        if !has_change {
            let [context, diff, risk] = Layout::vertical([
                Constraint::Min(6),
                Constraint::Length(3),
                Constraint::Percentage(35),
            ])
            .areas(right);
            return Areas {
                queue,
                tabs: None,
                context: Some(context),
                diff: Some(diff),
                risk: Some(risk),
                status,
            };
        }
        let [context, lower] =
            Layout::vertical([Constraint::Percentage(40), Constraint::Min(6)]).areas(right);
        let [diff, risk] = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Min(4), Constraint::Percentage(35)])
            .areas(lower);
        return Areas {
            queue,
            tabs: None,
            context: Some(context),
            diff: Some(diff),
            risk: Some(risk),
            status,
        };
    }
    let queue_h = (main.height * 2 / 5).max(5);
    let [queue, tabs, body] = Layout::vertical([
        Constraint::Length(queue_h),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(main);
    let mut a = Areas {
        queue,
        tabs: Some(tabs),
        context: None,
        diff: None,
        risk: None,
        status,
    };
    match detail {
        Pane::Diff => a.diff = Some(body),
        Pane::Risk => a.risk = Some(body),
        _ => a.context = Some(body),
    }
    a
}

/// Where the parts of the history screen (`H`) go, as a pure function of the window size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryAreas {
    pub chips: Rect,
    pub search: Rect,
    pub list: Rect,
    pub detail: Rect,
}

pub fn history_areas(w: u16, h: u16) -> HistoryAreas {
    let main_h = h.saturating_sub(STATUS_ROWS);
    let avail = main_h.saturating_sub(2);
    let list_h = (avail * 11 / 20).max(5).min(avail);
    HistoryAreas {
        chips: Rect::new(0, 0, w, 1),
        search: Rect::new(0, 1, w, 1),
        list: Rect::new(0, 2, w, list_h),
        detail: Rect::new(0, 2 + list_h, w, avail - list_h),
    }
}

/// Record rows the list shows at this window size (inside the border, under the header).
pub fn history_list_rows(w: u16, h: u16) -> usize {
    usize::from(history_areas(w, h).list.height.saturating_sub(3))
}

/// Columns taken by the diff pane's two line numbers (`{:>5}{:>5} `).
const DIFF_GUTTER: usize = 11;

/// Text columns of a diff pane `inner` columns wide: the gutter, the sign column and
/// the right-edge continuation column are taken.
pub fn diff_text_cols(inner: usize) -> usize {
    inner.saturating_sub(DIFF_GUTTER + 2).max(1)
}

/// Columns of the widest line of the entry's diff as it can be shown now.
pub fn diff_widest(e: &Entry) -> usize {
    match e.diff() {
        Some(DiffState::Ready(m)) => m.max_width,
        Some(DiffState::Fallback { widest, .. }) => widest,
        _ => 0,
    }
}

/// Rows the diff pane scrolls through.
pub fn diff_rows(e: &Entry) -> usize {
    match e.diff() {
        Some(DiffState::Ready(m)) => m.lines.len(),
        // One row of explanation above the plain rows.
        Some(DiffState::Fallback { rows, .. }) => rows + 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_shows_one_detail_pane() {
        let a = areas(80, 24, Pane::Diff);
        assert!(a.tabs.is_some() && a.diff.is_some() && a.context.is_none());
        assert_eq!(a.status.y, 22);
        assert_eq!(a.pane_at(1, 1), Some(Pane::Queue));
        assert_eq!(a.pane_at(1, 20), Some(Pane::Diff));
    }

    #[test]
    fn wide_shows_everything() {
        let a = areas(160, 48, Pane::Context);
        assert!(a.tabs.is_none());
        assert!(a.context.is_some() && a.diff.is_some() && a.risk.is_some());
        assert!(a.queue_rows() > 20);
    }
}
