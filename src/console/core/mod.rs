//! The pure core: the state ([`app`]), what happens ([`msg`]), keys → actions
//! ([`keymap`]), the only state change ([`update`], with key handling in [`input`]) and
//! the geometry and pane rows both `update` and the views use ([`layout`], [`rows`]).
//! No I/O, no terminal, and no import of the views.
//!
//! `update` owns the whole [`App`](app::App); its parts — the queue, decisions, the
//! history screen, the dialogs — take their own sub-state and a [`ctx::Ctx`] (the time,
//! the window, who is signed in, and the notices, redraw flag and effects they may add).

pub mod app;
pub mod ctx;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod msg;
pub mod notice;
pub mod quorum;
pub mod review;
pub mod rows;
pub mod session;
pub mod text_input;
pub mod update;
