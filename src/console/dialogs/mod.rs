//! The dialogs drawn over a screen, one file each.

pub mod gone;
pub mod login;
