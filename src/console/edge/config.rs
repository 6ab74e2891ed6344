//! Console configuration: `config.toml` in the config dir, then `SIGNOFF_*` environment
//! variables, then command-line flags (flags win). Resolution is a pure function over
//! the three sources so precedence is tested directly.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::protocol::RiskLevel;

/// How a new high-risk action is announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyMode {
    /// Bell plus an OSC 9 desktop notification (iTerm2, WezTerm, kitty, Windows Terminal).
    Osc9,
    /// Bell plus an OSC 777 notification (rxvt-unicode, foot, VTE-based terminals).
    Osc777,
    /// The bell only.
    Bell,
    Off,
}

impl std::str::FromStr for NotifyMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "osc9" => Ok(Self::Osc9),
            "osc777" => Ok(Self::Osc777),
            "bell" => Ok(Self::Bell),
            "off" => Ok(Self::Off),
            _ => Err(format!(
                "notifications {s:?}: use osc9, osc777, bell or off"
            )),
        }
    }
}

/// A key list in the config: one key or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Keys {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFile {
    pub mode: Option<NotifyMode>,
    /// Lowest risk level that alerts (default `high`).
    pub min_risk: Option<RiskLevel>,
}

/// `config.toml` as written by the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub broker_url: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub theme: Option<String>,
    pub key_file: Option<PathBuf>,
    #[serde(default)]
    pub keys: BTreeMap<String, Keys>,
    #[serde(default)]
    pub notifications: NotifyFile,
}

/// Values given on the command line (all optional).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub broker_url: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub theme: Option<String>,
    pub key_file: Option<PathBuf>,
    pub token: Option<String>,
    pub notifications: Option<NotifyMode>,
}

/// The resolved configuration. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub broker_url: String,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub theme: String,
    pub key_file: Option<PathBuf>,
    /// A bearer given directly (until the identity module provides sessions).
    pub token: Option<String>,
    pub keys: BTreeMap<String, Vec<String>>,
    pub notify: NotifyMode,
    pub alert_level: RiskLevel,
    /// `NO_COLOR` was set (to anything non-empty).
    pub no_color: bool,
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flags")
            .field("broker_url", &self.broker_url)
            .field("theme", &self.theme)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("broker_url", &self.broker_url)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("theme", &self.theme)
            .field("key_file", &self.key_file)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("notify", &self.notify)
            .field("alert_level", &self.alert_level)
            .finish_non_exhaustive()
    }
}

pub const DEFAULT_BROKER_URL: &str = "http://127.0.0.1:7700";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {why}")]
    File { path: String, why: String },
    #[error("{var}: {why}")]
    Env { var: String, why: String },
}

/// Reads `config.toml` from `dir`; a missing file is an empty config.
pub fn read_file(dir: &Path) -> Result<ConfigFile, ConfigError> {
    let path = dir.join("config.toml");
    let err = |why: String| ConfigError::File {
        path: path.display().to_string(),
        why,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| err(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
        Err(e) => Err(err(e.to_string())),
    }
}

/// Merges file < environment < flags. `env` looks a variable up (injected for tests).
pub fn resolve(
    file: ConfigFile,
    env: &dyn Fn(&str) -> Option<String>,
    flags: Flags,
) -> Result<Config, ConfigError> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    let notify_env = match var("SIGNOFF_NOTIFICATIONS") {
        Some(v) => Some(v.parse().map_err(|why| ConfigError::Env {
            var: "SIGNOFF_NOTIFICATIONS".into(),
            why,
        })?),
        None => None,
    };
    let keys = file
        .keys
        .into_iter()
        .map(|(k, v)| {
            let list = match v {
                Keys::One(s) => vec![s],
                Keys::Many(l) => l,
            };
            (k, list)
        })
        .collect();
    Ok(Config {
        broker_url: flags
            .broker_url
            .or_else(|| var("SIGNOFF_BROKER_URL"))
            .or(file.broker_url)
            .unwrap_or_else(|| DEFAULT_BROKER_URL.into()),
        issuer: flags
            .issuer
            .or_else(|| var("SIGNOFF_ISSUER"))
            .or(file.issuer),
        client_id: flags
            .client_id
            .or_else(|| var("SIGNOFF_CLIENT_ID"))
            .or(file.client_id),
        theme: flags
            .theme
            .or_else(|| var("SIGNOFF_THEME"))
            .or(file.theme)
            .unwrap_or_else(|| "dark".into()),
        key_file: flags
            .key_file
            .or_else(|| var("SIGNOFF_KEY_FILE").map(PathBuf::from))
            .or(file.key_file),
        token: flags.token.or_else(|| var("SIGNOFF_TOKEN")),
        keys,
        notify: flags
            .notifications
            .or(notify_env)
            .or(file.notifications.mode)
            .unwrap_or(NotifyMode::Osc9),
        alert_level: file.notifications.min_risk.unwrap_or(RiskLevel::High),
        no_color: var("NO_COLOR").is_some(),
    })
}

