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

    /// A key in the field: a character, backspace or clear; other keys change nothing.
    pub fn edit(&mut self, action: crate::console::core::msg::Action) {
        use crate::console::core::msg::Action;
        match action {
            Action::Insert(c) => self.insert(c),
            Action::Backspace => self.backspace(),
            Action::ClearInput => self.value.clear(),
            _ => {}
        }
    }

    /// Pasted text, line breaks and tabs as spaces: a pasted newline is never Enter.
    pub fn paste(&mut self, text: &str) {
        for c in text.chars() {
            self.insert(if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            });
        }
    }
}
