//! Detectors over what the action says it will do: destructive verbs and privilege
//! escalation, found in the kind, summary, command and the lines a change adds.

use super::{added_text, command_text, first_pattern, join_findings, quote, tag};
use crate::protocol::{ActionRequest, RiskTag};

/// Destructive verbs and commands, most specific first so the reason names the command
/// (`kubectl delete`) rather than the bare verb.
pub const DESTRUCTIVE: &[&str] = &[
    "kubectl delete",
    "terraform destroy",
    "helm uninstall",
    "helm delete",
    "rm -rf",
    "rm -fr",
    "rm -r",
    "rm --recursive",
    "drop table",
    "drop database",
    "drop schema",
    "truncate table",
    "delete from",
    "git push --force",
    "git push -f",
    "aws s3 rm",
    "aws s3 rb",
    "dropdb",
    "mkfs",
    "drop",
    "truncate",
    "delete",
    "destroy",
    "purge",
    "wipe",
    "terminate",
];

/// Roles and grants that hand out broad power.
pub const PRIVILEGE: &[&str] = &[
    "administratoraccess",
    "cluster-admin",
    "roles/owner",
    "roles/editor",
    "iam:passrole",
    "grant all",
    "with grant option",
    "superuser",
    "nopasswd",
    "administrator",
    "admin",
    "owner",
];

/// Destructive verbs in the kind, summary or command.
pub fn destructive(req: &ActionRequest, patterns: &[String]) -> Option<RiskTag> {
    let mut fields: Vec<(&str, String)> =
        vec![("kind", req.kind.clone()), ("summary", req.summary.clone())];
    if let Some(cmd) = command_text(req) {
        fields.push(("command", cmd));
    }
    let findings: Vec<String> = fields
        .iter()
        .filter_map(|(name, text)| {
            first_pattern(text, patterns).map(|p| format!("{name} contains {}", quote(p)))
        })
        .collect();
    (!findings.is_empty()).then(|| tag("destructive", join_findings(&findings, 3)))
}

/// Admin or owner roles, broad managed policies and `*` wildcard permissions in the
/// summary, the command or what the change adds.
pub fn privilege(req: &ActionRequest, patterns: &[String]) -> Option<RiskTag> {
    let mut fields: Vec<(&str, String)> = vec![("summary", req.summary.clone())];
    if let Some(cmd) = command_text(req) {
        fields.push(("command", cmd));
    }
    if let Some(change) = &req.change {
        fields.push(("change", added_text(change)));
    }
    let mut findings = Vec::new();
    for (name, text) in &fields {
        if let Some(p) = first_pattern(text, patterns) {
            findings.push(format!("{name} contains {}", quote(p)));
        } else if let Some(line) = wildcard_line(text) {
            findings.push(format!(
                "{name} grants a \"*\" wildcard permission: {}",
                quote(line.trim())
            ));
        }
    }
    (!findings.is_empty()).then(|| tag("privilege-escalation", join_findings(&findings, 3)))
}

/// The first line holding a wildcard permission: a quoted lone `"*"` (IAM `Action`,
/// Kubernetes `verbs`) or a service wildcard like `s3:*`. A bare `*` in `SELECT *` or a
/// shell glob (`*.log`) is not one.
pub fn wildcard_line(text: &str) -> Option<&str> {
    text.lines().find(|line| {
        let b = line.as_bytes();
        b.iter().enumerate().any(|(i, &c)| {
            if c != b'*' || i == 0 {
                return false;
            }
            let prev = b[i - 1];
            let next = b.get(i + 1).copied();
            match prev {
                b'"' | b'\'' => next == Some(prev),
                b':' => next.is_none_or(|n| !(n.is_ascii_alphanumeric() || n == b'_')),
                _ => false,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::normalise;
    use super::*;
    use crate::protocol::{Change, Command};

    fn req() -> ActionRequest {
        serde_json::from_value(serde_json::json!({
            "kind": "k8s.scale",
            "summary": "Scale payments",
            "requester": {"kind": "agent", "id": "a", "display_name": "A"},
            "target": {"system": "k8s", "resource": "payments", "environment": "staging"},
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn d() -> Vec<String> {
        normalise(DESTRUCTIVE.iter().map(|s| s.to_string()))
    }
    fn p() -> Vec<String> {
        normalise(PRIVILEGE.iter().map(|s| s.to_string()))
    }

    #[test]
    fn destructive_names_the_most_specific_command() {
        let mut r = req();
        r.command = Some(Command::Argv {
            argv: ["kubectl", "delete", "deployment", "x"]
                .map(String::from)
                .to_vec(),
        });
        let t = destructive(&r, &d()).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.id, "destructive");
        assert_eq!(t.reason, "command contains \"kubectl delete\"");
    }

    #[test]
    fn destructive_in_kind_summary_and_sql() {
        let mut r = req();
        r.kind = "db.drop".into();
        r.summary = "Clean up".into();
        r.command = Some(Command::Text {
            text: "DROP TABLE customers;".into(),
        });
        let t = destructive(&r, &d()).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "kind contains \"drop\"; command contains \"DROP TABLE\""
        );
        r.command = Some(Command::Text {
            text: "rm -rf /var/lib/app".into(),
        });
        r.kind = "host.exec".into();
        let t = destructive(&r, &d()).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.reason, "command contains \"rm -rf\"");
    }

    #[test]
    fn destructive_ignores_lookalikes() {
        let mut r = req();
        r.summary = "Show deleted_at column in dropdown".into();
        r.command = Some(Command::Text {
            text: "SELECT deleted_at FROM t".into(),
        });
        assert_eq!(destructive(&r, &d()), None);
    }

    #[test]
    fn privilege_in_command_and_diff() {
        let mut r = req();
        r.command = Some(Command::Text {
            text: "aws iam attach-role-policy --policy-arn arn:aws:iam::aws:policy/AdministratorAccess".into(),
        });
        let t = privilege(&r, &p()).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.reason, "command contains \"AdministratorAccess\"");

        let mut r = req();
        r.change = Some(Change::UnifiedDiff {
            diff: "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-  verbs: [\"get\"]\n+  verbs: [\"*\"]\n".into(),
        });
        let t = privilege(&r, &p()).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "change grants a \"*\" wildcard permission: \"verbs: [\"*\"]\""
        );
    }

    #[test]
    fn removing_admin_is_not_escalation() {
        let mut r = req();
        r.change = Some(Change::UnifiedDiff {
            diff: "--- a\n+++ b\n@@ -1 +1 @@\n-role: cluster-admin\n+role: view\n".into(),
        });
        assert_eq!(privilege(&r, &p()), None);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_line("{\"Action\": \"*\"}").is_some());
        assert!(wildcard_line("Action: s3:*").is_some());
        assert!(wildcard_line("\"Action\": \"s3:*\"").is_some());
        assert!(wildcard_line("SELECT * FROM t").is_none());
        assert!(wildcard_line("rm *.log").is_none());
        assert!(wildcard_line("a:*b").is_none());
    }
}
