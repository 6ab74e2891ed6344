//! Claude Code's `PreToolUse` hook format, both ways: the pending tool call it hands over
//! on standard input becomes an action; the outcome becomes its documented verdict JSON
//! (`hookSpecificOutput.permissionDecision`, `allow` or `deny`, with a reason).
//!
//! Pure: the file a `Write` replaces is read through a function passed in, so tests need
//! no disk and every mapping is checked directly.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Value, json};

use super::build::truncate;
use crate::agent::ActionArgs;
use crate::agent::args::RequesterKindArg;
use crate::protocol::{Change, Command, limits};

/// What Claude Code sends a `PreToolUse` command hook on standard input.
#[derive(Debug, Clone, Deserialize)]
pub struct HookInput {
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub permission_mode: Option<String>,
    #[serde(default)]
    pub hook_event_name: Option<String>,
    pub tool_name: String,
    #[serde(default)]
    pub tool_input: Value,
    #[serde(default)]
    pub tool_use_id: Option<String>,
}

/// Parses the hook's input, refusing other events (a hook wired to the wrong event must
/// not allow anything).
pub fn parse_input(text: &str) -> Result<HookInput, String> {
    let input: HookInput =
        serde_json::from_str(text).map_err(|e| format!("the hook input is not valid: {e}"))?;
    match input.hook_event_name.as_deref() {
        None | Some("PreToolUse") => Ok(input),
        Some(other) => Err(format!(
            "signoff hook claude-code answers PreToolUse hooks, not {other:?}"
        )),
    }
}

/// The action for one pending tool call: flags as `signoff request` would take them, the
/// command, and the change.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub args: ActionArgs,
    pub command: Option<Command>,
    pub change: Option<Change>,
}

/// Maps a tool call to an action. `read` returns the current content of a file a `Write`
/// replaces (None when missing or unreadable).
pub fn to_action(input: &HookInput, read: &dyn Fn(&Path) -> Option<String>) -> Mapped {
    let ti = &input.tool_input;
    let s = |key: &str| ti.get(key).and_then(Value::as_str).map(str::to_string);
    let tool = input.tool_name.as_str();
    let mut context = vec![
        (
            "hook.client".to_string(),
            "Claude Code (PreToolUse hook)".to_string(),
        ),
        ("hook.tool".to_string(), tool.to_string()),
    ];
    for (key, value) in [
        ("hook.session_id", &input.session_id),
        ("hook.tool_use_id", &input.tool_use_id),
        ("hook.cwd", &input.cwd),
        ("hook.permission_mode", &input.permission_mode),
    ] {
        if let Some(v) = value {
            context.push((key.to_string(), v.clone()));
        }
    }
    let (kind, summary, target, command, change) = match tool {
        "Bash" => {
            let line = s("command").unwrap_or_default();
            let program = line
                .split_whitespace()
                .next()
                .map(|p| {
                    Path::new(p)
                        .file_name()
                        .map_or(p.to_string(), |f| f.to_string_lossy().into())
                })
                .unwrap_or_else(|| "shell".into());
            let summary = s("description")
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| line.clone());
            (
                "command.exec".to_string(),
                summary,
                format!("command:{program}"),
                Some(Command::Text { text: line }),
                None,
            )
        }
        "Write" => {
            let path = s("file_path").unwrap_or_default();
            let before = read(Path::new(&path)).unwrap_or_default();
            let change = Change::BeforeAfter {
                path: Some(path.clone()),
                before,
                after: s("content").unwrap_or_default(),
            };
            (
                "file.write".into(),
                format!("Write {path}"),
                format!("file:{path}"),
                None,
                Some(change),
            )
        }
        "Edit" => {
            let path = s("file_path").unwrap_or_default();
            if ti.get("replace_all").and_then(Value::as_bool) == Some(true) {
                context.push(("hook.replace_all".into(), "true".into()));
            }
            let change = Change::BeforeAfter {
                path: Some(path.clone()),
                before: s("old_string").unwrap_or_default(),
                after: s("new_string").unwrap_or_default(),
            };
            (
                "file.edit".into(),
                format!("Edit {path}"),
                format!("file:{path}"),
                None,
                Some(change),
            )
        }
        "MultiEdit" => {
            let path = s("file_path").unwrap_or_default();
            let edits = ti
                .get("edits")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let part = |key: &str| {
                edits
                    .iter()
                    .map(|e| e.get(key).and_then(Value::as_str).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\n⋯\n")
            };
            let change = Change::BeforeAfter {
                path: Some(path.clone()),
                before: part("old_string"),
                after: part("new_string"),
            };
            let summary = format!("Edit {path} ({} edits)", edits.len());
            (
                "file.edit".into(),
                summary,
                format!("file:{path}"),
                None,
                Some(change),
            )
        }
        "WebFetch" => {
            let url = s("url").unwrap_or_default();
            if let Some(p) = s("prompt") {
                context.push(("hook.prompt".into(), p));
            }
            (
                "web.fetch".into(),
                format!("Fetch {url}"),
                format!("web:{url}"),
                None,
                None,
            )
        }
        name if name.starts_with("mcp__") => {
            let rest = &name["mcp__".len()..];
            let (server, tool) = rest.split_once("__").unwrap_or((rest, ""));
            context.push(("hook.tool_input".into(), input_json(ti)));
            (
                "mcp.tool_call".into(),
                format!("Call {tool} on MCP server {server}"),
                format!("mcp:{server}/{tool}"),
                None,
                None,
            )
        }
        other => {
            context.push(("hook.tool_input".into(), input_json(ti)));
            (
                "agent.tool_call".into(),
                format!("Use the {other} tool"),
                format!("claude-code:{other}"),
                None,
                None,
            )
        }
    };
    let (change, note) = bound_change(change);
    if let Some(note) = note {
        context.push(("hook.change".into(), note));
    }
    let args = ActionArgs {
        kind: Some(kind),
        summary: Some(one_line(&summary, limits::MAX_SHORT_FIELD)),
        target: Some(truncate(&target, limits::MAX_SHORT_FIELD)),
        context,
        requester_kind: Some(RequesterKindArg::Agent),
        requester_name: Some("Claude Code".into()),
        ..ActionArgs::default()
    };
    Mapped {
        args,
        command,
        change,
    }
}

/// The tool input as JSON, bounded for a context value.
fn input_json(v: &Value) -> String {
    truncate(&v.to_string(), limits::MAX_TEXT_FIELD)
}

/// The first line of `s`, bounded.
fn one_line(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or_default();
    let line = if line.len() < s.trim_end().len() {
        format!("{line} …")
    } else {
        line.to_string()
    };
    truncate(&line, max)
}

/// A change too large for an action is left out, and the approver is told so.
fn bound_change(change: Option<Change>) -> (Option<Change>, Option<String>) {
    match change {
        Some(c) if c.byte_len() > limits::MAX_DIFF_BYTES => {
            let note = format!(
                "the change is {} bytes, over the {}-byte limit, and is not shown",
                c.byte_len(),
                limits::MAX_DIFF_BYTES
            );
            (None, Some(note))
        }
        other => (other, None),
    }
}

/// The verdict Claude Code reads: `allow` only for an approval, `deny` for everything else.
pub fn verdict(allow: bool, reason: &str) -> String {
    json!({
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": if allow { "allow" } else { "deny" },
            "permissionDecisionReason": reason,
        }
    })
    .to_string()
}

#[cfg(test)]
#[path = "claude_code_tests.rs"]
mod tests;
