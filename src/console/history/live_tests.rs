//! update()-level tests of the live history screen: feed decisions refresh the first page
//! (debounced, selection kept, "N new" counted) and a settled search asks the broker.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::console::core::app::App;
use crate::console::core::msg::Msg;
use crate::console::core::update::update;
use crate::console::fixtures::{self, live_app, now, screen_text, server};
use crate::history::r#gen::{GenConfig, Generator};
use crate::protocol::messages::ServerMsg;
use crate::protocol::{HistoryCursor, HistoryRecord, RiskLevel, Status};

fn records(n: usize) -> Vec<HistoryRecord> {
    Generator::new(GenConfig {
        count: n,
        end: now().plus_secs(-60),
        ..GenConfig::default()
    })
    .records()
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn page(recs: &[HistoryRecord], more: bool) -> HistoryPage {
    HistoryPage {
        records: recs.to_vec(),
        next_cursor: more.then(|| HistoryCursor("more".into())),
    }
}

/// On the history screen with `loaded` as the first page (more on the broker if `more`).
fn opened(loaded: &[HistoryRecord], more: bool) -> App {
    let mut app = live_app(Vec::new(), (80, 24));
    key(&mut app, KeyCode::Char('H'));
    let generation = app.history.generation;
    update(
        &mut app,
        Msg::HistoryPage {
            generation,
            result: Ok(page(loaded, more)),
        },
    );
    app
}

fn resolved(app: &mut App, seq: u64) -> Vec<Effect> {
    let mut a = fixtures::action(1, "db.export", "customers", "production", RiskLevel::High);
    a.status = Status::Denied;
    update(
        app,
        server(ServerMsg::Resolved {
            seq,
            row: crate::protocol::ActionRow::compute(&a),
            decided_by: vec!["carol".into()],
            reason: "no".into(),
        }),
    )
}

fn asks(fx: &[Effect]) -> Vec<(HistoryAsk, u64, HistoryQuery)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::AskHistory {
                ask,
                generation,
                query,
            } => Some((*ask, *generation, query.clone())),
            _ => None,
        })
        .collect()
}

fn answer(app: &mut App, ask: HistoryAsk, result: Result<HistoryPage, String>) -> Vec<Effect> {
    let generation = app.history.generation;
    update(
        app,
        Msg::HistoryAnswer {
            ask,
            generation,
            result,
        },
    )
}

fn selected_id(app: &App) -> Option<ActionId> {
    app.history.selected_record().map(|r| r.action.id)
}

#[test]
fn a_burst_of_decisions_costs_one_refresh_in_flight_and_one_follow_up() {
    let all = records(120);
    let mut app = opened(&all[5..], true);
    let fx = resolved(&mut app, 11);
    let a = asks(&fx);
    assert_eq!(a.len(), 1, "{fx:?}");
    assert_eq!(a[0].0, HistoryAsk::Refresh);
    assert_eq!(a[0].1, app.history.generation);
    assert_eq!(a[0].2.cursor, None);
    assert_eq!(a[0].2.limit, Some(PAGE_SIZE));
    // More decisions while it is on its way: nothing more now.
    assert!(asks(&resolved(&mut app, 12)).is_empty());
    assert!(asks(&resolved(&mut app, 13)).is_empty());
    // It lands: merged, and exactly one follow-up for the burst.
    let fx = answer(&mut app, HistoryAsk::Refresh, Ok(page(&all[2..], true)));
    assert_eq!(app.history.local().loaded(), 118);
    assert_eq!(asks(&fx).len(), 1);
    let fx = answer(&mut app, HistoryAsk::Refresh, Ok(page(&all, true)));
    assert!(asks(&fx).is_empty(), "no decision since: no more requests");
    assert_eq!(app.history.local().loaded(), 120);
    // The paging cursor is untouched by refreshes.
    assert!(app.history.next_cursor.is_some());
    // A failed refresh keeps what is shown and lets the next decision try again.
    let fx = resolved(&mut app, 14);
    assert_eq!(asks(&fx).len(), 1);
    answer(&mut app, HistoryAsk::Refresh, Err("broker down".into()));
    assert_eq!(app.history.local().loaded(), 120);
    assert_eq!(asks(&resolved(&mut app, 15)).len(), 1);
}

#[test]
fn decisions_do_not_refresh_when_the_screen_is_closed() {
    let all = records(20);
    let mut app = opened(&all, false);
    key(&mut app, KeyCode::Esc);
    assert!(asks(&resolved(&mut app, 11)).is_empty());
    let mut never = live_app(Vec::new(), (80, 24));
    assert!(asks(&resolved(&mut never, 11)).is_empty());
}

#[test]
fn new_rows_above_the_viewport_keep_the_selection_and_are_counted() {
    let all = records(120);
    let mut app = opened(&all[3..], true);
    for _ in 0..50 {
        key(&mut app, KeyCode::Char('j'));
    }
    let (sel, offset) = (selected_id(&app), app.history.offset);
    assert!(offset > 0);
    let top = app.history.rows()[offset];
    resolved(&mut app, 11);
    answer(&mut app, HistoryAsk::Refresh, Ok(page(&all, true)));
    assert_eq!(selected_id(&app), sel, "the selected record stays selected");
    assert_eq!(app.history.selected, 53);
    assert_eq!(app.history.offset, offset + 3, "the viewport does not move");
    assert_eq!(app.history.rows()[app.history.offset], top);
    assert_eq!(app.history.live.new_above, 3);
    let title = screen_text(&app);
    assert!(title.contains("3 new"), "{title}");
    // Going to the top shows them and clears the count.
    key(&mut app, KeyCode::Char('g'));
    assert_eq!(app.history.offset, 0);
    assert_eq!(app.history.live.new_above, 0);
}

