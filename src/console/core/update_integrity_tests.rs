//! No key acts on an action the approver cannot see (issue #13, part 3): a dialog
//! closed by the world swallows typing until acknowledged, and the selected action is
//! always on a visible row with the panes showing it.

use crossterm::event::{KeyCode, MouseButton, MouseEvent, MouseEventKind};

use super::tests::{code, key, signed, typ};
use super::*;
use crate::console::core::app::Dialog;
use crate::console::dialogs::gone::Why;
use crate::console::fixtures::{action, live_app, server};
use crate::protocol::{Action, ActionRow, RiskLevel, Verdict};

/// A (high risk, selected, sorted first) and B in the queue; `a` pressed on A and
/// `ok, ` typed into its reason.
fn typing_into_a() -> (App, Action, Action) {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut b = action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Medium);
    b.expires_at = a.expires_at.plus_secs(600);
    let mut app = live_app(vec![a.clone(), b.clone()], (80, 24));
    app.queue.selected = Some(a.id);
    key(&mut app, 'a');
    typ(&mut app, "ok, ");
    assert!(matches!(&app.dialog, Some(Dialog::Decide(d)) if d.action_id == a.id));
    (app, a, b)
}

/// Types the rest of the approver's sentence and Enter, collecting every effect.
fn keep_typing(app: &mut App) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in "all good".chars() {
        fx.extend(key(app, c));
    }
    fx
}

/// The checks every cause shares: the notice holds through the typing, Enter only
/// closes it, nothing was signed, no dialog opened on B, B untouched.
fn assert_swallowed(mut app: App, b: &Action, why: Why) {
    let Some(Dialog::Gone(n)) = &app.dialog else {
        panic!("the dialog must stay as a notice: {:?}", app.dialog)
    };
    assert_eq!(n.why, why);
    let mut fx = keep_typing(&mut app);
    // Every other key too: navigation, decisions, quit, Tab, Backspace, paste, mouse.
    for c in ['a', 'd', 'j', 'k', 'q', 'r', '/', 'f', 'H', '?', ' '] {
        fx.extend(key(&mut app, c));
    }
    for k in [KeyCode::Tab, KeyCode::Backspace, KeyCode::Down, KeyCode::Up] {
        fx.extend(code(&mut app, k));
    }
    fx.extend(update(&mut app, Msg::Paste("approve\n".into())));
    fx.extend(update(
        &mut app,
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 2,
            row: 3,
            modifiers: crossterm::event::KeyModifiers::NONE,
        }),
    ));
    assert!(
        matches!(app.dialog, Some(Dialog::Gone(_))),
        "still the notice: {:?}",
        app.dialog
    );
    assert!(!app.should_quit);
    fx.extend(code(&mut app, KeyCode::Enter));
    assert!(
        app.dialog.is_none(),
        "Enter closes the notice, and only that"
    );
    assert!(
        signed(&fx).is_none(),
        "nothing typed reached a decision: {fx:?}"
    );
    assert!(app.queue.inflight.is_empty());
    assert!(
        !app.queue.drafts.contains_key(&b.id),
        "no reason landed on B"
    );
    // After the notice, keys act on the queue again, on what is shown.
    app.queue.selected = Some(b.id);
    key(&mut app, 'a');
    let Some(Dialog::Decide(d)) = &app.dialog else {
        panic!("a opens a dialog again")
    };
    assert_eq!(d.action_id, b.id);
}

#[test]
fn withdrawn_under_the_dialog_swallows_the_typing() {
    let (mut app, a, b) = typing_into_a();
    let mut gone = a.clone();
    gone.status = Status::Withdrawn;
    update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 11,
            row: ActionRow::compute(&gone),
            decided_by: vec![],
            reason: "withdrawn".into(),
        }),
    );
    assert_eq!(
        app.queue.selected,
        Some(b.id),
        "the queue moved on to B behind the notice"
    );
    assert_swallowed(app, &b, Why::Withdrawn);
}

