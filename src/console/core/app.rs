//! The console's whole state. Views read it; only [`crate::console::core::update::update`] changes it.

use std::collections::VecDeque;

use crate::protocol::messages::Identity;
use crate::protocol::{ActionId, DecisionId, KeyId, RiskLevel, Timestamp};

use crate::console::core::ctx::Ctx;
use crate::console::core::keymap::{Keymap, Mode};
use crate::console::core::msg::Effect;
use crate::console::history::state::HistoryState;
use crate::console::queue::state::QueueState;

pub use super::layout::Pane;
pub use super::notice::{Level, Notice};
pub use super::text_input::TextInput;
pub use crate::console::dialogs::Dialog;

/// Which screen fills the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Queue,
    History,
}

/// The feed connection, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    Connecting {
        attempt: u32,
    },
    /// Socket open, waiting for `welcome`.
    Handshake,
    Live,
    Reconnecting {
        attempt: u32,
        retry_at: Timestamp,
        reason: String,
    },
    SignedOut {
        reason: String,
    },
}

/// Where the device key's registration stands: the broker refuses signatures by a key
/// it does not know, so the core asks again on every connect until it is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Unregistered,
    Registering,
    /// Registering after a sign-in: the feed reconnects with the new session once the
    /// broker has answered, so no decision is signed with a key it does not know yet.
    RegisteringThenReconnect,
    Registered,
}

/// What the console was told at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub keymap: Keymap,
    pub key_id: KeyId,
    /// Alerts ring for new actions at or above this level.
    pub alert_level: RiskLevel,
    /// Shown in the status bar until the broker says who we are.
    pub broker_url: String,
    /// Random per process, chosen by the runtime: decision ids are ULIDs from the
    /// console's clock and this seed plus a counter, so `update` reads no clock and no
    /// random source and tests get the same ids every run.
    pub decision_seed: u128,
}

/// The console state.
#[derive(Debug, Clone)]
pub struct App {
    pub settings: Settings,
    pub now: Timestamp,
    pub size: (u16, u16),
    pub screen: Screen,
    pub focus: Pane,
    /// The detail pane shown when the window is too narrow for all three.
    pub detail: Pane,
    pub dialog: Option<Dialog>,
    pub conn: Conn,
    pub me: Option<Identity>,
    pub token_expires_at: Option<Timestamp>,
    /// The device key's registration with the broker.
    pub key: KeyState,
    /// When the token source was last asked for a fresh token (see `core::session`).
    pub token_asked_at: Option<Timestamp>,
    /// The queue screen: pending actions, order, selection, drafts, decisions in flight.
    pub queue: QueueState,
    pub notices: VecDeque<Notice>,
    pub last_seq: Option<u64>,
    pub last_event_at: Option<Timestamp>,
    /// After a welcome: the broker's head; catch-up is done once `last_seq` reaches it.
    pub catching_up_to: Option<u64>,
    pub spinner: usize,
    /// Decisions built so far (for the next decision id).
    pub decisions_built: u64,
    pub quit_armed: bool,
    pub should_quit: bool,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    /// The history screen (`H`): loaded pages, chips, search, selection.
    pub history: HistoryState,
    /// Lines the help overlay shows first, for the whole session (`signoff demo`: what
    /// to run in a second terminal).
    pub intro: Vec<String>,
    /// The action `signoff review ID` asked for, selected once it is on the queue.
    pub review: Option<crate::protocol::ActionId>,
}

impl App {
    /// The signed-in approver as a person key (from the broker's welcome), for the
    /// self-approval warning.
    pub fn me_key(&self) -> Option<crate::protocol::person::PersonKey> {
        let me = self.me.as_ref()?;
        Some(crate::protocol::person::PersonKey::of_identity(
            &me.subject,
            me.email.as_deref(),
        ))
    }

    /// How the action names the signed-in approver as its own requester (see
    /// [`QueueRow::names`](crate::console::model::view_model::QueueRow::names)).
    pub fn names_me(&self, id: &ActionId) -> Option<bool> {
        self.queue.entries.get(id)?.names(&self.me_key()?)
    }

    pub fn new(settings: Settings, now: Timestamp) -> Self {
        Self {
            settings,
            now,
            size: (80, 24),
            screen: Screen::Queue,
            focus: Pane::Queue,
            detail: Pane::Context,
            dialog: None,
            conn: Conn::Connecting { attempt: 0 },
            me: None,
            token_expires_at: None,
            token_asked_at: None,
            key: KeyState::Unregistered,
            queue: QueueState::default(),
            notices: VecDeque::new(),
            last_seq: None,
            last_event_at: None,
            catching_up_to: None,
            spinner: 0,
            decisions_built: 0,
            quit_armed: false,
            should_quit: false,
            dirty: true,
            history: HistoryState::default(),
            intro: Vec::new(),
            review: None,
        }
    }

    /// The key table that applies now.
    pub fn mode(&self) -> Mode {
        match &self.dialog {
            None if self.screen == Screen::History => self.history.mode(),
            None => Mode::Normal,
            Some(d) => d.mode(),
        }
    }

    /// The id for the next decision: the clock `update` was given, the seed and the
    /// count of decisions built so far. Unique per console and never reused.
    pub fn next_decision_id(&self) -> DecisionId {
        let ms = u64::try_from(self.now.unix_millis()).unwrap_or(0);
        let random = self
            .settings
            .decision_seed
            .wrapping_add(u128::from(self.decisions_built));
        DecisionId(ulid::Ulid::from_parts(ms, random))
    }

    /// The newest notice still worth showing (10 s).
    pub fn current_notice(&self) -> Option<&Notice> {
        self.notices
            .back()
            .filter(|n| n.at.millis_until(self.now) < 10_000)
    }

    /// The parts of the core's state and the context their functions need, for one
    /// message (a borrow of each, so a part can act while the others are read).
    pub fn parts<'a>(
        &'a mut self,
        fx: &'a mut Vec<Effect>,
    ) -> (&'a mut QueueState, &'a mut HistoryState, Ctx<'a>) {
        let cx = Ctx::new(
            self.now,
            self.size,
            self.me.as_ref(),
            &mut self.notices,
            &mut self.dirty,
            fx,
        );
        (&mut self.queue, &mut self.history, cx)
    }

    /// The queue's state and the context its functions need, for one message.
    pub fn queue_cx<'a>(&'a mut self, fx: &'a mut Vec<Effect>) -> (&'a mut QueueState, Ctx<'a>) {
        let (q, _, cx) = self.parts(fx);
        (q, cx)
    }

    /// The history screen's state and the context its functions need, for one message.
    pub fn history_cx<'a>(
        &'a mut self,
        fx: &'a mut Vec<Effect>,
    ) -> (&'a mut HistoryState, Ctx<'a>) {
        let (_, h, cx) = self.parts(fx);
        (h, cx)
    }

    /// True while a spinner is showing (the runtime ticks faster).
    pub fn busy(&self) -> bool {
        self.queue.inflight.values().any(|f| f.sent) || self.history.live.settling()
    }
}
