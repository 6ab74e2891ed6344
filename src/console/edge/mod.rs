//! The edges: everything that touches the world. The runtime's event loop performs the
//! core's effects; the terminal guard, signals, notifications, config files, the CLI,
//! sign-in, token watching, heap trimming and history export live beside it.

pub mod cli;
pub mod config;
pub mod credentials;
pub mod device_login;
pub mod export;
pub mod heap_trim;
pub mod notify;
pub mod runtime;
pub mod signals;
pub mod terminal;