#[test]
fn decided_elsewhere_under_the_dialog_swallows_the_typing() {
    let (mut app, a, b) = typing_into_a();
    let mut done = a.clone();
    done.status = Status::Approved;
    update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 11,
            row: ActionRow::compute(&done),
            decided_by: vec!["carol".into()],
            reason: "fine".into(),
        }),
    );
    let why = Why::Decided {
        status: Status::Approved,
        by: "carol".into(),
    };
    assert_swallowed(app, &b, why);
}

#[test]
fn expired_under_the_dialog_swallows_the_typing() {
    let (mut app, a, b) = typing_into_a();
    update(&mut app, Msg::Tick(a.expires_at.plus_secs(1)));
    assert_swallowed(app, &b, Why::Expired);
}

#[test]
fn expired_by_the_broker_under_the_dialog_swallows_the_typing() {
    let (mut app, a, b) = typing_into_a();
    let mut done = a.clone();
    done.status = Status::Expired;
    update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 11,
            row: ActionRow::compute(&done),
            decided_by: vec![],
            reason: "expired".into(),
        }),
    );
    assert_swallowed(app, &b, Why::Expired);
}

#[test]
fn changed_under_the_dialog_swallows_the_typing_and_keeps_the_reason() {
    let (mut app, a, b) = typing_into_a();
    let mut changed = a.clone();
    changed.target.resource = "all_tables".into();
    update(
        &mut app,
        server(ServerMsg::Updated {
            seq: 11,
            row: ActionRow::compute(&changed.clone()),
        }),
    );
    assert_eq!(app.queue.drafts.get(&a.id).map(String::as_str), Some("ok,"));
    assert_swallowed(app, &b, Why::Changed);
}

#[test]
fn gone_from_a_snapshot_under_the_dialog_swallows_the_typing() {
    // After a reconnect the snapshot no longer holds A: no precise reason, same rule.
    let (mut app, _a, b) = typing_into_a();
    update(
        &mut app,
        server(ServerMsg::Snapshot {
            seq: 20,
            page: 1,
            pages: 1,
            rows: [b.clone()].iter().map(ActionRow::compute).collect(),
        }),
    );
    assert_swallowed(app, &b, Why::Gone);
}

#[test]
fn changed_in_a_snapshot_under_the_dialog_swallows_the_typing() {
    let (mut app, a, b) = typing_into_a();
    let mut changed = a.clone();
    changed.summary = "export everything".into();
    update(
        &mut app,
        server(ServerMsg::Snapshot {
            seq: 20,
            page: 1,
            pages: 1,
            rows: [changed, b.clone()]
                .iter()
                .map(ActionRow::compute)
                .collect(),
        }),
    );
    assert_swallowed(app, &b, Why::Changed);
}

#[test]
fn the_reason_dialog_is_guarded_too() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let b = action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Medium);
    let mut app = live_app(vec![a.clone(), b.clone()], (80, 24));
    app.queue.selected = Some(a.id);
    key(&mut app, 'r');
    typ(&mut app, "INC-");
    let mut gone = a.clone();
    gone.status = Status::Withdrawn;
    update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 11,
            row: ActionRow::compute(&gone),
            decided_by: vec![],
            reason: "withdrawn".into(),
        }),
    );
    assert_swallowed(app, &b, Why::Withdrawn);
}

#[test]
fn esc_closes_the_notice_and_the_queue_is_usable() {
    let (mut app, a, b) = typing_into_a();
    update(&mut app, Msg::Tick(a.expires_at.plus_secs(1)));
    code(&mut app, KeyCode::Esc);
    assert!(app.dialog.is_none());
    key(&mut app, 'j');
    key(&mut app, 'k');
    assert!(app.queue.selected == Some(a.id) || app.queue.selected == Some(b.id));
}

