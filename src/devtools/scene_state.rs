//! The console states the screenshots show, built from the demo's sample requests run
//! through the shipped example policy, so risk tags, quorum and groups are the real ones.
//!
//! Deterministic: a fixed clock ([`fixtures::now`]), fixed ids and a fixed sample seed.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::broker::policy::{Engine, Facts};
use crate::console::core::app::{App, Pane};
use crate::console::dialogs::login::LoginCode;
use crate::console::fixtures::{self, now};
use crate::console::{Msg, update};
use crate::demo::samples::samples;
use crate::history::{GenConfig, Generator};
use crate::identity::qr::qr_lines;
use crate::protocol::{Action, ActionRequest, HistoryCursor, HistoryPage};

const POLICY: &str = include_str!("../../examples/policy.toml");
const SEED: u64 = 7;
/// Seconds since each queued action arrived, in sample order, then the hostile one.
const AGES: [i64; 8] = [9, 1, 95, 240, 47, 300, 33, 18];

/// The request an action was made from (to run a fixture through the policy).
fn request_of(a: Action) -> ActionRequest {
    ActionRequest {
        kind: a.kind,
        summary: a.summary,
        requester: a.requester,
        target: a.target,
        justification: a.justification,
        context: a.context,
        command: a.command,
        change: a.change,
        ttl_secs: None,
    }
}

/// The demo's seven sample requests plus a hostile one, as the broker would hold them.
pub fn demo_queue() -> Vec<Action> {
    // The example policy is compiled in and covered by the policy tests; an error here
    // means a broken checkout, and the screenshot test reports it.
    // Pinned to UTC: the example otherwise runs in the machine's zone, and a screenshot
    // must not depend on where it is rendered.
    let pinned = POLICY.replace("# timezone = \"Europe/Berlin\"", "timezone = \"UTC\"");
    let policy = Engine::from_toml_str(&pinned).unwrap_or_else(|_| Engine::builtin());
    let mut requests = samples(now(), SEED);
    requests.push(request_of(fixtures::hostile_action(8)));
    requests
        .into_iter()
        .zip(AGES)
        .enumerate()
        .map(|(i, (req, age))| {
            let created = now().plus_secs(-age);
            let facts = Facts {
                now: created,
                first_time_for_kind: false,
            };
            let eval = policy.evaluate(&req, &facts);
            let ttl = i64::try_from(eval.ttl_secs).unwrap_or(i64::MAX);
            let mut a =
                Action::from_request(req, eval.risk, eval.policy, created, created.plus_secs(ttl));
            a.id = fixtures::id(i as u8 + 1);
            a
        })
        .collect()
}

/// A live console holding the demo queue, signed in as an approver in every group.
pub fn queue(size: (u16, u16)) -> App {
    let mut queue = demo_queue();
    // One approval already in, so quorum progress shows.
    if let Some(a) = queue.iter_mut().find(|a| a.policy.approvals_required > 1) {
        let v = fixtures::vote(a, "carol@example.com");
        a.votes.push(v);
    }
    let mut app = fixtures::live_app(queue, size);
    if let Some(me) = app.me.as_mut() {
        me.groups = ["sre", "platform", "security", "data-governance"]
            .map(String::from)
            .to_vec();
    }
    app.token_expires_at = Some(now().plus_secs(14 * 60 + 52));
    app
}

fn key(app: &mut App, k: KeyCode) {
    update(app, Msg::Key(KeyEvent::new(k, KeyModifiers::NONE)));
}

fn chars(app: &mut App, s: &str) {
    s.chars().for_each(|c| key(app, KeyCode::Char(c)));
}

/// The demo queue's ids, by sample.
const EXPORT: u8 = 1;
const NAMESPACE_DELETE: u8 = 4;
const TERRAFORM: u8 = 3;
const HOSTILE: u8 = 8;

/// Moves the selection to action `n` with the arrow keys, as an approver would.
fn select(app: &mut App, n: u8) {
    let id = fixtures::id(n);
    key(app, KeyCode::Home);
    for _ in 0..app.queue.order.len() {
        if app.queue.selected == Some(id) {
            return;
        }
        key(app, KeyCode::Down);
    }
}

/// Focuses `pane` with Tab, as an approver would.
fn focus(app: &mut App, pane: Pane) {
    for _ in 0..Pane::ORDER.len() {
        if app.focus == pane {
            return;
        }
        key(app, KeyCode::Tab);
    }
}

/// The diff pane on the terraform plan.
pub fn terraform_diff(size: (u16, u16)) -> App {
    let mut app = queue(size);
    select(&mut app, TERRAFORM);
    focus(&mut app, Pane::Diff);
    app
}

/// The risk pane on the request full of escape sequences and a bidi override.
pub fn hostile_risk(size: (u16, u16)) -> App {
    let mut app = queue(size);
    select(&mut app, HOSTILE);
    focus(&mut app, Pane::Risk);
    app
}

/// The context pane on the hostile request: invisible characters and an unterminated
/// OSC shown as markers, the text after them still there.
pub fn hostile_context(size: (u16, u16)) -> App {
    let mut app = queue(size);
    select(&mut app, HOSTILE);
    focus(&mut app, Pane::Context);
    // Down to the justification and the context note.
    chars(&mut app, "jjjjjjjj");
    app
}

/// The diff pane on the hostile request, scrolled to the end of its long line.
pub fn hostile_long_line(size: (u16, u16)) -> App {
    let mut app = queue(size);
    select(&mut app, HOSTILE);
    focus(&mut app, Pane::Diff);
    chars(&mut app, "$");
    app
}

/// The approve dialog of a critical action, half-way through typing the resource name.
pub fn critical_confirm(size: (u16, u16)) -> App {
    let mut app = queue(size);
    select(&mut app, NAMESPACE_DELETE);
    chars(&mut app, "a");
    chars(&mut app, "namespace/payments-leg");
    app
}

/// The sign-in dialog of the device flow, with its QR code.
pub fn login(size: (u16, u16)) -> App {
    let mut app = queue(size);
    let complete = "https://idp.example.com/device?user_code=WDJB-MJHT";
    update(
        &mut app,
        Msg::LoginStarted(LoginCode {
            verification_uri: "https://idp.example.com/device".into(),
            verification_uri_complete: Some(complete.into()),
            user_code: "WDJB-MJHT".into(),
            expires_at: now().plus_secs(600),
            qr: qr_lines(complete),
        }),
    );
    app
}

/// The queue with the PII export selected and its context shown.
pub fn queue_context(size: (u16, u16)) -> App {
    let mut app = queue(size);
    select(&mut app, EXPORT);
    app
}

/// The history screen: a page of generated decisions, searched for a word, with the
/// matched characters highlighted and the selected record in the detail pane.
pub fn history_search(size: (u16, u16)) -> App {
    let mut app = queue(size);
    chars(&mut app, "H");
    let records = Generator::new(GenConfig {
        count: 300,
        end: now().plus_secs(-90),
        span_days: 10,
        ..GenConfig::default()
    })
    .records();
    let generation = app.history.generation;
    update(
        &mut app,
        Msg::HistoryPage {
            generation,
            result: Ok(HistoryPage {
                records,
                next_cursor: Some(HistoryCursor("next".into())),
            }),
        },
    );
    chars(&mut app, "/terraform");
    key(&mut app, KeyCode::Enter);
    chars(&mut app, "j");
    app
}
