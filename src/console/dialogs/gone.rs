//! The blocking notice that replaces a dialog whose action the world took away.
//!
//! Why: an approver typing a reason into "Approve: A" does not look up when A is
//! withdrawn. If the dialog just closed, the rest of the typing would land on the queue
//! (`a` in "all good" opens "Approve: B", Enter signs it). So the dialog stays, turned
//! into this notice, which swallows every key until Esc or Enter closes it; nothing typed
//! into a dialog ever reaches the queue.

use crate::console::core::msg::Action;
use crate::console::dialogs::Dialog;
use crate::console::queue::state::QueueState;
use crate::protocol::{ActionId, Status, Timestamp};

/// Why the action under the dialog can no longer be decided from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The requester withdrew it.
    Withdrawn,
    /// Approved or denied by other approvers (`by`, display-safe).
    Decided { status: Status, by: String },
    /// Its time ran out.
    Expired,
    /// Its content changed (a new digest): what the dialog showed is not what is there.
    Changed,
    /// It left the queue some other way (a snapshot without it, a vote from another
    /// session of yours).
    Gone,
}

impl Why {
    /// The reason in a few words, as the notice shows it after the action's label.
    pub fn text(&self) -> String {
        match self {
            Why::Withdrawn => "withdrawn by the requester".into(),
            Why::Decided { status, by } => format!("{status} by {by}"),
            Why::Expired => "expired".into(),
            Why::Changed => "changed by the requester: review it again".into(),
            Why::Gone => "no longer pending".into(),
        }
    }
}

/// The notice's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoneNotice {
    pub action_id: ActionId,
    /// `kind system/resource`, display-safe.
    pub label: String,
    /// What the closed dialog was: `Approve`, `Deny` or `Reason`.
    pub was: &'static str,
    pub why: Why,
}

/// The action an open dialog acts on, with what the dialog was.
fn dialog_action(dialog: &Option<Dialog>) -> Option<(ActionId, &'static str)> {
    dialog.as_ref().and_then(Dialog::action)
}

impl GoneNotice {
    /// A key while the notice shows: only Esc or Enter close it; every other key is
    /// swallowed, so nothing typed for the dialog it replaced reaches the queue.
    pub fn key(self, action: Action) -> Option<Self> {
        match action {
            Action::Cancel | Action::Submit => None,
            _ => Some(self),
        }
    }
}

/// True when an open dialog acts on `id`.
pub fn open_on(dialog: &Option<Dialog>, id: ActionId) -> bool {
    dialog_action(dialog).is_some_and(|(a, _)| a == id)
}

/// Turns a dialog on `id` into the blocking notice. A reason typed so far is kept as the
/// action's draft when the action is still there (changed), so nothing is lost. True
/// when it replaced a dialog (the caller redraws).
pub fn replace(
    dialog: &mut Option<Dialog>,
    q: &mut QueueState,
    id: ActionId,
    label: String,
    why: Why,
) -> bool {
    let Some((open, was)) = dialog_action(dialog) else {
        return false;
    };
    if open != id {
        return false;
    }
    let typed = match dialog {
        Some(Dialog::Decide(d)) => d.reason.value.trim().to_string(),
        Some(Dialog::Reason(r)) => r.input.value.trim().to_string(),
        _ => String::new(),
    };
    if !typed.is_empty() && q.entries.contains_key(&id) {
        q.drafts.insert(id, typed);
    }
    *dialog = Some(Dialog::Gone(GoneNotice {
        action_id: id,
        label,
        was,
        why,
    }));
    true
}

/// After every message: a dialog whose action left the queue, or whose action's content
/// is no longer the version it opened on, becomes the notice. (The feed's handlers do
/// it first with the precise reason; this catches every other path, such as a
/// snapshot after a reconnect.) True when it replaced the dialog.
pub fn guard(dialog: &mut Option<Dialog>, q: &mut QueueState, now: Timestamp) -> bool {
    let Some((id, _)) = dialog_action(dialog) else {
        return false;
    };
    let why = match q.entries.get(&id) {
        None => Why::Gone,
        Some(e) => match dialog {
            Some(Dialog::Decide(d)) if e.digest() != &d.digest => Why::Changed,
            _ if e.is_expired_at(now) => Why::Expired,
            _ => return false,
        },
    };
    let label = match dialog {
        Some(Dialog::Decide(d)) => d.label.clone(),
        Some(Dialog::Reason(r)) => r.label.clone(),
        _ => String::new(),
    };
    replace(dialog, q, id, label, why)
}
