//! Where the PostgreSQL store is and how to log in: a `postgres://` URL whose password
//! may come from a file or the environment instead, and which is never printed with it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::config::SslMode;

/// The environment variable a password may come from.
pub const PASSWORD_ENV: &str = "SIGNOFF_STORE_PASSWORD";

/// Why the store URL, its password file or the TLS roots cannot be used. No message
/// holds the password: the URL parser's own error may quote it, so it is not kept as a
/// source; its text, redacted, is the leaf reason of [`PgUrlError::Invalid`].
#[derive(Debug, thiserror::Error)]
pub enum PgUrlError {
    #[error("the store URL must start with postgres:// or postgresql://")]
    Scheme,
    #[error("invalid PostgreSQL URL: {0}")]
    Invalid(String),
    #[error("cannot read the password file {}", path.display())]
    PasswordFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("password file {} is empty", .0.display())]
    EmptyPasswordFile(PathBuf),
    #[error("password file {} is readable by others; chmod 600 it", .0.display())]
    PasswordFileOpen(PathBuf),
    #[error("cannot read the CA certificates in {}", path.display())]
    CaFile {
        path: PathBuf,
        #[source]
        source: tokio_rustls::rustls::pki_types::pem::Error,
    },
    #[error("{}: no certificate in it", .0.display())]
    NoCertificate(PathBuf),
    #[error("{}: a CA certificate that cannot be used", path.display())]
    BadCertificate {
        path: PathBuf,
        #[source]
        source: tokio_rustls::rustls::Error,
    },
    #[error("cannot set up TLS")]
    Tls(#[source] tokio_rustls::rustls::Error),
}

/// How to reach the database. `Debug` and `Display` never show the password.
#[derive(Clone)]
pub struct PgUrl {
    config: tokio_postgres::Config,
    /// `user@host:port/dbname`, for logs and messages.
    shown: String,
}

/// Options of the PostgreSQL store beyond the URL.
#[derive(Debug, Clone)]
pub struct PgOptions {
    pub url: PgUrl,
    /// Pooled connections for reads (the writer and the listener have their own).
    pub pool_size: usize,
    /// How often a replica looks for other replicas' events without a notification.
    pub poll_interval: Duration,
    /// How long a batch waits for the chain head before it fails (503).
    pub lock_timeout: Duration,
    /// With `sslmode=require`: the CA certificates (PEM) the server's certificate must
    /// chain to [default: the public web roots].
    pub ca_file: Option<PathBuf>,
}

impl PgOptions {
    pub fn new(url: PgUrl) -> Self {
        Self {
            url,
            pool_size: 8,
            poll_interval: Duration::from_millis(500),
            lock_timeout: Duration::from_secs(10),
            ca_file: None,
        }
    }
}

/// True when `s` names a PostgreSQL store rather than a directory.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

