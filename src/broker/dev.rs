//! `signoff broker --dev`: the broker with the development issuer beside it, on loopback.
//!
//! A platform engineer or a console developer gets a complete local set-up from one
//! command: an OIDC issuer that signs in a configured development identity by itself, a
//! broker that trusts it, and a generated agent token, with the exact commands to run next.
//! `signoff demo` uses [`trusting_dev_issuer`] too, so both wire the broker the same way.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::auth::jwt::{JwtAuthenticator, JwtConfigError};
use crate::auth::static_tokens::{StaticToken, StaticTokens};
use crate::auth::{Authenticator, Chain, PrincipalKind, hash_token};
use crate::identity::dev_issuer::{self, DevIdentity, DevIssuer, DevIssuerConfig};
use crate::identity::files;

/// The subject of the agent token `--dev` generates.
pub const DEV_AGENT: &str = "dev-agent";

/// `first` (static tokens: agents, fixed approvers), then JWTs from the development issuer.
pub fn trusting_dev_issuer(
    first: Vec<Arc<dyn Authenticator>>,
    issuer: &DevIssuer,
) -> Result<Arc<dyn Authenticator>, JwtConfigError> {
    let jwt = JwtAuthenticator::new(issuer.jwt_config())?;
    let mut chain = first;
    chain.push(Arc::new(jwt));
    Ok(Arc::new(Chain(chain)))
}

/// Why `--dev` refused to start.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error(
        "--dev listens on loopback only (127.0.0.1 or ::1), not on {0}: its issuer signs \
         anyone in as the development identity"
    )]
    NotLoopback(String),
    #[error("--dev: {0}")]
    Setup(String),
}

/// Refuses a listen address that is not loopback (checked before anything binds).
pub fn require_loopback(listen: &str) -> Result<(), DevError> {
    let addrs: Vec<SocketAddr> = match listen.parse::<SocketAddr>() {
        Ok(a) => vec![a],
        // A host name: every address it resolves to must be loopback.
        Err(_) => std::net::ToSocketAddrs::to_socket_addrs(listen)
            .map_err(|e| DevError::Setup(format!("listen address {listen:?}: {e}")))?
            .collect(),
    };
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(DevError::NotLoopback(listen.to_string()));
    }
    Ok(())
}

/// Who the development issuer signs in: `--dev-user` and `--dev-groups`, else its default.
pub fn identity(user: Option<&str>, groups: &[String]) -> DevIdentity {
    let default = DevIssuerConfig::default().identity;
    let groups: Vec<&str> = if groups.is_empty() {
        default.groups.iter().map(String::as_str).collect()
    } else {
        groups.iter().map(String::as_str).collect()
    };
    DevIdentity::new(user.unwrap_or(&default.subject), &groups)
}

/// A running development set-up: the issuer and the agent token the broker accepts.
pub struct DevSetup {
    pub issuer: DevIssuer,
    pub client_id: String,
    pub agent_token: String,
    pub identity: DevIdentity,
}

/// The file in the dev data dir that keeps the issuer's port and the agent token.
pub const STATE_FILE: &str = "dev.json";
/// The file in the dev data dir that keeps the issuer's signing key and refresh grants.
pub const ISSUER_FILE: &str = "dev-issuer.json";

/// What `--dev` keeps across restarts, so sessions and agents survive them.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Kept {
    issuer_port: Option<u16>,
    agent_token: Option<String>,
}

fn load_kept(path: &Path) -> Result<Kept, DevError> {
    match files::read_private(path).map_err(|e| DevError::Setup(e.to_string()))? {
        None => Ok(Kept::default()),
        Some(b) => serde_json::from_slice(&b).map_err(|e| {
            DevError::Setup(format!(
                "{}: {e}; delete it to start afresh (new agent token, everyone signs in again)",
                path.display()
            ))
        }),
    }
}

/// Binds the issuer on its port from the last run, or an ephemeral one the first time (or
/// when that port is taken now, with a warning: sessions from before need a new login).
async fn bind_issuer(ip: IpAddr, port: Option<u16>) -> Result<TcpListener, DevError> {
    let fail = |e: std::io::Error| DevError::Setup(format!("binding the development issuer: {e}"));
    if let Some(p) = port {
        match TcpListener::bind(SocketAddr::new(ip, p)).await {
            Ok(l) => return Ok(l),
            Err(e) => eprintln!(
                "warning: the development issuer's port {p} from the last run is not free ({e}); \
                 using another one, so sign in again with the `signoff login` line below"
            ),
        }
    }
    TcpListener::bind(SocketAddr::new(ip, 0))
        .await
        .map_err(fail)
}

