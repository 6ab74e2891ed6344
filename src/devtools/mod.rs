//! Developer tools: screenshots rendered from the real views, store seeding.

pub mod svg;
