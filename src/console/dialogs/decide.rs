//! The approve / deny dialog (`a` / `d`): what the approver is about to sign, a reason
//! (required to deny) and, for a critical approval, the resource or the policy's phrase
//! typed again. Enter builds the decision over the digest the console computed from the
//! action it displayed; the runtime signs and sends it. Nothing unseen is signed: the
//! dialog opens only once the full action is here and checked.

use crate::console::core::ctx::Ctx;
use crate::console::core::msg::{Action, Effect};
use crate::console::core::notice::Level;
use crate::console::core::text_input::TextInput;
use crate::console::model::view_model::BodyFetch;
use crate::console::queue::state::{InFlight, QueueState};
use crate::protocol::{ActionId, Decision, DecisionId, Digest, KeyId, RiskLevel, Verdict};

/// Which field of the dialog has the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Reason,
    TypedConfirm,
}

/// The dialog's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecideDialog {
    pub action_id: ActionId,
    /// The version the dialog opened on: a new digest turns it into a notice.
    pub digest: Digest,
    /// `kind system/resource`, display-safe, for the notice if the action goes away.
    pub label: String,
    pub verdict: Verdict,
    pub reason: TextInput,
    /// For critical approvals: the approver types the resource (or environment) name.
    pub typed: Option<TextInput>,
    pub field: Field,
    pub error: Option<String>,
}

/// What a decision is built with besides the dialog: the id it gets if sent now, the
/// device key, and whether the feed is live (else it waits for the reconnect).
#[derive(Debug, Clone)]
pub struct Signing {
    pub decision_id: DecisionId,
    pub key_id: KeyId,
    pub live: bool,
}

/// What a key left of the dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Open(DecideDialog),
    Closed,
    /// The decision was built and is in flight (sent, or waiting for the reconnect).
    Sent,
}

