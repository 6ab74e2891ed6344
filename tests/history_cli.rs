//! `signoff history` end to end: the real binary against a real broker on 127.0.0.1:0,
//! whose SQLite store is seeded with generated, signed history.

mod history_support;

use std::process::Output;
use std::sync::Arc;

use signoff::auth::static_tokens::{StaticToken, StaticTokens};
use signoff::auth::{PrincipalKind, hash_token};
use signoff::broker::{RunningBroker, Settings};
use signoff::history::SearchField;
use signoff::history::filter::matches_filter;
use signoff::protocol::{HistoryQuery, HistoryRecord, RiskLevel, Status};

const APPROVER: &str = "approver-token";
const AGENT: &str = "agent-token";
/// More than one page (500), so `--all` must follow the cursor.
const COUNT: usize = 640;

fn token(secret: &str, kind: PrincipalKind, subject: &str) -> StaticToken {
    StaticToken {
        token_sha256: format!("sha256:{}", hash_token(secret)),
        kind,
        subject: subject.into(),
        email: None,
        name: None,
        groups: vec!["sre".into()],
    }
}

async fn start() -> (tempfile::TempDir, RunningBroker, Vec<HistoryRecord>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let records = history_support::seed(dir.path(), COUNT);
    let auth = StaticTokens::new(vec![
        token(
            APPROVER,
            PrincipalKind::Approver,
            "maria.garcia@example.com",
        ),
        token(AGENT, PrincipalKind::Agent, "agent-7"),
    ]);
    let settings = Settings::new(Arc::new(auth), Default::default(), dir.path());
    let broker = signoff::broker::spawn(settings)
        .await
        .expect("broker starts");
    (dir, broker, records)
}

async fn history(broker: &RunningBroker, token: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .arg("history")
        .args(args)
        .env("SIGNOFF_BROKER_URL", broker.url())
        .env("SIGNOFF_TOKEN", token)
        .kill_on_drop(true)
        .output()
        .await
        .expect("signoff runs")
}

