//! The vocabulary of the history generator: kinds of privileged action with their
//! systems, resources, summaries and commands; requesters; approvers; reasons.
//!
//! Placeholders filled by the generator: `{res}` resource, `{env}` environment, `{n}` a
//! number, `{ticket}` a change ticket, `{inc}` an incident, `{ver}` a version, `{user}`
//! a person's email, `{region}` a cloud region.

use crate::protocol::{RequesterKind, RiskLevel};

pub struct KindSpec {
    pub kind: &'static str,
    pub system: &'static str,
    pub resources: &'static [&'static str],
    pub summaries: &'static [&'static str],
    /// `$ ` prefix: an argv split on spaces; otherwise free text (SQL, shell).
    pub commands: &'static [&'static str],
    pub risk: RiskLevel,
    pub destructive: bool,
    pub pii: bool,
    pub weight: u32,
}

use RiskLevel::{Critical, High, Low, Medium};

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        kind: "db.export",
        system: "postgres",
        resources: &[
            "customers",
            "orders",
            "invoices",
            "events_2026",
            "support_tickets",
        ],
        summaries: &[
            "Export {res} table to S3 for churn analysis",
            "Dump {res} rows changed since last week to the analytics bucket",
            "Copy {res} to the data warehouse ({ticket})",
        ],
        commands: &[
            "COPY (SELECT * FROM {res} WHERE updated_at > now() - interval '7 days') TO 's3://analytics-exports/{res}-{n}.csv'",
            "COPY {res} TO 's3://warehouse-staging/{res}/{n}.parquet'",
        ],
        risk: Medium,
        destructive: false,
        pii: true,
        weight: 12,
    },
    KindSpec {
        kind: "db.migrate",
        system: "postgres",
        resources: &["billing", "accounts", "catalog", "ledger"],
        summaries: &[
            "Run migration {n} on {res} ({ticket})",
            "Add index on {res}.created_at to fix slow dashboard",
            "Drop unused column {res}.legacy_flags",
        ],
        commands: &[
            "$ sqlx migrate run --database-url postgres://{res}.{env}.internal/{res} --target-version {n}",
            "ALTER TABLE {res} DROP COLUMN legacy_flags;",
            "CREATE INDEX CONCURRENTLY idx_{res}_created_at ON {res} (created_at);",
        ],
        risk: High,
        destructive: true,
        pii: false,
        weight: 8,
    },
    KindSpec {
        kind: "db.query",
        system: "mysql",
        resources: &["users", "sessions", "payments", "audit_events"],
        summaries: &[
            "Fix stuck payment rows for {ticket}",
            "Delete expired sessions older than 90 days",
            "Backfill {res}.region for the {region} migration",
        ],
        commands: &[
            "UPDATE {res} SET state = 'failed' WHERE state = 'pending' AND created_at < NOW() - INTERVAL 2 DAY;",
            "DELETE FROM {res} WHERE expires_at < NOW() - INTERVAL 90 DAY LIMIT 50000;",
            "UPDATE {res} SET region = '{region}' WHERE region IS NULL;",
        ],
        risk: Medium,
        destructive: true,
        pii: false,
        weight: 7,
    },
    KindSpec {
        kind: "iam.grant",
        system: "aws-iam",
        resources: &[
            "role/AdminAccess",
            "role/ReadOnly",
            "role/BillingViewer",
            "policy/S3FullAccess",
            "role/BreakGlass",
        ],
        summaries: &[
            "Grant {res} to {user} for 4 hours ({inc})",
            "Attach {res} to the deploy role",
            "Temporary {res} for {user} to debug {ticket}",
        ],
        commands: &[
            "$ aws iam attach-role-policy --role-name deploy-{env} --policy-arn arn:aws:iam::aws:policy/{res}",
            "$ aws sso create-account-assignment --principal-id {user} --permission-set {res} --duration 4h",
        ],
        risk: High,
        destructive: false,
        pii: false,
        weight: 8,
    },
    KindSpec {
        kind: "iam.revoke",
        system: "okta",
        resources: &[
            "group/engineering",
            "group/contractors",
            "app/github-enterprise",
            "app/pagerduty",
        ],
        summaries: &[
            "Remove {user} from {res} (offboarding {ticket})",
            "Revoke stale access to {res}",
        ],
        commands: &["$ okta-cli groups remove-member --group {res} --user {user}"],
        risk: Medium,
        destructive: false,
        pii: false,
        weight: 4,
    },
    KindSpec {
        kind: "k8s.delete",
        system: "k8s",
        resources: &[
            "namespace/payments",
            "deployment/checkout-api",
            "pvc/kafka-data-2",
            "namespace/preview-{n}",
            "job/reindex-search",
        ],
        summaries: &[
            "Delete {res} in {env}",
            "Clean up {res} left over from load test",
            "Remove crashlooping {res} ({inc})",
        ],
        commands: &[
            "$ kubectl --context {env} delete {res} --wait=true",
            "$ kubectl --context {env} delete {res} --grace-period=0 --force",
        ],
        risk: High,
        destructive: true,
        pii: false,
        weight: 7,
    },
    KindSpec {
        kind: "k8s.scale",
        system: "k8s",
        resources: &[
            "deployment/checkout-api",
            "deployment/search",
            "statefulset/redis",
            "deployment/notifications",
        ],
        summaries: &[
            "Scale {res} to {n} replicas for the sale",
            "Scale down {res} overnight to save cost",
        ],
        commands: &["$ kubectl --context {env} scale {res} --replicas={n}"],
        risk: Low,
        destructive: false,
        pii: false,
        weight: 9,
    },
    KindSpec {
        kind: "k8s.rollout",
        system: "k8s",
        resources: &[
            "deployment/checkout-api",
            "deployment/auth",
            "deployment/ledger-worker",
        ],
        summaries: &[
            "Roll out {res} v{ver}",
            "Roll back {res} to v{ver} after error spike ({inc})",
            "Restart {res} to pick up rotated secrets",
        ],
        commands: &[
            "$ kubectl --context {env} rollout restart {res}",
            "$ kubectl --context {env} rollout undo {res} --to-revision={n}",
        ],
        risk: Medium,
        destructive: false,
        pii: false,
        weight: 9,
    },
    KindSpec {
        kind: "terraform.apply",
        system: "terraform",
        resources: &[
            "stacks/network",
            "stacks/rds-{region}",
            "stacks/edge-cdn",
            "stacks/iam-baseline",
            "stacks/vpc-peering",
        ],
        summaries: &[
            "Apply {res}: {n} to add, 2 to change, 0 to destroy",
            "Apply {res} for {ticket}",
            "Apply {res} (provider upgrade to v{ver})",
        ],
        commands: &["$ terraform -chdir={res} apply -auto-approve plan-{n}.tfplan"],
        risk: High,
        destructive: false,
        pii: false,
        weight: 10,
    },
    KindSpec {
        kind: "terraform.destroy",
        system: "terraform",
        resources: &[
            "stacks/preview-{n}",
            "stacks/legacy-vpc",
            "stacks/sandbox-{user}",
        ],
        summaries: &[
            "Destroy {res} ({n} resources)",
            "Tear down {res} after the experiment",
        ],
        commands: &["$ terraform -chdir={res} destroy -auto-approve"],
        risk: Critical,
        destructive: true,
        pii: false,
        weight: 3,
    },
    KindSpec {
        kind: "deploy.release",
        system: "argo-cd",
        resources: &[
            "app/checkout",
            "app/payments-gateway",
            "app/web-frontend",
            "app/mobile-api",
        ],
        summaries: &[
            "Promote {res} v{ver} to {env}",
            "Hotfix {res} v{ver} for {inc}",
        ],
        commands: &[
            "$ argocd app set {res} --revision v{ver}",
            "$ argocd app sync {res} --prune",
        ],
        risk: Medium,
        destructive: false,
        pii: false,
        weight: 12,
    },
    KindSpec {
        kind: "secrets.read",
        system: "vault",
        resources: &[
            "kv/payments/stripe",
            "kv/db/root",
            "pki/intermediate",
            "kv/ci/deploy-key",
        ],
        summaries: &[
            "Read {res} to rotate the key ({ticket})",
            "Break-glass read of {res} during {inc}",
        ],
        commands: &["$ vault kv get -field=value {res}"],
        risk: Critical,
        destructive: false,
        pii: false,
        weight: 4,
    },
    KindSpec {
        kind: "dns.change",
        system: "route53",
        resources: &[
            "zone/example.com",
            "zone/api.example.com",
            "zone/internal.example.net",
        ],
        summaries: &[
            "Point status.example.com at the new CDN",
            "Lower TTL on {res} before the migration",
            "Fail over {res} to {region}",
        ],
        commands: &[
            "$ aws route53 change-resource-record-sets --hosted-zone-id Z{n} --change-batch file://change-{n}.json",
        ],
        risk: High,
        destructive: false,
        pii: false,
        weight: 4,
    },
    KindSpec {
        kind: "billing.refund",
        system: "stripe",
        resources: &["customer/cus_{n}", "invoice/in_{n}", "charge/ch_{n}"],
        summaries: &[
            "Refund {res}: duplicate charge ({ticket})",
            "Issue credit to {res} after outage {inc}",
        ],
        commands: &["$ stripe refunds create --charge ch_{n} --reason duplicate"],
        risk: Medium,
        destructive: false,
        pii: true,
        weight: 5,
    },
    KindSpec {
        kind: "user.delete",
        system: "accounts",
        resources: &["user/{n}", "org/{n}"],
        summaries: &[
            "GDPR erasure request for {res} ({ticket})",
            "Delete spam accounts flagged by trust & safety",
        ],
        commands: &["$ accountsctl erase --id {n} --confirm"],
        risk: High,
        destructive: true,
        pii: true,
        weight: 3,
    },
];

