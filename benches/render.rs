//! Render: one frame at 160x48 of a full console state, the way the runtime draws it
//! (`Terminal::draw` of `Root`, buffer diff included), to a `TestBackend`. Between
//! frames the selection moves (`j`/`k` through the real keymap and `update`), so every
//! frame has something to redraw.
//! Run with `cargo bench --bench render` (`FRAMES=N` to change the count).
//!
//! Each case is a name and a ready `App`; adding a screen is one entry in [`cases`].

mod support;

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use signoff::console::app::App;
use signoff::console::fixtures::{action, live_app};
use signoff::console::theme::Theme;
use signoff::console::ui::Root;
use signoff::console::{Msg, update};
use signoff::protocol::{ActionId, RiskLevel};

use support::{Stats, env_count, header, machine};

const SIZE: (u16, u16) = (160, 48);

/// A console state to draw.
struct Case {
    name: &'static str,
    app: App,
}

/// The screens measured. The history screen (100,000 records) joins here as one more
/// entry once the history view is merged.
fn cases() -> Vec<Case> {
    vec![Case {
        name: "queue screen, 10,000 pending actions",
        app: live_app(pending(10_000), SIZE),
    }]
}

/// `n` pending actions of mixed risk over a few environments.
fn pending(n: u32) -> Vec<signoff::protocol::Action> {
    let levels = [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Critical,
    ];
    let envs = ["production", "staging", "dev"];
    (0..n)
        .map(|i| {
            let mut a = action(
                (i % 200) as u8,
                "db.export",
                &format!("table-{i:05}"),
                envs[i as usize % envs.len()],
                levels[i as usize % levels.len()],
            );
            a.id = ActionId(ulid::Ulid::from_parts(1, u128::from(i)));
            a
        })
        .collect()
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn main() {
    let frames = env_count("FRAMES", 2000);
    println!("{}", machine());
    println!(
        "{frames} frames per case at {}x{}, theme dark",
        SIZE.0, SIZE.1
    );
    println!();
    println!("{}", header("render one frame (TestBackend)"));
    let theme = Theme::dark();
    for Case { name, mut app } in cases() {
        let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).expect("terminal");
        let mut draw = Stats::new();
        let mut key_and_draw = Stats::new();
        for i in 0..frames + 50 {
            let t0 = Instant::now();
            // Down ten rows, then back up: the selection and the detail panes change.
            update(&mut app, key(if (i / 10) % 2 == 0 { 'j' } else { 'k' }));
            let t1 = Instant::now();
            terminal
                .draw(|f| {
                    f.render_widget(
                        Root {
                            app: &app,
                            theme: &theme,
                        },
                        f.area(),
                    )
                })
                .expect("draws");
            let t2 = Instant::now();
            if i >= 50 {
                draw.push(t2 - t1);
                key_and_draw.push(t2 - t0);
            }
        }
        println!("{}", draw.row(&format!("{name}: draw"), "p99 < 1 ms"));
        println!("{}", key_and_draw.row(&format!("{name}: key + draw"), ""));
    }
}
