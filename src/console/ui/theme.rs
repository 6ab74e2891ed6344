//! Colours by meaning. Views ask `theme.risk(level)` or `theme.diff(kind)`, never for a
//! colour, so a theme file (flat semantic keys) restyles everything.
//!
//! Shipped themes are compiled in from `themes/*.toml`; a user theme in
//! `<config dir>/themes/<name>.toml` may set only some keys and inherit the rest from
//! `extends` (default `dark`). With `NO_COLOR` set, [`Theme::monochrome`] uses only
//! bold, underline and reverse video.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

use crate::console::core::notice::Level;
use crate::console::core::rows::{Seg, Tone};
use crate::console::model::diff::LineKind;
use crate::protocol::RiskLevel;

/// The shipped themes, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    (
        "colorblind",
        include_str!("../../../themes/colorblind.toml"),
    ),
];

const KEYS: &[&str] = &[
    "fg",
    "bg",
    "muted",
    "title",
    "title_focused",
    "border",
    "border_focused",
    "selection_fg",
    "selection_bg",
    "risk_low",
    "risk_medium",
    "risk_high",
    "risk_critical",
    "badge_fg",
    "diff_added",
    "diff_removed",
    "diff_added_emph_bg",
    "diff_removed_emph_bg",
    "diff_hunk",
    "diff_file",
    "line_number",
    "hidden_fg",
    "hidden_bg",
    "ok",
    "info",
    "warn",
    "error",
    "key_hint",
];

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "theme {name:?} not found (shipped: dark, light, high-contrast, colorblind; user themes in {dir})"
    )]
    NotFound { name: String, dir: String },
    #[error("theme {name:?}: {why}")]
    Invalid { name: String, why: String },
}

/// A resolved theme.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    colors: BTreeMap<&'static str, Color>,
    mono: bool,
}

