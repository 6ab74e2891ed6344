use std::collections::HashMap;
use std::io::Write as _;
use std::time::Duration;

use super::*;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    move |k| map.get(k).cloned()
}

fn args() -> ActionArgs {
    ActionArgs {
        kind: Some("db.export".into()),
        summary: Some("Export customers".into()),
        target: Some("postgres:customers".into()),
        environment: Some("production".into()),
        justification: "churn analysis".into(),
        context: vec![("ticket".into(), "DATA-1".into())],
        ttl: Some(Duration::from_secs(600)),
        ..Default::default()
    }
}

#[test]
fn builds_a_valid_request_from_flags() {
    let env = env_of(&[("USER", "ci"), ("HOSTNAME", "runner-3")]);
    let req = build_request(&args(), None, None, &env).unwrap();
    assert_eq!(req.target.system, "postgres");
    assert_eq!(req.target.resource, "customers");
    assert_eq!(req.requester.id, "ci@runner-3");
    assert_eq!(req.requester.display_name, "ci@runner-3");
    assert_eq!(req.requester.kind, RequesterKind::Agent);
    assert_eq!(req.ttl_secs, Some(600));
    assert_eq!(req.context.len(), 1);
}

#[test]
fn missing_flags_are_all_named() {
    let a = ActionArgs::default();
    let e = build_request(&a, None, None, &env_of(&[])).unwrap_err();
    assert!(
        matches!(&e, BuildError::Usage(m) if m == "missing --kind, --summary, --target, --env"),
        "{e}"
    );
}

#[test]
fn target_needs_a_colon_and_fields_are_validated() {
    let mut a = args();
    a.target = Some("postgres".into());
    assert!(matches!(
        build_request(&a, None, None, &env_of(&[])),
        Err(BuildError::Usage(m)) if m.contains("SYSTEM:RESOURCE")
    ));
    let mut a = args();
    a.kind = Some("DB Export".into());
    let e = build_request(&a, None, None, &env_of(&[])).unwrap_err();
    assert!(
        matches!(&e, BuildError::Invalid { fields } if fields[0].field == "kind"),
        "{e}"
    );
}

#[test]
fn github_actions_adds_run_details_and_pipeline_kind() {
    let env = env_of(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/infra"),
        ("GITHUB_RUN_ID", "42"),
        ("GITHUB_WORKFLOW", "deploy"),
        ("GITHUB_SHA", "abc123"),
    ]);
    let mut a = args();
    a.context.push(("ci.commit".into(), "override".into()));
    let req = build_request(&a, None, None, &env).unwrap();
    assert_eq!(req.requester.kind, RequesterKind::Pipeline);
    assert_eq!(
        req.requester.display_name,
        "GitHub Actions: acme/infra / deploy"
    );
    let get = |k: &str| {
        req.context
            .iter()
            .find(|c| c.key == k)
            .map(|c| c.value.as_str())
    };
    assert_eq!(
        get("ci.run_url"),
        Some("https://github.com/acme/infra/actions/runs/42")
    );
    assert_eq!(
        get("ci.commit"),
        Some("override"),
        "a flag wins over CI facts"
    );
    a.no_ci_context = true;
    let req = build_request(&a, None, None, &env).unwrap();
    assert!(
        req.context
            .iter()
            .all(|c| !c.key.starts_with("ci.") || c.value == "override")
    );
}

#[test]
fn gitlab_ci_is_recognised() {
    let env = env_of(&[
        ("GITLAB_CI", "true"),
        ("CI_PROJECT_PATH", "acme/app"),
        ("CI_JOB_URL", "https://gitlab.example.com/acme/app/-/jobs/7"),
    ]);
    let req = build_request(&args(), None, None, &env).unwrap();
    assert_eq!(req.requester.display_name, "GitLab CI: acme/app");
    assert!(req.context.iter().any(|c| c.value.ends_with("/jobs/7")));
}

#[test]
fn gate_defaults_come_from_the_command() {
    let mut a = ActionArgs {
        environment: Some("production".into()),
        ..Default::default()
    };
    let argv: Vec<String> = ["/usr/bin/terraform", "apply", "-auto-approve"]
        .map(String::from)
        .to_vec();
    apply_gate_defaults(&mut a, &argv);
    assert_eq!(a.kind.as_deref(), Some("command.exec"));
    assert_eq!(
        a.summary.as_deref(),
        Some("/usr/bin/terraform apply -auto-approve")
    );
    assert_eq!(a.target.as_deref(), Some("command:terraform"));
    let cmd = Command::Argv { argv };
    let req = build_request(&a, Some(cmd.clone()), None, &env_of(&[])).unwrap();
    assert_eq!(req.command, Some(cmd));
}

#[test]
fn changes_load_from_files_and_stdin_within_limits() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.yaml");
    let after = dir.path().join("after.yaml");
    std::fs::write(&before, "replicas: 2\n").unwrap();
    std::fs::write(&after, "replicas: 4\n").unwrap();
    let mut no_stdin = || -> std::io::Result<String> { Err(std::io::Error::other("unused")) };
    let a = ActionArgs {
        before: Some(before),
        after: Some(after.clone()),
        ..Default::default()
    };
    let change = load_change(&a, &mut no_stdin).unwrap();
    assert!(
        matches!(change, Some(Change::BeforeAfter { ref after, .. }) if after == "replicas: 4\n")
    );

    let a = ActionArgs {
        diff: Some("-".into()),
        ..Default::default()
    };
    let mut stdin = || Ok("--- a\n+++ b\n".to_string());
    let change = load_change(&a, &mut stdin).unwrap();
    assert_eq!(
        change,
        Some(Change::UnifiedDiff {
            diff: "--- a\n+++ b\n".into()
        })
    );

    let big = dir.path().join("big.diff");
    let mut f = std::fs::File::create(&big).unwrap();
    f.write_all(&vec![b'+'; limits::MAX_DIFF_BYTES + 1])
        .unwrap();
    let a = ActionArgs {
        diff: Some(big),
        ..Default::default()
    };
    let e = load_change(&a, &mut no_stdin).unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
    let a = ActionArgs {
        diff: Some(dir.path().join("absent.diff")),
        ..Default::default()
    };
    let e = load_change(&a, &mut no_stdin).unwrap_err();
    assert!(
        matches!(&e, BuildError::Read { what, source }
            if what.ends_with("absent.diff") && source.kind() == std::io::ErrorKind::NotFound),
        "the I/O error is kept as the source: {e:?}"
    );
}
