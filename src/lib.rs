//! signoff: action-level approvals. The approver's console, the reference broker and the
//! agent side share the protocol module.

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
pub mod text;
