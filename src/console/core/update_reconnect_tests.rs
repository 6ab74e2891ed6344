//! `update` tests for reconnects: resume, and the re-send rule for decisions in flight.

use std::time::Duration;

use crossterm::event::KeyCode;

use super::tests::{code, key, last_notice, signed};
use super::*;
use crate::console::fixtures::{self, action, live_app, now, server, vote};
use crate::protocol::{Action, Decision, ErrorCode, PROTOCOL_VERSION, RiskLevel};

fn in_flight_then_drop(a: &Action) -> (App, Decision) {
    let mut app = live_app(vec![a.clone()], (80, 24));
    key(&mut app, 'a');
    let d = signed(&code(&mut app, KeyCode::Enter)).cloned().unwrap();
    update(
        &mut app,
        Msg::Feed(FeedEvent::Disconnected {
            reason: "network: reset".into(),
        }),
    );
    update(
        &mut app,
        Msg::Feed(FeedEvent::Retrying {
            attempt: 3,
            delay: Duration::from_secs(4),
        }),
    );
    (app, d)
}

fn welcome(app: &mut App, head: u64) -> Vec<Effect> {
    update(app, Msg::Feed(FeedEvent::Connected));
    update(
        app,
        server(ServerMsg::Welcome {
            protocol: PROTOCOL_VERSION,
            identity: fixtures::identity("bob"),
            server_time: now(),
            head_seq: head,
        }),
    )
}

#[test]
fn reconnect_resumes_and_resends_the_same_decision() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let (mut app, d) = in_flight_then_drop(&a);
    let screen = fixtures::screen_text(&app);
    assert!(
        screen.contains("○ reconnecting (attempt 3, next in 4s)"),
        "{screen}"
    );
    assert_eq!(app.last_seq, Some(10));
    // Resume: the broker replays 11..=12 (another action arrives meanwhile).
    assert!(
        welcome(&mut app, 12).is_empty(),
        "nothing re-sent before catch-up"
    );
    let b = action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Low);
    update(
        &mut app,
        server(ServerMsg::Pending {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&b),
        }),
    );
    let mut voted = a.clone();
    voted.votes.push(vote(&a, "carol"));
    let fx = update(
        &mut app,
        server(ServerMsg::Updated {
            seq: 12,
            row: crate::protocol::ActionRow::compute(&voted),
        }),
    );
    let again = signed(&fx).expect("re-sent after catch-up");
    assert_eq!(again.decision_id, d.decision_id, "same decision id");
    assert_eq!(again, &d, "byte-identical decision");
    assert_eq!(app.last_seq, Some(12));
    assert!(app.queue.entries.contains_key(&b.id));
}

#[test]
fn reconnect_does_not_resend_when_the_action_changed_or_went() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    // Changed content: not re-sent, the approver is told.
    let (mut app, _) = in_flight_then_drop(&a);
    welcome(&mut app, 11);
    let mut changed = a.clone();
    changed.summary = "something else entirely".into();
    let fx = update(
        &mut app,
        server(ServerMsg::Snapshot {
            seq: 11,
            page: 1,
            pages: 1,
            rows: [changed]
                .iter()
                .map(crate::protocol::ActionRow::compute)
                .collect(),
        }),
    );
    assert!(signed(&fx).is_none());
    assert!(app.queue.inflight.is_empty());
    assert!(
        last_notice(&app).contains("changed while disconnected"),
        "{}",
        last_notice(&app)
    );

    // Decided elsewhere: not re-sent, the approver is told.
    let (mut app, _) = in_flight_then_drop(&a);
    welcome(&mut app, 11);
    let mut done = a.clone();
    done.status = Status::Denied;
    let fx = update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&done),
            decided_by: vec!["carol".into()],
            reason: "no".into(),
        }),
    );
    assert!(signed(&fx).is_none());
    assert!(app.queue.inflight.is_empty());
    assert!(last_notice(&app).contains("carol"), "{}", last_notice(&app));

    // Gone from a fresh snapshot: not re-sent, and the approver is told to check.
    let (mut app, _) = in_flight_then_drop(&a);
    welcome(&mut app, 11);
    let fx = update(
        &mut app,
        server(ServerMsg::Snapshot {
            seq: 11,
            page: 1,
            pages: 1,
            rows: vec![],
        }),
    );
    assert!(signed(&fx).is_none());
    assert!(app.queue.inflight.is_empty());
    assert!(
        last_notice(&app).contains("no longer pending"),
        "{}",
        last_notice(&app)
    );
}

