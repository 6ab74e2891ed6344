//! Network exposure: a change or command that opens something to the whole internet —
//! a security group or firewall rule admitting `0.0.0.0/0` or `::/0`, an Azure rule from
//! `*` or `Internet`. Outbound rules (egress) to anywhere are the norm and stay quiet.

use super::infra::{Line, assignment, read_change};
use super::{command_text, join_findings, quote, tag};
use crate::protocol::{ActionRequest, RiskTag};

/// Addresses that mean "anyone".
const ANYWHERE: &[&str] = &["0.0.0.0/0", "::/0"];
/// Azure's source prefixes that mean "anyone".
const AZURE_SOURCE_KEYS: &[&str] = &["source_address_prefix", "source_address_prefixes"];
const AZURE_ANYONE: &[&str] = &["*", "internet", "any", "0.0.0.0/0"];

/// The address in `text` that means anyone, when there is one.
fn anywhere(text: &str) -> Option<&'static str> {
    ANYWHERE.iter().copied().find(|a| {
        text.match_indices(a).any(|(at, _)| {
            // Not part of a longer address (`10.0.0.0/0` is odd but not "anywhere" here,
            // `fe80::/0` neither): the byte before must not be part of an address.
            let before = text[..at].chars().next_back();
            before.is_none_or(|c| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        })
    })
}

/// True for a line inside an outbound rule.
fn outbound(line: &Line, egress_resources: &[String]) -> bool {
    line.within("egress")
        || line
            .resource
            .as_ref()
            .is_some_and(|r| r.contains("egress") || egress_resources.contains(r))
}

/// Resources that are outbound rules as a whole (`type = "egress"`, `direction = "Outbound"`).
fn egress_resources(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| {
            assignment(&l.after()).is_some_and(|(k, v)| {
                let v = v.to_ascii_lowercase();
                (k == "type" && v == "egress")
                    || (k == "direction" && (v == "egress" || v == "outbound"))
            })
        })
        .filter_map(|l| l.resource.clone())
        .collect()
}

/// A plan's bare list element (`"0.0.0.0/0",`) reads better with its key around it.
pub fn shown(line: &Line, text: &str) -> String {
    match line.blocks.last() {
        Some(key) if text.starts_with('"') => {
            format!("{key} = [{}]", text.trim_end_matches(',').trim())
        }
        _ => text.to_string(),
    }
}

