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

/// `20000` as `20,000`: a count as the console and the risk reasons print it.
pub fn group_thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod group_tests {
    #[test]
    fn groups_thousands() {
        assert_eq!(super::group_thousands(7), "7");
        assert_eq!(super::group_thousands(20_000), "20,000");
        assert_eq!(super::group_thousands(1_048_576), "1,048,576");
    }
}
