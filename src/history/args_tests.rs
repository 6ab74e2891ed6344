use clap::Parser;

use super::*;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: HistoryArgs,
}

fn parse(argv: &[&str]) -> HistoryArgs {
    let mut full = vec!["history"];
    full.extend_from_slice(argv);
    Cli::try_parse_from(full).unwrap().args
}

fn now() -> Timestamp {
    Timestamp::parse("2026-11-23T12:00:00Z").unwrap()
}

fn query(argv: &[&str]) -> Result<HistoryQuery, String> {
    build_query(&parse(argv), now())
}

#[test]
fn every_flag_lands_in_the_query() {
    let q = query(&[
        "--outcome",
        "approved,denied",
        "--risk",
        "high",
        "--risk",
        "critical",
        "--env",
        "production",
        "--kind",
        "db.export,iam.grant",
        "--requester",
        "agent-7",
        "--approver",
        "maria@example.com",
        "--since",
        "24h",
        "--until",
        "2026-11-23",
        "-q",
        "drop table",
    ])
    .unwrap();
    assert_eq!(q.outcome, [Status::Approved, Status::Denied]);
    assert_eq!(q.risk, [RiskLevel::High, RiskLevel::Critical]);
    assert_eq!(q.environment, ["production"]);
    assert_eq!(q.kind, ["db.export", "iam.grant"]);
    assert_eq!(q.requester.as_deref(), Some("agent-7"));
    assert_eq!(q.approver.as_deref(), Some("maria@example.com"));
    assert_eq!(q.since, Some(now().plus_secs(-86_400)));
    assert_eq!(
        q.until,
        Some(Timestamp::parse("2026-11-23T00:00:00Z").unwrap())
    );
    assert_eq!(q.text.as_deref(), Some("drop table"));
    assert_eq!(q.executed, None);
}

#[test]
fn no_flags_is_everything() {
    let args = parse(&[]);
    assert_eq!(build_query(&args, now()).unwrap(), HistoryQuery::default());
    assert_eq!(args.max_records(), Some(100));
    assert_eq!(parse(&["--all"]).max_records(), None);
    assert!(Cli::try_parse_from(["history", "--all", "--limit", "5"]).is_err());
}

#[test]
fn executed_outcome() {
    let q = query(&["--outcome", "executed"]).unwrap();
    assert_eq!(
        (q.outcome, q.executed),
        (vec![Status::Approved], Some(true))
    );
    assert!(query(&["--outcome", "approved,executed"]).is_ok());
    let e = query(&["--outcome", "denied,executed"]).unwrap_err();
    assert!(e.contains("cannot be combined"), "{e}");
}

#[test]
fn bad_filters_say_what_is_wrong() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--outcome", "aproved"],
            "--outcome: unknown outcome \"aproved\"",
        ),
        (&["--outcome", "pending"], "not history"),
        (
            &["--risk", "severe"],
            "--risk: unknown risk level \"severe\"",
        ),
        (
            &["--since", "yesterday"],
            "--since: \"yesterday\" is not a time",
        ),
        (&["--until", "5x"], "--until:"),
        (&["--since", "1h", "--until", "2h"], "is after until"),
        (&["--limit", "0"], "--limit: must be at least 1"),
    ];
    for (argv, want) in cases {
        let e = query(argv).unwrap_err();
        assert!(e.contains(want), "{argv:?}: {e}");
    }
}

#[test]
fn time_forms() {
    let n = now();
    assert_eq!(parse_time("90s", n).unwrap(), n.plus_secs(-90));
    assert_eq!(parse_time("30m", n).unwrap(), n.plus_secs(-1800));
    assert_eq!(parse_time("7d", n).unwrap(), n.plus_secs(-604_800));
    assert_eq!(parse_time("2w", n).unwrap(), n.plus_secs(-1_209_600));
    assert_eq!(
        parse_time("2026-11-23T14:00:00+01:00", n).unwrap(),
        Timestamp::parse("2026-11-23T13:00:00Z").unwrap()
    );
    assert!(parse_time("-5d", n).is_err());
    assert!(parse_time("d", n).is_err());
    assert!(parse_time("99999999999999999w", n).is_err());
}