pub const ENVIRONMENTS: &[(&str, u32)] = &[
    ("production", 38),
    ("staging", 24),
    ("development", 14),
    ("eu-production", 10),
    ("qa", 8),
    ("sandbox", 6),
];

pub const REGIONS: &[&str] = &["eu-west-1", "us-east-1", "ap-southeast-2", "eu-central-1"];

pub struct RequesterSpec {
    pub kind: RequesterKind,
    pub id: &'static str,
    pub display_name: &'static str,
    pub model: Option<&'static str>,
}

const fn agent(id: &'static str, name: &'static str, model: &'static str) -> RequesterSpec {
    RequesterSpec {
        kind: RequesterKind::Agent,
        id,
        display_name: name,
        model: Some(model),
    }
}

const fn other(kind: RequesterKind, id: &'static str, name: &'static str) -> RequesterSpec {
    RequesterSpec {
        kind,
        id,
        display_name: name,
        model: None,
    }
}

pub const REQUESTERS: &[RequesterSpec] = &[
    agent("agent-data-assistant", "Data assistant", "claude-opus-4"),
    agent("agent-infra-copilot", "Infra copilot", "claude-sonnet-4.5"),
    agent("agent-release-bot", "Release bot", "gpt-5"),
    agent("agent-support-triage", "Support triage", "claude-haiku-4.5"),
    agent("agent-finops", "FinOps optimiser", "gemini-2.5-pro"),
    agent("agent-sec-responder", "Security responder", "claude-opus-4"),
    other(
        RequesterKind::Pipeline,
        "gha:payments/deploy",
        "GitHub Actions · payments/deploy",
    ),
    other(
        RequesterKind::Pipeline,
        "gitlab:platform/terraform",
        "GitLab CI · platform/terraform",
    ),
    other(
        RequesterKind::Pipeline,
        "argo:checkout-rollouts",
        "Argo Rollouts · checkout",
    ),
    other(
        RequesterKind::Pipeline,
        "jenkins:billing-nightly",
        "Jenkins · billing-nightly",
    ),
    other(
        RequesterKind::Human,
        "kenji.watanabe@example.com",
        "Kenji Watanabe",
    ),
    other(RequesterKind::Human, "zoe.muller@example.com", "Zoë Müller"),
];