impl DecideDialog {
    /// `Approve` or `Deny`, as the dialog's title and the notice that replaces it say.
    pub fn verdict_word(&self) -> &'static str {
        match self.verdict {
            Verdict::Approve => "Approve",
            Verdict::Deny => "Deny",
        }
    }

    /// The field with the cursor (pasted text goes there).
    pub fn input_mut(&mut self) -> &mut TextInput {
        match (self.field, self.typed.as_mut()) {
            (Field::TypedConfirm, Some(t)) => t,
            _ => &mut self.reason,
        }
    }

    /// `a` / `d` on the selected action: the dialog, unless the action cannot be decided
    /// now (a notice says why). A body still loading opens the dialog when it is here.
    pub fn open(
        q: &mut QueueState,
        cx: &mut Ctx,
        verdict: Verdict,
        signed_out: bool,
    ) -> Option<Self> {
        let Some(entry) = q.selected_entry() else {
            cx.notice(Level::Info, "nothing selected");
            return None;
        };
        let id = entry.row.id;
        let digest = entry.digest().clone();
        let label = entry.label();
        let critical = entry.row.risk == RiskLevel::Critical;
        let loading = !entry.has_body() && !matches!(entry.fetch, BodyFetch::Refused(_));
        let why_not = if entry.is_expired_at(cx.now) {
            Some("it has expired and can no longer be decided".to_string())
        } else if let BodyFetch::Refused(why) = &entry.fetch {
            Some(format!("its content was {why}"))
        } else if q.inflight_for(id).is_some() {
            Some("a decision for it is already in flight".into())
        } else if signed_out {
            Some("signed out; sign in again first".into())
        } else if cx.me.is_none() {
            Some("not connected to the broker yet".into())
        } else {
            None
        };
        if let Some(why) = why_not {
            cx.notice(Level::Warn, &format!("cannot {verdict}: {why}"));
            return None;
        }
        if loading {
            // Nothing unseen is signed: the dialog opens once the full action is here and
            // checked (if the selection is still on it).
            q.bodies.intent = Some((id, verdict));
            cx.notice(
                Level::Info,
                "loading the full action; the dialog opens when it is here",
            );
            return None;
        }
        let typed = (verdict == Verdict::Approve && critical).then(TextInput::default);
        let field = if typed.is_some() {
            Field::TypedConfirm
        } else {
            Field::Reason
        };
        Some(Self {
            action_id: id,
            digest,
            label,
            verdict,
            reason: TextInput {
                value: q.drafts.get(&id).cloned().unwrap_or_default(),
            },
            typed,
            field,
            error: None,
        })
    }

    /// A key in the dialog. Enter checks it and puts the decision in flight.
    pub fn key(mut self, q: &mut QueueState, cx: &mut Ctx, action: Action, s: Signing) -> Next {
        match action {
            Action::Cancel => return Next::Closed,
            Action::NextField => {
                if self.typed.is_some() {
                    self.field = match self.field {
                        Field::Reason => Field::TypedConfirm,
                        Field::TypedConfirm => Field::Reason,
                    };
                }
            }
            Action::Submit => match self.decision(q, cx, &s) {
                Ok(decision) => {
                    let label = q
                        .entries
                        .get(&self.action_id)
                        .map(|e| e.label())
                        .unwrap_or_default();
                    q.inflight.insert(
                        decision.decision_id,
                        InFlight {
                            decision: decision.clone(),
                            label,
                            sent: s.live,
                            resent: false,
                        },
                    );
                    if s.live {
                        cx.effect(Effect::SignAndSend(decision));
                    } else {
                        cx.notice(
                            Level::Warn,
                            "offline: the decision will be sent after reconnect if the action is unchanged",
                        );
                    }
                    return Next::Sent;
                }
                Err(e) => self.error = Some(e),
            },
            other => {
                self.input_mut().edit(other);
                self.error = None;
            }
        }
        Next::Open(self)
    }

    /// Checks the dialog and builds the decision over the digest the console computed
    /// from the action it displayed.
    fn decision(&self, q: &QueueState, cx: &Ctx, s: &Signing) -> Result<Decision, String> {
        let entry = q
            .entries
            .get(&self.action_id)
            .ok_or("the action is no longer pending")?;
        if entry.is_expired_at(cx.now) {
            return Err("the action has expired".into());
        }
        let reason = self.reason.value.trim();
        if self.verdict == Verdict::Deny && reason.is_empty() {
            return Err("a reason is required to deny".into());
        }
        if let Some(typed) = &self.typed
            && !entry.confirms(&typed.value)
        {
            return Err(if entry.view().confirm.is_some() {
                "type the confirmation phrase exactly to approve a critical action".into()
            } else {
                "type the resource name exactly to approve a critical action".into()
            });
        }
        let me = cx.me.ok_or("not connected to the broker")?;
        let (action_id, action_digest) = entry
            .signing_basis()
            .ok_or("the full action is not loaded; nothing unseen can be signed")?;
        Ok(Decision {
            decision_id: s.decision_id,
            action_id,
            action_digest,
            verdict: self.verdict,
            reason: reason.to_string(),
            approver: me.subject.clone(),
            key_id: s.key_id.clone(),
            issued_at: cx.now,
        })
    }
}

#[cfg(test)]
mod tests {
    //! The dialog on its own: a queue state, a context, no `App` and no `update`.
    use std::collections::VecDeque;

    use super::*;
    use crate::console::fixtures::{action, identity, live_app, now};

    fn queue(level: RiskLevel) -> QueueState {
        live_app(
            vec![action(1, "db.export", "customers", "production", level)],
            (100, 30),
        )
        .queue
    }

    fn signing(live: bool) -> Signing {
        Signing {
            decision_id: DecisionId(ulid::Ulid::from_parts(7, 7)),
            key_id: KeyId("k1".into()),
            live,
        }
    }

    fn type_text(d: DecideDialog, q: &mut QueueState, cx: &mut Ctx, text: &str) -> DecideDialog {
        text.chars().fold(d, |d, c| {
            match d.key(q, cx, Action::Insert(c), signing(true)) {
                Next::Open(d) => d,
                other => panic!("typing closed the dialog: {other:?}"),
            }
        })
    }

