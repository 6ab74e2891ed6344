//! What an action looks like to the console: every agent string made display-safe
//! ([`sanitize`]), the queue entry and its safe view ([`view_model`]), and the parsed
//! diff ([`diff`]). Pure data, built once per action version.

pub mod diff;
pub mod diff_job;
pub mod sanitize;
pub mod view_model;