#[test]
fn a_replayed_resolution_by_me_means_my_vote_landed() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let (mut app, _) = in_flight_then_drop(&a);
    welcome(&mut app, 11);
    let mut done = a.clone();
    done.status = Status::Approved;
    let fx = update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 11,
            row: crate::protocol::ActionRow::compute(&done),
            decided_by: vec!["bob".into()],
            reason: "ok".into(),
        }),
    );
    assert!(signed(&fx).is_none(), "not re-sent");
    assert!(app.queue.inflight.is_empty());
    assert!(
        last_notice(&app).contains("recorded before the reconnect"),
        "{}",
        last_notice(&app)
    );
}

#[test]
fn a_resent_decision_that_had_landed_counts_as_recorded() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let (mut app, d) = in_flight_then_drop(&a);
    welcome(&mut app, 10);
    let fx = update(&mut app, Msg::Tick(now()));
    assert!(fx.is_empty());
    // Already caught up at welcome (head == last seq): the re-send went out then.
    assert!(
        app.queue
            .inflight
            .get(&d.decision_id)
            .is_some_and(|f| f.resent)
    );
    update(
        &mut app,
        server(ServerMsg::Rejected {
            decision_id: d.decision_id,
            code: ErrorCode::ReplayedDecision,
            message: "seen".into(),
        }),
    );
    assert!(!app.queue.entries.contains_key(&a.id));
    assert!(last_notice(&app).contains("already recorded"));
}

#[test]
fn a_gap_in_event_numbers_asks_for_a_snapshot_and_duplicates_are_skipped() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a.clone()], (80, 24));
    let b = action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Low);
    // seq 10 again (a replay overlap): ignored.
    let mut done = a.clone();
    done.status = Status::Approved;
    update(
        &mut app,
        server(ServerMsg::Resolved {
            seq: 10,
            row: crate::protocol::ActionRow::compute(&done),
            decided_by: vec!["carol".into()],
            reason: String::new(),
        }),
    );
    assert!(
        app.queue.entries.contains_key(&a.id),
        "a duplicate is not applied"
    );
    // seq 12 after 10: 11 was lost.
    let fx = update(
        &mut app,
        server(ServerMsg::Pending {
            seq: 12,
            row: crate::protocol::ActionRow::compute(&b),
        }),
    );
    assert_eq!(fx, vec![Effect::Resync]);
    assert!(!app.queue.entries.contains_key(&b.id));
    assert_eq!(app.last_seq, Some(10));
    // The fresh snapshot is accepted whatever its number.
    update(
        &mut app,
        server(ServerMsg::Snapshot {
            seq: 12,
            page: 1,
            pages: 1,
            rows: [a.clone(), b.clone()]
                .iter()
                .map(crate::protocol::ActionRow::compute)
                .collect(),
        }),
    );
    assert_eq!(app.queue.entries.len(), 2);
    assert_eq!(app.last_seq, Some(12));
}

