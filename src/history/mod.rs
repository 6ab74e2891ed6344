//! Decision history: the local query and search behind the console's history view, and
//! the `signoff history` command.
//!
//! Everything here is pure except [`cli`]: records already loaded are indexed once
//! ([`HistoryIndex`], a folded haystack per record), filtered by a [`HistoryQuery`]
//! ([`filter::matches_filter`]), and searched as the user types ([`Search`], incremental,
//! with highlight ranges). [`chips::Chips`] is the filter-chip model that produces the
//! query; [`LocalHistory`] ties the three together for a view.
//!
//! [`HistoryQuery`]: crate::protocol::HistoryQuery

pub mod args;
pub mod chips;
pub mod cli;
pub mod display;
pub mod fields;
pub mod filter;
pub mod fold;
/// The test kit's history generator (tests, benches, `signoff dev seed`).
#[cfg(any(test, feature = "testkit"))]
pub mod r#gen;
pub mod index;
pub mod local;
pub mod params;
pub mod search;
pub mod table;
pub mod terms;

pub use args::HistoryArgs;
pub use fields::SearchField;
#[cfg(any(test, feature = "testkit"))]
pub use r#gen::{GenConfig, Generator};
pub use index::HistoryIndex;
pub use local::LocalHistory;
pub use search::{FieldMatch, Search, match_ranges};
pub use terms::Terms;