fn lines(out: &Output) -> Vec<HistoryRecord> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a HistoryRecord"))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_matches_the_store_and_filters_agree_with_the_local_query() {
    let (_dir, broker, records) = start().await;

    // Everything, across pages: each decision exactly once, newest first, as stored.
    let out = history(&broker, APPROVER, &["--json", "--all"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), COUNT);
    assert_eq!(
        got, records,
        "the CLI prints exactly what was stored, newest first"
    );
    assert!(got.iter().all(|r| r.signatures_verified.iter().all(|v| *v)));

    // Each filter alone and combined, checked against the local filter over the same data.
    let since = records[COUNT / 2].decided_at;
    let until = records[COUNT / 8].decided_at;
    let cases: Vec<(Vec<String>, HistoryQuery)> = vec![
        (
            args(&["--outcome", "denied"]),
            q(|q| q.outcome = vec![Status::Denied]),
        ),
        (
            args(&["--risk", "high,critical"]),
            q(|q| q.risk = vec![RiskLevel::High, RiskLevel::Critical]),
        ),
        (
            args(&["--env", "staging"]),
            q(|q| q.environment = vec!["staging".into()]),
        ),
        (
            args(&["--kind", "terraform.apply"]),
            q(|q| q.kind = vec!["terraform.apply".into()]),
        ),
        (
            args(&["--requester", "agent-release-bot"]),
            q(|q| q.requester = Some("agent-release-bot".into())),
        ),
        (
            args(&["--approver", "li.wei@example.com"]),
            q(|q| q.approver = Some("li.wei@example.com".into())),
        ),
        (
            args(&["--outcome", "executed"]),
            q(|q| {
                q.outcome = vec![Status::Approved];
                q.executed = Some(true)
            }),
        ),
        (
            vec![
                "--since".into(),
                since.to_string(),
                "--until".into(),
                until.to_string(),
            ],
            q(|q| {
                q.since = Some(since);
                q.until = Some(until)
            }),
        ),
        (
            args(&[
                "--outcome",
                "approved,denied",
                "--env",
                "production",
                "--risk",
                "high",
            ]),
            q(|q| {
                q.outcome = vec![Status::Approved, Status::Denied];
                q.environment = vec!["production".into()];
                q.risk = vec![RiskLevel::High];
            }),
        ),
    ];
    for (flags, query) in cases {
        let mut argv: Vec<&str> = vec!["--json", "--all"];
        argv.extend(flags.iter().map(String::as_str));
        let out = history(&broker, APPROVER, &argv).await;
        assert!(out.status.success(), "{flags:?}: {}", stderr(&out));
        let want: Vec<HistoryRecord> = records
            .iter()
            .filter(|r| matches_filter(&query, r))
            .cloned()
            .collect();
        assert!(!want.is_empty(), "{flags:?} should select something");
        assert_eq!(lines(&out), want, "{flags:?}");
    }

    // Free text finds a word in a reason.
    let out = history(&broker, APPROVER, &["--json", "--all", "--query", "freeze"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&out);
    assert!(!got.is_empty());
    for r in &got {
        assert!(
            SearchField::Reason
                .text(r)
                .to_lowercase()
                .contains("freeze")
        );
    }
    let in_reasons = records
        .iter()
        .filter(|r| SearchField::Reason.text(r).contains("freeze"))
        .count();
    assert_eq!(got.len(), in_reasons);
    broker.shutdown().await.expect("broker stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_limits_empty_results_and_errors() {
    let (_dir, broker, records) = start().await;

    let out = history(&broker, APPROVER, &["--limit", "7"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 8, "header + 7 rows:\n{table}");
    assert!(rows[0].starts_with("DECIDED (UTC)"));
    assert!(rows[1].contains(&records[0].action.id.to_string()));
    assert!(stderr(&out).contains("--cursor "), "{}", stderr(&out));

    // Continuing from the printed cursor gives the next records.
    let cursor = stderr(&out)
        .rsplit("--cursor ")
        .next()
        .unwrap_or("")
        .trim_end_matches([')', '\n'])
        .to_string();
    let out = history(
        &broker,
        APPROVER,
        &["--json", "--limit", "3", "--cursor", &cursor],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines(&out), records[7..10].to_vec());

    // Nothing matches: success, nothing on stdout.
    let out = history(&broker, APPROVER, &["--kind", "no.such.kind"]).await;
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("No decisions match"));
    let out = history(&broker, APPROVER, &["--json", "--kind", "no.such.kind"]).await;
    assert!(out.status.success() && out.stdout.is_empty());

    // A bad filter caught by the CLI, and one caught by the broker: exit 2, clear message.
    let out = history(&broker, APPROVER, &["--risk", "severe"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad filter: --risk: unknown risk level \"severe\""),
        "{}",
        stderr(&out)
    );
    let out = history(&broker, APPROVER, &["--since", "last tuesday"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--since"));
    let out = history(&broker, APPROVER, &["--cursor", "not-a-cursor"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the broker refused the filter"),
        "{}",
        stderr(&out)
    );

    // An agent token is refused: exit 3.
    let out = history(&broker, AGENT, &[]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("forbidden"), "{}", stderr(&out));
    let out = history(&broker, "wrong-token", &[]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    broker.shutdown().await.expect("broker stops");
}

#[tokio::test]
async fn unreachable_broker_and_missing_settings() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let run = |envs: Vec<(&'static str, String)>| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"));
        c.arg("history")
            .env_remove("SIGNOFF_BROKER_URL")
            .env_remove("SIGNOFF_BROKER")
            .env_remove("SIGNOFF_TOKEN");
        for (k, v) in envs {
            c.env(k, v);
        }
        c.kill_on_drop(true).output()
    };
    let out = run(vec![
        ("SIGNOFF_BROKER_URL", url.clone()),
        ("SIGNOFF_TOKEN", "t".into()),
    ])
    .await
    .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach the broker"),
        "{}",
        stderr(&out)
    );
    // The old variable name still works, with a warning.
    let out = run(vec![("SIGNOFF_BROKER", url)]).await.expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no token"));
    assert!(
        stderr(&out).contains("SIGNOFF_BROKER is deprecated; set SIGNOFF_BROKER_URL instead"),
        "{}",
        stderr(&out)
    );
    let out = run(vec![("SIGNOFF_TOKEN", "t".into())])
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no broker"));
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn q(edit: impl FnOnce(&mut HistoryQuery)) -> HistoryQuery {
    let mut q = HistoryQuery::default();
    edit(&mut q);
    q
}

/// Issue 12: a reason and a kind full of separators, tag characters, fillers, bidi and C1
/// controls. The table shows each as its marker (the one visible form); `--json` escapes
/// each as `\uXXXX` and still parses to the exact stored text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_visible_in_the_table_and_escaped_in_json() {
    const REASON: &str = "ok\u{2028}line\u{E0041}\u{E007F} fill\u{3164}\u{FFA0}\u{2800} \u{202e}gnp\u{85}\u{9b}2J end";
    let dir = tempfile::tempdir().expect("tempdir");
    let records = history_support::seed_edited(dir.path(), 5, |rs| {
        rs[0].reason = REASON.into();
        rs[0].action.kind = "db.\u{200b}x\u{1b}]0;".into();
    });
    let auth = StaticTokens::new(vec![token(
        APPROVER,
        PrincipalKind::Approver,
        "maria.garcia@example.com",
    )]);
    let settings = Settings::new(Arc::new(auth), Default::default(), dir.path());
    let broker = signoff::broker::spawn(settings)
        .await
        .expect("broker starts");
    let id = records[0].action.id.to_string();

    let out = history(&broker, APPROVER, &["--all"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8(out.stdout.clone()).expect("utf-8");
    let row = table
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("no row for {id}:\n{table}"));
    for shown in ["ok⟨U+2028⟩line⟨U+E0041⟩⟨U+E007F⟩", "db.⟨U+200B⟩x⟨ESC⟩]0;"] {
        assert!(row.contains(shown), "{shown} not in {row}");
    }
    for c in table.chars().filter(|c| *c != '\n') {
        assert!(
            signoff::text::class(c).is_none() && c != '\t',
            "raw U+{:04X} in the table:\n{table}",
            u32::from(c)
        );
    }

    let out = history(&broker, APPROVER, &["--json", "--all"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout.clone()).expect("utf-8");
    for c in text.chars().filter(|c| *c != '\n') {
        assert!(
            signoff::text::class(c).is_none() && c != '\t',
            "raw U+{:04X} in --json output",
            u32::from(c)
        );
    }
    for escape in [
        "\\u2028",
        "\\udb40\\udc41",
        "\\u3164",
        "\\u202e",
        "\\u0085",
        "\\u009b",
    ] {
        assert!(text.contains(escape), "{escape} missing");
    }
    let back = lines(&out);
    let got = back
        .iter()
        .find(|r| r.action.id == records[0].action.id)
        .expect("the hostile record");
    assert_eq!(got.reason, REASON);
}
