//! The broker's TOML config file.
//!
//! ```toml
//! listen = "127.0.0.1:7700"
//! data_dir = "/var/lib/signoff"
//! policy = "policy.toml"          # relative to this file
//! [tls]
//! cert = "cert.pem"
//! key = "key.pem"
//! [[tokens]]
//! token_sha256 = "sha256:…"       # `signoff` never stores the token itself
//! kind = "agent"
//! subject = "ci-deploy"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::Tunables;
use crate::auth::jwt::JwtConfig;
use crate::auth::static_tokens::StaticToken;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// `[feed]`: websocket feed tunables.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    pub queue_depth: Option<usize>,
    pub resume_window: Option<usize>,
    pub ping_interval_secs: Option<u64>,
    /// Budget of pending bytes one requester may hold (`pending_budget_exceeded` past it).
    pub pending_bytes_per_requester: Option<u64>,
    /// Budget of pending bytes for the whole broker.
    pub pending_bytes_total: Option<u64>,
}

/// `[store]`: PostgreSQL instead of the data directory's SQLite file, for several
/// brokers on one database. The password goes in `password_file` (mode 0600) or
/// `$SIGNOFF_STORE_PASSWORD`, not in the URL of a file others may read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `postgres://user@host:port/dbname`
    pub url: Option<String>,
    pub password_file: Option<PathBuf>,
    /// Pooled read connections per broker [default: 8].
    pub pool_size: Option<usize>,
    /// How often to look for other brokers' events without a notification [default: 500].
    pub poll_interval_ms: Option<u64>,
    /// How long a write waits for its turn on the chain head before failing with 503
    /// [default: 10000].
    pub lock_timeout_ms: Option<u64>,
    /// With `?sslmode=require` in the URL: the CA certificates (PEM) the database's
    /// certificate must chain to [default: the public web roots].
    pub ca_file: Option<PathBuf>,
}

impl StoreConfig {
    /// The PostgreSQL options, with `url` and `password_file` overriding the file's.
    pub fn options(
        &self,
        url: Option<&str>,
        password_file: Option<&Path>,
    ) -> Result<Option<crate::broker::store::PgOptions>, crate::broker::store::PgUrlError> {
        let Some(url) = url.or(self.url.as_deref()) else {
            return Ok(None);
        };
        let pw = match password_file.or(self.password_file.as_deref()) {
            Some(p) => Some(crate::broker::store::pg::url::check_password_file(p)?),
            None => None,
        };
        let u = crate::broker::store::PgUrl::parse(url, pw.as_deref())?;
        let mut o = crate::broker::store::PgOptions::new(u);
        if let Some(n) = self.pool_size {
            o.pool_size = n.max(1);
        }
        if let Some(ms) = self.poll_interval_ms {
            o.poll_interval = Duration::from_millis(ms.max(10));
        }
        if let Some(ms) = self.lock_timeout_ms {
            o.lock_timeout = Duration::from_millis(ms.max(1));
        }
        o.ca_file = self.ca_file.clone();
        Ok(Some(o))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// The policy file.
    pub policy: Option<PathBuf>,
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub tokens: Vec<StaticToken>,
    /// OIDC JWT validation for approvers (and agents using client credentials).
    pub oidc: Option<JwtConfig>,
    #[serde(default)]
    pub feed: FeedConfig,
    /// Notification sinks (see `docs/notify.md`).
    #[serde(default)]
    pub notify: Vec<super::notify::config::SinkConfig>,
    /// Requester callbacks: allowed URL prefixes and the signing secret.
    pub callbacks: Option<super::notify::config::CallbacksConfig>,
    /// The Slack app's interactivity endpoint (the "I'm looking" button).
    pub slack_interactivity: Option<super::notify::config::SlackAppConfig>,
    #[serde(default)]
    pub store: StoreConfig,
}

impl Config {
    pub fn from_toml_str(text: &str) -> Result<Self, String> {
        let c: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        c.check_tokens()?;
        Ok(c)
    }

