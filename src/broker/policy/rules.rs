//! Policy rules: `[[rule]]` tables that match requests by kind, environment, system,
//! resource, requester (globs) and by which detectors fired, and then add tags and score,
//! raise the level, and set quorum, approver groups and time to live.

use serde::Deserialize;
use toml::Value;

use super::detect::BUILTIN_TAGS;
use super::glob::Patterns;
use super::values::{check_groups, check_tag_id, duration, string_list};
use crate::protocol::{ActionRequest, RiskLevel, RiskTag};

/// Most approvals a rule may require.
pub const MAX_APPROVALS: u32 = 10;

/// A `[[rule]]` table as written. Unknown keys are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    description: Option<String>,
    kind: Option<Value>,
    environment: Option<Value>,
    system: Option<Value>,
    resource: Option<Value>,
    requester: Option<Value>,
    with_tags: Option<Value>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    score: u32,
    level: Option<String>,
    approvals_required: Option<u32>,
    approver_groups: Option<Vec<String>>,
    distinct_groups: Option<bool>,
    ttl: Option<Value>,
    max_ttl: Option<Value>,
    confirm: Option<String>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    /// Shown in the reason of the tags the rule adds.
    pub description: Option<String>,
    kind: Option<Patterns>,
    environment: Option<Patterns>,
    system: Option<Patterns>,
    resource: Option<Patterns>,
    requester: Option<Patterns>,
    with_tags: Vec<String>,
    pub tags: Vec<String>,
    pub score: u32,
    pub level: Option<RiskLevel>,
    pub approvals_required: Option<u32>,
    pub approver_groups: Option<Vec<String>>,
    /// Each approval must come from a different approver group.
    pub distinct_groups: Option<bool>,
    pub ttl_secs: Option<u64>,
    pub max_ttl_secs: Option<u64>,
    /// The phrase an approver types to approve a critical action this rule matches
    /// (default: the resource name).
    pub confirm: Option<String>,
}

/// Longest confirmation phrase (it is typed by hand).
pub const MAX_CONFIRM: usize = 100;

/// A `confirm` phrase: typed by an approver, so visible characters only, no padding.
fn check_confirm(c: &str) -> Result<String, String> {
    if c.trim().is_empty() {
        return Err("confirm: must not be empty (leave it out for the resource name)".into());
    }
    if c.trim() != c {
        return Err("confirm: no leading or trailing spaces".into());
    }
    if c.chars().count() > MAX_CONFIRM {
        return Err(format!("confirm: longer than {MAX_CONFIRM} characters"));
    }
    if let Some(bad) = c
        .chars()
        .find(|ch| ch.is_control() || crate::text::class(*ch).is_some())
    {
        return Err(format!(
            "confirm: U+{:04X} cannot be typed or seen; use visible characters",
            u32::from(bad)
        ));
    }
    Ok(c.to_string())
}

fn globs(field: &str, v: &Option<Value>) -> Result<Option<Patterns>, String> {
    let Some(v) = v else { return Ok(None) };
    let list = string_list(field, v)?;
    if list.is_empty() {
        return Err(format!(
            "{field}: an empty list matches nothing; remove the key"
        ));
    }
    Patterns::compile(&list)
        .map(Some)
        .map_err(|e| format!("{field}: {e}"))
}

