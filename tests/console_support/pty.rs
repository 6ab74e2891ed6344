//! The pty harness: the real `signoff` binary in a pseudo-terminal, its screen parsed
//! with `vt100`; plus helpers shared by the pty tests.

#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::num::NonZeroU16;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use signoff::protocol::Timestamp;
use signoff::testkit::eventually;

/// A running `signoff` in a pty.
pub struct Pty {
    screen: Arc<Mutex<vt100::Parser>>,
    /// Set by the reader thread once the child's side of the pty is closed.
    drained: Arc<std::sync::atomic::AtomicBool>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    writer: Box<dyn std::io::Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _dir: tempfile::TempDir,
    /// The device key of [`Pty::console`], removed with the `Pty`.
    _keys: Option<tempfile::TempDir>,
}

impl Pty {
    /// Starts `signoff` (no subcommand: the console is the default) with `env`.
    pub fn spawn(cols: u16, rows: u16, env: &[(&str, String)]) -> Self {
        Self::spawn_args(&[], cols, rows, env)
    }

    /// Starts the console against `broker_url` with a bearer token and a fresh 0600 device
    /// key made from `key_seed` (the set-up most pty tests share).
    pub fn console(cols: u16, rows: u16, broker_url: &str, token: &str, key_seed: u8) -> Self {
        let keys = tempfile::tempdir().unwrap();
        let key = key_file(keys.path(), key_seed);
        let mut pty = Self::spawn(
            cols,
            rows,
            &[
                ("SIGNOFF_BROKER_URL", broker_url.to_string()),
                ("SIGNOFF_TOKEN", token.to_string()),
                ("SIGNOFF_KEY_FILE", key.display().to_string()),
            ],
        );
        pty._keys = Some(keys);
        pty
    }

    /// Starts `signoff ARGS…` with `env`.
    pub fn spawn_args(args: &[&str], cols: u16, rows: u16, env: &[(&str, String)]) -> Self {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_signoff"));
        cmd.args(args);
        Self::spawn_command(cmd, cols, rows, env)
    }

    /// Runs a shell line (`sh -c LINE`) as a user would type it; `env` should put the
    /// built `signoff` on PATH.
    pub fn spawn_shell(line: &str, cols: u16, rows: u16, env: &[(&str, String)]) -> Self {
        let mut cmd = CommandBuilder::new("sh");
        cmd.args(["-c", line]);
        Self::spawn_command(cmd, cols, rows, env)
    }

