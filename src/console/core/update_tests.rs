//! `update(state, msg)` tests: the behaviours the issue names, without a terminal.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::console::core::app::Dialog;
use crate::console::fixtures::{self, action, hostile_action, live_app, server, vote};
use crate::protocol::{Decision, ErrorCode, RiskLevel, Verdict};

pub(super) fn key(app: &mut App, c: char) -> Vec<Effect> {
    update(
        app,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    )
}

pub(super) fn code(app: &mut App, k: KeyCode) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(k, KeyModifiers::NONE)))
}

pub(super) fn typ(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, c);
    }
}

pub(super) fn last_notice(app: &App) -> String {
    app.notices
        .back()
        .map(|n| n.text.plain())
        .unwrap_or_default()
}

pub(super) fn signed(fx: &[Effect]) -> Option<&Decision> {
    fx.iter().find_map(|e| match e {
        Effect::SignAndSend(d) => Some(d),
        _ => None,
    })
}

fn select(app: &mut App, id: ActionId) {
    app.queue.selected = Some(id);
}

fn ack(app: &mut App, d: &Decision, status: Status) -> Vec<Effect> {
    update(
        app,
        server(ServerMsg::Ack {
            decision_id: d.decision_id,
            action_id: d.action_id,
            status,
            audit_hash: d.action_digest.clone(),
            checkpoint: None,
        }),
    )
}

#[test]
fn approve_happy_path_signs_the_digest_the_console_computed() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a.clone()], (80, 24));
    select(&mut app, a.id);
    assert!(key(&mut app, 'a').is_empty());
    assert!(matches!(app.dialog, Some(Dialog::Decide(_))));
    typ(&mut app, "ticket ok");
    let fx = code(&mut app, KeyCode::Enter);
    let d = signed(&fx).expect("a decision to sign").clone();
    assert_eq!(d.action_id, a.id);
    assert_eq!(d.action_digest, a.digest());
    assert_eq!(d.verdict, Verdict::Approve);
    assert_eq!(d.reason, "ticket ok");
    assert_eq!(d.approver, "bob");
    assert_eq!(d.key_id, fixtures::settings().key_id);
    assert!(app.dialog.is_none());
    assert!(app.busy(), "spinner while waiting for the ack");
    assert!(app.queue.entries.contains_key(&a.id), "stays until the ack");
    ack(&mut app, &d, Status::Approved);
    assert!(
        !app.queue.entries.contains_key(&a.id),
        "leaves the queue after the ack"
    );
    assert!(app.queue.inflight.is_empty());
    assert!(
        last_notice(&app).contains("approved"),
        "{}",
        last_notice(&app)
    );
}

#[test]
fn the_broker_digest_is_never_trusted() {
    // An Updated event whose content changed yields a new digest: the dialog closes, and
    // a later approval signs the new content's digest, computed locally.
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    let mut changed = a.clone();
    changed.target.resource = "all_tables".into();
    let asked = update(
        &mut app,
        server(ServerMsg::Updated {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&changed),
        }),
    );
    assert!(
        matches!(app.dialog, Some(Dialog::Gone(_))),
        "a blocking notice"
    );
    assert!(last_notice(&app).contains("changed"));
    code(&mut app, KeyCode::Esc);
    // The new content is not here yet: nothing can be approved until it is fetched.
    key(&mut app, 'a');
    assert!(app.dialog.is_none(), "no dialog before the body is here");
    deliver(&mut app, &asked, changed.clone());
    assert!(
        matches!(app.dialog, Some(Dialog::Decide(_))),
        "opens once it is here"
    );
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned().unwrap();
    assert_eq!(d.action_digest, changed.digest());
}

/// Answers the `get_action` among `fx` with `body`.
pub(super) fn deliver(app: &mut App, fx: &[Effect], body: crate::protocol::Action) {
    let request_id = fx
        .iter()
        .find_map(|e| match e {
            Effect::Send(crate::protocol::ClientMsg::GetAction { request_id, .. }) => {
                Some(*request_id)
            }
            _ => None,
        })
        .expect("a get_action was asked for");
    let digest = body.digest();
    update(
        app,
        server(ServerMsg::Action {
            request_id,
            action: Box::new(body),
            digest,
        }),
    );
}

