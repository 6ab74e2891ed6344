//! Policy and risk: from a TOML policy file and built-in detectors, decide an action's
//! risk (level, score, tags with reasons), quorum, approver groups and time to live.
//!
//! Pure: the broker gathers the facts that need I/O (the clock, whether this requester
//! asked for this kind before) into [`Facts`] and calls [`Engine::evaluate`]. The file
//! format and every detector are described in `docs/policy.md`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::protocol::{ActionRequest, Policy, Risk, RiskLevel, Timestamp};

pub mod config;
pub mod detect;
mod detectors_config;
pub mod glob;
pub mod rules;
pub mod score;
mod values;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod example_tests;

/// Facts about the world the engine cannot know by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub now: Timestamp,
    /// True when this requester has never asked for this kind before.
    pub first_time_for_kind: bool,
}

/// What the engine decided for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub risk: Risk,
    pub policy: Policy,
    pub ttl_secs: u64,
}

/// Why a policy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy file is not valid TOML: {0}")]
    Toml(String),
    #[error("policy rule {rule:?}: {message}")]
    Rule { rule: String, message: String },
    #[error("policy section [{section}]: {message}")]
    Section { section: String, message: String },
    #[error("policy file {path}: {message}")]
    Io { path: String, message: String },
}

/// A loaded policy.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    config: config::Config,
}

impl Engine {
    /// Parses a policy file.
    pub fn from_toml_str(text: &str) -> Result<Self, PolicyError> {
        config::parse(text).map(|config| Self { config })
    }

    /// Reads and parses a policy file; the error names the path.
    pub fn from_file(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            PolicyError::Io { .. } => e,
            other => PolicyError::Io {
                path: path.display().to_string(),
                message: other.to_string(),
            },
        })
    }

    /// The policy used when no file is given: every detector on with its defaults, one
    /// approval from any approver, TTL as requested or 15 minutes, at most 24 hours.
    pub fn builtin() -> Self {
        Self::default()
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[rules::Rule] {
        &self.config.rules
    }

    /// Risk, quorum, groups and TTL for one request.
    ///
    /// Detectors run first; then every rule is tried in file order. Each matching rule
    /// adds its tags and score and may raise the level; `approvals_required`,
    /// `approver_groups`, `ttl`, `max_ttl` and `confirm` each come from the first matching
    /// rule that sets them, else from `[defaults]` (no `confirm` there: the resource name). `policy.rule` names the first matching rule.
    pub fn evaluate(&self, req: &ActionRequest, facts: &Facts) -> Evaluation {
        let cfg = &self.config;
        let mut tags = cfg.detectors.run(req, facts, &cfg.known_kinds);
        let matched: Vec<&rules::Rule> =
            cfg.rules.iter().filter(|r| r.matches(req, &tags)).collect();
        let mut bonus = 0u32;
        let mut floor = RiskLevel::Low;
        for r in &matched {
            for id in &r.tags {
                if !tags.iter().any(|t| &t.id == id) {
                    tags.push(r.tag(id));
                }
            }
            bonus = bonus.saturating_add(r.score);
            floor = floor.max(r.level.unwrap_or(RiskLevel::Low));
        }
        let risk = cfg.scoring.combine(tags, bonus, floor);

        let first = |f: &dyn Fn(&rules::Rule) -> bool| matched.iter().find(|r| f(r)).copied();
        let d = &cfg.defaults;
        let approvals_required = first(&|r| r.approvals_required.is_some())
            .and_then(|r| r.approvals_required)
            .unwrap_or(d.approvals_required);
        let approver_groups = first(&|r| r.approver_groups.is_some())
            .and_then(|r| r.approver_groups.clone())
            .unwrap_or_else(|| d.approver_groups.clone());
        let ttl = first(&|r| r.ttl_secs.is_some())
            .and_then(|r| r.ttl_secs)
            .unwrap_or(d.ttl_secs);
        let max_ttl = first(&|r| r.max_ttl_secs.is_some())
            .and_then(|r| r.max_ttl_secs)
            .unwrap_or(d.max_ttl_secs);
        let ttl_secs = req.ttl_secs.unwrap_or(ttl).min(max_ttl).max(1);

        Evaluation {
            risk,
            policy: Policy {
                approvals_required,
                approver_groups,
                rule: matched.first().map(|r| r.name.clone()),
                confirm: first(&|r| r.confirm.is_some()).and_then(|r| r.confirm.clone()),
                distinct_groups: first(&|r| r.distinct_groups.is_some())
                    .and_then(|r| r.distinct_groups)
                    .unwrap_or(false),
            },
            ttl_secs,
        }
    }
}
