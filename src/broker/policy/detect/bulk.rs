//! Bulk size: many rows or many resources (from the agent's context entries or a
//! terraform plan line), or a diff that changes many lines. Thresholds are configurable.

use std::collections::HashMap;

use super::{find_word, join_findings, quote, tag};
use crate::protocol::{ActionRequest, Change, RiskTag};

/// Thresholds and the context keys that carry counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkConfig {
    pub rows: u64,
    pub resources: u64,
    pub diff_lines: u64,
    /// Context keys holding a row count (compared case-insensitively, `-` as `_`).
    pub row_keys: Vec<String>,
    /// Context keys holding a count of resources, objects or hosts.
    pub resource_keys: Vec<String>,
}

impl Default for BulkConfig {
    fn default() -> Self {
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect();
        Self {
            rows: 10_000,
            resources: 50,
            diff_lines: 500,
            row_keys: keys(&[
                "rows",
                "row_count",
                "rows_affected",
                "estimated_rows",
                "records",
                "record_count",
            ]),
            resource_keys: keys(&[
                "resources",
                "resource_count",
                "objects",
                "object_count",
                "instances",
                "hosts",
                "pods",
                "users",
            ]),
        }
    }
}

/// A count as agents write it: `1200000`, `1,200,000`, `1_200_000`, `~1.2M`, `15k`.
pub fn parse_count(s: &str) -> Option<u64> {
    let s = s.trim().trim_start_matches(['~', '≈', '>']).trim();
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    let (num, mult) = match cleaned.chars().last()?.to_ascii_lowercase() {
        'k' => (&cleaned[..cleaned.len() - 1], 1e3),
        'm' => (&cleaned[..cleaned.len() - 1], 1e6),
        'b' => (&cleaned[..cleaned.len() - 1], 1e9),
        _ => (cleaned.as_str(), 1.0),
    };
    if mult == 1.0 {
        return num.parse().ok();
    }
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * mult).round() as u64)
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Lines a change adds or removes: `+`/`-` lines of a unified diff (not the `+++`/`---`
/// headers), or for two documents the lines of each that the other lacks (counted as a
/// multiset, in linear time, so a 1 MiB change costs no more than reading it).
pub fn changed_lines(change: &Change) -> u64 {
    match change {
        Change::UnifiedDiff { diff } => diff
            .lines()
            .filter(|l| {
                (l.starts_with('+') && !l.starts_with("+++"))
                    || (l.starts_with('-') && !l.starts_with("---"))
            })
            .count() as u64,
        Change::BeforeAfter { before, after, .. } => {
            let mut counts: HashMap<&str, i64> = HashMap::new();
            for l in before.lines() {
                *counts.entry(l).or_default() += 1;
            }
            for l in after.lines() {
                *counts.entry(l).or_default() -= 1;
            }
            counts.values().map(|v| v.unsigned_abs()).sum()
        }
    }
}

/// The resources a terraform plan line touches: `Plan: 3 to add, 1 to change, 120 to destroy.`
pub fn terraform_plan(text: &str) -> Option<(u64, String)> {
    let lower = text.to_ascii_lowercase();
    let at = find_word(&lower, "plan:")?;
    let line = lower[at + 5..].lines().next()?.trim().trim_end_matches('.');
    let mut total = 0u64;
    for part in line.split(',') {
        let mut words = part.split_whitespace();
        let n: u64 = words.next()?.parse().ok()?;
        if words.next()? != "to" {
            return None;
        }
        total = total.saturating_add(n);
    }
    Some((total, line.to_string()))
}

fn key_in(key: &str, keys: &[String]) -> bool {
    let k = key.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    keys.iter().any(|want| want.eq_ignore_ascii_case(&k))
}

/// Tags requests over any threshold; each finding quotes the count and the threshold.
pub fn bulk(req: &ActionRequest, cfg: &BulkConfig) -> Option<RiskTag> {
    let mut findings = Vec::new();
    for c in &req.context {
        let limit = if key_in(&c.key, &cfg.row_keys) {
            cfg.rows
        } else if key_in(&c.key, &cfg.resource_keys) {
            cfg.resources
        } else {
            continue;
        };
        if let Some(n) = parse_count(&c.value)
            && n >= limit
        {
            findings.push(format!(
                "context {} is {} (threshold {})",
                quote(&c.key),
                thousands(n),
                thousands(limit)
            ));
        }
    }
    let mut plan_texts: Vec<&str> = vec![&req.summary];
    if let Some(Change::UnifiedDiff { diff }) = &req.change {
        plan_texts.push(diff);
    }
    if let Some((n, line)) = plan_texts.iter().find_map(|t| terraform_plan(t))
        && n >= cfg.resources
    {
        findings.push(format!(
            "terraform plan touches {} resources ({line}; threshold {})",
            thousands(n),
            thousands(cfg.resources)
        ));
    }
    if let Some(change) = &req.change {
        let n = changed_lines(change);
        if n >= cfg.diff_lines {
            findings.push(format!(
                "change touches {} lines (threshold {})",
                thousands(n),
                thousands(cfg.diff_lines)
            ));
        }
    }
    (!findings.is_empty()).then(|| tag("bulk", join_findings(&findings, 3)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ContextEntry;

    fn req(context: &[(&str, &str)], change: Option<Change>) -> ActionRequest {
        let mut r: ActionRequest = serde_json::from_value(serde_json::json!({
            "kind": "db.update",
            "summary": "Backfill",
            "requester": {"kind": "agent", "id": "a", "display_name": "A"},
            "target": {"system": "postgres", "resource": "orders", "environment": "prod"},
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        r.context = context
            .iter()
            .map(|(k, v)| ContextEntry {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect();
        r.change = change;
        r
    }

    #[test]
    fn counts_as_written() {
        assert_eq!(parse_count("1,200,000"), Some(1_200_000));
        assert_eq!(parse_count("~1.2M"), Some(1_200_000));
        assert_eq!(parse_count("15k"), Some(15_000));
        assert_eq!(parse_count(" 42 "), Some(42));
        assert_eq!(parse_count("many"), None);
        assert_eq!(parse_count(""), None);
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn rows_and_resources_from_context() {
        let cfg = BulkConfig::default();
        let r = req(
            &[("Rows-Affected", "1,200,000"), ("ticket", "99999999")],
            None,
        );
        let t = bulk(&r, &cfg).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "context \"Rows-Affected\" is 1,200,000 (threshold 10,000)"
        );
        assert_eq!(bulk(&req(&[("rows", "9999")], None), &cfg), None);
        let t = bulk(&req(&[("pods", "50")], None), &cfg).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.reason, "context \"pods\" is 50 (threshold 50)");
    }

    #[test]
    fn terraform_plan_counts_resources() {
        let diff = "  # aws_instance.web[0] will be destroyed\n\nPlan: 0 to add, 2 to change, 60 to destroy.\n";
        assert_eq!(
            terraform_plan(diff),
            Some((62, "0 to add, 2 to change, 60 to destroy".into()))
        );
        let r = req(&[], Some(Change::UnifiedDiff { diff: diff.into() }));
        let t = bulk(&r, &BulkConfig::default()).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "terraform plan touches 62 resources (0 to add, 2 to change, 60 to destroy; threshold 50)"
        );
        assert_eq!(terraform_plan("the plan: nothing"), None);
    }

    #[test]
    fn large_diffs() {
        let mut diff = String::from("--- a\n+++ b\n@@ -1,300 +1,300 @@\n");
        for i in 0..300 {
            diff.push_str(&format!("-old {i}\n+new {i}\n"));
        }
        let change = Change::UnifiedDiff { diff };
        assert_eq!(changed_lines(&change), 600);
        let t = bulk(&req(&[], Some(change)), &BulkConfig::default())
            .unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.reason, "change touches 600 lines (threshold 500)");
        let ba = Change::BeforeAfter {
            path: None,
            before: "a\nb\nb\nc\n".into(),
            after: "a\nb\nd\n".into(),
        };
        assert_eq!(changed_lines(&ba), 3);
    }
}
