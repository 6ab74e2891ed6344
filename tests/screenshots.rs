//! The committed screenshots in `screenshots/` are what the code renders today.
//!
//! Each scene of `signoff::devtools::scenes::SCENES` is drawn again through the real
//! `Root` widget and compared byte for byte with its SVG. When a view changes on
//! purpose, regenerate with `cargo run --example screenshots`, look at the result
//! (`-- --png` writes PNGs to `target/screenshots/`) and commit the SVGs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use signoff::console::fixtures::{live_app, sample_queue};
use signoff::console::theme::{BUILTIN, Theme};
use signoff::console::ui::Root;
use signoff::devtools::scenes::{SCENES, render};

const REGENERATE: &str = "cargo run --example screenshots";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots")
}

/// The first line where two documents differ, 1-based, for the failure message.
fn first_difference(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
        + 1
}

#[test]
fn committed_screenshots_match_what_the_views_render() {
    let mut stale = Vec::new();
    for scene in SCENES {
        let want = render(scene).unwrap_or_else(|e| panic!("{e}"));
        let path = dir().join(format!("{}.svg", scene.name));
        match std::fs::read_to_string(&path) {
            // A checkout may have turned line ends into CRLF.
            Ok(have) if have.replace("\r\n", "\n") == want => {}
            Ok(have) => stale.push(format!(
                "  {} differs from the render from line {}",
                path.display(),
                first_difference(&have, &want)
            )),
            Err(e) => stale.push(format!("  {} cannot be read: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "screenshots out of date:\n{}\nregenerate them with `{REGENERATE}`, look at them, and \
         commit the SVGs",
        stale.join("\n")
    );
}

#[test]
fn every_committed_svg_belongs_to_a_scene() {
    let names: BTreeSet<&str> = SCENES.iter().map(|s| s.name).collect();
    assert_eq!(names.len(), SCENES.len(), "scene names are unique");
    let entries = std::fs::read_dir(dir()).expect("screenshots/ exists");
    let orphans: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|stem| !names.contains(stem.as_str()))
        .collect();
    assert!(
        orphans.is_empty(),
        "screenshots with no scene (remove them or add a scene): {orphans:?}"
    );
}

/// The comparison run again in a child process with an environment that would change
/// the console's output if anything in the rendering path read it.
#[test]
fn the_environment_does_not_change_a_screenshot() {
    let config = tempfile::tempdir().expect("temp dir");
    let themes = config.path().join("themes");
    std::fs::create_dir_all(&themes).expect("themes dir");
    // A user theme that shadows a shipped one: screenshots must use the shipped one.
    std::fs::write(
        themes.join("dark.toml"),
        "fg = \"#ff00ff\"\nbg = \"#00ff00\"\n",
    )
    .expect("user theme");
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([
            "--exact",
            "committed_screenshots_match_what_the_views_render",
            "--test-threads=1",
        ])
        .env("NO_COLOR", "1")
        .env("SIGNOFF_THEME", "light")
        .env("SIGNOFF_CONFIG_DIR", config.path())
        .env("TERM", "dumb")
        .env("COLORTERM", "")
        .env("COLUMNS", "40")
        .env("LINES", "10")
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .env("TZ", "Pacific/Kiritimati")
        .output()
        .expect("run the comparison in a child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "with a hostile environment the screenshots differ:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Found through the screenshots: a theme with its own background (high-contrast) hid
/// the selected row, because the highlight only replaced the terminal's default colour.
#[test]
fn the_selected_row_is_highlighted_in_every_shipped_theme() {
    let app = live_app(sample_queue(), (120, 36));
    let selected = app.queue.selected.expect("a selection");
    let row = app
        .queue
        .order
        .iter()
        .position(|id| *id == selected)
        .expect("the selection is in the queue");
    for (name, _) in BUILTIN {
        let theme = Theme::load(name, None).expect("shipped theme");
        let mut t = Terminal::new(TestBackend::new(120, 36)).expect("test backend");
        t.draw(|f| {
            f.render_widget(
                Root {
                    app: &app,
                    theme: &theme,
                },
                f.area(),
            )
        })
        .expect("draw");
        let buf = t.backend().buffer();
        // Border row, header row, then the queue's rows.
        let y = 2 + row as u16;
        let want = theme.selection().bg.expect("selection has a background");
        let highlighted = (1..119).filter(|x| buf[(*x, y)].bg == want).count();
        assert!(
            highlighted > 60,
            "theme {name}: only {highlighted} cells of the selected row are highlighted"
        );
    }
}
