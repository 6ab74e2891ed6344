//! Responsiveness bounds: a 1 MiB diff and a 5,000-action queue must stay interactive.
//! Prints the measured times (run with `--nocapture`); the asserted bounds are generous
//! for an unoptimised build on a loaded 2-core machine.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use signoff::console::app::{App, Pane};
use signoff::console::fixtures::{action, live_app};
use signoff::console::theme::Theme;
use signoff::console::ui::Root;
use signoff::console::{Msg, update};
use signoff::protocol::{Change, RiskLevel};

fn draw(app: &App, theme: &Theme, t: &mut Terminal<TestBackend>) -> Duration {
    let start = Instant::now();
    t.draw(|f| f.render_widget(Root { app, theme }, f.area()))
        .unwrap();
    start.elapsed()
}

fn big_diff() -> String {
    let mut d = String::from("--- a/big.sql\n+++ b/big.sql\n@@ -1,40000 +1,40000 @@\n");
    let mut i = 0;
    while d.len() < 1024 * 1024 {
        d.push_str(&format!(
            " context line {i}\n-value_{i} = 'old setting'\n+value_{i} = 'new setting'\n"
        ));
        i += 1;
    }
    d
}

#[test]
fn a_one_mebibyte_diff_scrolls_without_reparsing() {
    let mut a = action(1, "db.migrate", "schema", "production", RiskLevel::High);
    a.change = Some(Change::UnifiedDiff { diff: big_diff() });
    let start = Instant::now();
    let id = a.id;
    let mut app = live_app(vec![a], (160, 48));
    // A change this large is diffed off the event loop: wait for it, then scroll.
    assert!(app.queue.entries[&id].wait_for_diff(Duration::from_secs(60)));
    let parse = start.elapsed();
    app.focus = Pane::Diff;
    let theme = Theme::dark();
    let mut t = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let first = draw(&app, &theme, &mut t);
    let mut worst = Duration::ZERO;
    for _ in 0..50 {
        update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE)),
        );
        worst = worst.max(draw(&app, &theme, &mut t));
    }
    assert!(app.queue.pane_scroll(Pane::Diff) >= 500);
    println!("1 MiB diff: parse {parse:?}, first draw {first:?}, worst scroll+draw {worst:?}");
    assert!(parse < Duration::from_secs(10), "parse {parse:?}");
    assert!(worst < Duration::from_millis(500), "draw {worst:?}");
}

#[test]
fn a_five_thousand_action_queue_stays_interactive() {
    let levels = [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Critical,
    ];
    let actions: Vec<_> = (0..5000u32)
        .map(|i| {
            let mut a = action(
                1,
                "k8s.scale",
                &format!("svc-{i}"),
                "staging",
                levels[i as usize % 4],
            );
            a.id = signoff::protocol::ActionId(ulid::Ulid::from_parts(1, u128::from(i)));
            a.change = None;
            a
        })
        .collect();
    let start = Instant::now();
    let mut app = live_app(actions, (80, 24));
    let snapshot = start.elapsed();
    let theme = Theme::dark();
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut worst = Duration::ZERO;
    for _ in 0..100 {
        let s = Instant::now();
        update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)),
        );
        draw(&app, &theme, &mut t);
        worst = worst.max(s.elapsed());
    }
    let s = Instant::now();
    update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE)),
    );
    let resort = s.elapsed();
    println!("5000 actions: snapshot {snapshot:?}, worst key+draw {worst:?}, re-sort {resort:?}");
    assert_eq!(app.queue.order.len(), 5000);
    assert!(worst < Duration::from_millis(500), "key+draw {worst:?}");
}

#[test]
fn a_single_mebibyte_line_still_draws_quickly() {
    let mut a = action(1, "db.migrate", "schema", "production", RiskLevel::High);
    let line = "x".repeat(1024 * 1024 - 64);
    a.change = Some(Change::UnifiedDiff {
        diff: format!("@@ -1 +1 @@\n-a\n+{line}\n"),
    });
    let mut app = live_app(vec![a], (160, 48));
    app.focus = Pane::Diff;
    let theme = Theme::dark();
    let mut t = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let took = draw(&app, &theme, &mut t);
    println!("1 MiB single line: draw {took:?}");
    assert!(took < Duration::from_secs(2), "draw {took:?}");
}