#[test]
fn the_core_asks_for_a_fresh_token_before_the_feed_token_expires() {
    use crate::console::core::session::{Answer, EVERY_SECS, MARGIN_SECS};
    let mut app = live_app(vec![], (80, 24));
    let exp = now().plus_secs(600);
    update(
        &mut app,
        Msg::Feed(FeedEvent::Token {
            expires_at: Some(exp),
        }),
    );
    let asks = |fx: &[Effect]| {
        fx.iter()
            .filter(|e| matches!(e, Effect::RefreshToken))
            .count()
    };
    assert_eq!(
        asks(&update(&mut app, Msg::Tick(now().plus_secs(60)))),
        0,
        "not yet"
    );
    let near = exp.plus_secs(-MARGIN_SECS);
    assert_eq!(
        asks(&update(&mut app, Msg::Tick(near))),
        1,
        "inside the margin"
    );
    assert_eq!(
        asks(&update(&mut app, Msg::Tick(near.plus_secs(1)))),
        0,
        "one at a time"
    );
    let later = near.plus_secs(EVERY_SECS);
    assert_eq!(
        asks(&update(&mut app, Msg::Tick(later))),
        1,
        "asks again after a rest"
    );
    // The answers: a fresh token reconnects; nothing new keeps; a dead session signs in.
    let fresh = Answer::Token {
        expires_at: Some(exp.plus_secs(3600)),
    };
    let fx = update(&mut app, Msg::TokenChecked(fresh));
    assert!(fx.contains(&Effect::Reconnect));
    let same = Answer::Token {
        expires_at: Some(exp),
    };
    assert!(update(&mut app, Msg::TokenChecked(same)).is_empty());
    assert!(update(&mut app, Msg::TokenChecked(Answer::Unreachable)).is_empty());
    let fx = update(
        &mut app,
        Msg::TokenChecked(Answer::SignedOut("refresh refused".into())),
    );
    assert!(fx.contains(&Effect::StartLogin));
    assert!(matches!(
        app.dialog,
        Some(crate::console::core::app::Dialog::Login(_))
    ));
    // Signing in: the dialog is on it, no more questions.
    assert_eq!(
        asks(&update(&mut app, Msg::Tick(later.plus_secs(EVERY_SECS)))),
        0
    );
}

#[test]
fn events_this_approver_may_not_see_arrive_as_skipped_and_never_resynchronise() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a.clone()], (80, 24));
    let b = action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Low);
    // 11 and 12 were about another group's actions.
    let fx = update(&mut app, server(ServerMsg::Skipped { seq: 12, from: 11 }));
    assert!(!fx.contains(&Effect::Resync));
    assert_eq!(app.last_seq, Some(12));
    let fx = update(
        &mut app,
        server(ServerMsg::Pending {
            seq: 13,
            row: crate::protocol::ActionRow::compute(&b),
        }),
    );
    assert!(!fx.contains(&Effect::Resync), "{fx:?}");
    assert!(app.queue.entries.contains_key(&b.id));
    assert!(
        !app.notices
            .iter()
            .any(|n| n.text.plain().contains("missed")),
        "no 'missed events' notice"
    );
    // A skipped range that leaves a hole is a real gap.
    let fx = update(&mut app, server(ServerMsg::Skipped { seq: 20, from: 15 }));
    assert_eq!(fx, vec![Effect::Resync]);
}

#[test]
fn a_paged_snapshot_replaces_the_queue_only_once_its_last_page_is_here() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a.clone()], (80, 24));
    let b = action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Low);
    let c = action(3, "iam.grant", "role/x", "dev", RiskLevel::Low);
    let page = |n: u32, x: &crate::protocol::Action| {
        server(ServerMsg::Snapshot {
            seq: 30,
            page: n,
            pages: 2,
            rows: vec![crate::protocol::ActionRow::compute(x)],
        })
    };
    update(&mut app, page(1, &b));
    assert!(
        app.queue.entries.contains_key(&a.id) && !app.queue.entries.contains_key(&b.id),
        "half a snapshot changes nothing"
    );
    update(&mut app, page(2, &c));
    assert!(!app.queue.entries.contains_key(&a.id));
    assert!(app.queue.entries.contains_key(&b.id) && app.queue.entries.contains_key(&c.id));
}
