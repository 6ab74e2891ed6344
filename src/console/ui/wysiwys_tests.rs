//! What you see is what you sign, as properties of the real views over generated hostile
//! strings (issue 12): the cells drawn spell a visible form that reads back to the
//! original; every cell's width is what `unicode-width` says, char by char; and drawing
//! one action then another through a real terminal emulator (`vt100`) leaves no cell of
//! the first.

use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{TerminalOptions, Viewport};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::console::core::app::{App, Pane};
use crate::console::fixtures::{action, live_app};
use crate::console::ui::Root;
use crate::console::ui::theme::Theme;
use crate::protocol::{Action, Change, RiskLevel};
use crate::text::strategy::hostile;

const W: u16 = 220;
const H: u16 = 48;
const END: &str = "~END";

fn buffer(app: &App) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(W, H)).unwrap_or_else(|e| panic!("{e}"));
    let theme = Theme::dark();
    t.draw(|f| f.render_widget(Root { app, theme: &theme }, f.area()))
        .unwrap_or_else(|e| panic!("{e}"));
    t.backend().buffer().clone()
}

/// The text of row `y` from column `x` as a terminal shows it: each cell's symbol, then
/// skip the cells a wide symbol covers.
fn read_row(buf: &Buffer, x: u16, y: u16) -> String {
    let mut out = String::new();
    let mut x = x;
    while x < buf.area.width {
        let sym = buf[(x, y)].symbol();
        out.push_str(sym);
        x += u16::try_from(sym.width().max(1)).unwrap_or(1);
    }
    out
}

fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    (0..buf.area.height).find_map(|y| {
        let row = read_row(buf, 0, y);
        row.find(needle).map(|at| (row[..at].width() as u16, y))
    })
}

/// Every cell: its symbol's width is the sum of its characters' widths (no sequence a
/// terminal could measure differently), and the cells a wide symbol covers are blank.
fn widths_agree(buf: &Buffer) -> Result<(), String> {
    for y in 0..buf.area.height {
        let mut x = 0;
        while x < buf.area.width {
            let sym = buf[(x, y)].symbol();
            let per_char: usize = sym.chars().map(|c| c.width().unwrap_or(0)).sum();
            if sym.width() != per_char || (per_char == 0 && !sym.is_empty()) {
                return Err(format!(
                    "cell ({x},{y}) {sym:?}: str width {} vs chars {per_char}",
                    sym.width()
                ));
            }
            for k in 1..per_char {
                let next = buf[(x + k as u16, y)].symbol();
                if next != " " && !next.is_empty() {
                    return Err(format!(
                        "cell ({},{y}) under a wide symbol holds {next:?}",
                        x + k as u16
                    ));
                }
            }
            x += per_char.max(1) as u16;
        }
    }
    Ok(())
}

fn with_summary(s: &str) -> Action {
    let mut a = action(1, "db.export", "customers", "production", RiskLevel::High);
    a.summary = format!("{s}{END}");
    a.change = Some(Change::UnifiedDiff {
        diff: format!("@@ -0,0 +1 @@\n+{}{END}\n", s.replace('\n', "")),
    });
    a
}