#[test]
fn a_body_is_fetched_on_view_and_shown_only_when_it_matches_its_row() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![], (80, 24));
    let fx = arrive(&mut app, &a);
    assert!(app.queue.entries.get(&a.id).is_some_and(|e| !e.has_body()));
    key(&mut app, 'a');
    assert!(app.dialog.is_none(), "nothing unseen can be approved");
    assert!(
        last_notice(&app).contains("loading the full action"),
        "{}",
        last_notice(&app)
    );
    deliver(&mut app, &fx, a.clone());
    assert!(app.queue.entries.get(&a.id).is_some_and(|e| e.has_body()));
    assert!(
        matches!(app.dialog, Some(Dialog::Decide(_))),
        "the dialog opens once it is here"
    );
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned().unwrap();
    assert_eq!(d.action_digest, a.digest());
}

#[test]
fn a_body_whose_digest_is_not_its_rows_is_refused_loudly_and_never_signable() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![], (80, 24));
    let fx = arrive(&mut app, &a);
    let mut lie = a.clone();
    lie.command = Some(crate::protocol::Command::Text {
        text: "DROP DATABASE customers".into(),
    });
    deliver(&mut app, &fx, lie);
    let e = app.queue.entries.get(&a.id).unwrap();
    assert!(!e.has_body());
    assert!(
        e.view()
            .body_note
            .as_deref()
            .unwrap_or("")
            .starts_with("refused")
    );
    let newest = app.notices.back().unwrap();
    assert_eq!(newest.level, crate::console::app::Level::Error);
    assert!(
        newest.text.plain().contains("REFUSED"),
        "{}",
        newest.text.plain()
    );
    key(&mut app, 'a');
    assert!(app.dialog.is_none(), "a refused body is never signable");
    assert!(
        last_notice(&app).contains("refused"),
        "{}",
        last_notice(&app)
    );
}

#[test]
fn deny_without_reason_is_refused() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::Medium);
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'd');
    let fx = code(&mut app, KeyCode::Enter);
    assert!(signed(&fx).is_none());
    match &app.dialog {
        Some(Dialog::Decide(d)) => {
            assert!(
                d.error
                    .as_deref()
                    .unwrap_or("")
                    .contains("reason is required")
            )
        }
        other => panic!("dialog should stay open: {other:?}"),
    }
    typ(&mut app, "   ");
    assert!(
        signed(&code(&mut app, KeyCode::Enter)).is_none(),
        "blank is no reason"
    );
    typ(&mut app, "no ticket");
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned().unwrap();
    assert_eq!(d.verdict, Verdict::Deny);
    assert_eq!(d.reason, "no ticket");
}

#[test]
fn critical_approval_needs_the_resource_name_typed() {
    let a = action(
        3,
        "iam.grant",
        "role/admin",
        "production",
        RiskLevel::Critical,
    );
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    assert!(signed(&code(&mut app, KeyCode::Enter)).is_none());
    typ(&mut app, "role/admn");
    assert!(signed(&code(&mut app, KeyCode::Enter)).is_none());
    let Some(Dialog::Decide(d)) = &app.dialog else {
        panic!("dialog closed")
    };
    assert!(
        d.error
            .as_deref()
            .unwrap_or("")
            .contains("type the resource")
    );
    code(&mut app, KeyCode::Backspace);
    code(&mut app, KeyCode::Backspace);
    typ(&mut app, "min");
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned().unwrap();
    assert_eq!(d.action_digest, a.digest());

    // The reason field is reachable with Tab.
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    typ(&mut app, "role/admin");
    code(&mut app, KeyCode::Tab);
    typ(&mut app, "INC-42");
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned().unwrap();
    assert_eq!(d.reason, "INC-42");
}

