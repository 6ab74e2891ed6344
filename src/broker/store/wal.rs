//! WAL checkpoints on their own thread, off the commit path.
//!
//! With SQLite's default (`wal_autocheckpoint = 1000`), the connection that commits also
//! copies the log back into the database file, and `synchronous=FULL` makes that copy
//! wait for its own fsyncs: every few commits, one commit pays for all of them, and the
//! single writer (and every ack behind it) waits. Here the write connection never
//! checkpoints. After a commit that leaves the log at [`CHECKPOINT_FRAMES`] frames or more,
//! it wakes a checkpointer with a connection of its own, which runs a `PASSIVE`
//! checkpoint: it copies what it can without blocking readers or the writer, and once it
//! has copied everything the next write starts the log again from the beginning.
//!
//! A checkpoint that never catches up (a reader pinning an old snapshot, or writes
//! faster than the disk) would let the log grow without end. Past [`RESTART_FRAMES`] the
//! checkpointer runs a `RESTART` checkpoint instead, which waits for readers and briefly
//! holds back the writer, so the log is bounded. `journal_size_limit` then trims the file.

use std::cell::Cell;
use std::os::raw::c_int;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use rusqlite::Connection;

/// Log frames (pages) after which a commit wakes the checkpointer: SQLite's own default
/// for automatic checkpoints, about 4 MiB with 4 KiB pages.
pub const CHECKPOINT_FRAMES: i32 = 1000;

/// Log frames past which the checkpointer stops being polite (about 256 MiB).
pub const RESTART_FRAMES: i32 = 65_536;

thread_local! {
    /// The log's size in frames after the last commit on this thread (set by the hook).
    static WAL_FRAMES: Cell<c_int> = const { Cell::new(0) };
}

fn record_frames(_: &rusqlite::hooks::Wal, frames: c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.with(|f| f.set(frames));
    Ok(())
}

/// Makes `conn` (the write connection) leave checkpoints to a [`Checkpointer`].
pub fn hand_over(conn: &Connection) -> rusqlite::Result<()> {
    // The pragma installs SQLite's own hook; ours replaces it, so order matters.
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")?;
    conn.wal_hook(Some(record_frames));
    Ok(())
}

/// The log's size in frames after the last commit on this thread through a connection
/// passed to [`hand_over`] (0 when none wrote since the last call). The hook runs inside
/// the commit, on the committing thread, so reading it right after a commit reads that
/// commit's figure.
pub fn frames_after_commit() -> i32 {
    WAL_FRAMES.with(|f| f.replace(0))
}

/// The checkpointer thread, and the way to wake it. Dropping it stops the thread and
/// waits for a checkpoint in progress.
pub struct Checkpointer {
    wake: Option<SyncSender<i32>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts a checkpointer for the database at `path`. `open` opens its connection
    /// (with the same settings as the others).
    pub fn start(
        path: &Path,
        open: fn(&Path) -> Result<Connection, super::StoreError>,
    ) -> std::io::Result<Self> {
        let (wake, rx) = sync_channel(1);
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("signoff-checkpoint".into())
            .spawn(move || run(path, open, rx))?;
        Ok(Self {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Called after each commit with [`frames_after_commit`]: wakes the checkpointer when
    /// the log is long enough. Never blocks; a checkpointer that is already busy picks
    /// the latest state up when it next runs.
    pub fn committed(&self, frames: i32) {
        if frames < CHECKPOINT_FRAMES {
            return;
        }
        if let Some(w) = &self.wake
            && let Err(TrySendError::Disconnected(_)) = w.try_send(frames)
        {
            tracing::warn!("the checkpoint thread is gone; the WAL file will grow");
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(path: PathBuf, open: fn(&Path) -> Result<Connection, super::StoreError>, rx: Receiver<i32>) {
    let conn = match open(&path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot open a connection for checkpoints; the WAL file will grow");
            return;
        }
    };
    for frames in rx {
        let mode = if frames >= RESTART_FRAMES {
            "RESTART"
        } else {
            "PASSIVE"
        };
        match checkpoint(&conn, mode) {
            Ok((log, done)) => {
                tracing::trace!(mode, log, done, "checkpoint");
            }
            Err(e) => {
                tracing::warn!(error = %e, mode, "checkpoint failed; retried after the next commit")
            }
        }
    }
}

/// Runs one checkpoint; returns (frames in the log, frames copied back).
pub fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::broker::live::Event;
    use crate::broker::store::{DB_FILE, Mutation, SqliteStore, Store};

    /// A feed event of about `kib` KiB, numbered `seq`.
    fn big_event(seq: u64, kib: usize) -> Mutation {
        Mutation::Event(Arc::new(Event {
            seq,
            groups: vec![],
            json: "x".repeat(kib * 1024),
        }))
    }

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    #[test]
    fn the_write_connection_leaves_checkpoints_to_the_checkpointer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let db = dir.path().join(DB_FILE);
        // One commit below the threshold: the log keeps it, nobody copies it back.
        store.commit(&[big_event(1, 64)]).expect("commit");
        let small = file_len(&db);
        // Then more than CHECKPOINT_FRAMES pages of log (8 MiB of 4 KiB pages).
        for seq in 2..=33 {
            store.commit(&[big_event(seq, 256)]).expect("commit");
        }
        // The checkpointer copies the log into the database file on its own thread.
        let grown = crate::testkit::eventually(Duration::from_secs(30), || {
            (file_len(&db) > small + 4 * 1024 * 1024).then_some(())
        });
        assert!(
            grown.is_some(),
            "the database file stayed at {} bytes: no checkpoint ran",
            file_len(&db)
        );
        // Everything is still there, read through a fresh connection.
        let events = store.events_after(0, 100).expect("events");
        assert_eq!(events.len(), 33);
        assert!(events.iter().skip(1).all(|e| e.json.len() == 256 * 1024));
    }

    #[test]
    fn a_commit_below_the_threshold_stays_in_the_log_and_the_hook_resets() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let db = dir.path().join(DB_FILE);
        let before = file_len(&db);
        store.commit(&[big_event(1, 16)]).expect("commit");
        // The commit read (and reset) the figure itself; a read with no commit since is 0.
        assert_eq!(frames_after_commit(), 0);
        // Nobody copied it into the database file (a 16 KiB row needs new pages there once
        // it is copied). A checkpointer woken by mistake runs on its own thread, so this
        // catches it only when it is quicker than the test; it never fails when right.
        assert_eq!(
            file_len(&db),
            before,
            "a checkpoint ran below the threshold"
        );
        let conn = Connection::open(&db).expect("open");
        let (log, done) = checkpoint(&conn, "PASSIVE").expect("checkpoint");
        assert!(log > 0, "the commit is in the log");
        assert_eq!(log, done, "a checkpoint by hand copies it all");
        assert!(file_len(&db) > before, "the copy grew the database file");
    }
}
