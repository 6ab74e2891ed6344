//! The history screen (`H`): loaded pages and selection ([`state`]), its keys and
//! mouse ([`input`]), the broker-side search ([`live`]) and the filter chips
//! ([`chips`]).

pub mod chips;
pub mod input;
pub mod live;
pub mod state;
