//! The engine as the broker uses it: defaults without a file, how rules merge, TTL
//! limits, and that every bad policy file is refused with an error naming where.

use super::{Engine, Facts, PolicyError};
use crate::protocol::{ActionRequest, RiskLevel, Timestamp};

fn facts() -> Facts {
    Facts {
        // Monday 10:00 in the machine's zone, the zone the built-in off-hours detector
        // uses: inside the default working hours wherever the tests run.
        now: Timestamp::from_unix_millis(
            jiff::tz::TimeZone::try_system()
                .unwrap_or(jiff::tz::TimeZone::UTC)
                .to_ambiguous_timestamp(jiff::civil::date(2026, 11, 23).at(10, 0, 0, 0))
                .compatible()
                .unwrap_or_else(|e| panic!("{e}"))
                .as_millisecond(),
        ),
        first_time_for_kind: false,
    }
}

fn req(kind: &str, env: &str, ttl: Option<u64>) -> ActionRequest {
    let mut r: ActionRequest = serde_json::from_value(serde_json::json!({
        "kind": kind,
        "summary": "Rotate certificates",
        "requester": {"kind": "pipeline", "id": "ci-1", "display_name": "CI"},
        "target": {"system": "k8s", "resource": "ingress", "environment": env},
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    r.ttl_secs = ttl;
    r
}

fn engine(text: &str) -> Engine {
    Engine::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> String {
    match Engine::from_toml_str(text) {
        Ok(_) => panic!("policy was accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn builtin_defaults() {
    let e = Engine::builtin();
    let low = e.evaluate(&req("cert.rotate", "staging", None), &facts());
    assert_eq!(low.risk.level, RiskLevel::Low);
    assert!(low.risk.tags.is_empty());
    assert_eq!(low.policy.approvals_required, 1);
    assert!(low.policy.approver_groups.is_empty());
    assert_eq!(low.policy.rule, None);
    assert_eq!(low.ttl_secs, 900, "15 minutes when none is asked for");
    let asked = e.evaluate(&req("cert.rotate", "staging", Some(120)), &facts());
    assert_eq!(asked.ttl_secs, 120);
    let long = e.evaluate(&req("cert.rotate", "staging", Some(3 * 86_400)), &facts());
    assert_eq!(long.ttl_secs, 86_400, "capped at 24 hours");
    // An empty file is the built-in policy.
    let empty = engine("").evaluate(&req("cert.rotate", "prod", None), &facts());
    assert_eq!(
        empty,
        e.evaluate(&req("cert.rotate", "prod", None), &facts())
    );
}

#[test]
fn each_setting_comes_from_the_first_rule_that_sets_it_and_tags_add_up() {
    let e = engine(
        r#"
        [[rule]]
        name = "prod"
        environment = "prod"
        tags = ["prod-change"]
        approvals_required = 2

        [[rule]]
        name = "k8s"
        kind = "k8s.*"
        tags = ["k8s"]
        score = 5
        approver_groups = ["sre"]
        approvals_required = 3
        ttl = "5m"

        [[rule]]
        name = "never"
        kind = "db.*"
        approver_groups = ["dba"]
        "#,
    );
    let ev = e.evaluate(&req("k8s.apply", "prod", None), &facts());
    assert_eq!(ev.policy.approvals_required, 2, "from the first rule");
    assert_eq!(
        ev.policy.approver_groups,
        ["sre"],
        "first rule that sets groups"
    );
    assert_eq!(ev.policy.rule.as_deref(), Some("prod"));
    assert_eq!(ev.ttl_secs, 300);
    let ids: Vec<&str> = ev.risk.tags.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["production", "prod-change", "k8s"]);
    assert_eq!(
        ev.risk.score,
        30 + 5,
        "unweighted rule tags add nothing; score adds"
    );
}

#[test]
fn weights_levels_and_switches_are_configurable() {
    let e = engine(
        r#"
        [levels]
        medium = 10
        high = 30
        critical = 90
        [weights]
        production = 35
        [detectors.first-time]
        enabled = false
        [detectors.production]
        environments = ["live-*"]
        "#,
    );
    let mut f = facts();
    f.first_time_for_kind = true;
    let ev = e.evaluate(&req("x.y", "live-eu", None), &f);
    assert_eq!(ev.risk.tags.len(), 1);
    assert_eq!((ev.risk.score, ev.risk.level), (35, RiskLevel::High));
    assert!(
        e.evaluate(&req("x.y", "prod", None), &f)
            .risk
            .tags
            .is_empty()
    );
}

#[test]
fn bad_files_name_the_section_or_rule_and_field() {
    let cases: &[(&str, &str)] = &[
        (
            "[defaults]\napprovals = 2",
            "policy section [defaults]: unknown field `approvals`",
        ),
        (
            "[default]\napprovals_required = 2",
            "policy section [default]: unknown section",
        ),
        (
            "[detectors.prod]\nenabled = false",
            "policy section [detectors.prod]: unknown detector",
        ),
        (
            "[detectors.bulk]\nrowz = 5",
            "policy section [detectors.bulk]: unknown field `rowz`",
        ),
        (
            "[detectors.bulk]\nrows = 0",
            "[detectors.bulk]: rows: a threshold of 0",
        ),
        (
            "[detectors.off-hours]\ntimezone = \"Mars/Base\"",
            "timezone: unknown time zone",
        ),
        (
            "[detectors.hidden-characters]\nenabled = false",
            "cannot be disabled",
        ),
        (
            "[levels]\nhigh = 90\ncritical = 80",
            "policy section [levels]: thresholds must rise",
        ),
        (
            "[weights]\nproduction = 500",
            "policy section [weights]: production: weight must be",
        ),
        (
            "[kinds]\nknown = [\"[\"]",
            "policy section [kinds]: known: pattern \"[\"",
        ),
        (
            "[defaults]\nttl = \"2h\"\nmax_ttl = \"1h\"",
            "ttl (7200 s) is longer than max_ttl",
        ),
        (
            "[[rule]]\nname = \"prod-db\"\nkind = \"db.*\"\napprovals = 2",
            "policy rule \"prod-db\": unknown field `approvals`",
        ),
        (
            "[[rule]]\nname = \"a\"\nscore = 1\n[[rule]]\nkind = \"x\"\nscore = 1",
            "policy rule \"#2\": missing field `name`",
        ),
        (
            "[[rule]]\nname = \"a\"\nscore = 1\n[[rule]]\nname = \"a\"\nscore = 2",
            "policy rule \"a\": name: another rule already has this name",
        ),
        ("[rule]\nname = \"a\"", "write rules as [[rule]] tables"),
        (
            "[[rule]]\nname = \"c\"\nconfirm = \"  \"",
            "policy rule \"c\": confirm: must not be empty",
        ),
        (
            "[[rule]]\nname = \"c\"\nconfirm = \" prod\"",
            "confirm: no leading or trailing spaces",
        ),
        (
            "[[rule]]\nname = \"c\"\nconfirm = \"pro\\u200Bd\"",
            "confirm: U+200B cannot be typed or seen",
        ),
        ("[defaults\n", "policy file is not valid TOML"),
    ];
    for (text, want) in cases {
        let got = error(text);
        assert!(
            got.contains(want),
            "for\n{text}\nwant {want:?}\ngot  {got:?}"
        );
    }
}

#[test]
fn toml_syntax_errors_give_the_line() {
    let got = error("[defaults]\napprovals_required = 1\nttl = 15m\n");
    assert!(got.contains("line 3"), "{got}");
}

#[test]
fn from_file_reads_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let good = dir.path().join("policy.toml");
    std::fs::write(&good, "[defaults]\napprovals_required = 2\n").unwrap_or_else(|e| panic!("{e}"));
    let e = Engine::from_file(&good).unwrap_or_else(|e| panic!("{e}"));
    let ev = e.evaluate(&req("x.y", "dev", None), &facts());
    assert_eq!(ev.policy.approvals_required, 2);

    let missing = dir.path().join("nope.toml");
    let err = Engine::from_file(&missing)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("nope.toml"), "{err}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[rule]]\nname = \"r1\"\nlevel = \"severe\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let err = Engine::from_file(&bad).err();
    assert!(matches!(err, Some(PolicyError::Io { .. })));
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.contains("bad.toml") && msg.contains("policy rule \"r1\": level:"),
        "{msg}"
    );
}

/// The largest request validation lets through (1 MiB diff, 64 KiB command, 64 context
/// entries) is evaluated, with every scanning detector doing real work on it.
#[test]
fn largest_valid_request_is_evaluated() {
    use crate::protocol::limits::{MAX_COMMAND_BYTES, MAX_DIFF_BYTES};
    use crate::protocol::{Change, Command, ContextEntry};

    let mut r = req("db.migrate", "production", None);
    let mut diff = String::from("--- a/schema.sql\n+++ b/schema.sql\n");
    let mut i = 0;
    while diff.len() < MAX_DIFF_BYTES - 64 {
        diff.push_str(&format!(
            "+ALTER TABLE t{i} ADD COLUMN email_{i} text; -- deleted_at\n"
        ));
        i += 1;
    }
    let mut cmd = String::new();
    while cmd.len() < MAX_COMMAND_BYTES - 64 {
        cmd.push_str("SELECT deleted_at, created_at FROM orders; ");
    }
    r.change = Some(Change::UnifiedDiff { diff });
    r.command = Some(Command::Text { text: cmd });
    r.context = (0..64)
        .map(|i| ContextEntry {
            key: format!("k{i}"),
            value: "x".repeat(1000),
        })
        .collect();
    assert!(crate::protocol::validate::validate_request(&r).is_ok());
    let started = std::time::Instant::now();
    let ev = Engine::builtin().evaluate(&r, &facts());
    eprintln!("largest request evaluated in {:?}", started.elapsed());
    let ids: Vec<&str> = ev.risk.tags.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["production", "pii", "long-line", "bulk"]);
    assert!(
        ev.risk.tags[1].reason.contains("and 12 more"),
        "{}",
        ev.risk.tags[1].reason
    );
}

/// The broker shares one engine between request handlers.
#[test]
fn engine_is_shareable_across_threads() {
    fn shareable<T: Send + Sync + 'static>(_: &T) -> bool {
        true
    }
    let e = std::sync::Arc::new(Engine::builtin());
    assert!(shareable(&e));
    let e2 = std::sync::Arc::clone(&e);
    let level = std::thread::spawn(move || {
        e2.evaluate(&req("k8s.delete", "prod", None), &facts())
            .risk
            .level
    })
    .join()
    .unwrap_or_else(|_| panic!("evaluation thread panicked"));
    assert_eq!(level, RiskLevel::High);
}

#[test]
fn a_rule_may_set_the_critical_confirmation_phrase_and_the_first_one_wins() {
    let e = engine(
        r#"
        [[rule]]
        name = "prod-iam"
        kind = "iam.*"
        environment = "prod"
        confirm = "grant in prod"

        [[rule]]
        name = "prod"
        environment = "prod"
        confirm = "prod change"
        "#,
    );
    let iam = e.evaluate(&req("iam.grant", "prod", None), &facts());
    assert_eq!(iam.policy.confirm.as_deref(), Some("grant in prod"));
    let other = e.evaluate(&req("k8s.apply", "prod", None), &facts());
    assert_eq!(other.policy.confirm.as_deref(), Some("prod change"));
    // No rule sets it: none, so the console asks for the resource name (never the
    // environment).
    let staging = e.evaluate(&req("k8s.apply", "staging", None), &facts());
    assert_eq!(staging.policy.confirm, None);
}
