//! The demo's sample agents at work: submit the sample requests round-robin with jitter,
//! and, like `gate` would, report an execution result once one is approved, so the
//! console's history shows the loop closing.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use super::samples::{SAMPLE_AGENTS, samples};
use crate::agent::client::AgentClient;
use crate::auth::static_tokens::StaticToken;
use crate::auth::{PrincipalKind, hash_token};
use crate::protocol::api::ResultReport;
use crate::protocol::{ActionId, Status, Timestamp};

/// One bearer token per sample agent (requester id → token), since the broker requires a
/// requester id to equal its token's subject.
#[derive(Clone)]
pub struct SampleTokens {
    tokens: BTreeMap<String, String>,
}

impl std::fmt::Debug for SampleTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tokens.keys()).finish()
    }
}

impl SampleTokens {
    /// Fresh random tokens for every sample agent.
    pub fn generate() -> std::io::Result<Self> {
        let mut tokens = BTreeMap::new();
        for a in &SAMPLE_AGENTS {
            let mut b = [0u8; 24];
            getrandom::fill(&mut b).map_err(std::io::Error::other)?;
            tokens.insert(a.id.to_string(), format!("sot_demo_{}", hex::encode(b)));
        }
        Ok(Self { tokens })
    }

    /// The token of sample agent `id` (the demo prints one for a second terminal).
    pub fn token(&self, id: &str) -> Option<&str> {
        self.tokens.get(id).map(String::as_str)
    }

    /// The broker-side entries (hashed) that make these tokens valid agent tokens.
    pub fn static_tokens(&self) -> Vec<StaticToken> {
        SAMPLE_AGENTS
            .iter()
            .filter_map(|a| {
                self.tokens.get(a.id).map(|t| StaticToken {
                    token_sha256: hash_token(t),
                    kind: PrincipalKind::Agent,
                    subject: a.id.to_string(),
                    email: None,
                    name: Some(a.display_name.to_string()),
                    groups: Vec::new(),
                })
            })
            .collect()
    }

    /// The token for one requester id.
    pub fn token_for(&self, requester_id: &str) -> Option<&str> {
        self.tokens.get(requester_id).map(String::as_str)
    }
}

/// What the traffic did, returned when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrafficStats {
    pub submitted: u64,
    pub failed: u64,
    pub results_reported: u64,
}

/// Submits one sample about every `every` (±50 % jitter; the first at once) until
/// `shutdown` completes, and reports a result for each approved one.
pub async fn run_traffic(
    broker: &str,
    tokens: SampleTokens,
    every: Duration,
    shutdown: impl Future<Output = ()> + Send,
) -> TrafficStats {
    let mut stats = TrafficStats::default();
    let mut clients = BTreeMap::new();
    for a in &SAMPLE_AGENTS {
        match tokens.token_for(a.id).map(|t| AgentClient::new(broker, t)) {
            Some(Ok(c)) => {
                clients.insert(a.id, c);
            }
            Some(Err(e)) => tracing::warn!(agent = a.id, error = %e, "sample agent disabled"),
            None => tracing::warn!(agent = a.id, "no token for sample agent"),
        }
    }
    let mut seed = random_u64();
    let mut open: Vec<(ActionId, &'static str)> = Vec::new();
    let mut i = 0usize;
    tokio::pin!(shutdown);
    loop {
        let batch = samples(Timestamp::now(), seed);
        let req = &batch[i % batch.len()];
        let agent = SAMPLE_AGENTS
            .iter()
            .find(|a| a.id == req.requester.id)
            .map(|a| a.id);
        if let Some((id, client)) = agent.and_then(|id| clients.get(id).map(|c| (id, c))) {
            match client.create(req).await {
                Ok(created) => {
                    stats.submitted += 1;
                    open.push((created.id, id));
                }
                Err(e) => {
                    stats.failed += 1;
                    tracing::warn!(agent = id, error = %e, "sample request failed");
                }
            }
        }
        i += 1;
        if i.is_multiple_of(batch.len()) {
            seed = seed.wrapping_add(1);
        }
        close_loops(&clients, &mut open, &mut stats).await;
        let delay = every.mul_f64(0.5 + (random_u64() % 1000) as f64 / 1000.0);
        tokio::select! {
            _ = &mut shutdown => return stats,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// Reports an execution result for each approved sample and forgets every final one.
async fn close_loops(
    clients: &BTreeMap<&'static str, AgentClient>,
    open: &mut Vec<(ActionId, &'static str)>,
    stats: &mut TrafficStats,
) {
    let mut still_open = Vec::new();
    for (id, agent) in open.drain(..) {
        let Some(client) = clients.get(agent) else {
            continue;
        };
        match client.get(id, 0).await {
            Ok(v) if v.action.status == Status::Pending => still_open.push((id, agent)),
            Ok(v) if v.action.status == Status::Approved && v.action.execution.is_none() => {
                let failed = random_u64().is_multiple_of(6);
                let report = ResultReport {
                    exit_code: i32::from(failed),
                    detail: Some(format!(
                        "exited with {} after {}s",
                        i32::from(failed),
                        2 + random_u64() % 40
                    )),
                };
                match client.report_result(id, &report).await {
                    Ok(_) => stats.results_reported += 1,
                    Err(e) => tracing::warn!(%id, error = %e, "reporting a sample result failed"),
                }
            }
            Ok(_) => {}
            Err(e) if e.is_transient() => still_open.push((id, agent)),
            Err(e) => tracing::warn!(%id, error = %e, "sample action lost"),
        }
    }
    *open = still_open;
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        Ok(()) => u64::from_le_bytes(b),
        Err(_) => 0x5eed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Authenticator as _;
    use crate::auth::static_tokens::StaticTokens;

    #[tokio::test]
    async fn generated_tokens_authenticate_as_their_sample_agent() {
        let tokens = SampleTokens::generate().unwrap();
        let auth = StaticTokens::new(tokens.static_tokens());
        for a in &SAMPLE_AGENTS {
            let p = auth
                .authenticate(tokens.token_for(a.id).unwrap())
                .await
                .unwrap();
            assert_eq!(p.subject(), a.id);
            assert_eq!(p.kind, PrincipalKind::Agent);
        }
        assert!(!format!("{tokens:?}").contains("sot_demo_"));
    }

    #[tokio::test]
    async fn stops_on_shutdown_and_counts_failures_against_a_dead_broker() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let url = format!("http://127.0.0.1:{port}");
        let task = tokio::spawn(async move {
            run_traffic(
                &url,
                SampleTokens::generate().unwrap(),
                Duration::from_millis(20),
                async {
                    let _ = rx.await;
                },
            )
            .await
        });
        // The first request is sent before shutdown is first checked, so stopping at once
        // still exercises one failed submission; it must then return promptly.
        let _ = tx.send(());
        let stats = tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .unwrap()
            .unwrap();
        assert!(stats.failed >= 1, "{stats:?}");
        assert_eq!(stats.submitted, 0);
    }
}