#[test]
fn a_decision_for_another_action_is_never_built_from_a_stale_dialog() {
    // Even a submit in the same batch as the change signs nothing: the change converts
    // the dialog before the next key is read.
    let (mut app, a, _b) = typing_into_a();
    let mut changed = a.clone();
    changed.target.resource = "all_tables".into();
    let asked = update(
        &mut app,
        server(ServerMsg::Updated {
            seq: 11,
            row: ActionRow::compute(&changed),
        }),
    );
    let fx = code(&mut app, KeyCode::Enter);
    assert!(signed(&fx).is_none());
    // Reopening shows the new version (fetched and checked first) and signs its digest.
    let mut fx = asked;
    fx.extend(key(&mut app, 'a'));
    super::tests::deliver(&mut app, &fx, changed.clone());
    let Some(Dialog::Decide(d)) = &app.dialog else {
        panic!("dialog")
    };
    assert_eq!(d.verdict, Verdict::Approve);
    assert_eq!(&d.digest, app.queue.entries[&a.id].digest());
}

/// A small deterministic generator, so a failing sequence is reproduced by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A unique token per action, in its summary and resource, to find it on screen.
fn token(n: u8) -> String {
    format!("q{n:03}z")
}

fn numbered(n: u8, rng: &mut Rng) -> Action {
    let level = RiskLevel::ALL[rng.below(RiskLevel::ALL.len())];
    let env = ["production", "staging", "dev"][rng.below(3)];
    let mut a = action(n, "db.export", &token(n), env, level);
    a.summary = format!("export {}", token(n));
    a
}

const SIZES: [(u16, u16); 6] = [
    (80, 24),
    (160, 48),
    (60, 16),
    (100, 30),
    (140, 30),
    (80, 40),
];

/// The screen as text rows, and the rows whose queue cells carry the selection colour.
fn screen(app: &App) -> (Vec<String>, Vec<u16>) {
    let (buf, theme) = crate::console::fixtures::render(app);
    let area = buf.area;
    let sel_bg = theme.selection().bg;
    let q = layout::areas(app.size.0, app.size.1, app.detail).queue;
    let rows = (0..area.height)
        .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol()).collect())
        .collect();
    // A selected row: its mark cells (before the risk badge) are in the selection bg.
    let selected = (q.y + 1..q.y + q.height.saturating_sub(1))
        .filter(|&y| (q.x + 1..q.x + 3).all(|x| buf[(x, y)].bg == sel_bg.unwrap_or_default()))
        .collect();
    (rows, selected)
}

/// The property: the selected action is on a visible row of the queue, and the context
/// pane shows that action and no other.
fn check(app: &App, seed: u64, step: usize) {
    let ctx = format!("seed {seed} step {step}");
    let Some(sel) = app.queue.selected else {
        assert!(app.queue.order.is_empty(), "{ctx}: rows but no selection");
        return;
    };
    let idx = app.queue.order.iter().position(|id| *id == sel);
    let idx = idx.unwrap_or_else(|| panic!("{ctx}: the selection is not a queue row"));
    let rows = layout::areas(app.size.0, app.size.1, app.detail).queue_rows();
    assert!(
        idx >= app.queue.offset && idx < app.queue.offset + rows,
        "{ctx}: row {idx} outside {}..{}",
        app.queue.offset,
        app.queue.offset + rows
    );
    if app.dialog.is_some() || layout::too_small(app.size.0, app.size.1) {
        return;
    }
    let n = app.queue.entries[&sel].row.id.0.random() as u8;
    let (text, selected) = screen(app);
    assert_eq!(selected.len(), 1, "{ctx}: exactly one highlighted row");
    let row = &text[usize::from(selected[0])];
    let q = layout::areas(app.size.0, app.size.1, app.detail).queue;
    let in_queue: String = row
        .chars()
        .skip(usize::from(q.x))
        .take(usize::from(q.width))
        .collect();
    assert!(
        in_queue.contains(&token(n)),
        "{ctx}: highlighted row {in_queue:?} is not {}",
        token(n)
    );
    let a = layout::areas(app.size.0, app.size.1, app.detail);
    if let Some(c) = a.context
        && app
            .queue
            .pane_scroll(crate::console::core::app::Pane::Context)
            == 0
    {
        let pane: String = (c.y..c.y + c.height)
            .map(|y| {
                text[usize::from(y)]
                    .chars()
                    .skip(usize::from(c.x))
                    .take(usize::from(c.width))
                    .collect::<String>()
            })
            .collect();
        assert!(
            pane.contains(&token(n)),
            "{ctx}: context pane does not show {}",
            token(n)
        );
        for other in app.queue.entries.values().filter(|e| e.row.id != sel) {
            let t = token(other.row.id.0.random() as u8);
            assert!(!pane.contains(&t), "{ctx}: context pane shows {t} too");
        }
    }
}

