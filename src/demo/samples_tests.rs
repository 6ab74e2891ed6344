use super::*;
use crate::protocol::validate::validate_request;

fn now() -> Timestamp {
    Timestamp::parse("2026-11-23T03:12:00Z").unwrap()
}

#[test]
fn every_sample_is_valid() {
    for seed in 0..50 {
        for s in samples(now(), seed) {
            assert_eq!(validate_request(&s), Ok(()), "seed {seed}: {}", s.kind);
        }
    }
}

#[test]
fn each_kind_the_issue_lists_is_present() {
    let kinds: Vec<String> = samples(now(), 1).into_iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            "db.export",
            "iam.grant",
            "terraform.apply",
            "k8s.namespace.delete",
            "config.change",
            "service.restart",
            "command.exec"
        ]
    );
}

#[test]
fn samples_carry_the_details_an_approver_needs() {
    let s = samples(now(), 7);
    let context = |i: usize, key: &str| s[i].context.iter().any(|c| c.key == key);
    assert!(context(0, "pii_columns"));
    assert!(matches!(&s[0].command, Some(Command::Text { text }) if text.contains("email")));
    assert!(
        matches!(&s[1].change, Some(Change::UnifiedDiff { diff }) if diff.contains("\"Action\": \"*\""))
    );
    let Some(Change::UnifiedDiff { diff }) = &s[2].change else {
        panic!("terraform sample has no diff");
    };
    assert!(
        diff.matches("diff --git").count() >= 3,
        "multi-resource plan"
    );
    assert!(context(2, "ci.run_url") && context(2, "ci.commit"));
    assert_eq!(s[3].target.environment, "production");
    assert!(
        matches!(&s[3].command, Some(Command::Argv { argv }) if argv.contains(&"namespace".to_string()))
    );
    assert!(
        matches!(&s[4].change, Some(Change::BeforeAfter { before, after, .. }) if before != after)
    );
    assert_eq!(s[5].target.environment, "staging");
}

#[test]
fn the_hostile_sample_hides_a_bidi_override_in_its_command() {
    let s = samples(now(), 3);
    let hostile = s.iter().find(|r| r.kind == "command.exec").unwrap();
    let cmd = hostile.command.as_ref().unwrap().texts().join(" ");
    assert!(cmd.contains('\u{202e}'));
    assert!(
        !hostile.summary.contains('\u{202e}'),
        "the summary looks innocent"
    );
}

#[test]
fn requesters_vary_and_come_from_the_sample_agents() {
    let s = samples(now(), 5);
    let ids: std::collections::BTreeSet<&str> = s.iter().map(|r| r.requester.id.as_str()).collect();
    assert_eq!(ids.len(), SAMPLE_AGENTS.len());
    assert!(
        s.iter()
            .any(|r| r.requester.model.is_some() && r.requester.on_behalf_of.is_some())
    );
    assert!(
        s.iter()
            .any(|r| r.requester.kind == RequesterKind::Pipeline)
    );
    for r in &s {
        assert!(SAMPLE_AGENTS.iter().any(|a| a.id == r.requester.id));
    }
}

#[test]
fn seeds_vary_details_deterministically() {
    assert_eq!(samples(now(), 9), samples(now(), 9));
    let differing = (0..10)
        .filter(|&i| samples(now(), i) != samples(now(), i + 1))
        .count();
    assert_eq!(differing, 10);
}