#[test]
fn critical_approval_never_accepts_the_environment_name() {
    // `production` on every production action becomes muscle memory: refused.
    let a = action(
        3,
        "iam.grant",
        "role/admin",
        "production",
        RiskLevel::Critical,
    );
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    typ(&mut app, "production");
    assert!(signed(&code(&mut app, KeyCode::Enter)).is_none());
    let Some(Dialog::Decide(d)) = &app.dialog else {
        panic!("dialog closed")
    };
    assert!(d.error.as_deref().unwrap_or("").contains("resource name"));
}

#[test]
fn critical_approval_asks_for_the_policy_phrase_when_a_rule_sets_one() {
    let mut a = action(
        3,
        "iam.grant",
        "role/admin",
        "production",
        RiskLevel::Critical,
    );
    a.policy.confirm = Some("grant admin in prod".into());
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    // The resource name is not the phrase when policy names another.
    typ(&mut app, "role/admin");
    assert!(signed(&code(&mut app, KeyCode::Enter)).is_none());
    let Some(Dialog::Decide(d)) = &app.dialog else {
        panic!("dialog closed")
    };
    assert!(
        d.error
            .as_deref()
            .unwrap_or("")
            .contains("confirmation phrase")
    );
    update(
        &mut app,
        Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
    );
    typ(&mut app, "grant admin in prod");
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned().unwrap();
    assert_eq!(d.action_digest, a.digest());
}

#[test]
fn decided_elsewhere_while_the_dialog_is_open() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let b = action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Medium);
    let mut app = live_app(vec![a.clone(), b.clone()], (80, 24));
    select(&mut app, a.id);
    key(&mut app, 'a');
    typ(&mut app, "half-typed");
    let mut done = a.clone();
    done.status = Status::Approved;
    update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&done),
            decided_by: vec!["carol".into()],
            reason: "fine".into(),
        }),
    );
    assert!(
        matches!(app.dialog, Some(Dialog::Gone(_))),
        "the dialog becomes a blocking notice"
    );
    assert!(!app.queue.entries.contains_key(&a.id));
    let n = last_notice(&app);
    assert!(n.contains("carol") && n.contains("approved"), "{n}");
    // Enter now only closes the notice: it approves nothing else by accident.
    let fx = code(&mut app, KeyCode::Enter);
    assert!(signed(&fx).is_none());
    assert!(app.dialog.is_none());
}

#[test]
fn expiry_while_the_dialog_is_open() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    update(&mut app, Msg::Tick(a.expires_at.plus_secs(1)));
    assert!(matches!(app.dialog, Some(Dialog::Gone(_))));
    assert!(last_notice(&app).contains("expired"));
    code(&mut app, KeyCode::Esc);
    // And an expired action cannot be approved at all.
    key(&mut app, 'a');
    assert!(app.dialog.is_none());
    assert!(
        last_notice(&app).contains("expired"),
        "{}",
        last_notice(&app)
    );
}

#[test]
fn expiry_between_open_and_enter_is_caught_at_submit() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    app.now = a.expires_at; // no tick yet
    assert!(signed(&code(&mut app, KeyCode::Enter)).is_none());
}

#[test]
fn a_rejection_shows_the_brokers_exact_reason() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned().unwrap();
    update(
        &mut app,
        server(ServerMsg::Rejected {
            decision_id: d.decision_id,
            code: ErrorCode::SelfApproval,
            message: "you requested this action".into(),
        }),
    );
    let n = last_notice(&app);
    assert!(
        n.contains("self_approval: you requested this action"),
        "{n}"
    );
    assert!(
        app.queue.entries.contains_key(&a.id),
        "still pending for others"
    );
    assert!(app.queue.inflight.is_empty());
}

