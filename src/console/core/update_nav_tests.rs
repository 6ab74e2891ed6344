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
    assert_eq!(app.order.len(), 1);
    let first = app.selected;
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.order.len(), 4, "Esc clears the search");
    assert_eq!(app.selected, first, "the found action stays selected");
    key(&mut app, 's');
    assert_eq!(app.selected, first);
    key(&mut app, 'f');
    key(&mut app, ' '); // hide low
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.order.len(), 3);
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
    assert_eq!(app.pane_scroll(Pane::Diff), 2);
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Pane::Queue);
    let before = app.selected;
    key(&mut app, 'j');
    assert_ne!(app.selected, before);
    assert_eq!(app.pane_scroll(Pane::Diff), 0, "new action, scroll reset");
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
    assert_eq!(app.selected, Some(app.order[2]));
    // Wheel over the queue moves the selection one row.
    update(&mut app, at(MouseEventKind::ScrollDown, 10, 4));
    assert_eq!(app.selected, Some(app.order[3]));
    // Click in the detail body focuses it; the wheel scrolls it.
    update(
        &mut app,
        at(MouseEventKind::Down(MouseButton::Left), 10, 15),
    );
    assert_eq!(app.focus, Pane::Context);
    update(&mut app, at(MouseEventKind::ScrollDown, 10, 15));
    assert_eq!(app.pane_scroll(Pane::Context), 3);
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
        .selected_entry()
        .and_then(|e| e.diff_model())
        .map(|d| d.lines.len());
    assert_eq!(Some(usize::from(app.pane_scroll(Pane::Diff)) + 1), lines);
    key(&mut app, 'g');
    assert_eq!(app.pane_scroll(Pane::Diff), 0);
}
