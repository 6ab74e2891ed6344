//! A generic webhook: `{type, timestamp, data}` JSON, signed per Standard Webhooks
//! (`webhook-id` is the message's idempotency key, stable across retries and restarts).
//! Requester callbacks use the same form.

use serde_json::{Value, json};

use super::payload::Notice;
use crate::protocol::Timestamp;

/// `action.created`, `action.voted`, `action.resolved`.
pub fn event_type(n: &Notice) -> String {
    format!("action.{}", n.event.as_str())
}

/// The body of a webhook or callback.
pub fn body(n: &Notice, review: &str, now: Timestamp) -> Value {
    let mut data = serde_json::to_value(n).unwrap_or(Value::Null);
    if let Some(o) = data.as_object_mut() {
        o.insert("review_command".into(), json!(review));
        o.insert("time_left".into(), json!(n.time_left(now)));
    }
    json!({
        "type": event_type(n),
        "timestamp": now,
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::notify::payload::tests::notice;

    #[test]
    fn the_body_is_type_timestamp_data() {
        let n = notice();
        let b = body(&n, "signoff review X", n.created_at);
        assert_eq!(b["type"], "action.created");
        assert_eq!(b["data"]["action_id"], n.action_id.to_string());
        assert_eq!(b["data"]["review_command"], "signoff review X");
        assert_eq!(b["data"]["risk"], "high");
        assert_eq!(b["data"]["time_left"], "15m left");
    }
}
