//! Notifications: reach the approver where on-call lives (Slack, Teams, a signed
//! webhook, PagerDuty) and the requester at its callback. Chat notifies and points at
//! `signoff review ID`; the decision is still signed in the console with the approver's
//! device key. No message has a button that approves.
//!
//! The writer stages outbox rows ([`Plan`]) in the same transaction as the event that
//! causes them; the delivery task ([`delivery`]) sends due rows with retries, backoff
//! and jitter, at least once, each with an idempotency key that survives restarts. A
//! sink that fails never slows a decision: it shows in `/healthz?details` and metrics.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::store::Mutation;
use super::store::notify::NewMessage;
use crate::protocol::{Action, Digest, Timestamp};

pub mod config;
pub mod delivery;
pub mod health;
pub mod interact;
pub mod pagerduty;
pub mod payload;
pub mod route;
pub mod sign;
pub mod slack;
pub mod teams;
pub mod webhook;

pub use config::{Callbacks, NotifySettings, Sink, SinkKind};
pub use health::Health;
pub use payload::{Notice, NoticeEvent};

/// The sink name of requester callbacks.
pub const CALLBACK: &str = "callback";

struct PlanSink {
    name: String,
    kind: SinkKind,
    route: route::Matcher,
    delay: config::Delay,
}

/// What the writer needs to stage outbox rows: routes and delays, no secrets.
pub struct Plan {
    sinks: Vec<PlanSink>,
    callbacks: bool,
    wake: Arc<Notify>,
}

impl Plan {
    /// `None` when nothing is configured (the writer then stages nothing).
    pub fn new(s: &NotifySettings, wake: Arc<Notify>) -> Option<Self> {
        if s.is_empty() {
            return None;
        }
        Some(Self {
            sinks: s
                .sinks
                .iter()
                .map(|k| PlanSink {
                    name: k.name.clone(),
                    kind: k.kind,
                    route: k.route.clone(),
                    delay: k.delay,
                })
                .collect(),
            callbacks: s.callbacks.is_some(),
            wake,
        })
    }

    /// Tells the delivery task that rows may be coming.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn message(s: &PlanSink, a: &Action, n: &Notice, suffix: &str, at: Timestamp) -> NewMessage {
        let mut m = NewMessage::pending(
            &s.name,
            &a.id.to_string(),
            "msg",
            &format!("{}.{}.{suffix}", a.id, s.name),
            serde_json::to_string(n).unwrap_or_default(),
            at.unix_millis(),
        );
        m.needs_ref = s.delay != config::Delay::None;
        m
    }

    /// A new action: its first message to every sink on its route (escalation sinks at
    /// their delay), and its callback, held until the outcome.
    pub fn created(&self, a: &Action, digest: &Digest, callback: Option<&str>) -> Vec<Mutation> {
        let mut out = Vec::new();
        let base = Notice::of(NoticeEvent::Created, a, digest, &[], None);
        for s in self.sinks.iter().filter(|s| s.route.matches(a)) {
            let ttl = a.created_at.millis_until(a.expires_at).max(0);
            let due = match s.delay {
                config::Delay::None => a.created_at,
                config::Delay::FractionOfTtl(f) => Timestamp::from_unix_millis(
                    a.created_at.unix_millis() + (ttl as f64 * f) as i64,
                ),
                config::Delay::After(d) => Timestamp::from_unix_millis(
                    a.created_at.unix_millis()
                        + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2),
                ),
            };
            let mut n = base.clone();
            n.escalation = s.delay != config::Delay::None;
            let mut m = Self::message(s, a, &n, "created", due);
            m.needs_ref = false;
            m.only_if_pending = s.delay != config::Delay::None;
            out.push(Mutation::NotifyEnqueue(m));
        }
        if let Some(url) = callback {
            let mut m = NewMessage::pending(
                CALLBACK,
                &a.id.to_string(),
                CALLBACK,
                &format!("{}.{CALLBACK}", a.id),
                "{}".into(),
                a.created_at.unix_millis(),
            );
            m.url = Some(url.to_string());
            m.waiting = true;
            out.push(Mutation::NotifyEnqueue(m));
        }
        out
    }

    /// A vote that left the action pending: Slack edits its message, webhooks hear it.
    pub fn voted(&self, a: &Action, digest: &Digest, now: Timestamp) -> Vec<Mutation> {
        let n = Notice::of(NoticeEvent::Voted, a, digest, &[], None);
        let suffix = format!("vote{}", a.votes.len());
        self.sinks
            .iter()
            .filter(|s| matches!(s.kind, SinkKind::Slack | SinkKind::Webhook))
            .filter(|s| s.route.matches(a))
            .map(|s| {
                let mut n = n.clone();
                n.escalation = s.delay != config::Delay::None;
                Mutation::NotifyEnqueue(Self::message(s, a, &n, &suffix, now))
            })
            .collect()
    }

    /// An approver is looking: Slack edits its message to say so, webhooks hear it.
    pub fn claimed(&self, a: &Action, digest: &Digest, now: Timestamp) -> Vec<Mutation> {
        let n = Notice::of(NoticeEvent::Claimed, a, digest, &[], None);
        let suffix = format!("claim{}", a.looking.len());
        self.sinks
            .iter()
            .filter(|s| matches!(s.kind, SinkKind::Slack | SinkKind::Webhook))
            .filter(|s| s.route.matches(a))
            .map(|s| {
                let mut n = n.clone();
                n.escalation = s.delay != config::Delay::None;
                let mut m = Self::message(s, a, &n, &suffix, now);
                // Only edits what was posted: a claim alone never posts a new message.
                m.needs_ref = true;
                Mutation::NotifyEnqueue(m)
            })
            .collect()
    }

    /// Decided, expired or withdrawn: every sink on the route hears the outcome (Slack
    /// edits, PagerDuty resolves), and the callback is released.
    pub fn resolved(
        &self,
        a: &Action,
        digest: &Digest,
        decided_by: &[String],
        reason: &str,
        now: Timestamp,
    ) -> Vec<Mutation> {
        let n = Notice::of(NoticeEvent::Resolved, a, digest, decided_by, Some(reason));
        let mut out: Vec<Mutation> = self
            .sinks
            .iter()
            .filter(|s| s.route.matches(a))
            .map(|s| {
                let mut n = n.clone();
                n.escalation = s.delay != config::Delay::None;
                let mut m = Self::message(s, a, &n, "resolved", now);
                m.needs_ref |= s.kind == SinkKind::Pagerduty;
                Mutation::NotifyEnqueue(m)
            })
            .collect();
        if self.callbacks {
            out.push(Mutation::NotifyRelease {
                action_id: a.id,
                payload: serde_json::to_string(&n).unwrap_or_default(),
                at: now,
            });
        }
        out
    }
}

