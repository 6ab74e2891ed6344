//! The help overlay (`?`): the keys as configured, scrolled with j/k.

use crate::console::core::msg::Intent;

/// The overlay's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HelpDialog {
    /// First line shown.
    pub scroll: u16,
}

impl HelpDialog {
    /// A key in the overlay: the overlay as it stays open, or `None` when it closes.
    pub fn key(self, action: Intent) -> Option<Self> {
        let scroll = match action {
            Intent::Cancel => return None,
            Intent::Down => self.scroll.saturating_add(1),
            Intent::Up => self.scroll.saturating_sub(1),
            _ => self.scroll,
        };
        Some(Self { scroll })
    }
}
