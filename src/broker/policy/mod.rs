//! Policy and risk: from a TOML policy file and built-in detectors, decide an action's
//! risk (level, score, tags with reasons), quorum, approver groups and time to live.
//!
//! Pure: the broker gathers the facts that need I/O (the clock, whether this requester
//! asked for this kind before) into [`Facts`] and calls [`Engine::evaluate`].

use serde::{Deserialize, Serialize};

use crate::protocol::{ActionRequest, Policy, Risk, Timestamp};

/// Facts about the world the engine cannot know by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub now: Timestamp,
    /// True when this requester has never asked for this kind before.
    pub first_time_for_kind: bool,
}

/// What the engine decided for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub risk: Risk,
    pub policy: Policy,
    pub ttl_secs: u64,
}

/// Why a policy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy file is not valid TOML: {0}")]
    Toml(String),
    #[error("policy rule {rule:?}: {message}")]
    Rule { rule: String, message: String },
}

/// A loaded policy.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    _private: (),
}

impl Engine {
    /// Parses a policy file.
    pub fn from_toml_str(_text: &str) -> Result<Self, PolicyError> {
        Ok(Self::default())
    }

    /// Risk, quorum, groups and TTL for one request.
    pub fn evaluate(&self, req: &ActionRequest, _facts: &Facts) -> Evaluation {
        Evaluation {
            risk: Risk::default(),
            policy: Policy::default(),
            ttl_secs: req.ttl_secs.unwrap_or(900),
        }
    }
}
