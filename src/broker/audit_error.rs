//! Why a `signoff audit …` or `signoff broker migrate` command failed. Each variant that
//! wraps an I/O, store or parse error keeps it as its source; the command edge
//! (`cli.rs`) adds context with `wrap_err` and picks the exit code with
//! [`AuditError::exit_code`].

use std::path::PathBuf;

use super::config::ConfigError;
use super::store::{PgUrlError, StoreError};
use crate::identity::device_key::KeyError;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// No database where the command looked; the message names the `--data` to pass.
    #[error("{0}")]
    NoDatabase(String),
    /// `migrate` without a PostgreSQL store named.
    #[error(
        "name the database with --store postgres://… (or `[store] url` in --config); a \
         SQLite store migrates itself when opened"
    )]
    NoPostgres,
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The `--store` URL or password file is not usable.
    #[error(transparent)]
    StoreOptions(#[from] PgUrlError),
    #[error("cannot open the broker database in {}", dir.display())]
    Open {
        dir: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("cannot open {url}")]
    OpenPg {
        url: String,
        #[source]
        source: StoreError,
    },
    #[error("{url}: migrating the schema")]
    Migrate {
        url: String,
        #[source]
        source: StoreError,
    },
    #[error("reading the audit log")]
    Read(#[source] StoreError),
    #[error("cannot read {}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not {what}", path.display())]
    NotJson {
        path: PathBuf,
        /// What the file should hold: "a checkpoint", "an audit key", "a receipt".
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot load the broker's audit key from {}", dir.display())]
    AuditKey {
        dir: PathBuf,
        #[source]
        source: KeyError,
    },
    #[error("no audit key in {}", .0.display())]
    NoAuditKey(PathBuf),
    #[error("audit entry {seq}: not an audit entry")]
    Entry {
        seq: u64,
        #[source]
        source: serde_json::Error,
    },
    /// A leaf reason: an action id or a time that does not parse.
    #[error("{0}")]
    Argument(String),
    #[error("writing to standard output")]
    Write(#[source] std::io::Error),
    /// The log, a checkpoint, the stored actions or a receipt do not verify: the finding.
    #[error("FAILED: {0}")]
    Failed(String),
}

impl AuditError {
    /// 1 when a check failed (or a migration did), 2 when there was nothing to check.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Failed(_) | Self::Migrate { .. } => 1,
            _ => 2,
        }
    }

    /// A file that could not be read or did not parse as `what`.
    pub fn read_json<T: serde::de::DeserializeOwned>(
        path: &std::path::Path,
        what: &'static str,
    ) -> Result<T, Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Self::File {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| Self::NotJson {
            path: path.to_path_buf(),
            what,
            source,
        })
    }
}