impl Rule {
    /// Compiles one `[[rule]]` table; the error names the field.
    pub fn from_value(v: &Value) -> Result<Self, String> {
        let spec: RuleSpec = v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| e.message().trim_end().to_string())?;
        let name = spec.name.trim().to_string();
        if name.is_empty() {
            return Err("name: must not be empty".into());
        }
        let with_tags = match &spec.with_tags {
            Some(v) => string_list("with_tags", v)?,
            None => Vec::new(),
        };
        for t in &with_tags {
            if !BUILTIN_TAGS.iter().any(|(id, _)| id == t) {
                let ids: Vec<&str> = BUILTIN_TAGS.iter().map(|(id, _)| *id).collect();
                return Err(format!(
                    "with_tags: {t:?} is not a detector tag (one of {})",
                    ids.join(", ")
                ));
            }
        }
        for t in &spec.tags {
            check_tag_id("tags", t)?;
        }
        if spec.score > 100 {
            return Err(format!("score: {} is over 100", spec.score));
        }
        let level = spec
            .level
            .as_deref()
            .map(|l| l.parse::<RiskLevel>().map_err(|e| format!("level: {e}")))
            .transpose()?;
        if let Some(n) = spec.approvals_required
            && !(1..=MAX_APPROVALS).contains(&n)
        {
            return Err(format!(
                "approvals_required: {n} is outside 1 to {MAX_APPROVALS}"
            ));
        }
        if let Some(g) = &spec.approver_groups {
            check_groups("approver_groups", g)?;
        }
        let ttl_secs = spec.ttl.as_ref().map(|v| duration("ttl", v)).transpose()?;
        let max_ttl_secs = spec
            .max_ttl
            .as_ref()
            .map(|v| duration("max_ttl", v))
            .transpose()?;
        let confirm = spec.confirm.map(|c| check_confirm(&c)).transpose()?;
        let rule = Rule {
            name,
            description: spec.description.filter(|d| !d.trim().is_empty()),
            kind: globs("kind", &spec.kind)?,
            environment: globs("environment", &spec.environment)?,
            system: globs("system", &spec.system)?,
            resource: globs("resource", &spec.resource)?,
            requester: globs("requester", &spec.requester)?,
            with_tags,
            tags: spec.tags,
            score: spec.score,
            level,
            approvals_required: spec.approvals_required,
            approver_groups: spec.approver_groups,
            distinct_groups: spec.distinct_groups,
            ttl_secs,
            max_ttl_secs,
            confirm,
        };
        if rule.tags.is_empty()
            && rule.score == 0
            && rule.level.is_none()
            && rule.approvals_required.is_none()
            && rule.approver_groups.is_none()
            && rule.distinct_groups.is_none()
            && rule.ttl_secs.is_none()
            && rule.max_ttl_secs.is_none()
            && rule.confirm.is_none()
        {
            return Err(
                "the rule does nothing: set at least one of tags, score, level, \
                        approvals_required, approver_groups, distinct_groups, ttl, max_ttl, confirm"
                    .into(),
            );
        }
        Ok(rule)
    }

    /// True when every matcher the rule sets matches (a list matches when any entry
    /// does). `fired` are the detector tags; `with_tags` needs any one of them.
    pub fn matches(&self, req: &ActionRequest, fired: &[RiskTag]) -> bool {
        let m = |p: &Option<Patterns>, s: &str| p.as_ref().is_none_or(|p| p.find(s).is_some());
        m(&self.kind, &req.kind)
            && m(&self.environment, &req.target.environment)
            && m(&self.system, &req.target.system)
            && m(&self.resource, &req.target.resource)
            && m(&self.requester, &req.requester.id)
            && (self.with_tags.is_empty() || fired.iter().any(|t| self.with_tags.contains(&t.id)))
    }

    /// The tag a rule adds: the reason names the rule and gives its description.
    pub fn tag(&self, id: &str) -> RiskTag {
        let mut reason = format!("policy rule {} matched", super::detect::quote(&self.name));
        if let Some(d) = &self.description {
            let clean = crate::text::visible_string(d.trim());
            reason.push_str(": ");
            reason.push_str(&clean);
        }
        RiskTag {
            id: id.to_string(),
            label: super::detect::label_for(id),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(toml_text: &str) -> Result<Rule, String> {
        let v: Value = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        Rule::from_value(&v)
    }

    fn req(kind: &str, env: &str) -> ActionRequest {
        serde_json::from_value(serde_json::json!({
            "kind": kind,
            "summary": "s",
            "requester": {"kind": "agent", "id": "deploy-bot", "display_name": "A"},
            "target": {"system": "k8s", "resource": "namespace/payments", "environment": env},
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn all_matchers_must_match() {
        let r = rule(
            "name = 'r'\nkind = ['k8s.*']\nenvironment = 'prod*'\nresource = 'namespace/pay*'\n\
             approvals_required = 2",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(r.matches(&req("k8s.delete", "production"), &[]));
        assert!(!r.matches(&req("k8s.delete", "staging"), &[]));
        assert!(!r.matches(&req("db.export", "production"), &[]));
    }

    #[test]
    fn with_tags_needs_a_fired_detector() {
        let r = rule("name = 'pii'\nwith_tags = ['pii']\napprover_groups = ['data-governance']")
            .unwrap_or_else(|e| panic!("{e}"));
        let pii = RiskTag {
            id: "pii".into(),
            label: "PII".into(),
            reason: String::new(),
        };
        assert!(!r.matches(&req("db.export", "prod"), &[]));
        assert!(r.matches(&req("db.export", "prod"), &[pii]));
    }

    #[test]
    fn errors_name_the_field() {
        let e = |t: &str| rule(t).unwrap_err();
        assert!(
            e("name = 'r'\naprovals_required = 2").contains("unknown field `aprovals_required`")
        );
        assert!(e("name = 'r'\nkind = '[x'\nscore = 1").starts_with("kind: pattern \"[x\""));
        assert!(e("name = 'r'\nlevel = 'severe'").starts_with("level: unknown risk level"));
        assert!(e("name = 'r'\napprovals_required = 0").starts_with("approvals_required:"));
        assert!(e("name = 'r'\nwith_tags = 'pi'\nscore = 1").starts_with("with_tags: \"pi\""));
        assert!(e("name = 'r'\ntags = ['PCI']").starts_with("tags:"));
        assert!(e("name = 'r'\nttl = '2w'").starts_with("ttl:"));
        assert!(e("name = 'r'\nkind = []\nscore = 1").contains("empty list"));
        assert!(e("name = 'r'\nkind = 'x'").contains("does nothing"));
        assert!(e("kind = 'x'\nscore = 1").contains("missing field `name`"));
    }
}
