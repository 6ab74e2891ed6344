//! The reference broker: agent HTTP API, approver websocket feed, policy and risk,
//! decision verification, and the hash-chained audit log.
//!
//! Start one with [`launch`] (a listener you bound) or, in tests, [`spawn`] (binds
//! `127.0.0.1:0` and returns a [`RunningBroker`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Authenticator;

pub mod audit_error;
pub mod audit_key;
pub mod audit_payload;
pub mod cli;
pub mod config;
pub mod decide;
pub mod dev;
mod error;
mod expiry;
mod feed;
pub mod http;
mod keys;
mod live;
mod metrics;
pub mod notify;
pub mod policy;
pub mod receipt;
mod server;
mod state;
pub mod store;
mod tls;
mod verify_stage;
mod writer;

pub use error::HttpError;
pub use server::{Broker, BrokerError, RunningBroker, launch, spawn};
pub use writer::Budgets;

/// Knobs with sensible defaults; tests shrink them.
#[derive(Debug, Clone)]
pub struct Tunables {
    /// Events a feed connection may fall behind before it is closed as a slow consumer.
    pub feed_queue_depth: usize,
    /// Recent events kept (in memory and in the store, so across restarts) for
    /// `resume_after`; older resumes get a snapshot.
    pub resume_window: usize,
    /// Websocket ping interval; a peer that misses two pongs is dropped.
    pub ping_interval: Duration,
    /// How long one websocket write may take before the peer counts as stuck.
    pub send_timeout: Duration,
    /// Most operations in one group commit.
    pub max_batch: usize,
    /// Pending-bytes budgets, per requester and for the whole broker.
    pub budgets: writer::Budgets,
}

impl Default for Tunables {
    fn default() -> Self {
        Self {
            feed_queue_depth: 1024,
            resume_window: 10_000,
            ping_interval: Duration::from_secs(20),
            send_timeout: Duration::from_secs(10),
            max_batch: 4096,
            budgets: writer::Budgets::default(),
        }
    }
}

/// PEM files for TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything a broker needs to run.
#[derive(Clone)]
pub struct Settings {
    /// Resolves bearer tokens (static hashed tokens, OIDC JWTs, or a chain of both).
    pub authenticator: Arc<dyn Authenticator>,
    pub policy: policy::Engine,
    /// Where `signoff.db` lives (and, with PostgreSQL, the broker's audit key).
    pub data_dir: PathBuf,
    /// PostgreSQL instead of `signoff.db`: the store several brokers share.
    pub postgres: Option<store::PgOptions>,
    pub tls: Option<TlsFiles>,
    pub tunables: Tunables,
    /// Notification sinks and requester callbacks (`[[notify]]`, `[callbacks]`).
    pub notify: notify::NotifySettings,
}

impl Settings {
    /// Settings with default tunables and no TLS.
    pub fn new(
        authenticator: Arc<dyn Authenticator>,
        policy: policy::Engine,
        data_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            authenticator,
            policy,
            data_dir: data_dir.into(),
            postgres: None,
            tls: None,
            tunables: Tunables::default(),
            notify: notify::NotifySettings::default(),
        }
    }
}
