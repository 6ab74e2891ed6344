//! Several `signoff broker` processes on one throwaway PostgreSQL database (see
//! `pg_support`): the harness `pg_replicas.rs` and `pg_notify.rs` share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::AsyncBufReadExt as _;

use crate::broker_common::{WAIT, config_toml};
use crate::pg_support;

/// A broker process on the shared database.
pub struct Replica {
    pub child: tokio::process::Child,
    pub url: String,
    pub data: PathBuf,
}

/// What every replica of one test shares: the database, the config, the password file.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub db_url: String,
    pub config: PathBuf,
    pub password: PathBuf,
    started: usize,
}

impl Cluster {
    pub fn new(pg: &pg_support::PgServer, quorum: u32) -> Self {
        Self::with_config(pg, quorum, "")
    }

    /// Like [`Cluster::new`], with `extra` appended to every replica's config (e.g.
    /// `[[notify]]` sinks); `{dir}` in it stands for the cluster's directory.
    pub fn with_config(pg: &pg_support::PgServer, quorum: u32, extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = pg.database();
        std::fs::write(
            dir.path().join("policy.toml"),
            format!("[defaults]\napprovals_required = {quorum}\n"),
        )
        .expect("policy");
        let config = dir.path().join("broker.toml");
        std::fs::write(
            &config,
            format!(
                "policy = \"policy.toml\"\n{}\n[store]\npoll_interval_ms = 200\n\n{}",
                extra.replace("{dir}", &dir.path().display().to_string()),
                config_toml()
            ),
        )
        .expect("config");
        let password = pg.password_file(dir.path());
        Self {
            dir,
            db_url,
            config,
            password,
            started: 0,
        }
    }

    /// Starts replica `name` (its data dir holds the audit key every replica shares).
    pub async fn start(&mut self, name: &str) -> Replica {
        let data = self.dir.path().join(name);
        std::fs::create_dir_all(&data).expect("data dir");
        let shared_key = self.dir.path().join("audit-key.json");
        if shared_key.exists() && !data.join("audit-key.json").exists() {
            std::fs::copy(&shared_key, data.join("audit-key.json")).expect("copy audit key");
        }
        self.started += 1;
        let log = self.dir.path().join(format!("{name}-{}.log", self.started));
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
            .args(["broker", "--listen", "127.0.0.1:0", "--config"])
            .arg(&self.config)
            .arg("--data")
            .arg(&data)
            .args(["--store", &self.db_url, "--store-password-file"])
            .arg(&self.password)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).expect("log file")))
            .kill_on_drop(true)
            .spawn()
            .expect("broker starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the broker reports its address in time")
            .expect("stdout")
            .unwrap_or_else(|| {
                panic!(
                    "the broker exited: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        let url = line.rsplit(' ').next().expect("url").to_string();
        if !shared_key.exists() {
            std::fs::copy(data.join("audit-key.json"), &shared_key).expect("keep audit key");
        }
        // Keep draining stdout so the broker never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Replica { child, url, data }
    }

    pub fn audit_verify(&self) -> (bool, String) {
        pg_support::audit_verify(&self.db_url, &self.password)
    }

    /// No log of any replica holds the database password.
    pub fn logs_hold_no_password(&self) {
        for e in std::fs::read_dir(self.dir.path()).expect("dir").flatten() {
            if e.path().extension().is_some_and(|x| x == "log") {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                assert!(
                    !text.contains(pg_support::PASSWORD),
                    "{} holds the password",
                    e.path().display()
                );
            }
        }
    }
}

impl Replica {
    /// SIGKILL, and wait until it is gone.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        self.child.wait().await.expect("reaped");
    }

    pub fn feed_url(&self) -> String {
        format!("{}/v1/feed", self.url.replace("http://", "ws://"))
    }
}

pub fn data_of(r: &Replica) -> &Path {
    &r.data
}
