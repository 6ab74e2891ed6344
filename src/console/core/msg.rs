//! The console's vocabulary: what can happen ([`Msg`]), what the approver can ask for
//! ([`Action`]) and what the runtime must do as a result ([`Effect`]).
//!
//! `update(&mut App, Msg) -> Vec<Effect>` is the only way state changes, so every
//! behaviour is a test over these enums with no terminal and no network.

use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::client::FeedEvent;
use crate::protocol::{ClientMsg, Decision, HistoryPage, HistoryQuery, HistoryRecord, Timestamp};

use crate::console::core::notice::Level;
use crate::console::dialogs::login::DeviceAuthorization;

/// Something happened.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press; the keymap turns it into an [`Action`] for the current mode.
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// Pasted text (bracketed paste): inserted into the focused field as text only, so
    /// a pasted newline can never confirm a dialog.
    Paste(String),
    /// The terminal is now this many columns and rows.
    Resize(u16, u16),
    /// The clock moved (1 s ticks, faster while a spinner shows).
    Tick(Timestamp),
    /// The token source's answer to an [`Effect::RefreshToken`].
    TokenChecked(crate::console::core::session::Answer),
    /// The broker feed reported something.
    Feed(FeedEvent),
    /// An approver intent, already resolved from a key (or sent directly by tests).
    Do(Action),
    /// The device-flow sign-in started: show the code to the approver.
    LoginStarted(DeviceAuthorization),
    /// The sign-in finished: `Err` carries the reason to show.
    LoginFinished(Result<(), String>),
    /// The console started: sign in first (no usable session and a sign-in flow is
    /// configured), or register the device key right away.
    Started {
        sign_in_first: bool,
    },
    /// The answer to an [`Effect::RegisterKey`].
    KeyRegistration(KeyRegistration),
    /// Something the approver should know, from a background task (for example, the
    /// device key could not be registered).
    Notice {
        level: Level,
        text: String,
    },
    /// A `/v1/history` page asked for by [`Effect::FetchHistory`] with this generation
    /// (older generations are stale and dropped); `Err` carries the reason to show.
    HistoryPage {
        generation: u64,
        result: Result<HistoryPage, String>,
    },
    /// The answer to an [`Effect::AskHistory`]: a refresh of the first page or a search
    /// on the broker, for the history generation it was asked under.
    HistoryAnswer {
        ask: HistoryAsk,
        generation: u64,
        result: Result<HistoryPage, String>,
    },
}

/// Why the history screen asks the broker for a page outside of paging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryAsk {
    /// The feed reported a decision while the screen is open: the first page again.
    Refresh,
    /// The search text settled: the broker's full-text matches (FTS5).
    Search,
}

/// What the approver asks for. Names are the snake_case ones used in the config file's
/// `[keys]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    /// `h` / `←`: the diff pane scrolls left (half a pane).
    Left,
    /// `l` / `→`: the diff pane scrolls right (half a pane).
    Right,
    /// `0`: the diff pane back to column 1.
    LineStart,
    /// `$`: the diff pane to the end of its longest line on screen.
    LineEnd,
    NextPane,
    PrevPane,
    FocusDetail,
    Approve,
    Deny,
    Reason,
    Search,
    Filter,
    Sort,
    History,
    Help,
    Reconnect,
    /// `y`: copy `signoff review ID` for the selected action (OSC 52).
    CopyReview,
    Quit,
    // Inside dialogs and prompts (not rebindable).
    Cancel,
    Submit,
    NextField,
    Toggle,
    Backspace,
    ClearInput,
    Insert(char),
    // History screen only (defaults in `keymap::HISTORY_KEYS`, names in
    // `Action::HISTORY_BINDABLE`).
    /// `y`: copy the selected record's action id to the clipboard (OSC 52).
    CopyId,
    /// `e`: export the filtered records as JSON Lines.
    Export,
    /// `m`: the "decided by me" chip.
    DecidedByMe,
    /// `t`: cycle the time-range chip (any, 1h, 24h, 7d).
    CycleTime,
    /// `T`: type a custom time range.
    CustomTime,
    /// `u`: the "requested by" chip for the selected record's requester.
    RequestedBy,
    /// `x`: clear every chip.
    ClearChips,
}

