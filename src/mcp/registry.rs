//! What this server remembers between calls: the requests it submitted (so `run_approved`
//! can check the approved action against them), and the actions whose creating call is
//! still waiting (so a client that goes away has them withdrawn rather than left pending
//! with nobody to act on the answer).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::agent::client::AgentClient;
use crate::protocol::{ActionId, ActionRequest, ErrorCode};

/// Shared between every call and task of one server.
#[derive(Clone, Default)]
pub struct Registry {
    submitted: Arc<Mutex<HashMap<ActionId, ActionRequest>>>,
    waiting: Arc<Mutex<HashSet<ActionId>>>,
}

/// Keeps `id` registered as waited on until dropped.
pub struct Waiting {
    id: ActionId,
    set: Arc<Mutex<HashSet<ActionId>>>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Ok(mut s) = self.set.lock() {
            s.remove(&self.id);
        }
    }
}

impl Registry {
    pub fn remember(&self, id: ActionId, req: ActionRequest) {
        if let Ok(mut m) = self.submitted.lock() {
            m.insert(id, req);
        }
    }

    /// The request this server submitted as `id`, if it did.
    pub fn submitted(&self, id: ActionId) -> Option<ActionRequest> {
        self.submitted.lock().ok().and_then(|m| m.get(&id).cloned())
    }

    /// Marks `id` as waited on by the call or task that created it.
    pub fn waiting(&self, id: ActionId) -> Waiting {
        if let Ok(mut s) = self.waiting.lock() {
            s.insert(id);
        }
        Waiting {
            id,
            set: self.waiting.clone(),
        }
    }

    /// Actions still waited on.
    pub fn waited_on(&self) -> Vec<ActionId> {
        self.waiting
            .lock()
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Withdraws every action still waited on; used when the client has gone (stdio
    /// closed) or the server is stopping. Bounded by `within`.
    pub async fn withdraw_all(&self, client: &AgentClient, within: Duration) {
        let ids = self.waited_on();
        if ids.is_empty() {
            return;
        }
        let all = futures_util::future::join_all(ids.into_iter().map(|id| async move {
            withdraw_quietly(client, id).await;
        }));
        if tokio::time::timeout(within, all).await.is_err() {
            crate::agent::say("gave up withdrawing pending requests: the broker is too slow");
        }
    }
}

/// Withdraws `id`, saying what happened on standard error (the log, never the protocol).
pub async fn withdraw_quietly(client: &AgentClient, id: ActionId) {
    match client.withdraw(id).await {
        Ok(_) => crate::agent::say(&format!("withdrew {id}: its caller went away")),
        Err(e) if e.code() == Some(ErrorCode::Conflict) => {}
        Err(e) => crate::agent::say(&format!("could not withdraw {id}: {e}")),
    }
}
