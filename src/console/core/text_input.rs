//! A single-line text field: the queue search, dialog fields and history prompts.

/// A single-line text field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextInput {
    pub value: String,
}

impl TextInput {
    /// Longest text accepted in a field (a reason is bounded by the protocol anyway).
    pub const MAX: usize = 2000;

    pub fn insert(&mut self, c: char) {
        if !c.is_control() && self.value.chars().count() < Self::MAX {
            self.value.push(c);
        }
    }

    pub fn backspace(&mut self) {
        self.value.pop();
    }
}
