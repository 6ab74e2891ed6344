//! The screenshot scenes: each one a state of the real console, drawn by the same
//! [`Root`] widget the console draws, in one theme at one size, to `screenshots/NAME.svg`.
//!
//! `cargo run --example screenshots` writes them all; `tests/screenshots.rs` fails when a
//! committed file no longer matches. Adding a screenshot is one entry in [`SCENES`].

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::scene_state as state;
use super::svg::{Palette, buffer_to_svg};
use crate::console::core::app::App;
use crate::console::ui::Root;
use crate::console::ui::theme::{Theme, ThemeError};

/// One screenshot.
pub struct Scene {
    /// File stem in `screenshots/`.
    pub name: &'static str,
    /// One line for the README and the window title.
    pub caption: &'static str,
    /// A shipped theme (`themes/NAME.toml`).
    pub theme: &'static str,
    /// Columns and rows.
    pub size: (u16, u16),
    /// The console state, for a window of `size`.
    pub build: fn((u16, u16)) -> App,
}

const NORMAL: (u16, u16) = (120, 36);
/// Wide enough for every pane at once (context beside risk).
const WIDE: (u16, u16) = (150, 46);

/// Every screenshot, in README order.
pub const SCENES: &[Scene] = &[
    Scene {
        name: "queue-context",
        caption: "The live queue, sorted by risk, with the selected action's context",
        theme: "dark",
        size: NORMAL,
        build: state::queue_context,
    },
    Scene {
        name: "diff-terraform",
        caption: "The diff pane on a terraform plan, with intra-line highlights",
        theme: "dark",
        size: NORMAL,
        build: state::terraform_diff,
    },
    Scene {
        name: "risk-hostile",
        caption: "The risk pane on a hostile request: escape sequences and a bidi override made visible",
        theme: "dark",
        size: WIDE,
        build: state::hostile_risk,
    },
    Scene {
        name: "context-hostile",
        caption: "A hostile request: invisible characters and an unterminated escape made visible, nothing after them hidden",
        theme: "dark",
        size: WIDE,
        build: state::hostile_context,
    },
    Scene {
        name: "diff-long-line",
        caption: "A 300-column diff line scrolled sideways to its end ($), the columns shown in the title",
        theme: "dark",
        size: NORMAL,
        build: state::hostile_long_line,
    },
    Scene {
        name: "critical-confirm",
        caption: "Approving a critical action: the resource name must be typed first",
        theme: "dark",
        size: NORMAL,
        build: state::critical_confirm,
    },
    Scene {
        name: "login-qr",
        caption: "Signing in with the OIDC device flow: the code, and a QR code for a phone",
        theme: "dark",
        size: NORMAL,
        build: state::login,
    },
    Scene {
        name: "history-search",
        caption: "Decision history searched as you type, matches highlighted, the whole record beside",
        theme: "dark",
        size: NORMAL,
        build: state::history_search,
    },
    Scene {
        name: "queue-light",
        caption: "The light theme",
        theme: "light",
        size: NORMAL,
        build: state::queue_context,
    },
    Scene {
        name: "queue-high-contrast",
        caption: "The high-contrast theme",
        theme: "high-contrast",
        size: NORMAL,
        build: state::queue_context,
    },
    Scene {
        name: "queue-colorblind",
        caption: "The colorblind-safe theme (Okabe–Ito palette)",
        theme: "colorblind",
        size: NORMAL,
        build: state::queue_context,
    },
];

/// The terminal a theme is meant for (light themes on a light background), with the
/// theme's own background and text colours where it sets them.
fn palette(theme: &Theme) -> Palette {
    let mut p = if theme.name == "light" {
        Palette::light()
    } else {
        Palette::dark()
    };
    let base = theme.base();
    if let Some(Color::Rgb(r, g, b)) = base.bg {
        p.bg = (r, g, b);
    }
    if let Some(Color::Rgb(r, g, b)) = base.fg {
        p.fg = (r, g, b);
    }
    p
}

/// Why a scene could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error("scene {scene}: {source}")]
    Theme {
        scene: &'static str,
        source: ThemeError,
    },
}

/// The scene drawn once, as an SVG document.
pub fn render(scene: &Scene) -> Result<String, SceneError> {
    // Shipped themes only: a user's theme directory must not change a screenshot.
    let theme = Theme::load(scene.theme, None).map_err(|source| SceneError::Theme {
        scene: scene.name,
        source,
    })?;
    let (w, h) = scene.size;
    let app = (scene.build)(scene.size);
    // The test backend cannot fail (its error type is uninhabited).
    let Ok(mut terminal) = Terminal::new(TestBackend::new(w, h));
    let Ok(_) = terminal.draw(|f| {
        f.render_widget(
            Root {
                app: &app,
                theme: &theme,
            },
            f.area(),
        )
    });
    let title = format!("signoff — {}", scene.caption);
    Ok(buffer_to_svg(
        terminal.backend().buffer(),
        &palette(&theme),
        &title,
    ))
}
