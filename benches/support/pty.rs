//! The release `signoff` binary in a pseudo-terminal, its output parsed with `vt100` as
//! it arrives, noting the first instant each watched text is on screen.

use std::io::{Read as _, Write as _};
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// When each watched text first appeared.
#[derive(Debug, Default)]
struct Seen {
    at: Vec<Option<Instant>>,
}

/// A running `signoff` in a pty.
pub struct Pty {
    pub spawned: Instant,
    seen: Arc<Mutex<Seen>>,
    writer: Box<dyn std::io::Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    /// Starts the binary with `args` (and a clean environment: TERM, PATH, config and
    /// state dirs under `dir`), watching for each of `watch` on screen.
    pub fn spawn(dir: &Path, size: (u16, u16), args: &[String], watch: &[&str]) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: size.1,
                cols: size.0,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_signoff"));
        cmd.args(args);
        cmd.env_clear();
        cmd.env("TERM", "xterm-256color");
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("SIGNOFF_CONFIG_DIR", dir.join("config"));
        cmd.env("SIGNOFF_STATE_DIR", dir.join("state"));
        cmd.env("SIGNOFF_NOTIFICATIONS", "off");
        let seen = Arc::new(Mutex::new(Seen {
            at: vec![None; watch.len()],
        }));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let spawned = Instant::now();
        let child = pair.slave.spawn_command(cmd).expect("signoff starts");
        drop(pair.slave);
        let (s, texts) = (
            seen.clone(),
            watch.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        );
        let rows = NonZeroU16::new(size.1).expect("rows");
        let cols = NonZeroU16::new(size.0).expect("cols");
        std::thread::spawn(move || {
            let mut parser = vt100::Parser::new(rows, cols, 0);
            let mut buf = [0u8; 65536];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        parser.process(&buf[..n]);
                        let now = Instant::now();
                        let mut seen = s.lock().expect("lock");
                        if seen.at.iter().all(Option::is_some) {
                            continue;
                        }
                        let screen = parser.screen().contents();
                        for (slot, text) in seen.at.iter_mut().zip(&texts) {
                            if slot.is_none() && screen.contains(text.as_str()) {
                                *slot = Some(now);
                            }
                        }
                    }
                }
            }
        });
        Self {
            spawned,
            seen,
            writer,
            child,
            _master: pair.master,
        }
    }

    /// Waits until watched text `i` is on screen; the time from spawn.
    pub fn wait_seen(&self, i: usize, limit: Duration) -> Duration {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(at) = self.seen.lock().expect("lock").at[i] {
                return at - self.spawned;
            }
            assert!(Instant::now() < deadline, "watched text {i} never appeared");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    pub fn press(&mut self, keys: &str) {
        let _ = self.writer.write_all(keys.as_bytes());
        let _ = self.writer.flush();
    }

    /// Quits with `q`, waiting up to `limit` before killing.
    pub fn quit(mut self, limit: Duration) {
        self.press("q");
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
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

/// `VmRSS` and `VmHWM` of a process, in kB.
pub fn memory_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// RssAnon (heap and stacks, what the console's own data costs) of `pid`, in KiB.
pub fn anon_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("RssAnon:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// A 0600 file holding a hex Ed25519 seed.
pub fn key_file(dir: &Path, seed: u8) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let p = dir.join("device.key");
    std::fs::write(&p, hex::encode([seed; 32])).expect("key file");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    p
}
