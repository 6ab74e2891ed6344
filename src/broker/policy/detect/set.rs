//! The set of detectors a policy runs, with their settings, and running them in order.

use super::bulk::{BulkConfig, bulk};
use super::content::{DESTRUCTIVE, PRIVILEGE, destructive, privilege};
use super::data::{EXPORT_COMMANDS, EXPORT_KINDS, PII_FIELDS, export, pii};
use super::hidden::hidden;
use super::long_line::long_line;
use super::normalise;
use super::off_hours::{OffHours, off_hours};
use super::requester::{PRODUCTION_ENVIRONMENTS, first_time, production, unknown_kind};
use crate::broker::policy::Facts;
use crate::broker::policy::glob::Patterns;
use crate::protocol::{ActionRequest, RiskTag};

/// Settings of every built-in detector; `None` (or `false`) means switched off.
/// The hidden-characters and long-line detectors have no switch: they always run.
#[derive(Debug, Clone)]
pub struct Detectors {
    pub production: Option<Patterns>,
    pub destructive: Option<Vec<String>>,
    pub privilege: Option<Vec<String>>,
    pub pii: Option<Vec<String>>,
    pub export: Option<(Patterns, Vec<String>)>,
    pub bulk: Option<BulkConfig>,
    pub off_hours: Option<OffHours>,
    pub first_time: bool,
    pub unknown_kind: bool,
}

/// The built-in pattern lists, as owned lowercase strings.
pub fn builtin(list: &[&str]) -> Vec<String> {
    normalise(list.iter().map(|s| s.to_string()))
}

/// Compiles built-in glob lists; they are constants, tested below, so they compile.
fn builtin_globs(list: &[&str]) -> Patterns {
    Patterns::compile(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap_or_default()
}

impl Default for Detectors {
    fn default() -> Self {
        Self {
            production: Some(builtin_globs(PRODUCTION_ENVIRONMENTS)),
            destructive: Some(builtin(DESTRUCTIVE)),
            privilege: Some(builtin(PRIVILEGE)),
            pii: Some(builtin(PII_FIELDS)),
            export: Some((builtin_globs(EXPORT_KINDS), builtin(EXPORT_COMMANDS))),
            bulk: Some(BulkConfig::default()),
            off_hours: Some(OffHours::default()),
            first_time: true,
            unknown_kind: true,
        }
    }
}

impl Detectors {
    /// Runs every enabled detector; at most one tag per detector.
    pub fn run(&self, req: &ActionRequest, facts: &Facts, known_kinds: &Patterns) -> Vec<RiskTag> {
        let mut tags = Vec::new();
        tags.extend(hidden(req));
        tags.extend(long_line(req));
        if let Some(p) = &self.privilege {
            tags.extend(privilege(req, p));
        }
        if let Some(p) = &self.destructive {
            tags.extend(destructive(req, p));
        }
        if let Some(envs) = &self.production {
            tags.extend(production(req, envs));
        }
        if let Some(terms) = &self.pii {
            tags.extend(pii(req, terms));
        }
        if let Some((kinds, commands)) = &self.export {
            tags.extend(export(req, kinds, commands));
        }
        if let Some(cfg) = &self.bulk {
            tags.extend(bulk(req, cfg));
        }
        if self.unknown_kind {
            tags.extend(unknown_kind(req, known_kinds));
        }
        if self.first_time {
            tags.extend(first_time(req, facts.first_time_for_kind));
        }
        if let Some(cfg) = &self.off_hours {
            tags.extend(off_hours(cfg, facts.now));
        }
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Timestamp;

    #[test]
    fn builtin_globs_compile() {
        for list in [PRODUCTION_ENVIRONMENTS, EXPORT_KINDS] {
            let strings: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            assert!(Patterns::compile(&strings).is_ok());
            assert_eq!(builtin_globs(list).0.len(), list.len());
        }
    }

    #[test]
    fn disabled_detectors_stay_quiet_but_hidden_characters_always_runs() {
        let req: ActionRequest = serde_json::from_value(serde_json::json!({
            "kind": "db.export",
            "summary": "Delete \u{202e}everything",
            "requester": {"kind": "agent", "id": "a", "display_name": "A"},
            "target": {"system": "pg", "resource": "r", "environment": "production"},
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let facts = Facts {
            now: Timestamp::parse("2026-11-28T03:00:00Z").unwrap_or_else(|e| panic!("{e}")),
            first_time_for_kind: true,
        };
        let all = Detectors::default().run(&req, &facts, &Patterns::default());
        let ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "hidden-characters",
                "destructive",
                "production",
                "data-export",
                "first-time",
                "off-hours"
            ]
        );
        let none = Detectors {
            production: None,
            destructive: None,
            privilege: None,
            pii: None,
            export: None,
            bulk: None,
            off_hours: None,
            first_time: false,
            unknown_kind: false,
        };
        let ids: Vec<String> = none
            .run(&req, &facts, &Patterns::default())
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, ["hidden-characters"]);
    }
}
