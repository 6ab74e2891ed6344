//! Public data: a change or command that makes stored data readable by anyone, or takes
//! away what keeps it private or accountable — public ACLs and `Principal: "*"` policies,
//! `allUsers` members, a removed S3 public-access block, and encryption or logging
//! switched off or deleted.

use super::infra::{Line, Mark, assignment, read_change};
use super::network::shown;
use super::{command_text, join_findings, quote, tag};
use crate::protocol::{ActionRequest, RiskTag};

/// ACL values that grant reading to everyone.
const PUBLIC_ACLS: &[&str] = &["public-read", "public-read-write", "authenticated-read"];
/// Members that mean everyone (GCP IAM).
const PUBLIC_MEMBERS: &[&str] = &["allusers", "allauthenticatedusers"];
/// Keys of an S3 public-access block: each `false` lets public access back in.
const ACCESS_BLOCK_KEYS: &[&str] = &[
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
    "blockpublicacls",
    "blockpublicpolicy",
    "ignorepublicacls",
    "restrictpublicbuckets",
];
/// Switches that turn encryption off when `false`.
const ENCRYPTION_KEYS: &[&str] = &[
    "encrypted",
    "storage_encrypted",
    "kms_encrypted",
    "enable_encryption",
    "encryption_enabled",
    "at_rest_encryption_enabled",
    "transit_encryption_enabled",
    "enable_https_traffic_only",
    "https_traffic_only_enabled",
];
/// Switches that turn logging or auditing off when `false`.
const LOGGING_KEYS: &[&str] = &[
    "enable_logging",
    "logging_enabled",
    "enable_log_file_validation",
    "is_logging",
    "access_logs_enabled",
];
/// Keys whose `true` makes stored data public (Azure containers and accounts).
const PUBLIC_SWITCHES: &[&str] = &[
    "allow_nested_items_to_be_public",
    "allow_blob_public_access",
    "publicly_accessible",
];
/// Commands that do the same from a shell.
const COMMANDS: &[(&str, &str)] = &[
    (
        "delete-public-access-block",
        "removes a public-access block",
    ),
    ("delete-bucket-encryption", "removes bucket encryption"),
    ("stop-logging", "stops audit logging"),
    ("delete-trail", "deletes an audit trail"),
    ("--acl public-read", "sets a public ACL"),
    ("allusers", "grants access to allUsers"),
    ("--no-encrypted", "turns encryption off"),
];

/// What a deleted resource of this type takes away, if anything.
fn deleted(kind: &str) -> Option<&'static str> {
    let k = kind.to_ascii_lowercase();
    if k.contains("public_access_block") {
        Some("public-access block removed")
    } else if k.contains("encryption") {
        Some("encryption configuration removed")
    } else if k.contains("logging") || k.contains("cloudtrail") || k.contains("flow_log") {
        Some("logging removed")
    } else {
        None
    }
}

/// What one new line does, if it makes data public or unprotected.
fn finding(line: &Line) -> Option<&'static str> {
    let text = line.after();
    let lower = text.to_ascii_lowercase();
    if PUBLIC_MEMBERS.iter().any(|m| lower.contains(m)) {
        return Some("grants access to everyone");
    }
    let compact: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.contains("\"principal\":\"*\"")
        || compact.contains("principal=\"*\"")
        || compact.contains("\"aws\":\"*\"")
    {
        return Some("policy allows any principal");
    }
    let (key, value) = assignment(&text)?;
    let value = value.to_ascii_lowercase();
    let key = key.as_str();
    if (key == "acl" || key == "canned_acl" || key == "predefined_acl")
        && PUBLIC_ACLS.contains(&value.as_str())
    {
        return Some("public ACL");
    }
    if key == "container_access_type" && (value == "blob" || value == "container") {
        return Some("public container");
    }
    if value == "true" && PUBLIC_SWITCHES.contains(&key) {
        return Some("public access allowed");
    }
    if value != "false" {
        return None;
    }
    if ACCESS_BLOCK_KEYS.contains(&key) {
        Some("public-access block turned off")
    } else if ENCRYPTION_KEYS.contains(&key) {
        Some("encryption turned off")
    } else if LOGGING_KEYS.contains(&key) {
        Some("logging turned off")
    } else {
        None
    }
}

