//! `update(state, msg)` tests of the login dialog: one sign-in at a time, the issuer's
//! refusals shown as they are, Enter retries, and the way back to the live queue.

use crossterm::event::KeyCode;

use super::tests::{code, last_notice};
use super::*;
use crate::console::core::app::{Conn, Dialog};
use crate::console::dialogs::login::DeviceAuthorization;
use crate::console::fixtures::live_app;

fn auth(app: &App) -> DeviceAuthorization {
    DeviceAuthorization {
        verification_uri: "http://127.0.0.1:9/device".into(),
        verification_uri_complete: None,
        user_code: "WDJB-MJHT".into(),
        expires_at: app.now.plus_secs(600),
        qr: vec![],
    }
}

const ENDED: &str = "Session ended: the broker refused the token (401)";

fn signed_out(app: &mut App) -> Vec<Effect> {
    update(
        app,
        Msg::Feed(FeedEvent::SignedOut {
            reason: "the broker refused the token (401)".into(),
        }),
    )
}

#[test]
fn the_feed_reporting_a_dead_session_during_a_sign_in_starts_no_second_flow() {
    let mut app = live_app(vec![], (80, 24));
    assert_eq!(signed_out(&mut app), vec![Effect::StartLogin]);
    match &app.dialog {
        Some(Dialog::Login(LoginState::Starting { ended })) => {
            assert_eq!(ended.as_deref(), Some(ENDED))
        }
        other => panic!("{other:?}"),
    }
    // Still starting: a second report changes nothing.
    assert!(signed_out(&mut app).is_empty());
    let a = auth(&app);
    update(&mut app, Msg::LoginStarted(a.clone()));
    // Waiting for the approver: the code on screen stays.
    assert!(signed_out(&mut app).is_empty());
    // Why the session ended stays on screen while waiting.
    let ended = Some(ENDED.to_string());
    assert_eq!(
        app.dialog,
        Some(Dialog::Login(LoginState::Waiting { auth: a, ended }))
    );
    assert!(matches!(app.conn, Conn::SignedOut { .. }));
}

#[test]
fn confirmation_closes_the_dialog_and_reconnects_the_feed() {
    let mut app = live_app(vec![], (80, 24));
    signed_out(&mut app);
    let a = auth(&app);
    update(&mut app, Msg::LoginStarted(a));
    // The key is registered for whoever signed in before the feed reconnects with the
    // new session, whatever the broker answers.
    let fx = update(&mut app, Msg::LoginFinished(Ok(())));
    assert_eq!(fx, vec![Effect::RegisterKey]);
    let fx = update(
        &mut app,
        Msg::KeyRegistration(crate::console::core::msg::KeyRegistration::Registered),
    );
    assert_eq!(fx, vec![Effect::Reconnect]);
    assert_eq!(app.key, crate::console::core::app::KeyState::Registered);
    assert!(app.dialog.is_none());
    assert_eq!(
        app.conn,
        Conn::Connecting { attempt: 0 },
        "no longer signed out"
    );
    assert_eq!(last_notice(&app), "signed in");
}

#[test]
fn access_denied_and_expired_token_show_their_message_and_enter_retries() {
    for reason in [
        "sign-in was declined at the identity provider (access_denied); nothing was changed",
        "the sign-in code expired before it was confirmed (expired_token); run the sign-in again",
    ] {
        let mut app = live_app(vec![], (80, 24));
        signed_out(&mut app);
        let a = auth(&app);
        update(&mut app, Msg::LoginStarted(a));
        let fx = update(&mut app, Msg::LoginFinished(Err(reason.into())));
        assert!(fx.is_empty());
        assert_eq!(
            app.dialog,
            Some(Dialog::Login(LoginState::Failed {
                reason: reason.into(),
                ended: Some(ENDED.into()),
            }))
        );
        // Other keys leave the failure on screen.
        assert!(code(&mut app, KeyCode::Char('a')).is_empty());
        assert!(matches!(
            app.dialog,
            Some(Dialog::Login(LoginState::Failed { .. }))
        ));
        let fx = code(&mut app, KeyCode::Enter);
        assert_eq!(fx, vec![Effect::StartLogin]);
        assert_eq!(
            app.dialog,
            Some(Dialog::Login(LoginState::Starting {
                ended: Some(ENDED.into())
            })),
            "the retry keeps why the session ended"
        );
    }
}

#[test]
fn a_failure_after_the_dialog_was_closed_reopens_it() {
    let mut app = live_app(vec![], (80, 24));
    signed_out(&mut app);
    let a = auth(&app);
    update(&mut app, Msg::LoginStarted(a));
    code(&mut app, KeyCode::Esc);
    assert!(app.dialog.is_none());
    assert!(last_notice(&app).contains("decisions are disabled"));
    update(&mut app, Msg::LoginFinished(Err("access_denied".into())));
    assert!(matches!(
        app.dialog,
        Some(Dialog::Login(LoginState::Failed { .. }))
    ));
    // Closed again, the next dead-session report starts a new flow.
    code(&mut app, KeyCode::Esc);
    assert_eq!(signed_out(&mut app), vec![Effect::StartLogin]);
}

#[test]
fn quit_works_while_the_dialog_waits() {
    let mut app = live_app(vec![], (80, 24));
    signed_out(&mut app);
    let a = auth(&app);
    update(&mut app, Msg::LoginStarted(a));
    // Other letters are not typed anywhere.
    assert!(code(&mut app, KeyCode::Char('x')).is_empty());
    assert!(!app.should_quit);
    code(&mut app, KeyCode::Char('q'));
    assert!(app.should_quit);
}

#[test]
fn the_core_decides_when_the_device_key_is_registered() {
    use crate::console::core::app::KeyState;
    use crate::console::core::msg::KeyRegistration;
    // Signed in: register at start, once, and not again on a connect while on its way.
    let mut app = App::new(
        crate::console::fixtures::settings(),
        crate::console::fixtures::now(),
    );
    let fx = update(
        &mut app,
        Msg::Started {
            sign_in_first: false,
        },
    );
    assert_eq!(fx, vec![Effect::RegisterKey]);
    assert!(app.dialog.is_none());
    let fx = update(&mut app, Msg::Feed(crate::client::FeedEvent::Connected));
    assert!(!fx.contains(&Effect::RegisterKey), "one at a time");
    // The broker was down: it failed, said so, and the next connect tries again.
    update(
        &mut app,
        Msg::KeyRegistration(KeyRegistration::Failed("connection refused".into())),
    );
    assert!(last_notice(&app).contains("device key not registered: connection refused"));
    let fx = update(&mut app, Msg::Feed(crate::client::FeedEvent::Connected));
    assert!(fx.contains(&Effect::RegisterKey));
    update(&mut app, Msg::KeyRegistration(KeyRegistration::Registered));
    assert_eq!(app.key, KeyState::Registered);
    let fx = update(&mut app, Msg::Feed(crate::client::FeedEvent::Connected));
    assert!(
        !fx.contains(&Effect::RegisterKey),
        "registered: never again"
    );

    // No session but a sign-in flow: the dialog opens and the flow starts.
    let mut app = App::new(
        crate::console::fixtures::settings(),
        crate::console::fixtures::now(),
    );
    let fx = update(
        &mut app,
        Msg::Started {
            sign_in_first: true,
        },
    );
    assert_eq!(fx, vec![Effect::StartLogin]);
    assert!(matches!(
        app.dialog,
        Some(Dialog::Login(LoginState::Starting { ended: None }))
    ));
}