#[test]
fn new_arrivals_do_not_move_the_selection_and_alert_when_risky() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::Medium);
    let mut app = live_app(vec![a.clone()], (80, 24));
    assert_eq!(app.queue.selected, Some(a.id));
    let c = action(
        3,
        "iam.grant",
        "role/admin",
        "production",
        RiskLevel::Critical,
    );
    let fx = update(
        &mut app,
        server(ServerMsg::Pending {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&c),
        }),
    );
    assert_eq!(app.queue.order[0], c.id, "sorted first by risk");
    assert_eq!(
        app.queue.selected,
        Some(a.id),
        "selection stays on the same action"
    );
    assert!(matches!(fx.as_slice(), [Effect::Alert { .. }]));
    let low = action(4, "x", "y", "dev", RiskLevel::Low);
    let fx = update(
        &mut app,
        server(ServerMsg::Pending {
            seq: 12,
            row: crate::protocol::ActionRow::compute(&low),
        }),
    );
    assert!(fx.is_empty(), "low risk does not ring");
}

#[test]
fn quorum_vote_leaves_my_queue_and_stays_out() {
    let a = action(
        3,
        "iam.grant",
        "role/admin",
        "production",
        RiskLevel::Critical,
    );
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    typ(&mut app, "role/admin");
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned().unwrap();
    ack(&mut app, &d, Status::Pending);
    assert!(!app.queue.entries.contains_key(&a.id));
    assert!(last_notice(&app).contains("waiting for more approvers"));
    let mut voted = a.clone();
    voted.votes.push(vote(&a, "bob"));
    update(
        &mut app,
        server(ServerMsg::Updated {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&voted),
        }),
    );
    assert!(
        !app.queue.entries.contains_key(&a.id),
        "my own vote does not bring it back"
    );
    // Issue 18: the approver whose vote was 1 of 2 hears how it ended.
    let mut done = a.clone();
    done.status = Status::Approved;
    update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 12,
            row: crate::protocol::ActionRow::compute(&done),
            decided_by: vec!["bob".into(), "carol".into()],
            reason: "quorum".into(),
        }),
    );
    let n = last_notice(&app);
    assert!(
        n.contains("approved by bob, carol") && n.contains("you voted on it"),
        "{n}"
    );
}

#[test]
fn an_expired_action_is_not_expired_by_anyone() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a.clone()], (80, 24));
    let mut done = a.clone();
    done.status = Status::Expired;
    update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&done),
            decided_by: vec!["system".into()],
            reason: "ttl".into(),
        }),
    );
    let n = last_notice(&app);
    assert!(
        n.contains("expired before a decision") && !n.contains("system"),
        "{n}"
    );
}

#[test]
fn dead_session_opens_the_login_dialog() {
    let mut app = live_app(vec![], (80, 24));
    let fx = update(
        &mut app,
        Msg::Feed(FeedEvent::SignedOut {
            reason: "refresh token revoked".into(),
        }),
    );
    assert_eq!(fx, vec![Effect::StartLogin]);
    assert!(matches!(app.dialog, Some(Dialog::Login(_))));
    let fx = update(&mut app, Msg::LoginFinished(Ok(())));
    assert_eq!(
        fx,
        vec![Effect::RegisterKey],
        "the key first, then the feed"
    );
    assert!(app.dialog.is_none());
}

#[test]
fn closing_the_login_dialog_keeps_the_queue_but_blocks_decisions() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a], (80, 24));
    update(
        &mut app,
        Msg::Feed(FeedEvent::SignedOut {
            reason: "revoked".into(),
        }),
    );
    assert!(code(&mut app, KeyCode::Esc).is_empty(), "Esc does not quit");
    assert!(app.dialog.is_none());
    assert_eq!(app.queue.entries.len(), 1);
    key(&mut app, 'a');
    assert!(app.dialog.is_none());
    assert!(
        last_notice(&app).contains("signed out"),
        "{}",
        last_notice(&app)
    );
    assert_eq!(key(&mut app, 'R'), vec![Effect::Reconnect]);
}

#[test]
fn quitting_with_a_decision_in_flight_asks_twice() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a], (80, 24));
    key(&mut app, 'a');
    code(&mut app, KeyCode::Enter);
    assert!(key(&mut app, 'q').is_empty());
    assert_eq!(key(&mut app, 'q'), vec![Effect::Quit]);
}