/// Approvers (email subject, display name); also the people agents act for.
pub const PEOPLE: &[&str] = &[
    "maria.garcia@example.com",
    "li.wei@example.com",
    "amara.okafor@example.com",
    "jose.alvarez@example.com",
    "priya.natarajan@example.com",
    "tom.becker@example.com",
    "fatima.haddad@example.com",
    "oleksandr.kovalenko@example.com",
    "sakura.ito@example.com",
    "lucas.silva@example.com",
    "ingrid.johansson@example.com",
    "david.cohen@example.com",
    "aisha.bello@example.com",
    "noah.martin@example.com",
    "emma.dubois@example.com",
    "raj.patel@example.com",
    "hannah.schmidt@example.com",
    "mateo.rossi@example.com",
];

pub const APPROVE_REASONS: &[&str] = &[
    "Matches {ticket}; change window is open",
    "Reviewed the diff, scoped to {res} only",
    "LGTM, rollback plan is in {ticket}",
    "Approved for incident {inc}",
    "Checked with the owning team on Slack, low blast radius",
    "Expected per runbook RB-{n}",
    "Customer escalation {ticket}; one-off, approved",
    "Plan output matches the PR",
    "ok",
    "Verified the replica count against the capacity sheet",
    "Needed to unblock the release train",
];

pub const DENY_REASONS: &[&str] = &[
    "No ticket referenced",
    "Outside the change window (freeze until Monday)",
    "Blast radius too large: touches all of {res}",
    "Export includes PII columns; use the anonymised view instead",
    "Wrong environment, run it in staging first",
    "Command differs from the plan attached to {ticket}",
    "Requester is not on the owning team",
    "Duplicate of an action approved 5 minutes ago",
    "Hidden characters in the command; escalating to security",
    "Needs a second pair of eyes from the DBA on call",
];

pub const JUSTIFICATIONS: &[&str] = &[
    "Requested in {ticket}",
    "On-call runbook step 3 for {inc}",
    "Scheduled maintenance, see the change calendar",
    "Customer-facing latency regression since v{ver}",
    "Quarterly access review follow-up",
];

pub const EXEC_DETAILS: &[&str] = &[
    "completed in {n} ms",
    "3 rows affected",
    "Apply complete! Resources: {n} added, 2 changed, 0 destroyed.",
    "rollout status: successfully rolled out",
];
