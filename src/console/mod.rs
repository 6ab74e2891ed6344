//! The approver console (ratatui).

pub mod sanitize;
