//! What a part of the core (the queue, decisions, the history screen, the dialogs) may
//! use besides its own sub-state: the time and window of the message being handled, who
//! is signed in, and three outputs — status-bar notices, the redraw flag and effects for
//! the runtime. So those parts take `(&mut TheirState, &mut Ctx)`, never the whole
//! [`App`](crate::console::core::app::App).

use std::collections::VecDeque;

use crate::protocol::Timestamp;
use crate::protocol::messages::Identity;

use crate::console::core::msg::Effect;
use crate::console::core::notice::{Level, Notice};
use crate::console::model::sanitize::SafeText;

/// Notices kept for the log.
pub const MAX_NOTICES: usize = 50;

/// The context of one message for a part of the core.
pub struct Ctx<'a> {
    /// The console's clock as of this message.
    pub now: Timestamp,
    /// The window, columns × rows.
    pub size: (u16, u16),
    /// The signed-in approver, once the broker said who.
    pub me: Option<&'a Identity>,
    notices: &'a mut VecDeque<Notice>,
    dirty: &'a mut bool,
    fx: &'a mut Vec<Effect>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        now: Timestamp,
        size: (u16, u16),
        me: Option<&'a Identity>,
        notices: &'a mut VecDeque<Notice>,
        dirty: &'a mut bool,
        fx: &'a mut Vec<Effect>,
    ) -> Self {
        Self {
            now,
            size,
            me,
            notices,
            dirty,
            fx,
        }
    }

    /// Adds a notice for the status bar (and the log), and redraws.
    pub fn notice(&mut self, level: Level, text: &str) {
        push_notice(self.notices, self.now, level, text);
        *self.dirty = true;
    }

    /// Something visible changed.
    pub fn redraw(&mut self) {
        *self.dirty = true;
    }

    /// An effect for the runtime to perform.
    pub fn effect(&mut self, e: Effect) {
        self.fx.push(e);
    }

    /// The signed-in approver's subject, if known.
    pub fn subject(&self) -> Option<&'a str> {
        self.me.map(|m| m.subject.as_str())
    }
}

/// Appends a notice to `log`, keeping the newest [`MAX_NOTICES`].
pub fn push_notice(log: &mut VecDeque<Notice>, at: Timestamp, level: Level, text: &str) {
    log.push_back(Notice {
        at,
        level,
        text: SafeText::line(text),
    });
    while log.len() > MAX_NOTICES {
        log.pop_front();
    }
}
