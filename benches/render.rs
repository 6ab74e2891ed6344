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
use signoff::console::app::{App, Screen};
use signoff::console::fixtures::{action, live_app};
use signoff::console::history_view::HistoryState;
use signoff::console::theme::Theme;
use signoff::console::ui::Root;
use signoff::console::{Msg, update};
use signoff::history::{GenConfig, Generator};
use signoff::protocol::{ActionId, RiskLevel};

use support::{Stats, env_count, header, machine, thread_cpu};

const SIZE: (u16, u16) = (160, 48);

/// Counts live heap bytes, so the bench can say what a loaded `App` holds (resident
/// memory of the real binary is measured by the `startup` bench).
struct Counting;

static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), std::sync::atomic::Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { std::alloc::System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        LIVE.fetch_sub(l.size(), std::sync::atomic::Ordering::Relaxed);
        // SAFETY: `p` came from `alloc` with this layout.
        unsafe { std::alloc::System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live_bytes() -> usize {
    LIVE.load(std::sync::atomic::Ordering::Relaxed)
}

/// A console state to draw.
struct Case {
    name: &'static str,
    app: App,
}

/// The screens measured: the queue with 10,000 pending actions, and the history screen
/// with 100,000 records loaded beside them.
fn cases() -> Vec<Case> {
    let before = live_bytes();
    let queue = live_app(pending(10_000), SIZE);
    let held = live_bytes().saturating_sub(before);
    println!(
        "queue App with 10,000 actions holds {:.1} MB of heap ({:.1} KB per action)",
        held as f64 / 1e6,
        held as f64 / 1e4 / 1e3
    );
    let mut history = live_app(pending(10_000), SIZE);
    let records = Generator::new(GenConfig {
        count: 100_000,
        ..GenConfig::default()
    })
    .records();
    let before = live_bytes();
    history.history = HistoryState::with_records(records);
    let held = live_bytes().saturating_sub(before);
    println!(
        "history state with 100,000 records holds {:.1} MB of heap (index and search)",
        held as f64 / 1e6
    );
    history.screen = Screen::History;
    history.dirty = true;
    vec![
        Case {
            name: "queue screen, 10,000 pending actions",
            app: queue,
        },
        Case {
            name: "history screen, 100,000 records (+10,000 pending)",
            app: history,
        },
    ]
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
        let mut cpu = Stats::new();
        for i in 0..frames + 50 {
            let t0 = Instant::now();
            let c0 = thread_cpu();
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
            let c2 = thread_cpu();
            if i >= 50 {
                draw.push(t2 - t1);
                key_and_draw.push(t2 - t0);
                cpu.push(c2.saturating_sub(c0));
            }
        }
        println!("{}", draw.row(&format!("{name}: draw"), "p99 < 1 ms"));
        println!("{}", key_and_draw.row(&format!("{name}: key + draw"), ""));
        println!(
            "{}",
            cpu.row(&format!("{name}: key + draw, thread CPU"), "")
        );
    }
}
