//! Expiry races and the refresh policy as `update` decides them, with no tokio and no
//! wall clock: time is `Msg::Tick`, the token source's answers are messages.

use super::tests::{code, last_notice};
use super::*;
use crate::console::core::app::KeyState;
use crate::console::core::msg::KeyRegistration;
use crate::console::core::session::{Answer, EVERY_SECS, MARGIN_SECS};
use crate::console::fixtures::{action, live_app, now};
use crate::protocol::RiskLevel;
use crossterm::event::KeyCode;

fn token(app: &mut App, expires_at: Option<Timestamp>) {
    update(app, Msg::Feed(FeedEvent::Token { expires_at }));
}

fn asks(fx: &[Effect]) -> bool {
    fx.contains(&Effect::RefreshToken)
}

#[test]
fn an_answer_for_a_token_the_feed_already_reconnected_with_changes_nothing() {
    let mut app = live_app(vec![], (80, 24));
    let first = now().plus_secs(60);
    token(&mut app, Some(first));
    assert!(asks(&update(&mut app, Msg::Tick(now().plus_secs(20)))));
    // Meanwhile the approver pressed `r`: the feed reconnected with a fresher token.
    let fresher = now().plus_secs(3600);
    token(&mut app, Some(fresher));
    // The answer to the old question is that same token: nothing to reconnect for.
    let fx = update(
        &mut app,
        Msg::TokenChecked(Answer::Token {
            expires_at: Some(fresher),
        }),
    );
    assert!(fx.is_empty(), "{fx:?}");
    // A token fresher than the feed's still reconnects.
    let fx = update(
        &mut app,
        Msg::TokenChecked(Answer::Token {
            expires_at: Some(fresher.plus_secs(1)),
        }),
    );
    assert_eq!(fx, vec![Effect::Reconnect]);
}

#[test]
fn a_token_that_expired_while_the_issuer_was_down_is_asked_for_at_the_same_pace() {
    let mut app = live_app(vec![], (80, 24));
    let exp = now().plus_secs(100);
    token(&mut app, Some(exp));
    let near = exp.plus_secs(-MARGIN_SECS);
    assert!(asks(&update(&mut app, Msg::Tick(near))));
    // The issuer is unreachable: keep the feed as it is, ask again after a rest, also
    // once the token is past its expiry (the broker does not close a connected feed).
    assert!(update(&mut app, Msg::TokenChecked(Answer::Unreachable)).is_empty());
    let mut t = near;
    let mut asked = 0;
    while t < exp.plus_secs(60) {
        t = t.plus_secs(1);
        if asks(&update(&mut app, Msg::Tick(t))) {
            asked += 1;
        }
    }
    assert_eq!(
        asked,
        (MARGIN_SECS + 60) / EVERY_SECS,
        "one question per {EVERY_SECS} s"
    );
    // Then the refresh is refused: the sign-in opens and no more questions are asked.
    let fx = update(
        &mut app,
        Msg::TokenChecked(Answer::SignedOut("refresh token expired".into())),
    );
    assert_eq!(fx, vec![Effect::StartLogin]);
    assert!(!asks(&update(&mut app, Msg::Tick(t.plus_secs(EVERY_SECS)))));
}

#[test]
fn an_opaque_token_is_never_asked_about() {
    let mut app = live_app(vec![], (80, 24));
    token(&mut app, None);
    for s in [0, 600, 86_400] {
        assert!(!asks(&update(&mut app, Msg::Tick(now().plus_secs(s)))));
    }
}

#[test]
fn after_a_sign_in_the_key_is_registered_before_the_feed_reconnects_even_if_it_fails() {
    let mut app = live_app(vec![], (80, 24));
    update(&mut app, Msg::KeyRegistration(KeyRegistration::Registered));
    update(
        &mut app,
        Msg::Feed(FeedEvent::SignedOut {
            reason: "revoked".into(),
        }),
    );
    // A sign-in may be another person: register again, even if it was registered.
    let fx = update(&mut app, Msg::LoginFinished(Ok(())));
    assert_eq!(fx, vec![Effect::RegisterKey]);
    assert_eq!(app.key, KeyState::RegisteringThenReconnect);
    // A connect in between asks for no second registration.
    let fx = update(&mut app, Msg::Feed(FeedEvent::Connected));
    assert!(!fx.contains(&Effect::RegisterKey));
    let fx = update(
        &mut app,
        Msg::KeyRegistration(KeyRegistration::Failed("broker down".into())),
    );
    assert_eq!(fx, vec![Effect::Reconnect], "the feed reconnects anyway");
    assert!(last_notice(&app).contains("device key not registered"));
    // The next connect tries the registration again, and only once.
    let fx = update(&mut app, Msg::Feed(FeedEvent::Connected));
    assert_eq!(fx, vec![Effect::RegisterKey]);
    let fx = update(&mut app, Msg::KeyRegistration(KeyRegistration::Registered));
    assert!(fx.is_empty());
}

#[test]
fn an_action_expiring_under_the_dialog_is_decidable_to_its_last_millisecond_and_not_after() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::Medium);
    let expires = a.expires_at;
    let just_before = Timestamp::from_unix_millis(expires.unix_millis() - 1);
    // A dialog open on the action's last millisecond signs with that time.
    let mut app = live_app(vec![a.clone()], (100, 30));
    update(&mut app, Msg::Tick(just_before));
    code(&mut app, KeyCode::Char('a'));
    assert!(matches!(app.dialog, Some(Dialog::Decide(_))));
    let fx = code(&mut app, KeyCode::Enter);
    let [Effect::SignAndSend(d)] = fx.as_slice() else {
        panic!("{fx:?}");
    };
    assert_eq!(d.issued_at, just_before);
    // The clock reaching the expiry turns an open dialog into the blocking notice, and
    // the Enter typed a moment later sends nothing.
    let mut app = live_app(vec![a], (100, 30));
    update(&mut app, Msg::Tick(just_before));
    code(&mut app, KeyCode::Char('a'));
    update(&mut app, Msg::Tick(expires));
    assert!(matches!(app.dialog, Some(Dialog::Gone(_))));
    assert!(code(&mut app, KeyCode::Enter).is_empty());
    assert!(app.queue.inflight.is_empty());
    // And `a` once it has expired opens nothing.
    code(&mut app, KeyCode::Char('a'));
    assert!(app.dialog.is_none());
    assert!(
        last_notice(&app).contains("expired"),
        "{}",
        last_notice(&app)
    );
}
