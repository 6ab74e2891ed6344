//! The state every handler shares.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::Tunables;
use super::error::HttpError;
use super::keys::Keys;
use super::live::Live;
use super::metrics::Metrics;
use super::policy::Engine;
use super::store::Store;
use super::writer::Op;
use crate::auth::Authenticator;

pub struct Inner {
    pub authenticator: Arc<dyn Authenticator>,
    pub policy: Engine,
    pub store: Arc<dyn Store>,
    pub live: Arc<Live>,
    pub keys: Arc<Keys>,
    pub metrics: Arc<Metrics>,
    pub writer: mpsc::Sender<Op>,
    /// Signed decisions on their way to the writer, verified in batches.
    pub verify: mpsc::Sender<super::verify_stage::Job>,
    pub new_action: Arc<Notify>,
    pub tunables: Tunables,
    /// Flips to true when the broker is shutting down; feeds and long polls end.
    pub shutdown: watch::Receiver<bool>,
    /// The public half of the broker's audit checkpoint key.
    pub audit_key: crate::protocol::AuditKey,
    /// The latest signed checkpoint of the audit log (after the last durable batch).
    pub checkpoint: crate::broker::audit_key::Latest,
    /// Notification delivery, per sink, for `/metrics` and `/healthz?details`.
    pub notify_health: Arc<super::notify::Health>,
    /// Where requester callbacks may go, when configured.
    pub callbacks: Option<super::notify::Callbacks>,
    /// The Slack app's interactivity settings ("I'm looking" from Slack), when configured.
    pub slack_app: Option<std::sync::Arc<super::notify::config::SlackApp>>,
}

/// Cheap to clone; handed to every handler.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Completes once the broker is shutting down (or its shutdown signal is gone).
pub async fn stopping(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

impl AppState {
    /// Queues an operation for the writer and waits for its (durable) answer.
    pub async fn submit<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Op,
    ) -> Result<T, HttpError> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send(make(tx))
            .await
            .map_err(|_| HttpError::internal())?;
        rx.await.map_err(|_| HttpError::internal())
    }

    /// Runs a blocking store read off the async threads.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, super::store::StoreError> + Send + 'static,
    ) -> Result<T, HttpError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|_| HttpError::internal())?
            .map_err(HttpError::from)
    }
}