    #[test]
    fn deny_needs_a_reason_and_then_builds_the_decision_at_the_given_time_and_id() {
        let mut q = queue(RiskLevel::Medium);
        let me = identity("bob");
        let (mut notices, mut dirty, mut fx) = (VecDeque::new(), false, Vec::new());
        let mut cx = Ctx::new(
            now(),
            (100, 30),
            Some(&me),
            &mut notices,
            &mut dirty,
            &mut fx,
        );
        let d = DecideDialog::open(&mut q, &mut cx, Verdict::Deny, false).expect("opens");
        let Next::Open(d) = d.key(&mut q, &mut cx, Action::Submit, signing(true)) else {
            panic!("an empty deny must not be sent");
        };
        assert_eq!(d.error.as_deref(), Some("a reason is required to deny"));
        let d = type_text(d, &mut q, &mut cx, "not now");
        assert_eq!(
            d.key(&mut q, &mut cx, Action::Submit, signing(true)),
            Next::Sent
        );
        let f = q.inflight.values().next().expect("in flight");
        assert_eq!(f.decision.decision_id, signing(true).decision_id);
        assert_eq!(f.decision.issued_at, now());
        assert_eq!(f.decision.reason, "not now");
        assert!(f.sent);
        assert!(matches!(fx.as_slice(), [Effect::SignAndSend(d)] if d.verdict == Verdict::Deny));
    }

    #[test]
    fn offline_the_decision_waits_and_a_critical_approval_needs_the_typed_name() {
        let mut q = queue(RiskLevel::Critical);
        let me = identity("bob");
        let (mut notices, mut dirty, mut fx) = (VecDeque::new(), false, Vec::new());
        let mut cx = Ctx::new(
            now(),
            (100, 30),
            Some(&me),
            &mut notices,
            &mut dirty,
            &mut fx,
        );
        let d = DecideDialog::open(&mut q, &mut cx, Verdict::Approve, false).expect("opens");
        assert_eq!(d.field, Field::TypedConfirm);
        let d = type_text(d, &mut q, &mut cx, "wrong");
        let Next::Open(d) = d.key(&mut q, &mut cx, Action::Submit, signing(false)) else {
            panic!("a wrong name must not be sent");
        };
        assert!(d.error.is_some());
        let d = (0..5).fold(d, |d, _| {
            match d.key(&mut q, &mut cx, Action::Backspace, signing(false)) {
                Next::Open(d) => d,
                other => panic!("{other:?}"),
            }
        });
        let d = type_text(d, &mut q, &mut cx, "customers");
        assert_eq!(
            d.key(&mut q, &mut cx, Action::Submit, signing(false)),
            Next::Sent
        );
        assert!(
            q.inflight.values().all(|f| !f.sent),
            "waits for the reconnect"
        );

        assert!(fx.is_empty(), "nothing sent offline");
        assert!(
            notices
                .back()
                .is_some_and(|n| n.text.plain().starts_with("offline"))
        );
    }

    #[test]
    fn signed_out_or_expired_actions_open_no_dialog() {
        let mut q = queue(RiskLevel::Low);
        let me = identity("bob");
        let (mut notices, mut dirty, mut fx) = (VecDeque::new(), false, Vec::new());
        let mut cx = Ctx::new(
            now(),
            (100, 30),
            Some(&me),
            &mut notices,
            &mut dirty,
            &mut fx,
        );
        assert!(DecideDialog::open(&mut q, &mut cx, Verdict::Approve, true).is_none());
        cx.now = now().plus_secs(3600);
        assert!(DecideDialog::open(&mut q, &mut cx, Verdict::Approve, false).is_none());

        let said: Vec<String> = notices.iter().map(|n| n.text.plain()).collect();
        assert!(said[0].contains("signed out"), "{said:?}");
        assert!(said[1].contains("expired"), "{said:?}");
    }
}
