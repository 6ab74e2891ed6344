//! The approver console (ratatui): live queue, context / diff / risk panes, keyboard
//! approve and deny with signed decisions.
//!
//! Layers, each importing only the ones above it:
//!
//! - [`model`]: an action made display-safe (sanitized text, queue entry, parsed diff);
//! - [`core`]: state, messages, keymap, the pure `update` and the geometry it shares
//!   with the views; [`queue`], [`history`] and [`dialogs`] are the core's parts;
//! - [`ui`]: views, pure functions of `&App` and `&Theme`;
//! - [`edge`]: the runtime that performs effects, and everything that touches the world.
//!
//! See docs/architecture.md.

pub mod core;
pub mod dialogs;
pub mod edge;
/// The test kit's console: sample actions and a live state (tests, benches, screenshots).
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;
pub mod history;
pub mod model;
pub mod queue;
pub mod ui;

pub use self::core::app::App;
pub use self::core::msg::{Effect, Intent, Msg};
pub use self::core::update::update;

// The paths before the split, kept for callers outside `src/console` (tests, benches,
// other branches). New code names the layered path.
pub use self::core::session as session_watch;
pub use self::core::{app, input, keymap, msg};
pub use self::dialogs::login;
pub use self::edge::{
    cli, config, credentials, export as history_export, heap_trim, notify, runtime,
    signals as stop_signals, terminal,
};
pub use self::history::{
    chips as history_chips, input as history_input, live as history_live, state as history_view,
};
pub use self::model::{diff, sanitize, view_model};
pub use self::queue::decisions;
pub use self::ui::theme;
