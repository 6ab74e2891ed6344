//! `update` tests for navigation: search, filter, sort, panes, scrolling, mouse, resize.

use crossterm::event::{KeyCode, KeyModifiers};

use super::tests::{code, key, typ};
use super::*;
use crate::console::core::app::Pane;
use crate::console::fixtures::{self, live_app, now};

#[test]
fn search_filter_and_sort_keep_the_selection() {
    let mut app = live_app(fixtures::sample_queue(), (80, 24));
    key(&mut app, '/');
    typ(&mut app, "payments");
    assert_eq!(app.queue.order.len(), 1);
    let first = app.queue.selected;
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.queue.order.len(), 4, "Esc clears the search");
    assert_eq!(app.queue.selected, first, "the found action stays selected");
    key(&mut app, 's');
    assert_eq!(app.queue.selected, first);
    key(&mut app, 'f');
    key(&mut app, ' '); // hide low
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.queue.order.len(), 3);
}

#[test]
fn esc_clears_a_kept_search_after_enter() {
    let mut app = live_app(fixtures::sample_queue(), (80, 24));
    key(&mut app, '/');
    typ(&mut app, "rest");
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.queue.search.value, "rest", "Enter keeps the search");
    assert!(app.queue.order.len() < 4);
    // From a detail pane, the first Esc goes back to the queue, the next clears.
    code(&mut app, KeyCode::Tab);
    code(&mut app, KeyCode::Esc);
    assert_eq!(
        (app.focus, app.queue.search.value.as_str()),
        (Pane::Queue, "rest")
    );
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.queue.search.value, "");
    assert_eq!(app.queue.order.len(), 4, "every action is back");
    assert!(
        app.notices
            .iter()
            .any(|n| n.text.plain() == "search cleared")
    );
}

#[test]
fn sort_cycles_to_newest_first() {
    use crate::console::queue::state::SortKey;
    let mut app = live_app(fixtures::sample_queue(), (80, 24));
    let mut seen = vec![app.queue.sort];
    for _ in 0..4 {
        key(&mut app, 's');
        seen.push(app.queue.sort);
    }
    assert_eq!(
        seen,
        [
            SortKey::Risk,
            SortKey::Expiry,
            SortKey::Age,
            SortKey::Newest,
            SortKey::Risk
        ]
    );
    app.queue.sort = SortKey::Newest;
    crate::console::queue::order::rebuild(&mut app.queue);
    let created: Vec<_> = app
        .queue
        .order
        .iter()
        .map(|id| app.queue.entries[id].row.created_at)
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "{created:?}");
}

#[test]
fn tab_skips_an_empty_diff_and_the_tab_labels_are_clickable() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut plain = fixtures::action(
        1,
        "k8s.restart",
        "api",
        "staging",
        crate::protocol::RiskLevel::Low,
    );
    plain.change = None;
    let mut app = live_app(vec![plain], (80, 24));
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Context);
    code(&mut app, KeyCode::Tab);
    assert_eq!(
        app.focus,
        Pane::Risk,
        "no change: Tab goes straight to the risk reasons"
    );
    let a = crate::console::core::layout::for_app(&app);
    let tabs = a.tabs.unwrap_or_else(|| panic!("80x24 has a tab bar"));
    for (pane, from, _) in crate::console::core::layout::tab_labels(tabs) {
        update(
            &mut app,
            Msg::Mouse(MouseEvent {
                kind: MouseEventKind::Down(MouseButton::Left),
                column: from + 1,
                row: tabs.y,
                modifiers: KeyModifiers::NONE,
            }),
        );
        assert_eq!((app.detail, app.focus), (pane, pane));
    }
}

#[test]
fn an_empty_diff_pane_gives_its_rows_to_the_others_at_160x48() {
    let mut plain = fixtures::action(
        1,
        "k8s.restart",
        "api",
        "staging",
        crate::protocol::RiskLevel::Low,
    );
    plain.change = None;
    let app = live_app(vec![plain], (160, 48));
    let a = crate::console::core::layout::for_app(&app);
    let full = crate::console::core::layout::areas(160, 48, Pane::Context);
    let (diff, ctx) = (a.diff.unwrap_or_default(), a.context.unwrap_or_default());
    assert_eq!(diff.height, 3, "one line saying there is no change");
    assert!(ctx.height > full.context.unwrap_or_default().height);
}

#[test]
fn panes_cycle_and_scroll_independently() {
    let mut app = live_app(fixtures::sample_queue(), (80, 24));
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Context);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Diff);
    key(&mut app, 'j');
    key(&mut app, 'j');
    assert_eq!(app.queue.pane_scroll(Pane::Diff), 2);
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Pane::Queue);
    let before = app.queue.selected;
    key(&mut app, 'j');
    assert_ne!(app.queue.selected, before);
    assert_eq!(
        app.queue.pane_scroll(Pane::Diff),
        0,
        "new action, scroll reset"
    );
}

#[test]
fn mouse_selects_rows_focuses_panes_and_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = live_app(fixtures::sample_queue(), (80, 24));
    let at = |kind, column, row| {
        Msg::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Queue rows start at y = 2 (border, header); the third row is index 2.
    update(&mut app, at(MouseEventKind::Down(MouseButton::Left), 10, 4));
    assert_eq!(app.queue.selected, Some(app.queue.order[2]));
    // Wheel over the queue moves the selection one row.
    update(&mut app, at(MouseEventKind::ScrollDown, 10, 4));
    assert_eq!(app.queue.selected, Some(app.queue.order[3]));
    // Click in the detail body focuses it; the wheel scrolls it.
    update(
        &mut app,
        at(MouseEventKind::Down(MouseButton::Left), 10, 15),
    );
    assert_eq!(app.focus, Pane::Context);
    update(&mut app, at(MouseEventKind::ScrollDown, 10, 15));
    assert_eq!(app.queue.pane_scroll(Pane::Context), 3);
}

#[test]
fn resize_switches_between_layouts_and_redraws() {
    let mut app = live_app(fixtures::sample_queue(), (80, 24));
    app.dirty = false;
    update(&mut app, Msg::Resize(160, 48));
    assert_eq!(app.size, (160, 48));
    assert!(app.dirty);
}

#[test]
fn ticks_redraw_only_when_the_second_changes() {
    let mut app = live_app(fixtures::sample_queue(), (80, 24));
    app.dirty = false;
    update(&mut app, Msg::Tick(now().plus_secs(0)));
    assert!(!app.dirty, "same second, nothing in flight: no redraw");
    update(&mut app, Msg::Tick(now().plus_secs(1)));
    assert!(app.dirty);
}

#[test]
fn detail_panes_do_not_scroll_past_their_content() {
    let mut app = live_app(fixtures::sample_queue(), (80, 24));
    app.focus = Pane::Diff;
    for _ in 0..100 {
        key(&mut app, 'j');
    }
    let lines = app
        .queue
        .selected_entry()
        .and_then(|e| e.diff_model())
        .map(|d| d.lines.len());
    assert_eq!(
        Some(usize::from(app.queue.pane_scroll(Pane::Diff)) + 1),
        lines
    );
    key(&mut app, 'g');
    assert_eq!(app.queue.pane_scroll(Pane::Diff), 0);
}