#[test]
fn hostile_text_is_sanitized_in_the_view_model() {
    let app = live_app(vec![hostile_action(1)], (80, 24));
    let e = app.queue.selected_entry().unwrap();
    assert!(e.view().hidden_chars);
    assert!(e.view().summary.plain().contains("⟨ESC⟩[2J"));
    assert!(!e.view().summary.plain().contains('\u{1b}'));
    assert!(e.view().justification[0].plain().contains("⟨U+202E⟩"));
}

#[test]
fn a_replayed_arrival_does_not_ring_twice() {
    let mut app = live_app(vec![], (80, 24));
    let c = action(
        3,
        "iam.grant",
        "role/admin",
        "production",
        RiskLevel::Critical,
    );
    let fx = update(
        &mut app,
        server(ServerMsg::Pending {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&c),
        }),
    );
    let alerts = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::Alert { .. }))
            .count()
    };
    assert_eq!(alerts(&fx), 1);
    let fx = update(
        &mut app,
        server(ServerMsg::Pending {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&c),
        }),
    );
    assert_eq!(alerts(&fx), 0);
    assert_eq!(app.queue.entries.len(), 1);
}

#[test]
fn a_hidden_character_resource_can_be_confirmed_as_displayed() {
    let mut a = action(
        3,
        "iam.grant",
        "role/admin",
        "production",
        RiskLevel::Critical,
    );
    a.target.resource = "ro\u{200b}le".into();
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    typ(&mut app, "ro⟨U+200B⟩le");
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned();
    assert_eq!(d.map(|d| d.action_digest), Some(a.digest()));
}

#[test]
fn a_pasted_newline_never_confirms() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a], (80, 24));
    key(&mut app, 'a');
    let fx = update(&mut app, Msg::Paste("ticket 1\r\nticket 2\n".into()));
    assert!(fx.is_empty());
    let Some(Dialog::Decide(d)) = &app.dialog else {
        panic!("the dialog must stay open")
    };
    assert_eq!(d.reason.value, "ticket 1  ticket 2 ");
    // Pasted control characters are dropped, not inserted.
    update(&mut app, Msg::Paste("\u{1b}[2J".into()));
    let Some(Dialog::Decide(d)) = &app.dialog else {
        panic!()
    };
    assert!(!d.reason.value.contains('\u{1b}'));
}

#[test]
fn decision_ids_come_from_the_clock_and_seed_update_was_given() {
    // No clock or random source inside update: the same messages build the same ids,
    // and every decision gets a new one.
    let run = || {
        let a = action(1, "db.export", "customers", "production", RiskLevel::High);
        let b = action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Medium);
        let mut app = live_app(vec![a.clone(), b.clone()], (80, 24));
        let mut ids = Vec::new();
        for id in [a.id, b.id] {
            select(&mut app, id);
            key(&mut app, 'a');
            ids.push(signed(&code(&mut app, KeyCode::Enter)).unwrap().decision_id);
        }
        ids
    };
    let (first, again) = (run(), run());
    assert_eq!(first, again, "deterministic");
    assert_ne!(first[0], first[1], "unique per decision");
    assert_eq!(
        u64::try_from(fixtures::now().unix_millis()).unwrap(),
        first[0].0.timestamp_ms(),
        "from the clock update was given"
    );
}

/// Action `a` arrives on the feed as a new pending row (event 11).
fn arrive(app: &mut App, a: &crate::protocol::Action) -> Vec<Effect> {
    update(
        app,
        server(ServerMsg::Pending {
            seq: 11,
            row: crate::protocol::ActionRow::compute(a),
        }),
    )
}

fn asked_request(fx: &[Effect]) -> Option<u64> {
    fx.iter().find_map(|e| match e {
        Effect::Send(crate::protocol::ClientMsg::GetAction { request_id, .. }) => Some(*request_id),
        _ => None,
    })
}