/// Bytes the crossterm backend writes, kept where the test can read them.
#[derive(Clone, Default)]
struct Wire(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Wire {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Vt {
    term: Terminal<CrosstermBackend<Wire>>,
    wire: Wire,
    parser: vt100::Parser,
}

/// Draws `app` through crossterm into a vt100 screen, after whatever it shows.
fn draw_vt(vt: &mut Vt, app: &App) {
    let theme = Theme::dark();
    vt.term
        .draw(|f| f.render_widget(Root { app, theme: &theme }, f.area()))
        .unwrap_or_else(|e| panic!("{e}"));
    let bytes = std::mem::take(&mut *vt.wire.0.borrow_mut());
    vt.parser.process(&bytes);
}

fn vt_terminal() -> Vt {
    let wire = Wire::default();
    let term = Terminal::with_options(
        CrosstermBackend::new(wire.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, W, H)),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    Vt {
        term,
        wire,
        parser: vt100::Parser::new(
            std::num::NonZeroU16::MIN.saturating_add(H - 1),
            std::num::NonZeroU16::MIN.saturating_add(W - 1),
            0,
        ),
    }
}

fn screen_rows(vt: &Vt) -> Vec<String> {
    vt.parser.screen().rows(0, W).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn summary_and_diff_cells_read_back_to_the_signed_text(s in hostile(6)) {
        let shown = crate::text::visible_string(&s);
        prop_assume!(shown.width() + END.len() < 90);
        let mut app = live_app(vec![with_summary(&s)], (W, H));
        app.focus = Pane::Context;
        let buf = buffer(&app);
        widths_agree(&buf).map_err(TestCaseError::fail)?;

        // The context pane's summary row: the value starts after the label.
        let (x, y) = find(&buf, "Summary").ok_or_else(|| TestCaseError::fail("no summary row"))?;
        let row = read_row(&buf, x + 13, y);
        let cut = row.find(END).ok_or_else(|| TestCaseError::fail(format!("no end in {row:?}")))?;
        prop_assert_eq!(crate::text::read_back(&row[..cut]), Some(s.clone()), "row {:?}", row);

        // The diff pane's added line: after the gutter and the sign.
        let (_, dy) = find(&buf, "@@ -0,0 +1 @@").ok_or_else(|| TestCaseError::fail("no hunk"))?;
        let (dx, _) = find(&buf, " Diff ").ok_or_else(|| TestCaseError::fail("no diff pane"))?;
        let row = read_row(&buf, dx + 12, dy + 1);
        let cut = row.find(END).ok_or_else(|| TestCaseError::fail(format!("no end in {row:?}")))?;
        prop_assert_eq!(crate::text::read_back(&row[..cut]), Some(s.replace('\n', "")), "row {:?}", row);
    }

    #[test]
    fn drawing_one_action_then_another_leaves_nothing_of_the_first(a in hostile(8), b in hostile(8)) {
        let mut first = with_summary(&a);
        let mut second = with_summary(&b);
        second.id = crate::console::fixtures::id(2);
        first.requester.display_name = format!("AAAA{a}");
        second.requester.display_name = format!("BBBB{b}");
        let mut app = live_app(vec![first, second], (W, H));
        app.focus = Pane::Queue;
        let mut vt = vt_terminal();
        draw_vt(&mut vt, &app);
        // Move to the other action, draw again.
        let other = app.queue.order.iter().copied().find(|id| Some(*id) != app.queue.selected);
        let index = other.and_then(|id| app.queue.order.iter().position(|x| *x == id));
        prop_assume!(index.is_some());
        crate::console::queue::order::select_index(&mut app.queue, index.unwrap_or(0));
        draw_vt(&mut vt, &app);

        let mut clean = vt_terminal();
        draw_vt(&mut clean, &app);
        prop_assert_eq!(screen_rows(&vt), screen_rows(&clean));
    }
}

/// The case from the issue: an interlinear annotation left `￹` fragments on the next
/// action's screen until a resize.
#[test]
fn interlinear_annotation_leaves_no_fragment_on_the_next_screen() {
    let mut first = with_summary("AAAA\u{FFF9}PLAIN deploy\u{FFFA}x\u{FFFB}");
    first.requester.display_name = "Requester AAAA\u{FFF9}PLAIN deploy".into();
    let mut second = with_summary("ok");
    second.id = crate::console::fixtures::id(2);
    let mut app = live_app(vec![first, second], (W, H));
    let mut vt = vt_terminal();
    draw_vt(&mut vt, &app);
    let shown = screen_rows(&vt).join("\n");
    assert!(shown.contains("AAAA⟨U+FFF9⟩PLAIN"), "{shown}");
    let j = app
        .queue
        .order
        .iter()
        .position(|id| Some(*id) != app.queue.selected)
        .unwrap_or(0);
    crate::console::queue::order::select_index(&mut app.queue, j);
    draw_vt(&mut vt, &app);
    let mut clean = vt_terminal();
    draw_vt(&mut clean, &app);
    assert_eq!(screen_rows(&vt), screen_rows(&clean));
}