impl Action {
    /// Every rebindable action with its config name and help text, in help order.
    pub const BINDABLE: &'static [(Action, &'static str, &'static str)] = &[
        (Action::Down, "down", "next action / scroll down"),
        (Action::Up, "up", "previous action / scroll up"),
        (Action::Top, "top", "first action / top"),
        (Action::Bottom, "bottom", "last action / bottom"),
        (Action::PageDown, "page_down", "page down"),
        (Action::PageUp, "page_up", "page up"),
        (Action::Left, "left", "diff: scroll left"),
        (Action::Right, "right", "diff: scroll right"),
        (Action::LineStart, "line_start", "diff: back to column 1"),
        (
            Action::LineEnd,
            "line_end",
            "diff: to the end of the longest line",
        ),
        (Action::NextPane, "next_pane", "next pane"),
        (Action::PrevPane, "prev_pane", "previous pane"),
        (
            Action::FocusDetail,
            "focus_detail",
            "focus the detail panes",
        ),
        (
            Action::Approve,
            "approve",
            "approve (confirm dialog, then sign)",
        ),
        (Action::Deny, "deny", "deny (a reason is required)"),
        (
            Action::Reason,
            "reason",
            "write a reason for the selected action",
        ),
        (Action::Search, "search", "search the queue"),
        (Action::Filter, "filter", "filter by risk and environment"),
        (Action::Sort, "sort", "sort by risk, expiry or age"),
        (Action::History, "history", "decision history"),
        (Action::Help, "help", "this help"),
        (
            Action::Reconnect,
            "reconnect",
            "reconnect to the broker now",
        ),
        (
            Action::CopyReview,
            "copy_review",
            "copy `signoff review ID` (OSC 52)",
        ),
        (Action::Quit, "quit", "quit"),
    ];

    /// The history screen's own rebindable actions, in help order. On that screen their
    /// keys win over the table above.
    pub const HISTORY_BINDABLE: &'static [(Action, &'static str, &'static str)] = &[
        (Action::CopyId, "copy_id", "copy the action id (OSC 52)"),
        (
            Action::Export,
            "export",
            "export the filtered records (JSON Lines)",
        ),
        (Action::DecidedByMe, "decided_by_me", "chip: decided by me"),
        (
            Action::RequestedBy,
            "requested_by",
            "chip: requested by the selected requester",
        ),
        (
            Action::CycleTime,
            "cycle_time",
            "chip: time range any / 1h / 24h / 7d",
        ),
        (Action::CustomTime, "custom_time", "chip: custom time range"),
        (Action::ClearChips, "clear_chips", "clear every chip"),
    ];

    fn all_bindable() -> impl Iterator<Item = &'static (Action, &'static str, &'static str)> {
        Self::BINDABLE.iter().chain(Self::HISTORY_BINDABLE)
    }

    /// The action a config name stands for.
    pub fn from_name(name: &str) -> Option<Action> {
        Self::all_bindable()
            .find(|(_, n, _)| *n == name)
            .map(|(a, _, _)| *a)
    }

    pub fn name(self) -> Option<&'static str> {
        Self::all_bindable()
            .find(|(a, _, _)| *a == self)
            .map(|(_, n, _)| *n)
    }

    /// An action of the history screen's own table.
    pub fn is_history(self) -> bool {
        Self::HISTORY_BINDABLE.iter().any(|(a, _, _)| *a == self)
    }
}

/// What the runtime must do. Results come back as [`Msg`]s.
/// How a device key registration ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRegistration {
    Registered,
    /// Signed out: the sign-in registers the key afterwards.
    SignedOut,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Sign this decision with the device key and send it as `decide`.
    SignAndSend(Decision),
    /// Send a message as is (hello is the feed's job; this is for queries).
    Send(ClientMsg),
    /// Ring the bell and/or post a desktop notification, per the config.
    Alert {
        title: String,
        body: String,
    },
    /// Ask the feed to reconnect now.
    Reconnect,
    /// Tell the broker "I'm looking" at this action (`signoff review` opened it).
    Claim(crate::protocol::ActionId),
    /// Register the device key with the broker (idempotent); answered by
    /// [`Msg::KeyRegistration`] (at start, on a connect while unregistered, and after
    /// every sign-in).
    RegisterKey,
    /// Ask the token source for a fresh token (the feed's expires soon); the answer
    /// comes back as [`Msg::TokenChecked`], read against the feed's token then.
    RefreshToken,
    /// Ask the feed for a fresh snapshot (events were missed).
    Resync,
    /// Start the device-flow sign-in (the session is dead); its steps come back as
    /// [`Msg::LoginStarted`] and [`Msg::LoginFinished`].
    StartLogin,
    /// Fetch one `/v1/history` page; the answer comes back as [`Msg::HistoryPage`].
    FetchHistory {
        generation: u64,
        query: HistoryQuery,
    },
    /// Fetch one `/v1/history` page for a refresh or a search; the answer comes back as
    /// [`Msg::HistoryAnswer`].
    AskHistory {
        ask: HistoryAsk,
        generation: u64,
        query: HistoryQuery,
    },
    /// Put this text on the terminal's clipboard (OSC 52).
    CopyToClipboard(String),
    /// Write these records as JSON Lines to `file_name` in the working directory, then
    /// report the full path in a notice. The records are shared with the loaded set, so
    /// the snapshot costs a pointer per record.
    ExportHistory {
        file_name: String,
        records: Vec<Arc<HistoryRecord>>,
    },
    Quit,
}
