//! Text an agent, approver, issuer or broker sent, made visible before any terminal sees
//! it: one classifier ([`class`]), one scan ([`scan`]) and one visible form
//! ([`visible`]), shared by the console's views, the broker's `hidden-characters`
//! detector and every CLI output, so they all agree on what is hidden and how it looks.

mod class;
mod json;
pub mod scan;
mod visible;

#[cfg(test)]
mod props;
#[cfg(test)]
pub mod strategy;

pub use class::{Class, class, hidden_chars, is_combining, is_default_ignorable};
pub use json::escape_json;
pub use visible::{
    Piece, TAB_WIDTH, has_hidden, is_plain, marker, read_back, truncate, visible, visible_at,
    visible_lines, visible_string,
};