/// A body fetch that fails for a reason that may pass (the broker's own error, or no
/// answer at all) is asked again with backoff, and the approver's `a` still opens the
/// dialog once it arrives; a refusal about the action itself is not retried.
#[test]
fn a_failed_body_fetch_is_retried_with_backoff() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![], (80, 24));
    let fx = arrive(&mut app, &a);
    let first = asked_request(&fx).expect("asked on view");
    key(&mut app, 'a');
    let fx = update(
        &mut app,
        server(ServerMsg::QueryFailed {
            request_id: first,
            code: ErrorCode::Internal,
            message: "the broker could not read its store".into(),
        }),
    );
    assert_eq!(asked_request(&fx), None, "not at once: after a backoff");
    let now = app.now;
    let fx = update(
        &mut app,
        Msg::Tick(Timestamp::from_unix_millis(
            now.unix_millis() + crate::console::queue::bodies::retry_delay_ms(1),
        )),
    );
    let second = asked_request(&fx).expect("asked again after the backoff");
    assert_ne!(second, first);
    // No answer at all: given up after the answer window and asked once more.
    let now = app.now;
    update(
        &mut app,
        Msg::Tick(Timestamp::from_unix_millis(
            now.unix_millis() + crate::console::queue::bodies::ANSWER_WITHIN_MS,
        )),
    );
    let now = app.now;
    let fx = update(
        &mut app,
        Msg::Tick(Timestamp::from_unix_millis(
            now.unix_millis() + crate::console::queue::bodies::retry_delay_ms(2),
        )),
    );
    let third = asked_request(&fx).expect("asked again after no answer");
    // A late answer to an abandoned request is not ours any more; the live one is.
    let digest = a.digest();
    update(
        &mut app,
        server(ServerMsg::Action {
            request_id: second,
            action: Box::new(a.clone()),
            digest: digest.clone(),
        }),
    );
    assert!(app.queue.entries.get(&a.id).is_some_and(|e| !e.has_body()));
    update(
        &mut app,
        server(ServerMsg::Action {
            request_id: third,
            action: Box::new(a.clone()),
            digest,
        }),
    );
    assert!(app.queue.entries.get(&a.id).is_some_and(|e| e.has_body()));
    assert!(
        matches!(app.dialog, Some(Dialog::Decide(_))),
        "the `a` pressed while loading opens the dialog"
    );
}

#[test]
fn a_body_refused_for_the_action_itself_is_not_retried() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![], (80, 24));
    let fx = arrive(&mut app, &a);
    let first = asked_request(&fx).unwrap();
    update(
        &mut app,
        server(ServerMsg::QueryFailed {
            request_id: first,
            code: ErrorCode::NotFound,
            message: "no such action".into(),
        }),
    );
    let now = app.now;
    let fx = update(
        &mut app,
        Msg::Tick(Timestamp::from_unix_millis(now.unix_millis() + 60_000)),
    );
    assert_eq!(asked_request(&fx), None);
    assert!(
        last_notice(&app).contains("not_found"),
        "{}",
        last_notice(&app)
    );
}

/// After [`MAX_RETRIES`] transient failures the body is refused, loudly.
#[test]
fn a_body_that_keeps_failing_is_refused_after_the_last_retry() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![], (80, 24));
    let mut fx = arrive(&mut app, &a);
    for _ in 0..=crate::console::queue::bodies::MAX_RETRIES {
        let r = asked_request(&fx).expect("asked");
        update(
            &mut app,
            server(ServerMsg::QueryFailed {
                request_id: r,
                code: ErrorCode::Internal,
                message: "down".into(),
            }),
        );
        let now = app.now;
        fx = update(
            &mut app,
            Msg::Tick(Timestamp::from_unix_millis(now.unix_millis() + 20_000)),
        );
    }
    assert_eq!(asked_request(&fx), None, "no more retries");
    assert!(
        last_notice(&app).contains("after 5 retries"),
        "{}",
        last_notice(&app)
    );
}
