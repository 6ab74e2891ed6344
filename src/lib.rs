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
pub mod devtools;
pub mod env;
pub mod history;
pub mod identity;
pub mod mcp;
pub mod protocol;
pub mod report;
pub mod text;