/// How long the delivery task sleeps at most between looks at the outbox.
pub const POLL: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::action::fixtures::action;

    fn settings() -> NotifySettings {
        let env = |_: &str| Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string());
        let sinks: Vec<config::SinkConfig> = toml::from_str::<toml::Table>(
            r#"
[[notify]]
name = "chat"
kind = "slack"
channel = "C1"
secret_env = "X"
[[notify]]
name = "page"
kind = "pagerduty"
secret_env = "X"
escalate_at = 0.5
route = { risk = ["critical"] }
[[notify]]
name = "hook"
kind = "webhook"
url = "https://example.test/"
secret_env = "X"
escalate_at = 0.25
"#,
        )
        .unwrap()["notify"]
            .clone()
            .try_into()
            .unwrap();
        let cb = config::CallbacksConfig {
            allow: vec!["https://ci.example.test/".into()],
            secret_env: Some("X".into()),
            ..Default::default()
        };
        config::load(&sinks, Some(&cb), std::path::Path::new("."), &env).unwrap()
    }

    fn rows(m: Vec<Mutation>) -> Vec<NewMessage> {
        m.into_iter()
            .filter_map(|m| match m {
                Mutation::NotifyEnqueue(n) => Some(n),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn routes_delays_keys_and_callbacks() {
        let plan = Plan::new(&settings(), Arc::new(Notify::new())).unwrap();
        let a = action(); // high risk, ttl 900 s
        let d = a.digest();
        let created = rows(plan.created(&a, &d, Some("https://ci.example.test/42")));
        let keys: Vec<_> = created.iter().map(|m| m.key.clone()).collect();
        assert_eq!(
            keys,
            vec![
                format!("{}.chat.created", a.id),
                format!("{}.hook.created", a.id),
                format!("{}.callback", a.id)
            ],
            "pagerduty routes critical only"
        );
        assert_eq!(created[0].due_at, a.created_at.unix_millis());
        assert!(!created[0].only_if_pending);
        assert_eq!(
            created[1].due_at,
            a.created_at.unix_millis() + 225_000,
            "a quarter of 900 s"
        );
        assert!(created[1].only_if_pending);
        let n: Notice = serde_json::from_str(&created[1].payload).unwrap();
        assert!(n.escalation);
        assert!(created[2].waiting && created[2].url.is_some());

        let voted = rows(plan.voted(&a, &d, a.created_at));
        assert_eq!(voted[0].key, format!("{}.chat.vote0", a.id));
        assert!(
            !voted[0].needs_ref,
            "slack posts afresh when its first post never went out"
        );
        assert!(
            voted[1].needs_ref,
            "an escalation's updates need its first message"
        );

        let mut crit = a.clone();
        crit.risk.level = crate::protocol::RiskLevel::Critical;
        crit.status = crate::protocol::Status::Approved;
        let resolved = plan.resolved(&crit, &d, &["bob".into()], "ok", a.created_at);
        assert!(matches!(
            resolved.last(),
            Some(Mutation::NotifyRelease { .. })
        ));
        let resolved = rows(resolved);
        let page = resolved.iter().find(|m| m.sink == "page").unwrap();
        assert!(page.needs_ref, "resolve only what was triggered");
    }
}