impl Theme {
    /// A shipped or user theme by name. `user_dir` is `<config dir>/themes`.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Self, ThemeError> {
        Self::load_depth(name, user_dir, 0)
    }

    fn load_depth(name: &str, user_dir: Option<&Path>, depth: u8) -> Result<Self, ThemeError> {
        let invalid = |why: String| ThemeError::Invalid {
            name: name.into(),
            why,
        };
        let user = user_dir
            .map(|d| d.join(format!("{name}.toml")))
            .filter(|p| p.is_file());
        let text = match (&user, BUILTIN.iter().find(|(n, _)| *n == name)) {
            (Some(p), _) => std::fs::read_to_string(p).map_err(|e| invalid(e.to_string()))?,
            (None, Some((_, t))) => (*t).to_string(),
            (None, None) => {
                return Err(ThemeError::NotFound {
                    name: name.into(),
                    dir: user_dir
                        .map(|d| d.display().to_string())
                        .unwrap_or_default(),
                });
            }
        };
        let table: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let parent = match table.get("extends").and_then(|v| v.as_str()) {
            Some(p) if depth < 4 && p != name => Some(Self::load_depth(p, user_dir, depth + 1)?),
            Some(p) if p != name => return Err(invalid("`extends` nests too deep".into())),
            _ if name != "dark" => Some(Self::load_depth("dark", None, depth + 1)?),
            _ => None,
        };
        let mut colors = parent.map(|p| p.colors).unwrap_or_default();
        for (k, v) in &table {
            if k == "name" || k == "extends" {
                continue;
            }
            let key = KEYS.iter().find(|x| *x == k).ok_or_else(|| {
                invalid(format!("unknown key {k:?} (known: {})", KEYS.join(", ")))
            })?;
            let s = v
                .as_str()
                .ok_or_else(|| invalid(format!("{k} must be a string")))?;
            let c = Color::from_str(s).map_err(|_| invalid(format!("{k}: not a colour: {s:?}")))?;
            colors.insert(*key, c);
        }
        if let Some(missing) = KEYS.iter().find(|k| !colors.contains_key(*k)) {
            return Err(invalid(format!("missing key {missing:?}")));
        }
        Ok(Self {
            name: name.into(),
            colors,
            mono: false,
        })
    }

    /// The default theme (always valid: it is compiled in and tested).
    pub fn dark() -> Self {
        Self::load("dark", None).unwrap_or_else(|_| Self::monochrome())
    }

    /// No colours at all (`NO_COLOR`): meaning by bold, underline and reverse video.
    pub fn monochrome() -> Self {
        Self {
            name: "monochrome".into(),
            colors: KEYS.iter().map(|k| (*k, Color::Reset)).collect(),
            mono: true,
        }
    }

    fn c(&self, key: &str) -> Color {
        self.colors.get(key).copied().unwrap_or(Color::Reset)
    }

    fn fg(&self, key: &str) -> Style {
        Style::new().fg(self.c(key))
    }

    pub fn base(&self) -> Style {
        Style::new().fg(self.c("fg")).bg(self.c("bg"))
    }

    pub fn text(&self) -> Style {
        self.fg("fg")
    }

    pub fn muted(&self) -> Style {
        if self.mono {
            Style::new().add_modifier(Modifier::DIM)
        } else {
            self.fg("muted")
        }
    }

    pub fn title(&self, focused: bool) -> Style {
        let s = self.fg(if focused { "title_focused" } else { "title" });
        if focused {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        self.fg(if focused { "border_focused" } else { "border" })
    }

    pub fn selection(&self) -> Style {
        if self.mono {
            return Style::new().add_modifier(Modifier::REVERSED);
        }
        Style::new()
            .fg(self.c("selection_fg"))
            .bg(self.c("selection_bg"))
            .add_modifier(Modifier::BOLD)
    }

    /// Text in the risk level's colour.
    pub fn risk(&self, level: RiskLevel) -> Style {
        let s = self.fg(risk_key(level));
        match level {
            RiskLevel::Critical => s.add_modifier(Modifier::BOLD),
            _ => s,
        }
    }

    /// A filled badge for the risk level.
    pub fn risk_badge(&self, level: RiskLevel) -> Style {
        if self.mono {
            return match level {
                RiskLevel::Critical => {
                    Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
                }
                RiskLevel::High => Style::new().add_modifier(Modifier::BOLD),
                _ => Style::new(),
            };
        }
        Style::new()
            .fg(self.c("badge_fg"))
            .bg(self.c(risk_key(level)))
            .add_modifier(Modifier::BOLD)
    }

    pub fn diff(&self, kind: LineKind) -> Style {
        match kind {
            LineKind::Added if self.mono => Style::new().add_modifier(Modifier::BOLD),
            LineKind::Added => self.fg("diff_added"),
            LineKind::Removed => self.fg("diff_removed"),
            LineKind::Hunk => self.fg("diff_hunk"),
            LineKind::File => self.fg("diff_file").add_modifier(Modifier::BOLD),
            LineKind::Meta => self.muted(),
            LineKind::Context => self.text(),
        }
    }

    /// The changed words within a changed line.
    pub fn diff_emph(&self, kind: LineKind) -> Style {
        if self.mono {
            return self
                .diff(kind)
                .add_modifier(Modifier::UNDERLINED | Modifier::REVERSED);
        }
        let bg = match kind {
            LineKind::Added => self.c("diff_added_emph_bg"),
            LineKind::Removed => self.c("diff_removed_emph_bg"),
            _ => Color::Reset,
        };
        self.diff(kind).bg(bg).add_modifier(Modifier::BOLD)
    }

    pub fn line_number(&self) -> Style {
        self.fg("line_number")
    }

    /// Markers for made-visible characters (`⟨ESC⟩`, `⟨U+202E⟩`): impossible to miss.
    pub fn hidden(&self) -> Style {
        if self.mono {
            return Style::new().add_modifier(Modifier::REVERSED);
        }
        Style::new()
            .fg(self.c("hidden_fg"))
            .bg(self.c("hidden_bg"))
            .add_modifier(Modifier::BOLD)
    }

    pub fn level(&self, level: Level) -> Style {
        let key = match level {
            Level::Info => "info",
            Level::Success => "ok",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        let s = self.fg(key);
        if level == Level::Error {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }

    pub fn key_hint(&self) -> Style {
        self.fg("key_hint").add_modifier(Modifier::BOLD)
    }

    /// Characters a search matched: the warning colour, bold and underlined (so they
    /// show without colour too).
    pub fn matched(&self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        if self.mono { s } else { s.fg(self.c("warn")) }
    }

    /// The style of a [`Tone`]: colours by meaning, decided here and nowhere else.
    pub fn tone(&self, tone: Tone) -> Style {
        match tone {
            Tone::Plain => Style::default(),
            Tone::Text => self.text(),
            Tone::Strong => self.text().add_modifier(Modifier::BOLD),
            Tone::Muted => self.muted(),
            Tone::Hidden => self.hidden(),
            Tone::KeyHint => self.key_hint(),
            Tone::Title => self.title(false),
            Tone::Risk(level) => self.risk(level),
            Tone::RiskBadge(level) => self.risk_badge(level),
            Tone::Level(level) => self.level(level),
        }
    }

    /// A segment's style: its tone, with a search match's emphasis on top.
    pub fn seg(&self, seg: &Seg) -> Style {
        let style = self.tone(seg.tone);
        if seg.matched {
            style.patch(self.matched())
        } else {
            style
        }
    }
}

fn risk_key(level: RiskLevel) -> &'static str {
    match level {
        RiskLevel::Low => "risk_low",
        RiskLevel::Medium => "risk_medium",
        RiskLevel::High => "risk_high",
        RiskLevel::Critical => "risk_critical",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_theme_is_complete() {
        for (name, _) in BUILTIN {
            let t = Theme::load(name, None).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(t.colors.len(), KEYS.len(), "{name}");
        }
    }

    #[test]
    fn user_themes_inherit_and_override() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "extends = \"light\"\nrisk_critical = \"magenta\"\n",
        )
        .unwrap();
        let t = Theme::load("mine", Some(dir.path())).unwrap();
        assert_eq!(t.c("risk_critical"), Color::Magenta);
        assert_eq!(t.c("fg"), Theme::load("light", None).unwrap().c("fg"));
    }

    #[test]
    fn bad_themes_are_named_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("typo.toml"), "risk_critcal = \"red\"\n").unwrap();
        let e = Theme::load("typo", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("risk_critcal"), "{e}");
        std::fs::write(dir.path().join("bad.toml"), "fg = \"nope\"\n").unwrap();
        assert!(Theme::load("bad", Some(dir.path())).is_err());
        assert!(matches!(
            Theme::load("missing", Some(dir.path())),
            Err(ThemeError::NotFound { .. })
        ));
    }

    #[test]
    fn monochrome_uses_no_colour() {
        let t = Theme::monochrome();
        assert_eq!(t.risk_badge(RiskLevel::Critical).bg, None);
        assert!(t.selection().add_modifier.contains(Modifier::REVERSED));
    }
}
