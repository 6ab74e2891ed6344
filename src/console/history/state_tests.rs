//! update()-level tests of the history screen: entering and leaving, lazy paging, search,
//! chips that refetch, copy and export.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::console::core::app::{App, Screen};
use crate::console::core::msg::Msg;
use crate::console::core::update::update;
use crate::console::fixtures::{live_app, now};
use crate::history::SearchField;
use crate::history::chips::TimeRange;
use crate::history::r#gen::{GenConfig, Generator};
use crate::protocol::{HistoryCursor, HistoryPage, HistoryRecord, Status};

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

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn fetches(fx: &[Effect]) -> Vec<(u64, HistoryQuery)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::FetchHistory { generation, query } => Some((*generation, query.clone())),
            _ => None,
        })
        .collect()
}

fn deliver(app: &mut App, recs: &[HistoryRecord], cursor: Option<&str>) -> Vec<Effect> {
    let generation = app.history.generation;
    update(
        app,
        Msg::HistoryPage {
            generation,
            result: Ok(HistoryPage {
                records: recs.to_vec(),
                next_cursor: cursor.map(|c| HistoryCursor(c.into())),
            }),
        },
    )
}

/// A console on the history screen with `all` loaded as one page and more to come.
fn opened(all: &[HistoryRecord]) -> App {
    let mut app = live_app(Vec::new(), (80, 24));
    key(&mut app, KeyCode::Char('H'));
    deliver(&mut app, all, Some("more"));
    app
}

#[test]
fn h_enters_and_fetches_the_first_page_esc_and_h_leave() {
    let mut app = live_app(Vec::new(), (80, 24));
    let fx = key(&mut app, KeyCode::Char('H'));
    assert_eq!(app.screen, Screen::History);
    let f = fetches(&fx);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].1.cursor, None);
    assert_eq!(f[0].1.limit, Some(PAGE_SIZE));
    assert_eq!(app.history.load, Load::Loading { first: true });
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::Queue);
    let again = fetches(&key(&mut app, KeyCode::Char('H')));
    assert!(
        again[0].0 > f[0].0,
        "each visit refreshes under a new generation"
    );
    key(&mut app, KeyCode::Char('H'));
    assert_eq!(app.screen, Screen::Queue);
}

#[test]
fn paging_asks_for_the_next_cursor_once_and_drops_stale_pages() {
    let all = records(450);
    let mut app = live_app(Vec::new(), (80, 24));
    key(&mut app, KeyCode::Char('H'));
    let fx = deliver(&mut app, &all[..200], Some("c1"));
    assert!(fetches(&fx).is_empty(), "the first page fills the screen");
    assert_eq!(app.history.load, Load::Ready);
    assert_eq!(app.history.rows().len(), 200);
    // Near the end: one request for c1, and none more while it is on its way.
    let f = fetches(&key(&mut app, KeyCode::Char('G')));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].1.cursor, Some(HistoryCursor("c1".into())));
    assert!(fetches(&key(&mut app, KeyCode::Char('k'))).is_empty());
    assert!(fetches(&key(&mut app, KeyCode::Char('G'))).is_empty());
    let selected = app.history.selected_record().unwrap().action.id;
    // A page for an older generation is ignored.
    let stale = app.history.generation - 1;
    update(
        &mut app,
        Msg::HistoryPage {
            generation: stale,
            result: Ok(HistoryPage {
                records: all[200..].to_vec(),
                next_cursor: None,
            }),
        },
    );
    assert_eq!(app.history.local().loaded(), 200);
    deliver(&mut app, &all[200..400], Some("c2"));
    assert_eq!(app.history.local().loaded(), 400);
    assert_eq!(app.history.selected_record().unwrap().action.id, selected);
    let f = fetches(&key(&mut app, KeyCode::Char('G')));
    assert_eq!(f[0].1.cursor, Some(HistoryCursor("c2".into())));
    deliver(&mut app, &all[400..], None);
    assert_eq!(app.history.load, Load::Ready);
    assert!(fetches(&key(&mut app, KeyCode::Char('G'))).is_empty());
    let times: Vec<_> = app
        .history
        .local()
        .result_records()
        .map(|r| r.decided_at)
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