    /// Token subjects and emails follow the identifier grammar an agent's identity fields
    /// do: a subject with a stray space or an invisible character would be another person.
    fn check_tokens(&self) -> Result<(), String> {
        use crate::protocol::person::{canonical_email, check_identifier};
        for (i, t) in self.tokens.iter().enumerate() {
            check_identifier(&t.subject).map_err(|m| {
                format!(
                    "tokens[{i}].subject {:?} {m}",
                    crate::text::visible_string(&t.subject)
                )
            })?;
            if let Some(e) = &t.email {
                check_identifier(e).map_err(|m| {
                    format!("tokens[{i}].email {:?} {m}", crate::text::visible_string(e))
                })?;
                if canonical_email(e).is_none() {
                    return Err(format!("tokens[{i}].email {e:?} is not an email address"));
                }
            }
        }
        Ok(())
    }

    /// Reads a config file; relative paths inside it are taken from the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut c = Self::from_toml_str(&text).map_err(|message| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = c.policy.as_mut() {
            fix(p);
        }
        if let Some(p) = c.data_dir.as_mut() {
            fix(p);
        }
        if let Some(t) = c.tls.as_mut() {
            fix(&mut t.cert);
            fix(&mut t.key);
        }
        for n in c.notify.iter_mut() {
            if let Some(p) = n.secret_file.as_mut() {
                fix(p);
            }
        }
        if let Some(p) = c.callbacks.as_mut().and_then(|c| c.secret_file.as_mut()) {
            fix(p);
        }
        if let Some(p) = c
            .slack_interactivity
            .as_mut()
            .and_then(|c| c.signing_secret_file.as_mut())
        {
            fix(p);
        }
        if let Some(p) = c.store.password_file.as_mut() {
            fix(p);
        }
        if let Some(p) = c.store.ca_file.as_mut() {
            fix(p);
        }
        Ok(c)
    }

    /// Default tunables, overridden by `[feed]`.
    pub fn tunables(&self) -> Tunables {
        let mut t = Tunables::default();
        if let Some(d) = self.feed.queue_depth {
            t.feed_queue_depth = d.max(1);
        }
        if let Some(w) = self.feed.resume_window {
            t.resume_window = w;
        }
        if let Some(p) = self.feed.ping_interval_secs {
            t.ping_interval = Duration::from_secs(p.max(1));
        }
        if let Some(b) = self.feed.pending_bytes_per_requester {
            t.budgets.per_requester = b;
        }
        if let Some(b) = self.feed.pending_bytes_total {
            t.budgets.total = b;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PrincipalKind;

    #[test]
    fn token_identities_follow_the_identifier_grammar() {
        let t = |subject: &str, email: &str| {
            format!(
                "[[tokens]]\ntoken_sha256 = \"00\"\nkind = \"approver\"\nsubject = \"{subject}\"\nemail = \"{email}\"\n"
            )
        };
        assert!(Config::from_toml_str(&t("alice", "alice@example.test")).is_ok());
        let e = Config::from_toml_str(&t("alice ", "alice@example.test")).unwrap_err();
        assert!(
            e.contains("tokens[0].subject") && e.contains("whitespace"),
            "{e}"
        );
        let e = Config::from_toml_str(&t("alice", "al\u{200b}ice@example.test")).unwrap_err();
        assert!(e.contains("tokens[0].email") && e.contains("U+200B"), "{e}");
        let e = Config::from_toml_str(&t("alice", "alice")).unwrap_err();
        assert!(e.contains("not an email address"), "{e}");
    }

    #[test]
    fn the_shipped_example_parses() {
        let c = Config::from_toml_str(include_str!("../../examples/broker.toml")).unwrap();
        assert!(c.tokens.iter().any(|t| t.kind == PrincipalKind::Agent));
        assert!(c.tokens.iter().any(|t| t.kind == PrincipalKind::Approver));
        assert_eq!(c.listen.as_deref(), Some("127.0.0.1:7700"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = Config::from_toml_str("listen = \"x\"\nlisten_port = 1\n").unwrap_err();
        assert!(e.contains("listen_port"), "{e}");
    }

    #[test]
    fn oidc_section_is_the_jwt_config() {
        let c = Config::from_toml_str(
            "[oidc]\nissuer = \"https://id.example.com\"\naudience = \"signoff\"\n",
        )
        .unwrap();
        assert_eq!(c.oidc.unwrap().audience, "signoff");
    }
}
