//! Slack: a Block Kit message posted with `chat.postMessage` and edited in place with
//! `chat.update` (bot token, scope `chat:write`), or posted to an incoming webhook.
//!
//! Agent-supplied text is escaped for mrkdwn (`&`, `<`, `>`), so it can neither mention
//! a channel nor make a link.
//!
//! With the Slack app's interactivity configured, a pending action's message carries one
//! button, "I'm looking" (see [`super::interact`]). Never approve or deny: the decision is
//! signed in the console.

use serde_json::{Value, json};

use super::payload::Notice;
use crate::protocol::{Status, Timestamp};

/// Escapes the three characters Slack's mrkdwn treats as control sequences.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

fn risk_emoji(n: &Notice) -> &'static str {
    match n.status {
        Status::Approved => ":white_check_mark:",
        Status::Denied => ":no_entry:",
        Status::Expired => ":hourglass:",
        Status::Withdrawn => ":leftwards_arrow_with_hook:",
        Status::Pending => match n.risk {
            crate::protocol::RiskLevel::Critical => ":red_circle:",
            crate::protocol::RiskLevel::High => ":large_orange_circle:",
            crate::protocol::RiskLevel::Medium => ":large_yellow_circle:",
            crate::protocol::RiskLevel::Low => ":white_circle:",
        },
    }
}

/// The "I'm looking" button: claims the action for whoever clicks (a mapped approver).
fn looking_button(n: &Notice) -> Value {
    json!({"type": "actions", "block_id": "signoff", "elements": [{
        "type": "button",
        "action_id": super::interact::LOOKING,
        "text": {"type": "plain_text", "text": "I'm looking", "emoji": true},
        "value": n.action_id.to_string(),
    }]})
}

/// The Block Kit blocks for a notice, as of `now`; `button` adds "I'm looking" while the
/// action is pending.
pub fn blocks(n: &Notice, review: &str, now: Timestamp, button: bool) -> Value {
    let field = |label: &str, value: &str| json!({"type": "mrkdwn", "text": cut(&format!("*{label}*\n{}", escape(value)), 2000)});
    let time = if n.status == Status::Pending {
        n.time_left(now)
    } else {
        n.status.to_string()
    };
    let mut b = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&n.headline(), 150), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn",
            "text": cut(&format!("{} *{}*", risk_emoji(n), escape(&n.summary)), 3000)}}),
        json!({"type": "section", "fields": [
            field("Kind", &n.kind),
            field("Target", &n.target),
            field("Environment", &n.environment),
            field("Risk", &format!("{} ({})", n.risk, n.score)),
            field("Requester", &n.who()),
            field("Quorum", &n.quorum()),
            field("Time left", &time),
            field("Digest", &n.digest_prefix),
        ]}),
    ];
    if !n.reasons.is_empty() {
        let lines: Vec<String> = n
            .reasons
            .iter()
            .map(|r| format!("• {}", escape(r)))
            .collect();
        b.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": cut(&format!("*Why it is risky*\n{}", lines.join("\n")), 3000)}}));
    }
    if !n.votes.is_empty() {
        let lines: Vec<String> = n
            .votes
            .iter()
            .map(|v| {
                format!(
                    "• {} {}: \"{}\" (key {})",
                    escape(&v.approver),
                    v.verdict.as_str(),
                    escape(&v.reason),
                    escape(&v.key_id)
                )
            })
            .collect();
        b.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": cut(&format!("*Votes*\n{}", lines.join("\n")), 3000)}}));
    }
    if n.status != Status::Pending {
        b.push(json!({"type": "section", "text": {"type": "mrkdwn",
            "text": cut(&format!("*Outcome*\n{}", escape(&n.outcome_line())), 3000)}}));
    } else if let Some(l) = n.looking_line() {
        b.push(json!({"type": "context", "elements": [{"type": "mrkdwn",
            "text": cut(&format!(":eyes: {}", escape(&l)), 3000)}]}));
    }
    if button && n.status == Status::Pending {
        b.push(looking_button(n));
    }
    let footer = if n.status == Status::Pending {
        format!(
            "Open in console: `{}` (decide there; the decision is signed with your device key)",
            escape(review)
        )
    } else {
        format!("Audit trail in the console: `{}`", escape(review))
    };
    b.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]}));
    Value::Array(b)
}

/// The plain-text fallback (notifications, screen readers).
pub fn fallback(n: &Notice, review: &str) -> String {
    cut(
        &escape(&format!("{}: {} ({review})", n.headline(), n.summary)),
        3000,
    )
}

