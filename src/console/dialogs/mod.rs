//! The dialogs drawn over a screen, one file each (as gitui's popups): each holds its
//! own state and handles its own keys, taking the sub-state it acts on and a
//! [`Ctx`](crate::console::core::ctx::Ctx), never the whole console. Each one's view is
//! the file of the same name in `ui/dialogs/`. [`Dialog`] is the one open, if any;
//! `core::input` hands it the keys.

pub mod decide;
pub mod filter;
pub mod gone;
pub mod help;
pub mod login;
pub mod reason;
pub mod search;

use crate::console::core::keymap::Mode;
use crate::protocol::ActionId;

use decide::DecideDialog;
use filter::FilterDialog;
use gone::GoneNotice;
use help::HelpDialog;
use login::LoginState;
use reason::ReasonDialog;

/// An overlay or prompt on top of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// `a` / `d`: approve or deny what is shown, with a reason.
    Decide(DecideDialog),
    /// `r`: a reason to use for the selected action's next decision.
    Reason(ReasonDialog),
    /// The action under a decision or reason dialog was withdrawn, decided elsewhere,
    /// expired or changed: a blocking notice that swallows keys until Esc or Enter.
    Gone(GoneNotice),
    /// `/`: the queue search (applies while typing; its text is the queue's).
    Search,
    /// `f`: risk-level and environment toggles.
    Filter(FilterDialog),
    /// `?`: the keys.
    Help(HelpDialog),
    /// The device-flow sign-in.
    Login(LoginState),
}

impl Dialog {
    /// The key table while this dialog is open.
    pub fn mode(&self) -> Mode {
        match self {
            // The notice takes every key as text, so none of them can act.
            Dialog::Decide(_) | Dialog::Reason(_) | Dialog::Search | Dialog::Gone(_) => Mode::Input,
            Dialog::Filter(_) => Mode::Toggles,
            Dialog::Help(_) => Mode::Help,
            Dialog::Login(_) => Mode::Login,
        }
    }

    /// The action the dialog decides or drafts for, with what the dialog is called (for
    /// the notice that replaces it when the action goes away).
    pub fn action(&self) -> Option<(ActionId, &'static str)> {
        match self {
            Dialog::Decide(d) => Some((d.action_id, d.verdict_word())),
            Dialog::Reason(r) => Some((r.action_id, "Reason")),
            _ => None,
        }
    }
}
