//! Keys to actions, per mode: pure, and overridable from the config by action name.
//!
//! Normal-mode keys are a table the config can rebind (`[keys] approve = ["a", "A"]`);
//! inside text prompts every printable key is text, so only Esc, Enter, Tab, Backspace
//! and Ctrl-U have meaning there and they are fixed.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::console::core::msg::Intent;

/// Which key table applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The queue and panes.
    Normal,
    /// A text prompt or dialog with text fields.
    Input,
    /// A list of toggles (the filter dialog).
    Toggles,
    /// The help overlay.
    Help,
    /// The sign-in dialog.
    Login,
    /// The history screen: [`HISTORY_KEYS`] first, then the normal table (navigation,
    /// `/` search, `f` chips, `H`/Esc back, `?` help, quit).
    History,
}

/// The history screen's own default keys (rebindable by the names in
/// [`Intent::HISTORY_BINDABLE`]); on that screen they win over the normal table.
pub const HISTORY_KEYS: &[(&str, Intent)] = &[
    ("y", Intent::CopyId),
    ("e", Intent::Export),
    ("m", Intent::DecidedByMe),
    ("u", Intent::RequestedBy),
    ("t", Intent::CycleTime),
    ("T", Intent::CustomTime),
    ("x", Intent::ClearChips),
];

/// A key with its modifiers, as written in the config: `a`, `A`, `ctrl-c`, `enter`,
/// `tab`, `shift-tab`, `up`, `pgdn`, `?`, `f1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub fn char(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            ctrl: false,
        }
    }

    fn of(ev: &KeyEvent) -> Self {
        Self {
            code: match ev.code {
                // Shift-Tab arrives as BackTab on most terminals.
                KeyCode::BackTab => KeyCode::BackTab,
                c => c,
            },
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// Parses a config key name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-").or_else(|| s.strip_prefix("C-")) {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().map_err(|_| format!("bad key {s:?}"))?)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(format!("unknown key {s:?}")),
                }
            }
        };
        Ok(Self { code, ctrl })
    }

    /// The key as shown in help and hints.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Backspace => "Bksp".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".into(),
        };
        if self.ctrl { format!("C-{base}") } else { base }
    }
}

/// The normal-mode key table and the history screen's own table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// In definition order, so help lists keys the way the defaults read.
    bindings: Vec<(Key, Intent)>,
    /// Tried first on the history screen ([`HISTORY_KEYS`] with overrides).
    history: Vec<(Key, Intent)>,
}

impl Default for Keymap {
    fn default() -> Self {
        use Intent::*;
        let table: &[(&str, Intent)] = &[
            ("j", Down),
            ("down", Down),
            ("k", Up),
            ("up", Up),
            ("g", Top),
            ("home", Top),
            ("G", Bottom),
            ("end", Bottom),
            ("pgdn", PageDown),
            ("ctrl-d", PageDown),
            ("pgup", PageUp),
            ("ctrl-u", PageUp),
            ("h", Left),
            ("left", Left),
            ("l", Right),
            ("right", Right),
            ("0", LineStart),
            ("$", LineEnd),
            ("tab", NextPane),
            ("shift-tab", PrevPane),
            ("enter", FocusDetail),
            ("a", Approve),
            ("d", Deny),
            ("r", Reason),
            ("/", Search),
            ("f", Filter),
            ("s", Sort),
            ("H", History),
            ("?", Help),
            ("R", Reconnect),
            ("y", CopyReview),
            ("q", Quit),
            ("ctrl-c", Quit),
            ("esc", Cancel),
        ];
        let parsed = |t: &[(&str, Intent)]| {
            t.iter()
                .filter_map(|(k, a)| Key::parse(k).ok().map(|k| (k, *a)))
                .collect()
        };
        Self {
            bindings: parsed(table),
            history: parsed(HISTORY_KEYS),
        }
    }
}