    fn spawn_command(
        mut cmd: CommandBuilder,
        cols: u16,
        rows: u16,
        env: &[(&str, String)],
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        // Files the console writes to its working directory (history exports) stay in
        // the test's temp dir.
        cmd.cwd(dir.path());
        cmd.env_clear();
        cmd.env("TERM", "xterm-256color");
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("SIGNOFF_CONFIG_DIR", dir.path().join("config"));
        cmd.env("SIGNOFF_STATE_DIR", dir.path().join("state"));
        cmd.env("SIGNOFF_NOTIFICATIONS", "off");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(rows).unwrap(),
            NonZeroU16::new(cols).unwrap(),
            0,
        )));
        let s = screen.clone();
        let drained = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = drained.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => s.lock().unwrap().process(&buf[..n]),
                }
            }
            done.store(true, std::sync::atomic::Ordering::Release);
        });
        Self {
            screen,
            drained,
            master: pair.master,
            writer,
            child,
            _dir: dir,
            _keys: None,
        }
    }

    /// Resizes the pty (the child gets SIGWINCH) and the emulator.
    pub fn resize(&self, cols: u16, rows: u16) {
        // The emulator takes the new size first, and the reader waits on its lock until
        // the pty has it too: the console's first frame at the new size must not be
        // parsed at the old one (it would wrap, and later frames only send differences).
        let mut screen = self.screen.lock().unwrap();
        screen.screen_mut().set_size(
            NonZeroU16::new(rows).unwrap(),
            NonZeroU16::new(cols).unwrap(),
        );
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        drop(screen);
    }

    /// True once the terminal is back to what a shell expects: main screen, cursor
    /// shown, no mouse reporting, no bracketed paste.
    pub fn restored(&self) -> bool {
        let p = self.screen.lock().unwrap();
        let s = p.screen();
        !s.alternate_screen()
            && !s.hide_cursor()
            && s.mouse_protocol_mode() == vt100::MouseProtocolMode::None
            && !s.bracketed_paste()
    }

    /// The console's working directory (a temp dir removed with the `Pty`).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The child's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `text`; panics with the screen after `secs`.
    pub fn wait_for(&self, text: &str, secs: u64) {
        let shown = eventually(Duration::from_secs(secs), || {
            self.contents().contains(text).then_some(())
        });
        assert!(
            shown.is_some(),
            "timed out waiting for {text:?}; screen:\n{}",
            self.contents()
        );
    }

    /// Waits until the screen no longer shows `text`.
    pub fn wait_gone(&self, text: &str, secs: u64) {
        let gone = eventually(Duration::from_secs(secs), || {
            (!self.contents().contains(text)).then_some(())
        });
        assert!(
            gone.is_some(),
            "timed out waiting for {text:?} to go; screen:\n{}",
            self.contents()
        );
    }

    pub fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits for the process to exit on its own; panics after `secs`.
    pub fn wait_exit(&mut self, secs: u64) -> portable_pty::ExitStatus {
        let within = Duration::from_secs(secs);
        let child = &mut self.child;
        let status = eventually(within, || child.try_wait().unwrap())
            .unwrap_or_else(|| panic!("signoff did not exit; screen:\n{}", self.contents()));
        // What the child wrote last (restoring the terminal) may still be on its way to
        // the emulator: wait until the reader has seen the end of it.
        let drained = &self.drained;
        eventually(within, || {
            drained
                .load(std::sync::atomic::Ordering::Acquire)
                .then_some(())
        });
        status
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A 0600 seed file for the device key.
pub fn key_file(dir: &std::path::Path, seed: u8) -> PathBuf {
    let p = dir.join("device.key");
    std::fs::write(&p, hex::encode([seed; 32])).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

/// A fixture action that is still pending now (fixtures use a fixed past clock).
pub fn fresh(mut a: signoff::protocol::Action) -> signoff::protocol::Action {
    a.created_at = Timestamp::now().plus_secs(-60);
    a.expires_at = Timestamp::now().plus_secs(900);
    a
}

/// Static tokens for the real broker: an agent (`agent-7`) and an approver (`bob`, sre).
pub fn broker_auth() -> Arc<dyn signoff::auth::Authenticator> {
    use signoff::auth::static_tokens::{StaticToken, StaticTokens};
    use signoff::auth::{PrincipalKind, hash_token};
    Arc::new(StaticTokens::new([
        StaticToken {
            token_sha256: hash_token("agent-secret"),
            kind: PrincipalKind::Agent,
            subject: "agent-7".into(),
            email: None,
            name: None,
            groups: vec![],
        },
        StaticToken {
            token_sha256: hash_token("bob-secret"),
            kind: PrincipalKind::Approver,
            subject: "bob".into(),
            email: Some("bob@example.com".into()),
            name: Some("Bob".into()),
            groups: vec!["sre".into()],
        },
    ]))
}

/// `GET {url}{path}` with `token`, as JSON (panics on anything else).
pub fn get_json<T: serde::de::DeserializeOwned>(
    rt: &tokio::runtime::Runtime,
    url: &str,
    path: &str,
    token: &str,
) -> T {
    rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

/// Waits until the console registered the key made from `seed` (it does so at start),
/// so a decision is not refused as `unknown_key` by a race.
pub fn wait_key_registered(rt: &tokio::runtime::Runtime, url: &str, token: &str, seed: u8) {
    let key_id = signoff::protocol::KeyId::of(
        &ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key(),
    );
    let registered = eventually(Duration::from_secs(20), || {
        let listed: signoff::protocol::api::KeyList = get_json(rt, url, "/v1/keys", token);
        listed.keys.iter().any(|k| k.key_id == key_id).then_some(())
    });
    assert!(registered.is_some(), "device key never registered");
}
