//! Developer tools: screenshots rendered from the real views, store seeding.

pub mod dev_cli;
pub mod seed;
pub mod svg;