/// The console's directories: config (`SIGNOFF_CONFIG_DIR` overrides) and state, where
/// the log goes (`SIGNOFF_STATE_DIR` overrides).
pub fn dirs(env: &dyn Fn(&str) -> Option<String>) -> (PathBuf, PathBuf) {
    let proj = directories::ProjectDirs::from("dev", "signoff", "signoff");
    let config = env("SIGNOFF_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| proj.as_ref().map(|p| p.config_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(".signoff"));
    let state = env("SIGNOFF_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            proj.as_ref().map(|p| {
                p.state_dir()
                    .unwrap_or_else(|| p.data_local_dir())
                    .to_path_buf()
            })
        })
        .unwrap_or_else(|| PathBuf::from(".signoff"));
    (config, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let file: ConfigFile = toml::from_str(
            r#"
            broker_url = "https://file.example"
            theme = "light"
            issuer = "https://idp.example"
            [keys]
            approve = "y"
            deny = ["n", "ctrl-d"]
            [notifications]
            mode = "osc777"
            min_risk = "critical"
            "#,
        )
        .unwrap();
        let env = env_of(&[
            ("SIGNOFF_BROKER_URL", "https://env.example"),
            ("SIGNOFF_THEME", "high-contrast"),
        ]);
        let flags = Flags {
            theme: Some("colorblind".into()),
            ..Default::default()
        };
        let c = resolve(file, &env, flags).unwrap();
        assert_eq!(c.broker_url, "https://env.example");
        assert_eq!(c.theme, "colorblind");
        assert_eq!(c.issuer.as_deref(), Some("https://idp.example"));
        assert_eq!(c.keys["approve"], vec!["y"]);
        assert_eq!(c.keys["deny"], vec!["n", "ctrl-d"]);
        assert_eq!(c.notify, NotifyMode::Osc777);
        assert_eq!(c.alert_level, RiskLevel::Critical);
        assert!(!c.no_color);
    }

    #[test]
    fn history_keys_rebind_from_the_config_file() {
        use crate::console::core::keymap::{Keymap, Mode};
        use crate::console::core::msg::Intent;
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let file: ConfigFile = toml::from_str(
            r#"
            [keys]
            export = "E"
            copy_id = ["c", "ctrl-y"]
            "#,
        )
        .unwrap();
        let c = resolve(file, &env_of(&[]), Flags::default()).unwrap();
        let m = Keymap::with_overrides(&c.keys).unwrap();
        let press = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(m.intent(Mode::History, &press('E')), Some(Intent::Export));
        assert_eq!(m.intent(Mode::History, &press('c')), Some(Intent::CopyId));
        // `y` falls back to the queue's table, where it copies the review command.
        assert_eq!(
            m.intent(Mode::History, &press('y')),
            Some(Intent::CopyReview)
        );
        let bad: ConfigFile = toml::from_str("[keys]\nexprot = \"E\"").unwrap();
        let c = resolve(bad, &env_of(&[]), Flags::default()).unwrap();
        let err = Keymap::with_overrides(&c.keys).unwrap_err();
        assert!(
            err.contains("exprot") && err.contains("clear_chips"),
            "{err}"
        );
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let flags = Flags {
            token: Some("s3cr3t-bearer".into()),
            ..Default::default()
        };
        assert!(!format!("{flags:?}").contains("s3cr3t"));
        let c = resolve(ConfigFile::default(), &env_of(&[]), flags).unwrap();
        assert_eq!(c.token.as_deref(), Some("s3cr3t-bearer"));
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn defaults_and_no_color() {
        let c = resolve(
            ConfigFile::default(),
            &env_of(&[("NO_COLOR", "1")]),
            Flags::default(),
        )
        .unwrap();
        assert_eq!(c.broker_url, DEFAULT_BROKER_URL);
        assert_eq!(c.theme, "dark");
        assert_eq!(c.notify, NotifyMode::Osc9);
        assert!(c.no_color);
        let c = resolve(
            ConfigFile::default(),
            &env_of(&[("NO_COLOR", "")]),
            Flags::default(),
        )
        .unwrap();
        assert!(!c.no_color, "an empty NO_COLOR does not count");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        assert!(toml::from_str::<ConfigFile>("brokr_url = \"x\"").is_err());
        let e = resolve(
            ConfigFile::default(),
            &env_of(&[("SIGNOFF_NOTIFICATIONS", "loud")]),
            Flags::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("SIGNOFF_NOTIFICATIONS"));
    }

    #[test]
    fn config_file_is_read_from_the_dir() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_file(dir.path()).unwrap(), ConfigFile::default());
        std::fs::write(dir.path().join("config.toml"), "theme = \"light\"\n").unwrap();
        assert_eq!(
            read_file(dir.path()).unwrap().theme.as_deref(),
            Some("light")
        );
        std::fs::write(dir.path().join("config.toml"), "theme = \n").unwrap();
        assert!(read_file(dir.path()).is_err());
    }
}
