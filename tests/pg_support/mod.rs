//! A throwaway PostgreSQL server for tests, from the machine's server binaries.
//!
//! `initdb` and `postgres` refuse to run as root (and tests run as root here), so the
//! server runs as the `postgres` user (`runuser -u postgres --`) on a temp dir it owns,
//! listening on a free 127.0.0.1 port with its unix socket inside the temp dir. One server
//! is shared by the tests of a binary that run at the same time; each test gets its own
//! database. The last test to let go of it stops it (`pg_ctl stop -m immediate`).
//!
//! The server binaries are found under /usr/lib/postgresql/*/bin (the `postgresql`
//! package; `.ci/run` installs it when missing). Without them the tests fail, saying so.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// The password of the `postgres` role (scram over TCP; trust only on the socket).
pub const PASSWORD: &str = "pg-test-secret-7f3a";

pub struct PgServer {
    dir: tempfile::TempDir,
    pub port: u16,
    bin: PathBuf,
    /// More server options (`-c ssl=on …`).
    extra: String,
}

static SHARED: Mutex<Weak<PgServer>> = Mutex::new(Weak::new());
static NEXT_DB: AtomicU64 = AtomicU64::new(1);

/// The newest /usr/lib/postgresql/*/bin holding `initdb`.
pub fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b).expect(
        "PostgreSQL server binaries are missing (no /usr/lib/postgresql/*/bin/initdb): \
         apt-get install -y postgresql",
    )
}

fn postgres_ids() -> (u32, u32) {
    let name = std::ffi::CString::new("postgres").expect("name");
    // SAFETY: getpwnam returns a pointer into static storage or null; read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !pw.is_null(),
        "there is no `postgres` user to run the server as"
    );
    // SAFETY: checked non-null above.
    unsafe { ((*pw).pw_uid, (*pw).pw_gid) }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The server shared by the tests running now (started when none is).
pub fn server() -> Arc<PgServer> {
    let mut g = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = g.upgrade() {
        return s;
    }
    let s = Arc::new(PgServer::start());
    *g = Arc::downgrade(&s);
    s
}

impl PgServer {
    /// A server of its own (for tests that stop and start it).
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// A server of its own that also speaks TLS, with a self-signed certificate for
    /// 127.0.0.1 ([`PgServer::ca_file`]) made by the `openssl` CLI.
    pub fn start_tls() -> Self {
        Self::start_with(true)
    }

    /// The certificate a TLS server presents (its own CA).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("server.crt")
    }

    fn start_with(tls: bool) -> Self {
        let bin = bin_dir();
        // Under /tmp even when $TMPDIR is a directory the postgres user cannot traverse.
        let dir = tempfile::Builder::new()
            .prefix("signoff-pg-")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let (uid, gid) = postgres_ids();
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown temp dir");
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, PASSWORD).expect("pwfile");
        std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).expect("chown pwfile");
        let data = dir.path().join("data");
        run(
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                ])
                .arg(format!("--pwfile={}", pwfile.display())),
            "initdb",
        );
        let mut extra = String::new();
        if tls {
            let (crt, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
            run(
                Command::new("openssl")
                    .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
                    .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
                    .args(["-subj", "/CN=localhost"])
                    .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
                    .args(["-addext", "basicConstraints=critical,CA:FALSE"])
                    .arg("-keyout")
                    .arg(&key)
                    .arg("-out")
                    .arg(&crt),
                "openssl req",
            );
            for f in [&crt, &key] {
                std::os::unix::fs::chown(f, Some(uid), Some(gid)).expect("chown cert");
            }
            std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .expect("chmod key");
            extra = format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                crt.display(),
                key.display()
            );
        }
        let s = Self {
            port: free_port(),
            dir,
            bin,
            extra,
        };
        s.pg_ctl_start();
        s
    }

    fn pg_ctl_start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
             -c synchronous_commit=on -c max_connections=300 -c shared_buffers=32MB{}",
            self.port,
            self.dir.path().display(),
            self.extra
        );
        run(
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.dir.path().join("data"))
                .args(["-w", "-t", "120", "-l"])
                .arg(self.dir.path().join("log"))
                .args(["-o", &opts, "start"]),
            "pg_ctl start",
        );
    }

    /// Stops the server at once (like a crash: `-m immediate`).
    pub fn stop(&self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-w", "-t", "60", "-m", "immediate", "stop"])
            .output();
    }

    /// Starts it again after [`PgServer::stop`], on the same port and data.
    pub fn restart(&self) {
        self.pg_ctl_start();
    }

    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new, empty database; returns its `postgres://` URL (without the password).
    pub fn database(&self) -> String {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        run(
            Command::new(self.bin.join("createdb"))
                .arg("-h")
                .arg(self.dir.path())
                .args(["-p", &self.port.to_string(), "-U", "postgres", &name]),
            "createdb",
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A password file (0600) for `--store-password-file`, in `dir`.
    pub fn password_file(&self, dir: &Path) -> PathBuf {
        let p = dir.join("db-password");
        std::fs::write(&p, format!("{PASSWORD}\n")).expect("password file");
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod");
        p
    }

    /// Store options for an in-process broker on `url`.
    pub fn options(&self, url: &str) -> signoff::broker::store::PgOptions {
        let f = self.dir.path().join("pwfile");
        let mut o = signoff::broker::store::PgOptions::new(
            signoff::broker::store::PgUrl::parse(url, Some(&f)).expect("url"),
        );
        o.poll_interval = std::time::Duration::from_millis(200);
        o
    }

    /// Runs SQL as the superuser over the socket (psql), returning its output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .arg("-h")
            .arg(self.dir.path())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// `signoff audit verify` on the database at `url`: whether it passed, and what it printed.
pub fn audit_verify(url: &str, password_file: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["audit", "verify", "--store", url, "--store-password-file"])
        .arg(password_file)
        .output()
        .expect("signoff audit verify");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The database name at the end of a URL.
pub fn db_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or("")
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}