/// Starts the issuer on `ip` and returns the authenticator the broker should use: `first`,
/// the agent token, then the issuer's JWTs. The issuer's port, signing key and refresh
/// grants and the agent token are kept in `data_dir` (0600 files), so a restarted
/// `broker --dev` keeps everyone signed in and every agent's token valid.
pub async fn start(
    ip: IpAddr,
    identity: DevIdentity,
    first: Arc<dyn Authenticator>,
    data_dir: &Path,
) -> Result<(DevSetup, Arc<dyn Authenticator>), DevError> {
    let state_path = data_dir.join(STATE_FILE);
    let kept = load_kept(&state_path)?;
    let listener = bind_issuer(ip, kept.issuer_port).await?;
    let port = listener
        .local_addr()
        .map_err(|e| DevError::Setup(format!("the development issuer's address: {e}")))?
        .port();
    let cfg = DevIssuerConfig {
        identity: identity.clone(),
        ..DevIssuerConfig::default()
    };
    let client_id = cfg.client_id.clone();
    let issuer = dev_issuer::start_persistent(listener, cfg, &data_dir.join(ISSUER_FILE))
        .await
        .map_err(|e| DevError::Setup(e.to_string()))?;
    let agent_token = match kept.agent_token {
        Some(t) => t,
        None => generate_token()?,
    };
    let kept = Kept {
        issuer_port: Some(port),
        agent_token: Some(agent_token.clone()),
    };
    let bytes = serde_json::to_vec_pretty(&kept).map_err(|e| DevError::Setup(e.to_string()))?;
    files::write_private(&state_path, &bytes).map_err(|e| DevError::Setup(e.to_string()))?;
    let agent = StaticToken {
        token_sha256: hash_token(&agent_token),
        kind: PrincipalKind::Agent,
        subject: DEV_AGENT.into(),
        email: None,
        name: Some("Development agent".into()),
        groups: Vec::new(),
    };
    let auth = trusting_dev_issuer(
        vec![first, Arc::new(StaticTokens::new(vec![agent]))],
        &issuer,
    )
    .map_err(|e| DevError::Setup(e.to_string()))?;
    let setup = DevSetup {
        issuer,
        client_id,
        agent_token,
        identity,
    };
    Ok((setup, auth))
}

fn generate_token() -> Result<String, DevError> {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).map_err(|e| DevError::Setup(format!("random token: {e}")))?;
    Ok(format!("sot_dev_{}", hex::encode(b)))
}

impl DevSetup {
    /// The lines printed after the listening line: who signs in, and what to run next.
    pub fn next_steps(&self, broker_url: &str) -> String {
        next_steps(
            broker_url,
            &self.issuer.issuer_url,
            &self.client_id,
            &self.identity,
            &self.agent_token,
        )
    }
}

/// Pure text of [`DevSetup::next_steps`].
pub fn next_steps(
    broker: &str,
    issuer: &str,
    client_id: &str,
    id: &DevIdentity,
    agent_token: &str,
) -> String {
    format!(
        "development issuer {issuer} (client id {client_id}) signs in {subject} \
         (groups {groups}) after a short delay; for local use only.\n\
         Next:\n  \
         signoff login --issuer {issuer} --client-id {client_id} --broker {broker}\n  \
         signoff --broker {broker} --issuer {issuer} --client-id {client_id}\n  \
         SIGNOFF_AGENT_TOKEN={agent_token} signoff request --broker {broker} \
         --requester-id {DEV_AGENT} --kind db.export --summary 'Export customers' \
         --target postgres:customers --env staging --wait\n",
        subject = id.subject,
        groups = id.groups.join(","),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only() {
        assert!(require_loopback("127.0.0.1:0").is_ok());
        assert!(require_loopback("[::1]:7700").is_ok());
        assert!(require_loopback("localhost:7700").is_ok());
        let e = require_loopback("0.0.0.0:0").unwrap_err().to_string();
        assert!(
            e.contains("loopback only") && e.contains("0.0.0.0:0"),
            "{e}"
        );
        assert!(require_loopback("192.168.1.5:7700").is_err());
    }

    #[test]
    fn identity_from_flags_or_default() {
        let id = identity(
            Some("alice@example.com"),
            &["sre".into(), "security".into()],
        );
        assert_eq!(id.email, "alice@example.com");
        assert_eq!(id.groups, ["sre", "security"]);
        let d = identity(None, &[]);
        assert_eq!(d, DevIssuerConfig::default().identity);
    }

    #[test]
    fn next_steps_name_every_url_and_the_token() {
        let id = identity(Some("alice@example.com"), &["sre".into()]);
        let t = next_steps("http://b", "http://i", "cid", &id, "sot_dev_x");
        assert!(t.contains("signoff login --issuer http://i --client-id cid --broker http://b"));
        assert!(t.contains("signoff --broker http://b --issuer http://i --client-id cid"));
        assert!(t.contains("SIGNOFF_AGENT_TOKEN=sot_dev_x signoff request --broker http://b"));
        assert!(t.contains("alice@example.com") && t.contains("local use only"));
    }
}
