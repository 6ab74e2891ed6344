//! The pending queue: its order (filter, search, sort, selection kept on the same
//! action) and the life of a decision after it is sent.

pub mod decisions;
pub mod order;
