//! What the console tells the approver in the status line: a [`Notice`] at a [`Level`].
//!
//! Its own file so messages, the theme and every view can name a level without
//! importing the whole state.

use crate::console::model::sanitize::SafeText;
use crate::protocol::Timestamp;

/// How a notice reads: the colour and the word the status bar gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Success,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub at: Timestamp,
    pub level: Level,
    pub text: SafeText,
}
