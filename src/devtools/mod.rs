//! Developer tools: screenshots rendered from the real views, store seeding.

pub mod dev_cli;
pub mod glyphs;
pub mod palette;
mod scene_state;
pub mod scenes;
pub mod seed;
pub mod svg;
