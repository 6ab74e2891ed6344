//! PagerDuty Events API v2: `trigger` when an action still waits past the sink's
//! threshold, `resolve` with the same `dedup_key` once it is decided, expired or
//! withdrawn. The dedup key also makes a repeated trigger harmless.

use serde_json::{Value, json};

use super::payload::Notice;
use crate::protocol::{RiskLevel, Status, Timestamp};

/// One incident per action.
pub fn dedup_key(n: &Notice) -> String {
    format!("signoff-{}", n.action_id)
}

fn severity(r: RiskLevel) -> &'static str {
    match r {
        RiskLevel::Critical => "critical",
        RiskLevel::High => "error",
        RiskLevel::Medium => "warning",
        RiskLevel::Low => "info",
    }
}

/// The event for a notice: trigger while pending, resolve once decided.
pub fn event(routing_key: &str, n: &Notice, review: &str, now: Timestamp) -> Value {
    if n.status != Status::Pending {
        return json!({
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key(n),
        });
    }
    let summary: String = format!("{}: {}", n.headline(), n.summary)
        .chars()
        .take(1024)
        .collect();
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(n),
        "client": "signoff",
        "payload": {
            "summary": summary,
            "source": "signoff",
            "severity": severity(n.risk),
            "timestamp": n.created_at,
            "component": n.target,
            "group": n.environment,
            "class": n.kind,
            "custom_details": {
                "action_id": n.action_id,
                "requester": n.who(),
                "reasons": n.reasons,
                "quorum": n.quorum(),
                "time_left": n.time_left(now),
                "digest_prefix": n.digest_prefix,
                "review_command": review,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::notify::payload::tests::notice;

    #[test]
    fn trigger_then_resolve_with_one_dedup_key() {
        let mut n = notice();
        let t = event("R0UTING", &n, "signoff review X", n.created_at);
        assert_eq!(t["event_action"], "trigger");
        assert_eq!(t["payload"]["severity"], "error");
        assert_eq!(t["payload"]["source"], "signoff");
        assert!(t["payload"]["summary"].as_str().unwrap().len() <= 1024);
        n.status = Status::Approved;
        let r = event("R0UTING", &n, "signoff review X", n.created_at);
        assert_eq!(r["event_action"], "resolve");
        assert_eq!(r["dedup_key"], t["dedup_key"]);
        assert_eq!(r["routing_key"], "R0UTING");
    }
}
