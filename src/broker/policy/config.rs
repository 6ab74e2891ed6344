//! The policy file: TOML sections `[defaults]`, `[levels]`, `[weights]`, `[kinds]`,
//! `[detectors.<tag>]` and `[[rule]]`, parsed section by section so every error names
//! the section or rule and the field. Unknown sections and keys are refused: a typo in a
//! policy must not silently weaken it.

use serde::Deserialize;
use toml::{Table, Value};

use super::PolicyError;
use super::detect::set::Detectors;
use super::glob::Patterns;
use super::rules::{MAX_APPROVALS, Rule};
use super::score::Scoring;
use super::values::{check_groups, check_tag_id, duration};

/// Quorum, groups and time to live when no rule sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defaults {
    pub approvals_required: u32,
    /// Empty means any approver.
    pub approver_groups: Vec<String>,
    /// Time to live when the request asks for none.
    pub ttl_secs: u64,
    /// The longest time to live; longer requests are shortened to it.
    pub max_ttl_secs: u64,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            approvals_required: 1,
            approver_groups: Vec::new(),
            ttl_secs: 15 * 60,
            max_ttl_secs: 24 * 3600,
        }
    }
}

/// A parsed and checked policy.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub defaults: Defaults,
    pub scoring: Scoring,
    pub known_kinds: Patterns,
    pub detectors: Detectors,
    pub rules: Vec<Rule>,
}

const SECTIONS: &[&str] = &[
    "defaults",
    "levels",
    "weights",
    "kinds",
    "detectors",
    "rule",
];

fn section_err(section: &str, message: impl Into<String>) -> PolicyError {
    PolicyError::Section {
        section: section.to_string(),
        message: message.into(),
    }
}

/// Deserializes one section, turning serde's message into a section error.
fn typed<T: for<'de> Deserialize<'de>>(section: &str, v: &Value) -> Result<T, PolicyError> {
    v.clone()
        .try_into()
        .map_err(|e: toml::de::Error| section_err(section, e.message().trim_end()))
}

/// Parses and checks a whole policy file.
pub fn parse(text: &str) -> Result<Config, PolicyError> {
    let table: Table = toml::from_str(text).map_err(|e| PolicyError::Toml(e.to_string()))?;
    if let Some(k) = table.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
        return Err(section_err(
            k,
            format!("unknown section; expected one of {}", SECTIONS.join(", ")),
        ));
    }
    let mut cfg = Config::default();
    if let Some(v) = table.get("defaults") {
        cfg.defaults = defaults(v)?;
    }
    if let Some(v) = table.get("levels") {
        levels(v, &mut cfg.scoring)?;
    }
    if let Some(v) = table.get("weights") {
        weights(v, &mut cfg.scoring)?;
    }
    if let Some(v) = table.get("kinds") {
        let spec: KindsSpec = typed("kinds", v)?;
        cfg.known_kinds = Patterns::compile(&spec.known)
            .map_err(|e| section_err("kinds", format!("known: {e}")))?;
    }
    if let Some(v) = table.get("detectors") {
        super::detectors_config::apply(v, &mut cfg.detectors)?;
    }
    if let Some(v) = table.get("rule") {
        cfg.rules = rules(v)?;
    }
    Ok(cfg)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefaultsSpec {
    approvals_required: Option<u32>,
    approver_groups: Option<Vec<String>>,
    ttl: Option<Value>,
    max_ttl: Option<Value>,
}

fn defaults(v: &Value) -> Result<Defaults, PolicyError> {
    let spec: DefaultsSpec = typed("defaults", v)?;
    let err = |m: String| section_err("defaults", m);
    let mut d = Defaults::default();
    if let Some(n) = spec.approvals_required {
        if !(1..=MAX_APPROVALS).contains(&n) {
            return Err(err(format!(
                "approvals_required: {n} is outside 1 to {MAX_APPROVALS}"
            )));
        }
        d.approvals_required = n;
    }
    if let Some(g) = spec.approver_groups {
        check_groups("approver_groups", &g).map_err(err)?;
        d.approver_groups = g;
    }
    if let Some(t) = &spec.ttl {
        d.ttl_secs = duration("ttl", t).map_err(err)?;
    }
    if let Some(t) = &spec.max_ttl {
        d.max_ttl_secs = duration("max_ttl", t).map_err(err)?;
    }
    if d.ttl_secs > d.max_ttl_secs {
        return Err(err(format!(
            "ttl ({} s) is longer than max_ttl ({} s)",
            d.ttl_secs, d.max_ttl_secs
        )));
    }
    Ok(d)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelsSpec {
    medium: Option<u32>,
    high: Option<u32>,
    critical: Option<u32>,
}

fn levels(v: &Value, s: &mut Scoring) -> Result<(), PolicyError> {
    let spec: LevelsSpec = typed("levels", v)?;
    s.medium = spec.medium.unwrap_or(s.medium);
    s.high = spec.high.unwrap_or(s.high);
    s.critical = spec.critical.unwrap_or(s.critical);
    if !(1 <= s.medium && s.medium < s.high && s.high < s.critical && s.critical <= 100) {
        return Err(section_err(
            "levels",
            format!(
                "thresholds must rise within 1..=100: medium {} < high {} < critical {}",
                s.medium, s.high, s.critical
            ),
        ));
    }
    Ok(())
}

fn weights(v: &Value, s: &mut Scoring) -> Result<(), PolicyError> {
    let Some(t) = v.as_table() else {
        return Err(section_err("weights", "must be a table of tag id = weight"));
    };
    for (id, w) in t {
        check_tag_id(id, id).map_err(|m| section_err("weights", m))?;
        let w = w
            .as_integer()
            .filter(|w| (0..=100).contains(w))
            .ok_or_else(|| section_err("weights", format!("{id}: weight must be 0 to 100")))?;
        s.weights.insert(id.clone(), w as u32);
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindsSpec {
    known: Vec<String>,
}

fn rules(v: &Value) -> Result<Vec<Rule>, PolicyError> {
    let Some(items) = v.as_array() else {
        return Err(section_err(
            "rule",
            "write rules as [[rule]] tables (an array), not [rule]",
        ));
    };
    let mut out: Vec<Rule> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let label = item
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .map_or_else(|| format!("#{}", i + 1), str::to_string);
        let rule = Rule::from_value(item).map_err(|message| PolicyError::Rule {
            rule: label.clone(),
            message,
        })?;
        if out.iter().any(|r| r.name == rule.name) {
            return Err(PolicyError::Rule {
                rule: label,
                message: "name: another rule already has this name".into(),
            });
        }
        out.push(rule);
    }
    Ok(out)
}