#[test]
fn a_failed_page_is_shown_and_kept_out_of_the_rows() {
    let mut app = live_app(Vec::new(), (80, 24));
    key(&mut app, KeyCode::Char('H'));
    let generation = app.history.generation;
    update(
        &mut app,
        Msg::HistoryPage {
            generation,
            result: Err("broker refused (403): forbidden: approvers only".into()),
        },
    );
    assert!(matches!(&app.history.load, Load::Failed(e) if e.contains("forbidden")));
    assert!(
        app.current_notice()
            .unwrap()
            .text
            .plain()
            .contains("forbidden")
    );
    assert!(app.history.rows().is_empty());
    // A later page that fails is retried by moving again, with the same cursor.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('H'));
    deliver(&mut app, &records(50), Some("c1"));
    let f = fetches(&key(&mut app, KeyCode::Char('G')));
    assert_eq!(f[0].1.cursor, Some(HistoryCursor("c1".into())));
    let generation = app.history.generation;
    update(
        &mut app,
        Msg::HistoryPage {
            generation,
            result: Err("cannot reach the broker: connection refused".into()),
        },
    );
    assert_eq!(app.history.rows().len(), 50, "what was loaded stays");
    let f = fetches(&key(&mut app, KeyCode::Char('k')));
    assert_eq!(f[0].1.cursor, Some(HistoryCursor("c1".into())));
}

#[test]
fn search_narrows_as_you_type_and_highlights() {
    let all = records(300);
    let mut app = opened(&all);
    key(&mut app, KeyCode::Char('/'));
    assert_eq!(app.mode(), Mode::Input);
    typed(&mut app, "win");
    let after_win = app.history.rows().len();
    typed(&mut app, "dow");
    let n = app.history.rows().len();
    assert!(n > 0 && n <= after_win && n < all.len(), "{n}");
    let every = app.history.local().result_records().all(|r| {
        SearchField::ALL
            .iter()
            .any(|f| f.text(r).to_lowercase().contains("window"))
    });
    assert!(every);
    let slot = app.history.selected_slot().unwrap();
    let hl = app.history.local().highlights(slot);
    assert!(hl.iter().any(|m| {
        m.ranges
            .iter()
            .any(|r| m.text[r.clone()].eq_ignore_ascii_case("window"))
    }));
    // 'y' while typing is text, not copy.
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.history.search.value, "window");
    assert_eq!(app.mode(), Mode::History);
    key(&mut app, KeyCode::Char('/'));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.history.search.value, "");
    assert_eq!(app.history.rows().len(), all.len());
}

#[test]
fn chips_filter_at_once_and_refetch_from_the_first_page() {
    let all = records(300);
    let mut app = opened(&all);
    // The picker's first item is "approved".
    key(&mut app, KeyCode::Char('f'));
    assert_eq!(app.mode(), Mode::Toggles);
    let f = fetches(&key(&mut app, KeyCode::Char(' ')));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].1.outcome, vec![Status::Approved]);
    assert_eq!(f[0].1.cursor, None);
    assert!(!app.history.rows().is_empty());
    assert!(
        app.history
            .local()
            .result_records()
            .all(|r| r.action.status == Status::Approved)
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.mode(), Mode::History);
    // "decided by me" uses the signed-in subject.
    let f = fetches(&key(&mut app, KeyCode::Char('m')));
    assert_eq!(f[0].1.approver.as_deref(), Some("bob"));
    key(&mut app, KeyCode::Char('m'));
    // "requested by" the selected row's requester.
    let who = app
        .history
        .selected_record()
        .unwrap()
        .action
        .requester
        .id
        .clone();
    let f = fetches(&key(&mut app, KeyCode::Char('u')));
    assert_eq!(f[0].1.requester.as_deref(), Some(who.as_str()));
    assert!(
        app.history
            .local()
            .result_records()
            .all(|r| r.action.requester.id == who)
    );
    let f = fetches(&key(&mut app, KeyCode::Char('t')));
    assert_eq!(f[0].1.since, Some(now().plus_secs(-3600)));
    assert_eq!(app.history.chips.time, TimeRange::LastHour);
    let f = fetches(&key(&mut app, KeyCode::Char('x')));
    assert_eq!(
        f[0].1,
        HistoryQuery {
            limit: Some(PAGE_SIZE),
            ..HistoryQuery::default()
        }
    );
    assert_eq!(app.history.rows().len(), all.len());
}

#[test]
fn custom_time_range_is_parsed_and_bad_input_explained() {
    let all = records(100);
    let mut app = opened(&all);
    key(&mut app, KeyCode::Char('T'));
    typed(&mut app, "yesterday");
    assert!(fetches(&key(&mut app, KeyCode::Enter)).is_empty());
    assert!(matches!(
        &app.history.prompt,
        Some(Prompt::CustomTime { error: Some(_), .. })
    ));
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('T'));
    typed(&mut app, "7d 1d");
    let f = fetches(&key(&mut app, KeyCode::Enter));
    assert_eq!(f[0].1.since, Some(now().plus_secs(-7 * 86_400)));
    assert_eq!(f[0].1.until, Some(now().plus_secs(-86_400)));
    assert!(app.history.prompt.is_none());
}

