//! The help overlay (`?`): the keys as configured, scrolled with j/k.

use crate::console::core::msg::Action;

/// The overlay's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HelpDialog {
    /// First line shown.
    pub scroll: u16,
}

impl HelpDialog {
    /// A key in the overlay: the overlay as it stays open, or `None` when it closes.
    pub fn key(self, action: Action) -> Option<Self> {
        let scroll = match action {
            Action::Cancel => return None,
            Action::Down => self.scroll.saturating_add(1),
            Action::Up => self.scroll.saturating_sub(1),
            _ => self.scroll,
        };
        Some(Self { scroll })
    }
}
