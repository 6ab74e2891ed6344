//! Regenerates every screenshot in `screenshots/` from the real console views:
//! `cargo run --example screenshots`. Add `-- --png` to also write PNGs at twice the
//! size to `target/screenshots/` with `rsvg-convert` (Debian package `librsvg2-bin`);
//! they are for looking at, not committed.
//!
//! The scenes are listed in `signoff::devtools::scenes::SCENES`; `tests/screenshots.rs`
//! fails when a committed SVG no longer matches what this writes.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use signoff::devtools::scenes::{SCENES, render};

fn png(svg: &Path, dir: &Path) -> Result<PathBuf, String> {
    let name = svg.file_stem().unwrap_or_default();
    let out = dir.join(name).with_extension("png");
    let status = Command::new("rsvg-convert")
        .arg("--zoom=2")
        .arg("-o")
        .arg(&out)
        .arg(svg)
        .status()
        .map_err(|e| format!("rsvg-convert: {e} (install librsvg2-bin)"))?;
    if status.success() {
        Ok(out)
    } else {
        Err(format!(
            "rsvg-convert failed on {}: {status}",
            svg.display()
        ))
    }
}

fn main() -> ExitCode {
    let want_png = std::env::args().any(|a| a == "--png");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("screenshots");
    let png_dir = root.join("target").join("screenshots");
    for d in [&dir, &png_dir] {
        if let Err(e) = std::fs::create_dir_all(d) {
            eprintln!("cannot create {}: {e}", d.display());
            return ExitCode::FAILURE;
        }
    }
    for scene in SCENES {
        let svg = match render(scene) {
            Ok(svg) => svg,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        let path = dir.join(format!("{}.svg", scene.name));
        if let Err(e) = std::fs::write(&path, svg) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
        if want_png {
            match png(&path, &png_dir) {
                Ok(p) => println!("wrote {}", p.display()),
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