/// `chat.postMessage`; `button`: see [`blocks`].
pub fn post_body(channel: &str, n: &Notice, review: &str, now: Timestamp, button: bool) -> Value {
    json!({
        "channel": channel,
        "text": fallback(n, review),
        "blocks": blocks(n, review, now, button),
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// `chat.update` of the message at `channel`/`ts`; `button`: see [`blocks`].
pub fn update_body(
    channel: &str,
    ts: &str,
    n: &Notice,
    review: &str,
    now: Timestamp,
    button: bool,
) -> Value {
    json!({
        "channel": channel,
        "ts": ts,
        "text": fallback(n, review),
        "blocks": blocks(n, review, now, button),
    })
}

/// An incoming webhook message (no channel: the URL names it).
pub fn webhook_body(n: &Notice, review: &str, now: Timestamp) -> Value {
    json!({
        "text": fallback(n, review),
        "blocks": blocks(n, review, now, false),
        "unfurl_links": false,
    })
}

/// Errors Slack answers with `ok: false` that no retry can fix.
pub fn is_permanent(error: &str) -> bool {
    matches!(
        error,
        "invalid_auth"
            | "not_authed"
            | "account_inactive"
            | "token_revoked"
            | "no_permission"
            | "missing_scope"
            | "channel_not_found"
            | "not_in_channel"
            | "is_archived"
            | "invalid_blocks"
            | "msg_too_long"
            | "invalid_arguments"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::notify::payload::tests::notice;

    #[test]
    fn the_message_is_block_kit_with_every_field() {
        let n = notice();
        let review = n.review_command("signoff review {id}");
        let body = post_body("C1", &n, &review, n.created_at, false);
        assert_eq!(body["channel"], "C1");
        let blocks = body["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert!(blocks[0]["text"]["text"].as_str().unwrap().len() <= 150);
        let text = body.to_string();
        for want in [
            "postgres:customers",
            "production",
            "high (70)",
            "on behalf of alice@example.com",
            "0 of 2 approvals",
            "15m left",
            &n.digest_prefix,
            "environment is production",
            &review,
        ] {
            assert!(text.contains(want), "{want} missing from {text}");
        }
        assert!(
            blocks.iter().all(|b| b["type"] != "actions"),
            "no buttons: chat never approves"
        );
    }

    #[test]
    fn agent_text_cannot_mention_or_link() {
        let mut n = notice();
        n.summary = "<!channel> <https://evil.test|click> & co".into();
        let body = post_body("C1", &n, "signoff review X", n.created_at, false).to_string();
        assert!(
            !body.contains("<!channel>") && !body.contains("<https://evil"),
            "{body}"
        );
        assert!(body.contains("&lt;!channel&gt;") && body.contains("&amp; co"));
    }

    #[test]
    fn a_decision_update_shows_who_the_outcome_the_reason_and_the_key() {
        let mut n = notice();
        n.status = Status::Approved;
        n.decided_by = vec!["bob".into()];
        n.reason = Some("looks right".into());
        n.votes.push(crate::broker::notify::payload::VoteLine {
            approver: "bob".into(),
            verdict: crate::protocol::Verdict::Approve,
            reason: "looks right".into(),
            key_id: "k1a2b3c4".into(),
            at: n.created_at,
        });
        let body = update_body("C1", "171.1", &n, "signoff review X", n.created_at, true);
        assert_eq!(body["ts"], "171.1");
        let text = body.to_string();
        assert!(
            text.contains("approved by bob: \\\"looks right\\\", key k1a2b3c4"),
            "{text}"
        );
        assert!(!text.contains("\"actions\""), "no button once decided");
    }

    #[test]
    fn with_interactivity_the_one_button_is_i_am_looking() {
        let n = notice();
        let review = n.review_command("signoff review {id}");
        let body = post_body("C1", &n, &review, n.created_at, true);
        let actions: Vec<&Value> = body["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "actions")
            .collect();
        assert_eq!(actions.len(), 1);
        let buttons = actions[0]["elements"].as_array().unwrap();
        assert_eq!(buttons.len(), 1, "one button, and it decides nothing");
        assert_eq!(buttons[0]["action_id"], super::super::interact::LOOKING);
        assert_eq!(buttons[0]["text"]["text"], "I'm looking");
        assert_eq!(buttons[0]["value"], n.action_id.to_string());
        assert!(buttons[0].get("url").is_none());
        let text = body.to_string().to_lowercase();
        assert!(
            !text.contains("approve") && !text.contains("deny"),
            "{text}"
        );
        assert!(
            body.to_string()
                .contains(&format!("Open in console: `{review}`"))
        );
    }
}
