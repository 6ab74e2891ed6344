//! signoff: action-level approvals. The approver's console, the reference broker and the
//! agent side share the protocol module.

// Input from outside is never `unwrap`ped: product code says what failed instead.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod agent;
pub mod auth;
pub mod broker;
pub mod client;
pub mod console;
pub mod demo;
/// Screenshots and `signoff dev seed`: the test kit's tools, not in the product build.
#[cfg(any(test, feature = "testkit"))]
pub mod devtools;
pub mod env;
pub mod history;
pub mod identity;
pub mod mcp;
pub mod protocol;
pub mod report;
/// Waiting for a condition in tests (the test kit).
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod text;
