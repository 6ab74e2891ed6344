//! The reason prompt (`r`): a reason typed ahead for the selected action, used as the
//! draft when its approve or deny dialog opens.

use crate::console::core::ctx::Ctx;
use crate::console::core::msg::Action;
use crate::console::core::notice::Level;
use crate::console::core::text_input::TextInput;
use crate::console::queue::state::QueueState;
use crate::protocol::ActionId;

/// The prompt's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonDialog {
    pub action_id: ActionId,
    /// `kind system/resource`, display-safe.
    pub label: String,
    pub input: TextInput,
}

impl ReasonDialog {
    /// The prompt for the selected action, with its draft so far; `None` when nothing is
    /// selected.
    pub fn open(q: &QueueState) -> Option<Self> {
        let e = q.selected_entry()?;
        let (action_id, label) = (e.row.id, e.label());
        let value = q.drafts.get(&action_id).cloned().unwrap_or_default();
        Some(Self {
            action_id,
            label,
            input: TextInput { value },
        })
    }

    /// A key in the prompt: the prompt as it stays open, or `None` when it closes
    /// (Enter saves the draft, an empty one removes it; Esc drops what was typed).
    pub fn key(mut self, q: &mut QueueState, cx: &mut Ctx, action: Action) -> Option<Self> {
        match action {
            Action::Cancel => None,
            Action::Submit => {
                let text = self.input.value.trim().to_string();
                if text.is_empty() {
                    q.drafts.remove(&self.action_id);
                } else {
                    q.drafts.insert(self.action_id, text);
                    cx.notice(Level::Info, "reason saved for this action");
                }
                None
            }
            other => {
                self.input.edit(other);
                Some(self)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::console::fixtures::{live_app, now, sample_queue};

    #[test]
    fn enter_saves_the_draft_an_empty_one_removes_it_and_esc_drops_the_typing() {
        let mut q = live_app(sample_queue(), (100, 30)).queue;
        let (mut notices, mut dirty, mut fx) = (VecDeque::new(), false, Vec::new());
        let mut cx = Ctx::new(now(), (100, 30), None, &mut notices, &mut dirty, &mut fx);
        let id = q.selected.expect("a selection");
        let mut r = ReasonDialog::open(&q).expect("opens");
        for c in "ticket 42".chars() {
            r = r
                .key(&mut q, &mut cx, Action::Insert(c))
                .expect("stays open");
        }
        assert_eq!(r.key(&mut q, &mut cx, Action::Submit), None);
        assert_eq!(q.drafts.get(&id).map(String::as_str), Some("ticket 42"));
        let r = ReasonDialog::open(&q).expect("opens");
        assert_eq!(r.input.value, "ticket 42", "the draft comes back");
        let r = r
            .key(&mut q, &mut cx, Action::Insert('!'))
            .expect("stays open");
        assert_eq!(r.key(&mut q, &mut cx, Action::Cancel), None);
        assert_eq!(q.drafts.get(&id).map(String::as_str), Some("ticket 42"));
        let r = ReasonDialog::open(&q)
            .expect("opens")
            .key(&mut q, &mut cx, Action::ClearInput)
            .expect("stays open");
        assert_eq!(r.key(&mut q, &mut cx, Action::Submit), None);
        assert!(!q.drafts.contains_key(&id));
    }
}