impl PgUrl {
    /// Parses a `postgres://` URL. The password, when not in the URL, comes from
    /// `password_file` (first line) or else `$SIGNOFF_STORE_PASSWORD`.
    pub fn parse(url: &str, password_file: Option<&Path>) -> Result<Self, PgUrlError> {
        if !is_postgres_url(url) {
            return Err(PgUrlError::Scheme);
        }
        // The parser's errors may quote the input: say what is wrong without the URL.
        let mut config: tokio_postgres::Config =
            url.parse().map_err(|e: tokio_postgres::Error| {
                PgUrlError::Invalid(redact_in(&e.to_string(), url))
            })?;
        if config.get_password().is_none() {
            if let Some(p) = password_file {
                let text =
                    std::fs::read_to_string(p).map_err(|source| PgUrlError::PasswordFile {
                        path: p.to_path_buf(),
                        source,
                    })?;
                let pw = text.lines().next().unwrap_or("").to_string();
                if pw.is_empty() {
                    return Err(PgUrlError::EmptyPasswordFile(p.to_path_buf()));
                }
                config.password(pw);
            } else if let Ok(pw) = std::env::var(PASSWORD_ENV)
                && !pw.is_empty()
            {
                config.password(pw);
            }
        }
        // TLS only when asked for (`sslmode=require`, which verifies the certificate chain
        // and the host name); `prefer`, the parser's default, would half-try it.
        if config.get_ssl_mode() != SslMode::Require {
            config.ssl_mode(SslMode::Disable);
        }
        if config.get_application_name().is_none() {
            config.application_name("signoff-broker");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let shown = show(&config);
        Ok(Self { config, shown })
    }

    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The password, if any (to check that logs never hold it).
    pub fn password_bytes(&self) -> Option<&[u8]> {
        self.config.get_password()
    }
}

fn show(c: &tokio_postgres::Config) -> String {
    let user = c.get_user().unwrap_or("?");
    let host = match c.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let db = c.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{db}")
}

/// Removes the password part of `url` wherever it appears in `text`.
fn redact_in(text: &str, url: &str) -> String {
    let mut out = text.to_string();
    if let Some(rest) = url.split_once("://").map(|(_, r)| r)
        && let Some((creds, _)) = rest.split_once('@')
        && let Some((_, pw)) = creds.split_once(':')
        && !pw.is_empty()
    {
        out = out.replace(pw, "***");
    }
    out
}

/// The TLS connector for PostgreSQL connections: rustls with the ring provider, trusting
/// `ca_file` (PEM) or else the public web roots. Only used with `sslmode=require`.
pub fn tls(ca_file: Option<&Path>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, PgUrlError> {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(p) => {
            let unreadable = |source| PgUrlError::CaFile {
                path: p.to_path_buf(),
                source,
            };
            let certs = CertificateDer::pem_file_iter(p)
                .map_err(unreadable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unreadable)?;
            if certs.is_empty() {
                return Err(PgUrlError::NoCertificate(p.to_path_buf()));
            }
            for c in certs {
                roots.add(c).map_err(|source| PgUrlError::BadCertificate {
                    path: p.to_path_buf(),
                    source,
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(PgUrlError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({})", self.shown)
    }
}

/// A password file must not be readable by others (like `~/.pgpass`).
pub fn check_password_file(p: &Path) -> Result<PathBuf, PgUrlError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(p).map_err(|source| PgUrlError::PasswordFile {
            path: p.to_path_buf(),
            source,
        })?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(PgUrlError::PasswordFileOpen(p.to_path_buf()));
        }
    }
    Ok(p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let u = PgUrl::parse(
            "postgres://signoff:s3cr3t-pw@db.internal:6432/approvals",
            None,
        )
        .unwrap();
        assert_eq!(
            u.to_string(),
            "postgres://signoff@db.internal:6432/approvals"
        );
        assert!(!format!("{u:?}").contains("s3cr3t"));
        assert_eq!(u.password_bytes(), Some(&b"s3cr3t-pw"[..]));
    }

    #[test]
    fn the_password_comes_from_a_file_when_not_in_the_url() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "from-file\n").unwrap();
        let u = PgUrl::parse("postgres://signoff@127.0.0.1/x", Some(&f)).unwrap();
        assert_eq!(u.password_bytes(), Some(&b"from-file"[..]));
    }

    #[test]
    fn tls_only_when_required() {
        let u = PgUrl::parse("postgres://u@h/db?sslmode=require", None).unwrap();
        assert_eq!(u.config().get_ssl_mode(), SslMode::Require);
        let u = PgUrl::parse("postgres://u@h/db", None).unwrap();
        assert_eq!(u.config().get_ssl_mode(), SslMode::Disable);
        assert!(PgUrl::parse("mysql://u@h/db", None).is_err());
    }

    #[test]
    fn parse_errors_do_not_quote_the_password() {
        let e = PgUrl::parse("postgres://u:hunter2@h:notaport/db", None).unwrap_err();
        let said = crate::report::one_line(&e);
        assert!(matches!(e, PgUrlError::Invalid(_)), "{said}");
        assert!(
            !said.contains("hunter2") && !format!("{e:?}").contains("hunter2"),
            "{said}"
        );
    }

    #[test]
    fn file_errors_keep_their_cause_and_never_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("absent");
        let e = PgUrl::parse("postgres://u@h/db", Some(&absent)).unwrap_err();
        assert!(
            matches!(&e, PgUrlError::PasswordFile { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound),
            "{e:?}"
        );
        let e = check_password_file(&absent).unwrap_err();
        assert!(matches!(e, PgUrlError::PasswordFile { .. }), "{e:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let open = dir.path().join("open");
            std::fs::write(&open, "s3cr3t-pw\n").unwrap();
            std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = check_password_file(&open).unwrap_err();
            let said = crate::report::one_line(&e);
            assert!(
                said.contains("chmod 600") && !said.contains("s3cr3t"),
                "{said}"
            );
        }
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        let e = PgUrl::parse("postgres://u@h/db", Some(&empty)).unwrap_err();
        assert!(matches!(e, PgUrlError::EmptyPasswordFile(_)), "{e:?}");
        let Err(e) = tls(Some(&absent)) else {
            panic!("a missing CA file is refused")
        };
        assert!(matches!(e, PgUrlError::CaFile { .. }), "{e:?}");
        assert!(std::error::Error::source(&e).is_some(), "{e:?}");
        let Err(e) = tls(Some(&empty)) else {
            panic!("a CA file without certificates is refused")
        };
        assert!(matches!(e, PgUrlError::NoCertificate(_)), "{e:?}");
    }
}
