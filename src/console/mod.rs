//! The approver console (ratatui).