#[test]
fn the_selected_action_is_always_on_a_visible_row_and_in_the_panes() {
    for seed in 1..=120u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let start: Vec<Action> = (1..=(1 + rng.below(8)) as u8)
            .map(|n| numbered(n, &mut rng))
            .collect();
        let (w, h) = SIZES[rng.below(SIZES.len())];
        let mut sent: std::collections::HashMap<ActionId, Action> =
            start.iter().map(|a| (a.id, a.clone())).collect();
        let mut app = live_app(start, (w, h));
        // Start somewhere down the queue, as in the issue (5th row selected).
        for _ in 0..rng.below(6) {
            key(&mut app, 'j');
        }
        let mut next_n = 9u8;
        let mut seq = 11u64;
        for step in 0..40 {
            match rng.below(10) {
                0 | 1 if next_n < 250 => {
                    let a = numbered(next_n, &mut rng);
                    sent.insert(a.id, a.clone());
                    next_n += 1;
                    update(
                        &mut app,
                        server(ServerMsg::Pending {
                            seq,
                            row: ActionRow::compute(&a),
                        }),
                    );
                    seq += 1;
                }
                2 => {
                    let mut ids: Vec<ActionId> = app.queue.entries.keys().copied().collect();
                    ids.sort();
                    if let Some(id) = ids.get(rng.below(ids.len().max(1))) {
                        let Some(mut done) = sent.remove(id) else {
                            continue;
                        };
                        done.status = Status::Approved;
                        update(
                            &mut app,
                            server(ServerMsg::Resolved {
                                seq,
                                row: ActionRow::compute(&done),
                                decided_by: vec!["carol".into()],
                                reason: String::new(),
                            }),
                        );
                        seq += 1;
                    }
                }
                3 => {
                    let (w, h) = SIZES[rng.below(SIZES.len())];
                    update(&mut app, Msg::Resize(w, h));
                }
                4 => {
                    key(&mut app, 's');
                }
                5 => {
                    // Filter: toggle one risk level or environment, then close.
                    key(&mut app, 'f');
                    for _ in 0..rng.below(6) {
                        key(&mut app, 'j');
                    }
                    key(&mut app, ' ');
                    code(&mut app, KeyCode::Esc);
                }
                6 => {
                    // Search for one token (kept), or clear the search.
                    key(&mut app, '/');
                    if rng.below(2) == 0 {
                        typ(&mut app, &token(rng.below(usize::from(next_n)) as u8)[..3]);
                        code(&mut app, KeyCode::Enter);
                    } else {
                        code(&mut app, KeyCode::Esc);
                    }
                }
                _ => {
                    let keys = ['j', 'k', 'g', 'G', 'j', 'j'];
                    let c = keys[rng.below(keys.len())];
                    key(&mut app, c);
                    if rng.below(4) == 0 {
                        code(&mut app, KeyCode::PageDown);
                    }
                }
            }
            check(&app, seed, step);
        }
    }
}