/// Rules and commands that admit traffic from anywhere.
pub fn network_exposure(req: &ActionRequest) -> Option<RiskTag> {
    let mut findings = Vec::new();
    if let Some(reading) = read_change(req) {
        let egress = egress_resources(&reading.lines);
        for line in reading.lines.iter().filter(|l| l.is_new()) {
            if outbound(line, &egress) {
                continue;
            }
            let text = line.after();
            let what = anywhere(&text).or_else(|| {
                let (k, v) = assignment(&text)?;
                let anyone = AZURE_SOURCE_KEYS.contains(&k.as_str())
                    && AZURE_ANYONE.contains(
                        &v.trim_matches(['[', ']', '"'])
                            .to_ascii_lowercase()
                            .as_str(),
                    );
                anyone.then_some("anyone")
            });
            if let Some(what) = what {
                let on = line
                    .resource
                    .as_deref()
                    .map_or_else(|| "a rule".to_string(), |r| r.to_string());
                findings.push(format!(
                    "{on} admits {what}: {}",
                    quote(&shown(line, &text))
                ));
            }
        }
    }
    if let Some(cmd) = command_text(req) {
        let lower = cmd.to_ascii_lowercase();
        let outbound = lower.contains("egress") || lower.contains("direction=out");
        if let Some(what) = anywhere(&cmd).filter(|_| !outbound) {
            findings.push(format!("command admits {what}: {}", quote(&cmd)));
        }
    }
    findings.dedup();
    (!findings.is_empty()).then(|| tag("network-exposure", join_findings(&findings, 3)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Change;

    fn req(change: Option<&str>, command: Option<&str>) -> ActionRequest {
        let mut v = serde_json::json!({
            "kind": "terraform.apply",
            "summary": "Apply network changes",
            "requester": {"kind": "pipeline", "id": "ci", "display_name": "CI"},
            "target": {"system": "terraform", "resource": "envs/prod", "environment": "production"},
        });
        if let Some(c) = command {
            v["command"] = serde_json::json!({"type": "text", "text": c});
        }
        let mut r: ActionRequest = serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"));
        r.change = change.map(|d| Change::UnifiedDiff { diff: d.into() });
        r
    }

    /// `terraform show -no-color tfplan` of a security group opened for a migration.
    const PLAN_OPEN_SG: &str = r#"
Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  ~ update in-place

Terraform will perform the following actions:

  # aws_security_group.db will be updated in-place
  ~ resource "aws_security_group" "db" {
        id                     = "sg-0a1b2c3d4e5f60718"
      ~ ingress                = [
          - {
              - cidr_blocks      = [
                  - "10.20.0.0/16",
                ]
              - description      = "Postgres from app subnets"
              - from_port        = 5432
              - protocol         = "tcp"
              - to_port          = 5432
            },
          + {
              + cidr_blocks      = [
                  + "0.0.0.0/0",
                ]
              + description      = "Postgres from anywhere (temporary)"
              + from_port        = 5432
              + ipv6_cidr_blocks = [
                  + "::/0",
                ]
              + protocol         = "tcp"
              + to_port          = 5432
            },
        ]
        name                   = "db"
        # (8 unchanged attributes hidden)
    }

Plan: 0 to add, 1 to change, 0 to destroy.
"#;

    #[test]
    fn a_plan_opening_a_security_group_to_the_world_is_tagged() {
        let t =
            network_exposure(&req(Some(PLAN_OPEN_SG), None)).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.id, "network-exposure");
        assert_eq!(
            t.reason,
            "aws_security_group.db admits 0.0.0.0/0: \"cidr_blocks = [\"0.0.0.0/0\"]\"; \
             aws_security_group.db admits ::/0: \"ipv6_cidr_blocks = [\"::/0\"]\""
        );
    }

    /// Egress to anywhere is every default security group: not a finding.
    const PLAN_EGRESS: &str = r#"
  # aws_security_group.web will be created
  + resource "aws_security_group" "web" {
      + egress                 = [
          + {
              + cidr_blocks      = [
                  + "0.0.0.0/0",
                ]
              + from_port        = 0
              + protocol         = "-1"
            },
        ]
      + ingress                = [
          + {
              + cidr_blocks      = [
                  + "10.0.0.0/8",
                ]
            },
        ]
    }

  # aws_security_group_rule.out will be created
  + resource "aws_security_group_rule" "out" {
      + cidr_blocks       = [
          + "0.0.0.0/0",
        ]
      + type              = "egress"
    }
"#;

    #[test]
    fn outbound_rules_to_anywhere_stay_quiet() {
        assert_eq!(network_exposure(&req(Some(PLAN_EGRESS), None)), None);
    }

    #[test]
    fn the_demo_terraform_diff_is_tagged() {
        let sample = crate::demo::samples::samples(crate::protocol::Timestamp::now(), 1)
            .into_iter()
            .find(|r| r.kind == "terraform.apply")
            .unwrap_or_else(|| panic!("no terraform sample"));
        let t = network_exposure(&sample).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "aws_security_group.db admits 0.0.0.0/0: \"cidr_blocks = [\"0.0.0.0/0\"]\""
        );
    }

    #[test]
    fn firewall_rules_from_gcp_and_azure_and_cli_commands() {
        let gcp = "@@ -1,4 +1,4 @@ resource \"google_compute_firewall\" \"ssh\" {\n   direction = \"INGRESS\"\n-  source_ranges = [\"35.235.240.0/20\"]\n+  source_ranges = [\"0.0.0.0/0\"]\n }\n";
        let t = network_exposure(&req(Some(gcp), None)).unwrap_or_else(|| panic!("no tag"));
        assert!(
            t.reason
                .starts_with("google_compute_firewall.ssh admits 0.0.0.0/0"),
            "{}",
            t.reason
        );
        let azure = "@@ -1,3 +1,3 @@ resource \"azurerm_network_security_rule\" \"rdp\" {\n-  source_address_prefix = \"10.0.0.0/8\"\n+  source_address_prefix = \"*\"\n }\n";
        let t = network_exposure(&req(Some(azure), None)).unwrap_or_else(|| panic!("no tag"));
        assert!(
            t.reason
                .starts_with("azurerm_network_security_rule.rdp admits anyone"),
            "{}",
            t.reason
        );
        let cmd = "aws ec2 authorize-security-group-ingress --group-id sg-1 --protocol tcp --port 22 --cidr 0.0.0.0/0";
        let t = network_exposure(&req(None, Some(cmd))).unwrap_or_else(|| panic!("no tag"));
        assert!(
            t.reason.starts_with("command admits 0.0.0.0/0"),
            "{}",
            t.reason
        );
        let out = "aws ec2 authorize-security-group-egress --group-id sg-1 --cidr 0.0.0.0/0";
        assert_eq!(network_exposure(&req(None, Some(out))), None);
    }

    #[test]
    fn closing_a_rule_or_private_ranges_stay_quiet() {
        let closing = "@@ -1,3 +1,3 @@ resource \"aws_security_group\" \"db\" {\n   ingress {\n-    cidr_blocks = [\"0.0.0.0/0\"]\n+    cidr_blocks = [\"10.0.0.0/8\"]\n   }\n";
        assert_eq!(network_exposure(&req(Some(closing), None)), None);
        assert_eq!(anywhere("cidr = \"10.0.0.0/0\""), None);
        assert_eq!(anywhere("fe80::/0"), None);
        assert_eq!(anywhere("[\"::/0\"]"), Some("::/0"));
    }
}
