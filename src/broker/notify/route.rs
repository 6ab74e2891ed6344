//! Which actions a sink hears about. Every list that is set must match; an empty or
//! absent list matches everything.

use serde::Deserialize;

use crate::broker::policy::glob::Patterns;
use crate::protocol::{Action, RiskLevel};

/// `route = { risk = [...], environments = [...], kinds = [...], rules = [...], groups = [...] }`
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Risk levels (`low`, `medium`, `high`, `critical`).
    #[serde(default)]
    pub risk: Vec<RiskLevel>,
    /// Environment globs, e.g. `prod*`.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Kind globs, e.g. `db.*`.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Names of the policy rules that matched the action.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Approver groups: the action must name one of them.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A route with its globs compiled once, at start.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    route: Route,
    environments: Patterns,
    kinds: Patterns,
}

impl Route {
    /// Compiles the globs; a bad one is refused at start.
    pub fn compile(&self) -> Result<Matcher, String> {
        Ok(Matcher {
            route: self.clone(),
            environments: Patterns::compile(&self.environments)
                .map_err(|e| format!("environments: {e}"))?,
            kinds: Patterns::compile(&self.kinds).map_err(|e| format!("kinds: {e}"))?,
        })
    }
}

impl Matcher {
    /// True when `a` goes to this route.
    pub fn matches(&self, a: &Action) -> bool {
        let r = &self.route;
        let globs = |p: &Patterns, s: &str| p.0.is_empty() || p.0.iter().any(|g| g.is_match(s));
        (r.risk.is_empty() || r.risk.contains(&a.risk.level))
            && globs(&self.environments, &a.target.environment)
            && globs(&self.kinds, &a.kind)
            && (r.rules.is_empty() || a.policy.rule.as_ref().is_some_and(|x| r.rules.contains(x)))
            && (r.groups.is_empty()
                || a.policy
                    .approver_groups
                    .iter()
                    .any(|g| r.groups.contains(g)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::action::fixtures::action;

    #[test]
    fn every_set_list_must_match_and_empty_matches_all() {
        let a = action(); // high, production, db.export, group sre, no rule
        assert!(Route::default().compile().unwrap().matches(&a));
        let r = |t: &str| -> Matcher { toml::from_str::<Route>(t).unwrap().compile().unwrap() };
        assert!(r("risk = [\"high\", \"critical\"]").matches(&a));
        assert!(!r("risk = [\"critical\"]").matches(&a));
        assert!(r("environments = [\"prod*\"]").matches(&a));
        assert!(!r("environments = [\"staging\"]").matches(&a));
        assert!(r("kinds = [\"DB.*\"]").matches(&a));
        assert!(!r("kinds = [\"k8s.*\"]").matches(&a));
        assert!(r("groups = [\"dba\", \"sre\"]").matches(&a));
        assert!(!r("groups = [\"dba\"]").matches(&a));
        assert!(
            !r("rules = [\"prod-db\"]").matches(&a),
            "no rule matched the action"
        );
        let mut ruled = a.clone();
        ruled.policy.rule = Some("prod-db".into());
        assert!(r("rules = [\"prod-db\"]").matches(&ruled));
        assert!(!r("risk = [\"high\"]\nenvironments = [\"staging\"]").matches(&a));
    }

    #[test]
    fn a_bad_glob_is_refused() {
        let r = Route {
            kinds: vec!["[".into()],
            ..Default::default()
        };
        assert!(r.compile().unwrap_err().contains("kinds"));
    }
}
