//! Detectors about where and by whom: production environments, a requester's first
//! request of a kind, and kinds the policy does not know.

use super::{quote, tag};
use crate::broker::policy::glob::Patterns;
use crate::protocol::{ActionRequest, RiskTag};

/// Environments that count as production unless the policy says otherwise.
pub const PRODUCTION_ENVIRONMENTS: &[&str] = &["prod", "production", "prod-*", "prd", "live"];

/// The target environment matches a production pattern.
pub fn production(req: &ActionRequest, environments: &Patterns) -> Option<RiskTag> {
    let env = &req.target.environment;
    environments.find(env).map(|p| {
        let why = if p.text.eq_ignore_ascii_case(env) {
            String::new()
        } else {
            format!(" (matches {})", quote(&p.text))
        };
        tag("production", format!("environment is {}{why}", quote(env)))
    })
}

/// This requester has never asked for this kind before: the broker's store knows, and
/// passes it in as a fact.
pub fn first_time(req: &ActionRequest, first_time_for_kind: bool) -> Option<RiskTag> {
    first_time_for_kind.then(|| {
        tag(
            "first-time",
            format!(
                "first {} request from {}",
                quote(&req.kind),
                quote(&req.requester.id)
            ),
        )
    })
}

/// The kind is not in the policy's known kinds. Still allowed: a new tool should reach a
/// human, not fail, but the approver should know nobody wrote a rule for it.
pub fn unknown_kind(req: &ActionRequest, known: &Patterns) -> Option<RiskTag> {
    (!known.is_empty() && known.find(&req.kind).is_none()).then(|| {
        tag(
            "unknown-kind",
            format!(
                "kind {} is not in the policy's known kinds",
                quote(&req.kind)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(p: &[&str]) -> Patterns {
        Patterns::compile(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn req(kind: &str, env: &str) -> ActionRequest {
        serde_json::from_value(serde_json::json!({
            "kind": kind,
            "summary": "s",
            "requester": {"kind": "agent", "id": "deploy-bot", "display_name": "A"},
            "target": {"system": "k8s", "resource": "r", "environment": env},
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn production_quotes_the_environment_and_the_pattern() {
        let p = pats(PRODUCTION_ENVIRONMENTS);
        let t = production(&req("k", "production"), &p).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.reason, "environment is \"production\"");
        assert_eq!(t.label, "prod");
        let t = production(&req("k", "prod-eu-1"), &p).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "environment is \"prod-eu-1\" (matches \"prod-*\")"
        );
        assert_eq!(production(&req("k", "staging"), &p), None);
        assert_eq!(production(&req("k", "products-dev"), &p), None);
    }

    #[test]
    fn first_time_is_a_fact() {
        let r = req("db.export", "prod");
        assert_eq!(first_time(&r, false), None);
        let t = first_time(&r, true).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(t.reason, "first \"db.export\" request from \"deploy-bot\"");
    }

    #[test]
    fn unknown_kind_only_with_a_known_list() {
        let known = pats(&["k8s.*", "db.export"]);
        assert_eq!(unknown_kind(&req("k8s.delete", "p"), &known), None);
        let t = unknown_kind(&req("gpu.rent", "p"), &known).unwrap_or_else(|| panic!("no tag"));
        assert_eq!(
            t.reason,
            "kind \"gpu.rent\" is not in the policy's known kinds"
        );
        assert_eq!(
            unknown_kind(&req("gpu.rent", "p"), &Patterns::default()),
            None
        );
    }
}