/// Changes and commands that make data public or strip its protection.
pub fn public_data(req: &ActionRequest) -> Option<RiskTag> {
    let mut findings = Vec::new();
    if let Some(reading) = read_change(req) {
        for d in &reading.destroyed {
            if let Some(what) = deleted(&d.kind) {
                findings.push(format!("{}: {what}", d.address));
            }
        }
        for line in &reading.lines {
            if line.mark == Mark::Removed || !line.is_new() {
                continue;
            }
            if let Some(what) = finding(line) {
                let on = line.resource.as_deref().unwrap_or("change");
                findings.push(format!(
                    "{on}: {what} ({})",
                    quote(&shown(line, &line.after()))
                ));
            }
        }
    }
    if let Some(cmd) = command_text(req) {
        let lower = cmd.to_ascii_lowercase();
        if let Some((_, what)) = COMMANDS.iter().find(|(c, _)| lower.contains(c)) {
            findings.push(format!("command {what}: {}", quote(&cmd)));
        }
    }
    findings.dedup();
    (!findings.is_empty()).then(|| tag("public-data", join_findings(&findings, 3)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Change;

    fn req(change: Option<&str>, command: Option<&str>) -> ActionRequest {
        let mut v = serde_json::json!({
            "kind": "terraform.apply",
            "summary": "Apply storage changes",
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

    /// `terraform show -no-color tfplan`: a bucket made public, its access block and
    /// encryption deleted, a trail's logging and an RDS instance's encryption switched off.
    const PLAN: &str = r#"
Terraform will perform the following actions:

  # aws_s3_bucket_acl.invoices will be updated in-place
  ~ resource "aws_s3_bucket_acl" "invoices" {
      ~ acl    = "private" -> "public-read"
        id     = "acme-invoices-prod,private"
        # (1 unchanged attribute hidden)
    }

  # aws_s3_bucket_public_access_block.invoices will be destroyed
  - resource "aws_s3_bucket_public_access_block" "invoices" {
      - block_public_acls       = true -> null
      - block_public_policy     = true -> null
      - bucket                  = "acme-invoices-prod" -> null
      - ignore_public_acls      = true -> null
      - restrict_public_buckets = true -> null
    }

  # aws_s3_bucket_server_side_encryption_configuration.invoices will be destroyed
  - resource "aws_s3_bucket_server_side_encryption_configuration" "invoices" {
      - bucket = "acme-invoices-prod" -> null
    }

  # aws_cloudtrail.main will be updated in-place
  ~ resource "aws_cloudtrail" "main" {
      ~ enable_logging = true -> false
        name           = "main"
    }

Plan: 0 to add, 2 to change, 2 to destroy.
"#;

    #[test]
    fn a_plan_making_a_bucket_public_is_tagged_with_each_finding() {
        let t = public_data(&req(Some(PLAN), None)).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.id, "public-data");
        assert_eq!(
            t.reason,
            "aws_s3_bucket_public_access_block.invoices: public-access block removed; \
             aws_s3_bucket_server_side_encryption_configuration.invoices: encryption \
             configuration removed; aws_s3_bucket_acl.invoices: public ACL \
             (\"acl = \"public-read\"\"); and 1 more"
        );
    }

    #[test]
    fn the_demo_terraform_diff_flags_the_removed_access_block() {
        let sample = crate::demo::samples::samples(crate::protocol::Timestamp::now(), 1)
            .into_iter()
            .find(|r| r.kind == "terraform.apply")
            .unwrap_or_else(|| panic!("no terraform sample"));
        let t = public_data(&sample).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "aws_s3_bucket_public_access_block.invoices: public-access block removed"
        );
    }

    #[test]
    fn diffs_policies_members_and_commands() {
        let policy = "@@ -1,4 +1,4 @@ resource \"aws_s3_bucket_policy\" \"p\" {\n-      \"Principal\": {\"AWS\": \"arn:aws:iam::1:root\"},\n+      \"Principal\": \"*\",\n";
        let t = public_data(&req(Some(policy), None)).unwrap_or_else(|| panic!("no tag"));
        assert!(
            t.reason
                .contains("aws_s3_bucket_policy.p: policy allows any principal"),
            "{}",
            t.reason
        );
        let gcs = "+  member = \"allUsers\"\n";
        assert!(public_data(&req(Some(gcs), None)).is_some());
        let rds = "@@ -1,3 +1,3 @@ resource \"aws_db_instance\" \"a\" {\n-  storage_encrypted = true\n+  storage_encrypted = false\n";
        let t = public_data(&req(Some(rds), None)).unwrap_or_else(|| panic!("no tag"));
        assert!(
            t.reason
                .contains("aws_db_instance.a: encryption turned off"),
            "{}",
            t.reason
        );
        let cmd = "aws s3api delete-public-access-block --bucket acme-invoices-prod";
        let t = public_data(&req(None, Some(cmd))).unwrap_or_else(|| panic!("no tag"));
        assert!(
            t.reason
                .starts_with("command removes a public-access block"),
            "{}",
            t.reason
        );
    }

    #[test]
    fn making_things_private_stays_quiet() {
        let private = "@@ -1,3 +1,3 @@ resource \"aws_s3_bucket_acl\" \"a\" {\n-  acl = \"public-read\"\n+  acl = \"private\"\n";
        assert_eq!(public_data(&req(Some(private), None)), None);
        let adding = "+resource \"aws_s3_bucket_public_access_block\" \"a\" {\n+  block_public_acls = true\n+}\n";
        assert_eq!(public_data(&req(Some(adding), None)), None);
        assert_eq!(public_data(&req(None, Some("aws s3 ls s3://bucket"))), None);
    }
}