impl Keymap {
    /// The defaults with the config's `[keys]` overrides: each named action gets exactly
    /// the keys listed (its default keys are dropped), and a key taken by an override
    /// leaves whatever action it had in the same table (history actions have their own
    /// table, which wins on the history screen).
    ///
    /// The result is checked: every action keeps at least one key, and one key is never
    /// given to two actions, so a rebinding cannot silently remove a command. Errors name
    /// both actions and the key.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<Self, String> {
        let mut map = Self::default();
        // Keys given by the config so far, and the action that lost each taken key.
        let mut given: Vec<(Key, Intent, &str)> = Vec::new();
        let mut taken: Vec<(Key, Intent, &str)> = Vec::new();
        for (name, keys) in overrides {
            let action = Intent::from_name(name).ok_or_else(|| {
                let known: Vec<_> = Intent::BINDABLE
                    .iter()
                    .chain(Intent::HISTORY_BINDABLE)
                    .map(|(_, n, _)| *n)
                    .collect();
                format!("[keys] {name:?} is not an action ({})", known.join(", "))
            })?;
            let table = if action.is_history() {
                &mut map.history
            } else {
                &mut map.bindings
            };
            table.retain(|(_, a)| *a != action);
            for k in keys {
                let key = Key::parse(k).map_err(|e| format!("[keys] {name}: {e}"))?;
                let same_table = |a: &Intent| a.is_history() == action.is_history();
                if let Some((_, _, other)) = given
                    .iter()
                    .find(|(g, a, _)| *g == key && same_table(a) && *a != action)
                {
                    return Err(format!(
                        "[keys] {label} is bound to both {other} and {name}; give each its own key",
                        label = key.label()
                    ));
                }
                if let Some((_, lost)) = table.iter().find(|(b, a)| *b == key && *a != action) {
                    taken.push((key, *lost, name));
                }
                table.retain(|(b, _)| *b != key);
                table.push((key, action));
                given.push((key, action, name));
            }
        }
        let all = Intent::BINDABLE.iter().chain(Intent::HISTORY_BINDABLE);
        for (action, action_name, _) in all {
            if !map.keys_for(*action).is_empty() {
                continue;
            }
            return Err(match taken.iter().find(|(_, lost, _)| lost == action) {
                Some((key, _, by)) => format!(
                    "[keys] {by} = \"{label}\" takes the only key of {action_name}, which would \
                     leave {action_name} with no key; bind {action_name} to another key too \
                     (for example {action_name} = \"…\")",
                    label = key.label()
                ),
                None => format!("[keys] {action_name} has no key; give it at least one"),
            });
        }
        Ok(map)
    }

    /// The keys bound to `action`, for help and hints.
    pub fn keys_for(&self, action: Intent) -> Vec<Key> {
        let table = if action.is_history() {
            &self.history
        } else {
            &self.bindings
        };
        table
            .iter()
            .filter(|(_, a)| *a == action)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The first key label for `action`, or `-` when unbound.
    pub fn hint(&self, action: Intent) -> String {
        self.keys_for(action)
            .first()
            .map(Key::label)
            .unwrap_or_else(|| "-".into())
    }

    /// The action for a key press in `mode`, if any. Key releases are ignored.
    pub fn intent(&self, mode: Mode, ev: &KeyEvent) -> Option<Intent> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && ev.code == KeyCode::Char('c') {
            return Some(match mode {
                Mode::Normal | Mode::History => Intent::Quit,
                _ => Intent::Cancel,
            });
        }
        match mode {
            Mode::History => {
                let key = Key::of(ev);
                self.history
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, a)| *a)
                    .or_else(|| self.intent(Mode::Normal, ev))
            }
            Mode::Normal => {
                let key = Key::of(ev);
                self.bindings
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, a)| *a)
            }
            // Quitting works while signing in (the console may open on this dialog).
            Mode::Login
                if self
                    .bindings
                    .iter()
                    .any(|(k, a)| *a == Intent::Quit && *k == Key::of(ev)) =>
            {
                Some(Intent::Quit)
            }
            Mode::Input | Mode::Login => match ev.code {
                KeyCode::Esc => Some(Intent::Cancel),
                KeyCode::Enter => Some(Intent::Submit),
                KeyCode::Tab | KeyCode::BackTab => Some(Intent::NextField),
                KeyCode::Backspace => Some(Intent::Backspace),
                KeyCode::Char('u') if ctrl => Some(Intent::ClearInput),
                KeyCode::Char(c) if !ctrl && mode == Mode::Input => Some(Intent::Insert(c)),
                _ => None,
            },
            Mode::Toggles => match ev.code {
                KeyCode::Esc | KeyCode::Enter => Some(Intent::Cancel),
                KeyCode::Char(' ') | KeyCode::Char('x') => Some(Intent::Toggle),
                KeyCode::Char('j') | KeyCode::Down => Some(Intent::Down),
                KeyCode::Char('k') | KeyCode::Up => Some(Intent::Up),
                _ => None,
            },
            Mode::Help => match ev.code {
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') => Some(Intent::Cancel),
                KeyCode::Char('j') | KeyCode::Down => Some(Intent::Down),
                KeyCode::Char('k') | KeyCode::Up => Some(Intent::Up),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn defaults_cover_the_issue_keys() {
        let m = Keymap::default();
        let cases = [
            (KeyCode::Char('j'), Intent::Down),
            (KeyCode::Down, Intent::Down),
            (KeyCode::Char('k'), Intent::Up),
            (KeyCode::Char('g'), Intent::Top),
            (KeyCode::Char('G'), Intent::Bottom),
            (KeyCode::Tab, Intent::NextPane),
            (KeyCode::Enter, Intent::FocusDetail),
            (KeyCode::Char('a'), Intent::Approve),
            (KeyCode::Char('d'), Intent::Deny),
            (KeyCode::Char('r'), Intent::Reason),
            (KeyCode::Char('/'), Intent::Search),
            (KeyCode::Char('f'), Intent::Filter),
            (KeyCode::Char('s'), Intent::Sort),
            (KeyCode::Char('H'), Intent::History),
            (KeyCode::Char('?'), Intent::Help),
            (KeyCode::Char('q'), Intent::Quit),
        ];
        for (code, want) in cases {
            assert_eq!(m.intent(Mode::Normal, &key(code)), Some(want), "{code:?}");
        }
        assert_eq!(m.intent(Mode::Normal, &key(KeyCode::Char('z'))), None);
    }

    #[test]
    fn history_keys_win_on_the_history_screen_and_fall_back_to_normal() {
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), vec!["y".to_string()]);
        o.insert("copy_review".to_string(), vec!["Y".to_string()]);
        let m = Keymap::with_overrides(&o).unwrap();
        let y = key(KeyCode::Char('y'));
        assert_eq!(m.intent(Mode::Normal, &y), Some(Intent::Approve));
        assert_eq!(m.intent(Mode::History, &y), Some(Intent::CopyId));
        let cases = [
            (KeyCode::Char('e'), Intent::Export),
            (KeyCode::Char('T'), Intent::CustomTime),
            (KeyCode::Char('j'), Intent::Down),
            (KeyCode::Char('/'), Intent::Search),
            (KeyCode::Char('H'), Intent::History),
            (KeyCode::Esc, Intent::Cancel),
        ];
        for (code, want) in cases {
            assert_eq!(m.intent(Mode::History, &key(code)), Some(want), "{code:?}");
        }
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(m.intent(Mode::History, &ctrl_c), Some(Intent::Quit));
    }

    #[test]
    fn history_keys_are_rebindable_by_name() {
        let mut o = BTreeMap::new();
        o.insert("export".to_string(), vec!["E".to_string()]);
        o.insert("clear_chips".to_string(), vec!["ctrl-x".to_string()]);
        o.insert("copy_id".to_string(), vec!["c".to_string()]);
        let m = Keymap::with_overrides(&o).unwrap();
        let at = |code| m.intent(Mode::History, &key(code));
        assert_eq!(at(KeyCode::Char('E')), Some(Intent::Export));
        assert_eq!(at(KeyCode::Char('e')), None, "the default key is dropped");
        assert_eq!(at(KeyCode::Char('c')), Some(Intent::CopyId));
        // `y` on the history screen now falls back to the queue's `copy_review`.
        assert_eq!(at(KeyCode::Char('y')), Some(Intent::CopyReview));
        let ctrl_x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::CONTROL);
        assert_eq!(m.intent(Mode::History, &ctrl_x), Some(Intent::ClearChips));
        assert_eq!(at(KeyCode::Char('x')), None);
        // Untouched history keys keep their defaults; the queue never sees them.
        assert_eq!(at(KeyCode::Char('m')), Some(Intent::DecidedByMe));
        assert_eq!(m.intent(Mode::Normal, &key(KeyCode::Char('E'))), None);
        assert_eq!(m.hint(Intent::Export), "E");
        assert_eq!(Intent::from_name("custom_time"), Some(Intent::CustomTime));
        assert_eq!(Intent::CycleTime.name(), Some("cycle_time"));
        // A history key taken by another history action is fine once the first one has
        // a key of its own again.
        let mut o = BTreeMap::new();
        o.insert("export".to_string(), vec!["m".to_string()]);
        o.insert("decided_by_me".to_string(), vec!["M".to_string()]);
        let m = Keymap::with_overrides(&o).unwrap();
        assert_eq!(
            m.intent(Mode::History, &key(KeyCode::Char('m'))),
            Some(Intent::Export)
        );
        assert_eq!(m.hint(Intent::DecidedByMe), "M");
    }

    #[test]
    fn a_rebinding_that_leaves_a_command_without_a_key_is_refused() {
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), vec!["d".to_string()]);
        let e = Keymap::with_overrides(&o).unwrap_err();
        assert!(
            e.contains("approve = \"d\" takes the only key of deny") && e.contains("deny ="),
            "{e}"
        );
        let mut o = BTreeMap::new();
        o.insert("export".to_string(), vec!["m".to_string()]);
        let e = Keymap::with_overrides(&o).unwrap_err();
        assert!(e.contains("takes the only key of decided_by_me"), "{e}");
        // Moving deny elsewhere first makes the same rebinding fine.
        o.clear();
        o.insert("approve".to_string(), vec!["d".to_string()]);
        o.insert("deny".to_string(), vec!["n".to_string()]);
        let m = Keymap::with_overrides(&o).unwrap();
        assert_eq!(
            (m.hint(Intent::Approve), m.hint(Intent::Deny)),
            ("d".into(), "n".into())
        );
        let mut o = BTreeMap::new();
        o.insert("search".to_string(), vec![]);
        let e = Keymap::with_overrides(&o).unwrap_err();
        assert!(e.contains("search has no key"), "{e}");
    }

    #[test]
    fn one_key_for_two_commands_is_refused_naming_both() {
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), vec!["x".to_string()]);
        o.insert("deny".to_string(), vec!["x".to_string()]);
        let e = Keymap::with_overrides(&o).unwrap_err();
        assert!(e.contains("x is bound to both approve and deny"), "{e}");
        // The history screen has its own table: the same key there is no conflict.
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), vec!["e".to_string()]);
        assert!(Keymap::with_overrides(&o).is_ok());
    }

    #[test]
    fn overrides_replace_an_actions_keys() {
        let mut o = BTreeMap::new();
        o.insert(
            "approve".to_string(),
            vec!["y".to_string(), "ctrl-a".to_string()],
        );
        o.insert("copy_review".to_string(), vec!["Y".to_string()]);
        let m = Keymap::with_overrides(&o).unwrap();
        assert_eq!(m.intent(Mode::Normal, &key(KeyCode::Char('a'))), None);
        assert_eq!(
            m.intent(Mode::Normal, &key(KeyCode::Char('y'))),
            Some(Intent::Approve)
        );
        let ctrl_a = KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL);
        assert_eq!(m.intent(Mode::Normal, &ctrl_a), Some(Intent::Approve));
        assert_eq!(m.hint(Intent::Approve), "y");
    }

    #[test]
    fn bad_overrides_are_named() {
        let mut o = BTreeMap::new();
        o.insert("aprove".to_string(), vec!["y".to_string()]);
        assert!(Keymap::with_overrides(&o).unwrap_err().contains("aprove"));
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), vec!["hyper-q".to_string()]);
        assert!(Keymap::with_overrides(&o).unwrap_err().contains("hyper-q"));
    }

    #[test]
    fn text_prompts_take_every_printable_key() {
        let m = Keymap::default();
        assert_eq!(
            m.intent(Mode::Input, &key(KeyCode::Char('q'))),
            Some(Intent::Insert('q'))
        );
        assert_eq!(
            m.intent(Mode::Input, &key(KeyCode::Char('a'))),
            Some(Intent::Insert('a'))
        );
        assert_eq!(
            m.intent(Mode::Input, &key(KeyCode::Enter)),
            Some(Intent::Submit)
        );
        assert_eq!(
            m.intent(Mode::Input, &key(KeyCode::Esc)),
            Some(Intent::Cancel)
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(m.intent(Mode::Input, &ctrl_c), Some(Intent::Cancel));
        assert_eq!(m.intent(Mode::Normal, &ctrl_c), Some(Intent::Quit));
    }

    #[test]
    fn key_names_round_trip_through_labels() {
        for (s, label) in [
            ("ctrl-c", "C-c"),
            ("pgdn", "PgDn"),
            ("?", "?"),
            ("f5", "F5"),
        ] {
            assert_eq!(Key::parse(s).unwrap().label(), label);
        }
    }
}
