//! The pure core: the state ([`app`]), what happens ([`msg`]), keys → actions
//! ([`keymap`]), the only state change ([`update`], with key handling in [`input`]) and
//! the geometry and pane rows both `update` and the views use ([`layout`], [`rows`]). No I/O, no terminal, and
//! no import of the views.

pub mod app;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod msg;
pub mod notice;
pub mod quorum;
pub mod review;
pub mod rows;
pub mod session;
pub mod update;
