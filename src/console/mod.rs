//! The approver console (ratatui): live queue, context / diff / risk panes, keyboard
//! approve and deny with signed decisions.
//!
//! Shape: [`msg`] (what happens), [`keymap`] (keys → actions), [`update`] (the only
//! state change, pure), [`ui`] (views of `&App` + `&Theme`), and the runtime at the edge.

pub mod app;
pub mod bodies;
pub mod cli;
pub mod config;
pub mod decisions;
pub mod diff;
pub mod fixtures;
pub mod heap_trim;
pub mod history_chips;
pub mod history_export;
pub mod history_input;
pub mod history_live;
pub mod history_view;
pub mod input;
pub mod keymap;
pub mod login;
pub mod msg;
pub mod notify;
pub mod queue;
pub mod runtime;
pub mod sanitize;
pub mod session_watch;
pub mod signin;
pub mod stop_signals;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod update;
pub mod view_model;

pub use app::App;
pub use msg::{Action, Effect, Msg};
pub use update::update;
