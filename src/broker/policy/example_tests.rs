//! Loads the shipped `examples/policy.toml` and checks realistic requests end to end:
//! the example must stay valid, and must do what its comments say.

use super::{Engine, Evaluation, Facts};
use crate::protocol::{ActionRequest, RiskLevel, Timestamp};

const EXAMPLE: &str = include_str!("../../../examples/policy.toml");

/// The example with its commented-out `timezone` switched on: the example runs in the
/// broker machine's zone, these tests in Berlin's whatever the machine says.
fn engine() -> Engine {
    let pinned = EXAMPLE.replace(
        "# timezone = \"Europe/Berlin\"",
        "timezone = \"Europe/Berlin\"",
    );
    assert_ne!(
        pinned, EXAMPLE,
        "the example names Europe/Berlin as its commented zone"
    );
    Engine::from_toml_str(&pinned).unwrap_or_else(|e| panic!("examples/policy.toml: {e}"))
}

#[test]
fn the_example_runs_in_the_system_zone_and_says_so() {
    let e = Engine::from_toml_str(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
    let r = req(serde_json::json!({
        "kind": "service.restart",
        "summary": "Restart checkout",
        "requester": agent("ops-bot"),
        "target": {"system": "k8s", "resource": "checkout", "environment": "staging"},
    }));
    let facts = Facts {
        // Saturday: off-hours in every zone.
        now: Timestamp::parse("2026-11-28T12:00:00Z").unwrap_or_else(|e| panic!("{e}")),
        first_time_for_kind: false,
    };
    let ev = e.evaluate(&r, &facts);
    let off = ev.risk.tags.iter().find(|t| t.id == "off-hours");
    let off = off.unwrap_or_else(|| panic!("{:?}", ids(&ev)));
    assert!(
        off.reason.contains("the broker's system zone"),
        "{}",
        off.reason
    );
}

#[test]
fn the_demo_samples_are_known_kinds() {
    for kind in crate::demo::samples::samples(Timestamp::now(), 7)
        .iter()
        .map(|r| r.kind.clone())
    {
        let r = req(serde_json::json!({
            "kind": kind,
            "summary": "s",
            "requester": agent("a"),
            "target": {"system": "s", "resource": "r", "environment": "staging"},
        }));
        let ev = engine().evaluate(&r, &office_hours());
        assert!(
            !ids(&ev).contains(&"unknown-kind"),
            "{kind} is tagged unknown-kind"
        );
    }
}

/// Monday 2026-11-23 10:00 in Berlin: inside working hours.
fn office_hours() -> Facts {
    Facts {
        now: Timestamp::parse("2026-11-23T09:00:00Z").unwrap_or_else(|e| panic!("{e}")),
        first_time_for_kind: false,
    }
}

fn req(v: serde_json::Value) -> ActionRequest {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn ids(e: &Evaluation) -> Vec<&str> {
    e.risk.tags.iter().map(|t| t.id.as_str()).collect()
}

fn agent(id: &str) -> serde_json::Value {
    serde_json::json!({"kind": "agent", "id": id, "display_name": id})
}

#[test]
fn prod_kubectl_delete_needs_two_sres() {
    let r = req(serde_json::json!({
        "kind": "k8s.delete",
        "summary": "Remove old payments-v1 deployment",
        "requester": agent("deploy-bot"),
        "target": {"system": "k8s", "resource": "namespace/checkout", "environment": "production"},
        "command": {"type": "argv", "argv": ["kubectl", "delete", "deployment", "payments-v1"]},
        "ttl_secs": 600,
    }));
    let e = engine().evaluate(&r, &office_hours());
    assert_eq!(ids(&e), ["destructive", "production"]);
    assert_eq!(
        e.risk.tags[0].reason,
        "kind contains \"delete\"; command contains \"kubectl delete\""
    );
    assert_eq!((e.risk.score, e.risk.level), (65, RiskLevel::High));
    assert_eq!(e.policy.approvals_required, 2);
    assert_eq!(e.policy.approver_groups, ["sre"]);
    assert_eq!(e.policy.rule.as_deref(), Some("prod-k8s-delete"));
    assert_eq!(e.ttl_secs, 600, "the requested TTL is within the limit");
}

#[test]
fn prod_terraform_apply_is_critical_and_short_lived() {
    let r = req(serde_json::json!({
        "kind": "terraform.apply",
        "summary": "Apply network changes",
        "requester": agent("ci-infra"),
        "target": {"system": "terraform", "resource": "network", "environment": "prod-eu"},
        "change": {"type": "unified_diff", "diff": "  ~ aws_vpc.main\nPlan: 1 to add, 2 to change, 0 to destroy.\n"},
        "ttl_secs": 7200,
    }));
    let e = engine().evaluate(&r, &office_hours());
    assert_eq!(ids(&e), ["production"]);
    assert_eq!(e.risk.level, RiskLevel::Critical);
    assert_eq!(e.risk.score, 80, "raised to the critical threshold");
    assert_eq!(e.policy.approvals_required, 2);
    assert_eq!(e.policy.approver_groups, ["sre", "platform"]);
    assert_eq!(e.ttl_secs, 3600, "max_ttl of the rule shortens the request");
}

#[test]
fn iam_grant_of_admin_goes_to_security() {
    let r = req(serde_json::json!({
        "kind": "iam.grant",
        "summary": "Give the reporting role read access",
        "requester": agent("ops-agent"),
        "target": {"system": "aws-iam", "resource": "role/reporting", "environment": "production"},
        "command": {"type": "text", "text": "aws iam attach-role-policy --role-name reporting --policy-arn arn:aws:iam::aws:policy/AdministratorAccess"},
    }));
    let e = engine().evaluate(&r, &office_hours());
    assert_eq!(ids(&e), ["privilege-escalation", "production", "iam"]);
    assert_eq!(
        e.risk.tags[0].reason,
        "command contains \"AdministratorAccess\""
    );
    assert_eq!(
        e.risk.tags[2].reason,
        "policy rule \"iam-changes\" matched: IAM changes are reviewed by security"
    );
    assert_eq!((e.risk.score, e.risk.level), (70, RiskLevel::High));
    assert_eq!(e.policy.approver_groups, ["security"]);
    assert_eq!(e.policy.approvals_required, 1);
    assert_eq!(e.ttl_secs, 900, "the default TTL");
}

#[test]
fn pii_export_needs_data_governance() {
    let r = req(serde_json::json!({
        "kind": "db.export",
        "summary": "Export churned customers for analysis",
        "requester": agent("data-assistant"),
        "target": {"system": "postgres", "resource": "customers", "environment": "production"},
        "context": [{"key": "rows", "value": "1.2M"}],
        "command": {"type": "text", "text": "COPY (SELECT id, email, phone FROM customers) TO 's3://exports/churn.csv'"},
    }));
    let e = engine().evaluate(&r, &office_hours());
    assert_eq!(ids(&e), ["production", "pii", "data-export", "bulk"]);
    assert_eq!(
        e.risk.tags[1].reason,
        "command names personal-data fields \"email\", \"phone\""
    );
    assert_eq!(
        e.risk.tags[3].reason,
        "context \"rows\" is 1,200,000 (threshold 10,000)"
    );
    assert_eq!((e.risk.score, e.risk.level), (100, RiskLevel::Critical));
    assert_eq!(e.policy.rule.as_deref(), Some("pii-export"));
    assert_eq!(e.policy.approver_groups, ["data-governance"]);
    assert_eq!(e.policy.approvals_required, 2);
    assert_eq!(e.ttl_secs, 3600);
}

#[test]
fn an_export_without_pii_keeps_the_defaults() {
    let r = req(serde_json::json!({
        "kind": "db.export",
        "summary": "Export daily order totals",
        "requester": agent("data-assistant"),
        "target": {"system": "postgres", "resource": "order_totals", "environment": "staging"},
        "command": {"type": "text", "text": "COPY order_totals TO STDOUT"},
    }));
    let e = engine().evaluate(&r, &office_hours());
    assert_eq!(ids(&e), ["data-export"]);
    assert_eq!(e.risk.level, RiskLevel::Medium);
    assert_eq!(e.policy.rule, None);
    assert_eq!(e.policy.approver_groups, Vec::<String>::new());
}

#[test]
fn unknown_kind_at_night_first_time() {
    let r = req(serde_json::json!({
        "kind": "gpu.rent",
        "summary": "Rent 8 GPUs for fine-tuning",
        "requester": agent("ml-agent"),
        "target": {"system": "cloud", "resource": "gpu-pool", "environment": "research"},
    }));
    let facts = Facts {
        // Saturday 03:00 in Berlin.
        now: Timestamp::parse("2026-11-28T02:00:00Z").unwrap_or_else(|e| panic!("{e}")),
        first_time_for_kind: true,
    };
    let e = engine().evaluate(&r, &facts);
    assert_eq!(ids(&e), ["unknown-kind", "first-time", "off-hours"]);
    assert_eq!(
        e.risk.tags[2].reason,
        "requested Sat 03:00 (Europe/Berlin); working hours are 08:00–19:00 Mon Tue Wed Thu Fri"
    );
    assert_eq!((e.risk.score, e.risk.level), (40, RiskLevel::Medium));
    assert_eq!(e.policy.approvals_required, 1);
}

#[test]
fn hidden_characters_make_anything_critical() {
    let r = req(serde_json::json!({
        "kind": "deploy.rollout",
        "summary": "Roll out web \u{202e}v2.3",
        "requester": agent("ci-web"),
        "target": {"system": "k8s", "resource": "web", "environment": "staging"},
    }));
    let e = engine().evaluate(&r, &office_hours());
    assert_eq!(ids(&e), ["hidden-characters"]);
    assert_eq!(e.risk.tags[0].reason, "summary has U+202E (bidi control)");
    assert_eq!(e.risk.level, RiskLevel::Critical);
    assert_eq!(e.policy.rule.as_deref(), Some("hidden-characters-critical"));
    assert_eq!(e.ttl_secs, 7200, "staging-pipeline still sets the TTL");
}

#[test]
fn payments_resources_are_pci() {
    let r = req(serde_json::json!({
        "kind": "k8s.scale",
        "summary": "Scale payments-api to zero for maintenance",
        "requester": agent("ops-agent"),
        "target": {"system": "k8s", "resource": "namespace/payments-api", "environment": "staging"},
        "command": {"type": "text", "text": "kubectl scale --replicas=0 deploy/payments-api"},
    }));
    let e = engine().evaluate(&r, &office_hours());
    assert_eq!(ids(&e), ["destructive", "pci"]);
    assert_eq!(
        e.risk.tags[0].reason,
        "command contains \"scale --replicas=0\""
    );
    assert_eq!(e.risk.score, 35 + 20 + 10);
    assert_eq!(e.risk.level, RiskLevel::High);
}
