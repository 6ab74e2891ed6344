//! Microsoft Teams: an Adaptive Card (schema 1.4) posted to a Workflows HTTP trigger
//! ("When a Teams webhook request is received" → "Post card in a chat or channel").
//! Office 365 connectors are retired, so there is no other way in. Cards cannot be
//! edited through a trigger, so the outcome is a second card.

use serde_json::{Value, json};

use super::payload::Notice;
use crate::protocol::{RiskLevel, Status, Timestamp};

pub const SCHEMA: &str = "http://adaptivecards.io/schemas/adaptive-card.json";
pub const VERSION: &str = "1.4";

/// Escapes what Adaptive Card markdown would turn into a link or emphasis.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '[' | ']' | '(' | ')' | '~' | '#' | '`' | '<' | '>'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn color(n: &Notice) -> &'static str {
    match (n.status, n.risk) {
        (Status::Approved, _) => "Good",
        (Status::Denied | Status::Expired | Status::Withdrawn, _) => "Default",
        (Status::Pending, RiskLevel::Critical | RiskLevel::High) => "Attention",
        (Status::Pending, RiskLevel::Medium) => "Warning",
        (Status::Pending, RiskLevel::Low) => "Default",
    }
}

/// The Adaptive Card for a notice.
pub fn card(n: &Notice, review: &str, now: Timestamp) -> Value {
    let fact = |t: &str, v: &str| json!({"title": t, "value": escape(v)});
    let time = if n.status == Status::Pending {
        n.time_left(now)
    } else {
        n.status.to_string()
    };
    let mut body = vec![
        json!({"type": "TextBlock", "text": escape(&n.headline()), "weight": "Bolder",
               "size": "Medium", "wrap": true, "color": color(n)}),
        json!({"type": "TextBlock", "text": escape(&n.summary), "wrap": true}),
        json!({"type": "FactSet", "facts": [
            fact("Kind", &n.kind),
            fact("Target", &n.target),
            fact("Environment", &n.environment),
            fact("Risk", &format!("{} ({})", n.risk, n.score)),
            fact("Requester", &n.who()),
            fact("Quorum", &n.quorum()),
            fact("Time left", &time),
            fact("Digest", &n.digest_prefix),
        ]}),
    ];
    if !n.reasons.is_empty() {
        let lines: Vec<String> = n
            .reasons
            .iter()
            .map(|r| format!("- {}", escape(r)))
            .collect();
        body.push(json!({"type": "TextBlock", "text": lines.join("\n"), "wrap": true}));
    }
    for v in &n.votes {
        body.push(json!({"type": "TextBlock", "wrap": true, "isSubtle": true, "text": escape(
            &format!("{} {}: \"{}\" (key {})", v.approver, v.verdict.as_str(), v.reason, v.key_id)
        )}));
    }
    if n.status != Status::Pending {
        body.push(
            json!({"type": "TextBlock", "wrap": true, "weight": "Bolder",
                         "text": escape(&n.outcome_line())}),
        );
    }
    let footer = if n.status == Status::Pending {
        "Open in console (decide there; the decision is signed with your device key):"
    } else {
        "Audit trail in the console:"
    };
    body.push(json!({"type": "TextBlock", "wrap": true, "isSubtle": true, "text": footer}));
    body.push(
        json!({"type": "TextBlock", "wrap": true, "fontType": "Monospace",
                     "text": escape(review)}),
    );
    json!({
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": VERSION,
        "body": body,
    })
}

/// What the Workflows trigger receives: a message with the card as its one attachment.
pub fn message(n: &Notice, review: &str, now: Timestamp) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card(n, review, now),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::notify::payload::tests::notice;

    #[test]
    fn the_card_is_adaptive_card_1_4_with_the_facts() {
        let n = notice();
        let m = message(&n, "signoff review X", n.created_at);
        let a = &m["attachments"][0];
        assert_eq!(a["contentType"], "application/vnd.microsoft.card.adaptive");
        assert_eq!(a["content"]["type"], "AdaptiveCard");
        assert_eq!(a["content"]["version"], "1.4");
        assert_eq!(a["content"]["$schema"], SCHEMA);
        let facts = a["content"]["body"][2]["facts"].as_array().unwrap();
        assert_eq!(facts.len(), 8);
        assert!(m.to_string().contains("signoff review X"));
        assert!(
            m["attachments"][0]["content"].get("actions").is_none(),
            "no buttons"
        );
    }

    #[test]
    fn markdown_in_agent_text_is_escaped() {
        assert_eq!(escape("[x](https://e)"), "\\[x\\]\\(https://e\\)");
    }
}
