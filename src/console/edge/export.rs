//! The history screen's two edges: JSON Lines export to a file, and OSC 52 clipboard
//! bytes. The runtime calls these; everything else about history is pure.

use std::borrow::Borrow;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::protocol::HistoryRecord;

/// The bytes that ask the terminal to put `text` on the system clipboard (OSC 52).
/// `text` is base64-encoded, so nothing in it can end or extend the sequence.
pub fn osc52(text: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07").into_bytes()
}

/// Writes `records` as JSON Lines to a new file `file_name` in `dir` (never overwrites;
/// mode 0600, history names people and systems). Returns the full path.
pub fn export_jsonl<R: Borrow<HistoryRecord>>(
    dir: &Path,
    file_name: &str,
    records: &[R],
) -> Result<PathBuf, String> {
    let path = dir.join(file_name);
    let shown = path.display().to_string();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let file = opts.open(&path).map_err(|e| format!("{shown}: {e}"))?;
    let mut out = std::io::BufWriter::new(file);
    for r in records {
        // Safe to cat, like `signoff history --json`: non-printable and bidi as `\uXXXX`.
        let line = serde_json::to_string(r.borrow()).map_err(|e| format!("{shown}: {e}"))?;
        out.write_all(crate::text::escape_json(&line).as_bytes())
            .map_err(|e| format!("{shown}: {e}"))?;
        out.write_all(b"\n").map_err(|e| format!("{shown}: {e}"))?;
    }
    out.flush().map_err(|e| format!("{shown}: {e}"))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::r#gen::{GenConfig, Generator};

    #[test]
    fn osc52_carries_base64_only() {
        let b = osc52("01J\x07evil");
        let s = String::from_utf8(b).unwrap();
        assert!(s.starts_with("\x1b]52;c;") && s.ends_with('\x07'));
        assert_eq!(s.matches('\x07').count(), 1);
    }

    #[test]
    fn export_writes_one_parseable_record_per_line_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let g = Generator::new(GenConfig {
            count: 5,
            ..GenConfig::default()
        });
        let records = g.records();
        // As the runtime gets them: shared with the loaded set.
        let shared: Vec<std::sync::Arc<HistoryRecord>> =
            records.iter().cloned().map(std::sync::Arc::new).collect();
        let path = export_jsonl(dir.path(), "h.jsonl", &shared).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let back: Vec<HistoryRecord> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, records);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(export_jsonl(dir.path(), "h.jsonl", &records).is_err());
    }
}