#[test]
fn new_rows_at_the_top_of_a_viewport_at_the_top_are_simply_shown() {
    let all = records(60);
    let mut app = opened(&all[2..], false);
    let sel = selected_id(&app);
    resolved(&mut app, 11);
    answer(&mut app, HistoryAsk::Refresh, Ok(page(&all, false)));
    assert_eq!(selected_id(&app), sel);
    assert_eq!(app.history.selected, 2);
    assert_eq!(app.history.offset, 0);
    assert_eq!(app.history.live.new_above, 0);
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn tick_at(app: &mut App, ms: i64) -> Vec<Effect> {
    let t = Timestamp::from_unix_millis(app.now.unix_millis() + ms);
    update(app, Msg::Tick(t))
}

/// A record whose reason holds `word`, older than everything loaded (not loaded yet).
fn unloaded_with(word: &str) -> HistoryRecord {
    let mut r = records(500).pop().expect("records");
    r.reason = format!("{word} was the reason");
    r
}

#[test]
fn a_settled_search_asks_the_broker_once_and_merges_its_matches() {
    let all = records(100);
    let mut app = opened(&all, true);
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "zebra");
    assert!(app.busy(), "ticks come faster while the text settles");
    assert!(asks(&tick_at(&mut app, 100)).is_empty(), "not settled yet");
    let fx = tick_at(&mut app, SETTLE_MS);
    let a = asks(&fx);
    assert_eq!(a.len(), 1, "{fx:?}");
    assert_eq!(a[0].0, HistoryAsk::Search);
    assert_eq!(a[0].2.text.as_deref(), Some("zebra"));
    assert_eq!(a[0].2.cursor, None);
    assert!(asks(&tick_at(&mut app, 1000)).is_empty(), "asked once");
    assert!(matches!(
        app.history.live.broker,
        BrokerSearch::Searching { .. }
    ));
    let title = screen_text(&app);
    assert!(title.contains("searching the broker"), "{title}");
    assert!(app.history.rows().is_empty(), "nothing loaded says zebra");

    let hit = unloaded_with("zebra");
    answer(
        &mut app,
        HistoryAsk::Search,
        Ok(page(std::slice::from_ref(&hit), false)),
    );
    assert_eq!(selected_id(&app), Some(hit.action.id));
    assert_eq!(app.history.rows().len(), 1);
    assert_eq!(
        app.history.live.broker,
        BrokerSearch::Found {
            text: "zebra".into(),
            added: 1
        }
    );
    let title = screen_text(&app);
    assert!(title.contains("1 more from the broker"), "{title}");
    assert!(app.history.next_cursor.is_some(), "paging is unchanged");
}

#[test]
fn an_answer_for_an_older_text_is_dropped_and_nothing_is_asked_when_all_is_loaded() {
    let all = records(100);
    let mut app = opened(&all, true);
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "zebra");
    assert_eq!(asks(&tick_at(&mut app, SETTLE_MS)).len(), 1);
    typed(&mut app, "s");
    let stale = unloaded_with("zebra");
    answer(&mut app, HistoryAsk::Search, Ok(page(&[stale], false)));
    assert_eq!(app.history.local().loaded(), 100, "stale answer dropped");
    assert_eq!(app.history.live.broker, BrokerSearch::Idle);
    // A keystroke restarts the clock; the new text is asked for once it settles.
    let a = asks(&tick_at(&mut app, SETTLE_MS));
    assert_eq!(a[0].2.text.as_deref(), Some("zebras"));

    let mut done = opened(&all, false);
    key(&mut done, KeyCode::Char('/'));
    typed(&mut done, "zebra");
    assert!(
        asks(&tick_at(&mut done, 5000)).is_empty(),
        "all loaded: local only"
    );
    assert!(!done.busy());
}

#[test]
fn leaving_stops_the_settle_clock_and_entering_restarts_it() {
    let all = records(100);
    let mut app = opened(&all, true);
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "zebra");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, crate::console::core::app::Screen::Queue);
    assert!(!app.busy(), "no fast ticks on the queue");
    assert!(asks(&tick_at(&mut app, 5000)).is_empty());
    // Back: the first page is asked for again; the search waits for it, then settles.
    let fx = key(&mut app, KeyCode::Char('H'));
    assert!(asks(&fx).is_empty());
    assert!(
        asks(&tick_at(&mut app, 5000)).is_empty(),
        "first page still loading"
    );
    let generation = app.history.generation;
    update(
        &mut app,
        Msg::HistoryPage {
            generation,
            result: Ok(page(&all, true)),
        },
    );
    let a = asks(&tick_at(&mut app, 5000));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].2.text.as_deref(), Some("zebra"));
}
