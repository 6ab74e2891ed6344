//! The two transports: stdio (the MCP client starts `signoff mcp` and talks over its
//! standard streams) and Streamable HTTP on a loopback address (`--listen`).
//!
//! Either way, when the client goes away (stdio closed) or the server is told to stop
//! (SIGINT, SIGTERM), every action whose creating call was still waiting is withdrawn
//! before the process exits, so nothing stays pending with nobody to act on the answer.

use std::net::SocketAddr;
use std::time::Duration;

use rmcp::ServiceExt as _;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::server::Approvals;
use crate::agent::say;
use crate::agent::signals::Interrupts;

/// Why serving MCP stopped with an error (the client going away is not one).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot install the signal handlers")]
    Signals(#[source] std::io::Error),
    #[error("starting the MCP server")]
    Start(#[source] Box<rmcp::service::ServerInitializeError>),
    #[error(
        "--listen {0}: serve MCP on a loopback address (127.0.0.1 or [::1]) only; anyone \
         who reaches it acts with this agent's token. Put an authenticating proxy in front \
         for remote agents."
    )]
    NotLoopback(SocketAddr),
    #[error("--listen {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("serving MCP")]
    Serve(#[source] std::io::Error),
}

/// How long withdrawing the still-waiting actions may take at the end.
const WITHDRAW_WITHIN: Duration = Duration::from_secs(10);

/// Serves one client over standard input and output until it closes them or a signal
/// arrives.
pub async fn stdio(server: Approvals) -> Result<(), ServeError> {
    let mut interrupts = Interrupts::install().map_err(ServeError::Signals)?;
    let running = server
        .clone()
        .serve(rmcp::transport::stdio_pipes())
        .await
        .map_err(|e| ServeError::Start(Box::new(e)))?;
    let stop = running.cancellation_token();
    tokio::select! {
        ended = running.waiting() => {
            if let Err(e) = ended {
                say(&format!("the MCP server stopped: {e}"));
            }
        }
        sig = interrupts.recv() => {
            say(&format!("{} received: stopping", sig.name()));
            stop.cancel();
        }
    }
    server
        .registry()
        .withdraw_all(server.client(), WITHDRAW_WITHIN)
        .await;
    Ok(())
}

/// Serves Streamable HTTP at `addr` (loopback only) until SIGINT or SIGTERM.
pub async fn http(server: Approvals, addr: SocketAddr) -> Result<(), ServeError> {
    if !addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback(addr));
    }
    let mut interrupts = Interrupts::install().map_err(ServeError::Signals)?;
    let listen = |source| ServeError::Listen { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(listen)?;
    let bound = listener.local_addr().map_err(listen)?;
    let ct = CancellationToken::new();
    let handler = server.clone();
    let service = StreamableHttpService::new(
        move || Ok(handler.clone()),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default().with_cancellation_token(ct.child_token()),
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    // The first line on standard output is the endpoint, for scripts and tests.
    println!("http://{bound}/mcp");
    say(&format!("serving MCP at http://{bound}/mcp"));
    let shutdown = {
        let ct = ct.clone();
        async move {
            let sig = interrupts.recv().await;
            say(&format!("{} received: stopping", sig.name()));
            ct.cancel();
        }
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServeError::Serve)?;
    server
        .registry()
        .withdraw_all(server.client(), WITHDRAW_WITHIN)
        .await;
    Ok(())
}
