//! The pending queue: its order (filter, search, sort, selection kept on the same
//! action), the full actions fetched for viewing, and the life of a decision after it is
//! sent.

pub mod bodies;
pub mod decisions;
pub mod order;
pub mod state;
