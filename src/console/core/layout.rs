//! Where each pane goes, as a pure function of the window size, so drawing and mouse
//! hit-testing agree.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

use crate::console::core::app::Pane;

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

/// The layout for a `width`×`height` window; `detail` is the pane a narrow window shows.
pub fn areas(width: u16, height: u16, detail: Pane) -> Areas {
    let full = Rect::new(0, 0, width, height);
    let [main, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(STATUS_ROWS)]).areas(full);
    if width >= WIDE_WIDTH && height >= WIDE_HEIGHT {
        let [queue, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Min(40)]).areas(main);
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
