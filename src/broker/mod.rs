//! The reference broker: agent HTTP API, approver websocket feed, policy and risk,
//! decision verification, and the hash-chained audit log.

pub mod policy;
