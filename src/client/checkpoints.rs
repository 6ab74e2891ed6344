//! The latest audit checkpoint a client saw, kept per broker in the state directory.
//!
//! Consoles (from every `ack`) and `signoff request` (after the outcome) keep the newest
//! broker-signed checkpoint in `STATE/checkpoints/<broker>.json` (0600), where STATE is
//! `$SIGNOFF_STATE_DIR` or the platform state directory (`~/.local/state/signoff`). Hand
//! those files to `signoff audit verify --checkpoint` to prove the broker's log was not
//! truncated or rewritten since.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::protocol::Checkpoint;

/// Where checkpoints are kept: the console's state directory (see
/// `console::edge::config::dirs`), so the log and the checkpoints live together.
pub fn state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SIGNOFF_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    directories::ProjectDirs::from("dev", "signoff", "signoff")
        .map(|d| {
            d.state_dir()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| d.data_local_dir().to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from("signoff-state"))
}

/// The file for one broker: named by a hash of its URL (no host names in file names).
pub fn path_for(dir: &Path, broker_url: &str) -> PathBuf {
    let h = hex::encode(Sha256::digest(broker_url.trim_end_matches('/').as_bytes()));
    dir.join("checkpoints").join(format!("{}.json", &h[..16]))
}

/// Keeps `c` unless the file already holds a checkpoint at least as new. Returns whether
/// it was written.
pub fn keep_in(dir: &Path, broker_url: &str, c: &Checkpoint) -> Result<bool, String> {
    let path = path_for(dir, broker_url);
    let held = crate::identity::files::read_private(&path)
        .map_err(|e| e.to_string())?
        .and_then(|b| serde_json::from_slice::<Checkpoint>(&b).ok());
    if held.is_some_and(|h| h.audit_seq >= c.audit_seq) {
        return Ok(false);
    }
    let bytes = serde_json::to_vec_pretty(c).map_err(|e| e.to_string())?;
    crate::identity::files::write_private(&path, &bytes).map_err(|e| e.to_string())?;
    Ok(true)
}

/// [`keep_in`] the default [`state_dir`], off the async threads; failures are logged.
pub fn keep(broker_url: &str, c: &Checkpoint) {
    let (url, c) = (broker_url.to_string(), c.clone());
    let keep = move || {
        if let Err(e) = keep_in(&state_dir(), &url, &c) {
            tracing::warn!(error = %e, "cannot keep the audit checkpoint");
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(h) => {
            h.spawn_blocking(keep);
        }
        Err(_) => keep(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Timestamp;

    #[test]
    fn keeps_only_the_newest_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let k = ed25519_dalek::SigningKey::from_bytes(&[2; 32]);
        let at = Timestamp::from_unix_millis(1_795_000_000_000);
        let c5 = Checkpoint::sign(5, &"a".repeat(64), at, &k);
        let c3 = Checkpoint::sign(3, &"b".repeat(64), at, &k);
        assert_eq!(keep_in(dir.path(), "http://b:1", &c5), Ok(true));
        assert_eq!(keep_in(dir.path(), "http://b:1/", &c3), Ok(false));
        let p = path_for(dir.path(), "http://b:1");
        let back: Checkpoint = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(back, c5);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
