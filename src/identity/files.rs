//! Private files: created with mode 0600 from the first byte, and refused when anyone but
//! the owner could read them.
//!
//! Tokens and the device key are secrets. A file created 0644 and chmod-ed afterwards is
//! readable in between, so files are opened with the mode set, written to a temporary name
//! and renamed into place (a crash never leaves half a session behind).

use std::fs::{self, OpenOptions};
use std::io::Write as _;
#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// Why a private file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file is readable or writable by group or others.
    #[error(
        "{path} is accessible by other users (mode {mode:03o}); it holds secrets, so signoff \
         refuses to use it. Fix it with: chmod 600 {path}"
    )]
    TooOpen { path: String, mode: u32 },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl FileError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        FileError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Reads a private file; `Ok(None)` when it does not exist.
pub fn read_private(path: &Path) -> Result<Option<Vec<u8>>, FileError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FileError::io(path, e)),
    };
    check_mode(path, &meta)?;
    fs::read(path).map(Some).map_err(|e| FileError::io(path, e))
}

#[cfg(unix)]
fn check_mode(path: &Path, meta: &fs::Metadata) -> Result<(), FileError> {
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(FileError::TooOpen {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path, _meta: &fs::Metadata) -> Result<(), FileError> {
    Ok(())
}

/// Writes a private file atomically: a 0600 temporary file in the same directory, synced,
/// then renamed over `path`. The directory is created 0700 when missing.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let tmp = tmp_name(path);
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let _ = fs::remove_file(&tmp);
    let mut f = opts.open(&tmp).map_err(|e| FileError::io(&tmp, e))?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(FileError::io(path, e));
    }
    Ok(())
}

/// Creates `path` empty with mode 0600 when missing, and narrows an existing one to 0600:
/// for files others append to (the console's log), so they are private from the first byte.
pub fn ensure_private_file(path: &Path) -> Result<(), FileError> {
    let mut opts = OpenOptions::new();
    opts.append(true).create(true);
    #[cfg(unix)]
    opts.mode(0o600);
    opts.open(path).map_err(|e| FileError::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| FileError::io(path, e))?;
    }
    Ok(())
}

/// Deletes a file; a missing file is not an error. Returns whether something was deleted.
pub fn remove_private(path: &Path) -> Result<bool, FileError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(FileError::io(path, e)),
    }
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<(), FileError> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|e| FileError::io(dir, e))
}

fn tmp_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn log_files_are_created_or_narrowed_to_0600() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("console.log");
        ensure_private_file(&p).unwrap();
        assert_eq!(mode(&p), 0o600);
        fs::write(&p, b"kept").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        ensure_private_file(&p).unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(fs::read(&p).unwrap(), b"kept");
    }

    #[test]
    fn written_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/secret");
        write_private(&p, b"one").unwrap();
        assert_eq!(mode(&p), 0o600);
        write_private(&p, b"two").unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(read_private(&p).unwrap().unwrap(), b"two");
        assert_eq!(read_private(&dir.path().join("none")).unwrap(), None);
        assert!(remove_private(&p).unwrap());
        assert!(!remove_private(&p).unwrap());
    }

    #[test]
    fn group_readable_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        fs::write(&p, b"x").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let msg = read_private(&p).unwrap_err().to_string();
        assert!(msg.contains("chmod 600"), "{msg}");
        assert!(msg.contains(&p.display().to_string()), "{msg}");
        assert!(msg.contains("640"), "{msg}");
    }
}
