//! A cross-process lock on the session file (`flock` on `session.lock`, 0600, beside it).
//!
//! A console refreshing its tokens and a `signoff logout` in another terminal both
//! read-modify-write `session.json`. Without a lock the refresh can land after the logout
//! and write the session back, with a refresh token nobody revoked. Whoever holds the
//! lock re-reads the file first: the other process may have refreshed or removed it.

use std::fs::{File, OpenOptions};
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use super::files::{self, FileError};

/// Name of the lock file inside the data dir.
pub const LOCK_FILE: &str = "session.lock";

/// Held while a process refreshes-and-writes or removes the session; released on drop.
#[derive(Debug)]
pub struct SessionLock {
    _file: File,
}

impl SessionLock {
    /// Waits (off the async threads) until this process holds the lock on `dir`.
    pub async fn acquire(dir: &Path) -> Result<Self, FileError> {
        let dir = dir.to_path_buf();
        let path = dir.join(LOCK_FILE);
        tokio::task::spawn_blocking(move || Self::acquire_blocking(&dir))
            .await
            .map_err(|e| FileError::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(e),
            })?
    }

    /// Blocks the calling thread until this process holds the lock on `dir`.
    pub fn acquire_blocking(dir: &Path) -> Result<Self, FileError> {
        files::create_private_dir(dir)?;
        let path = dir.join(LOCK_FILE);
        let io = |source| FileError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        opts.mode(0o600);
        let file = opts.open(&path).map_err(io)?;
        lock_exclusive(&file).map_err(io)?;
        Ok(Self { _file: file })
    }

    /// The lock file of `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(LOCK_FILE)
    }
}

#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd as _;
    loop {
        // SAFETY: flock on a descriptor this File owns; it is released when the File closes.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(not(unix))]
fn lock_exclusive(_file: &File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_second_holder_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = SessionLock::acquire_blocking(dir.path()).unwrap();
        let mode = std::fs::metadata(SessionLock::path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (tx, rx) = mpsc::channel();
        let d = dir.path().to_path_buf();
        let t = std::thread::spawn(move || {
            let _second = SessionLock::acquire_blocking(&d).unwrap();
            tx.send(()).unwrap();
        });
        // While the first is held, the second cannot have it (a separate open file
        // description, as in another process).
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
        drop(first);
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the second gets the lock once the first is released");
        t.join().unwrap();
    }
}