#[test]
fn y_copies_the_selected_id_and_e_exports_the_filtered_set() {
    let all = records(200);
    let mut app = opened(&all);
    key(&mut app, KeyCode::Char('j'));
    let id = app.history.selected_record().unwrap().action.id;
    let fx = key(&mut app, KeyCode::Char('y'));
    assert_eq!(fx, vec![Effect::CopyToClipboard(id.to_string())]);
    // OSC 52 has no reply: the notice never claims the copy worked.
    let n = app
        .notices
        .back()
        .map(|n| n.text.plain())
        .unwrap_or_default();
    assert!(n.contains(&id.to_string()) && !n.contains("copied"), "{n}");
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "production");
    key(&mut app, KeyCode::Enter);
    let want: Vec<HistoryRecord> = app.history.local().result_records().cloned().collect();
    assert!(!want.is_empty() && want.len() < all.len());
    let fx = key(&mut app, KeyCode::Char('e'));
    match fx.as_slice() {
        [Effect::ExportHistory { file_name, records }] => {
            let got: Vec<HistoryRecord> = records.iter().map(|r| (**r).clone()).collect();
            assert_eq!(got, want);
            // Shared with the loaded set, not copied.
            let local = app.history.local();
            assert!(
                records
                    .iter()
                    .zip(local.results())
                    .all(|(r, &s)| std::sync::Arc::ptr_eq(r, &local.index().shared(s)))
            );
            assert!(file_name.starts_with("signoff-history-") && file_name.ends_with(".jsonl"));
        }
        other => panic!("{other:?}"),
    }
    // Nothing to export: a notice, no effect.
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "zzzz-no-such-thing");
    key(&mut app, KeyCode::Enter);
    assert!(key(&mut app, KeyCode::Char('e')).is_empty());
}

#[test]
fn a_bench_can_load_records_without_a_network() {
    let mut app = live_app(Vec::new(), (160, 48));
    app.history = HistoryState::with_records(records(1000));
    app.screen = Screen::History;
    assert_eq!(app.history.rows().len(), 1000);
    assert_eq!(app.history.load, Load::Ready);
    let copy = app.history.clone();
    assert_eq!(copy.rows().len(), 1000);
}

#[test]
fn coming_back_refreshes_the_first_page_and_keeps_paging_where_it_stopped() {
    let all = records(700);
    let mut app = live_app(Vec::new(), (80, 24));
    key(&mut app, KeyCode::Char('H'));
    deliver(&mut app, &all[100..300], Some("c1"));
    key(&mut app, KeyCode::Char('G'));
    deliver(&mut app, &all[300..500], Some("c2"));
    key(&mut app, KeyCode::Esc);
    // 100 newer decisions meanwhile: the refreshed first page overlaps what is loaded.
    let f = fetches(&key(&mut app, KeyCode::Char('H')));
    assert_eq!(f[0].1.cursor, None);
    deliver(&mut app, &all[..200], Some("r1"));
    assert_eq!(app.history.local().loaded(), 500);
    assert_eq!(app.history.next_cursor, Some(HistoryCursor("c2".into())));
    // No overlap (the page holds only newer records): page again from the refreshed one.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('H'));
    let mut newer = all[0].clone();
    newer.action.id = crate::protocol::ActionId::new();
    newer.decided_at = now();
    assert!(
        app.history
            .local()
            .index()
            .slot_of(newer.action.id)
            .is_none()
    );
    deliver(&mut app, &[newer], Some("r2"));
    assert_eq!(app.history.next_cursor, Some(HistoryCursor("r2".into())));
    // Other chips: a fresh start, the cursor comes from the new first page.
    key(&mut app, KeyCode::Char('m'));
    deliver(&mut app, &all[..10], Some("m1"));
    assert_eq!(app.history.next_cursor, Some(HistoryCursor("m1".into())));
}

#[test]
fn the_mouse_selects_rows_focuses_the_record_and_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let all = records(300);
    let mut app = opened(&all);
    let a = crate::console::core::layout::history_areas(80, 24);
    let at = |kind, row| {
        Msg::Mouse(MouseEvent {
            kind,
            column: 5,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    update(
        &mut app,
        at(MouseEventKind::Down(MouseButton::Left), a.list.y + 4),
    );
    assert_eq!(app.history.selected, 2);
    update(&mut app, at(MouseEventKind::ScrollDown, a.list.y + 4));
    assert_eq!(app.history.selected, 3);
    update(&mut app, at(MouseEventKind::ScrollDown, a.detail.y + 2));
    assert_eq!(app.history.detail_scroll, 3);
    assert!(!app.history.detail_focus);
    update(
        &mut app,
        at(MouseEventKind::Down(MouseButton::Left), a.detail.y + 2),
    );
    assert!(app.history.detail_focus);
    // Scrolling stops at the record's last page.
    for _ in 0..50 {
        key(&mut app, KeyCode::Char('j'));
    }
    let r = app.history.selected_record().unwrap();
    let max = crate::console::core::rows::record_max_scroll(r, a.detail);
    assert!(max > 0 && max < 40, "{max}");
    assert_eq!(app.history.detail_scroll, max);
}
