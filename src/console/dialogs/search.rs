//! The queue search prompt (`/`): filters the queue while typing. Its text is the
//! queue's own ([`QueueState::search`]), kept when the prompt closes with Enter.

use crate::console::core::msg::Action;
use crate::console::queue::order;
use crate::console::queue::state::QueueState;

/// A key in the prompt; false when it closes (Esc clears the search, Enter keeps it).
pub fn key(q: &mut QueueState, action: Action) -> bool {
    match action {
        Action::Cancel => {
            q.search = Default::default();
            order::rebuild(q);
            false
        }
        Action::Submit => false,
        other => {
            q.search.edit(other);
            order::rebuild(q);
            true
        }
    }
}

/// Pasted text goes into the search as text.
pub fn paste(q: &mut QueueState, text: &str) {
    q.search.paste(text);
    order::rebuild(q);
}
