//! From `request_approval` arguments to an [`ActionRequest`]: pure, and through the same
//! [`build_request`] that `signoff request` uses, so every default and every refusal is
//! the agent side's.
//!
//! What the server knows and the agent cannot forge is recorded in context entries under
//! `mcp.`: the MCP client's name and version, and the annotations of the tool the approval
//! is for. Agents may not write `mcp.` keys themselves.

use std::time::Duration;

use super::args::RequesterArgs;
use super::params::{RequestApproval, ToolCall};
use crate::agent::build::{BuildError, EnvLookup, build_request};
use crate::agent::{ActionArgs, args::RequesterKindArg};
use crate::protocol::{ActionRequest, Change, Command, limits};

/// The MCP client as it introduced itself (`clientInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFacts {
    pub name: Option<String>,
    pub version: Option<String>,
}

impl ClientFacts {
    /// `claude-code 2.1.0`, or `unknown MCP client`.
    pub fn label(&self) -> String {
        match (&self.name, &self.version) {
            (Some(n), Some(v)) => format!("{n} {v}"),
            (Some(n), None) => n.clone(),
            _ => "unknown MCP client".into(),
        }
    }
}

/// Builds and validates the request for one `request_approval` call.
pub fn approval_request(
    p: &RequestApproval,
    who: &RequesterArgs,
    client: &ClientFacts,
    env: EnvLookup<'_>,
) -> Result<ActionRequest, BuildError> {
    if let Some(key) = p.context.keys().find(|k| k.starts_with("mcp.")) {
        return Err(BuildError::Usage(format!(
            "context key {key:?}: keys starting with \"mcp.\" are recorded by the server itself"
        )));
    }
    let command = match (&p.argv, &p.command) {
        (Some(_), Some(_)) => {
            return Err(BuildError::Usage(
                "give the command as argv or as command text, not both".into(),
            ));
        }
        (Some(argv), None) if argv.is_empty() => {
            return Err(BuildError::Usage("argv is empty".into()));
        }
        (Some(argv), None) => Some(Command::Argv { argv: argv.clone() }),
        (None, Some(text)) => Some(Command::Text { text: text.clone() }),
        (None, None) => None,
    };
    let change = match (&p.diff, &p.before, &p.after) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(BuildError::Usage(
                "give the change as diff or as before/after, not both".into(),
            ));
        }
        (Some(diff), None, None) => Some(Change::UnifiedDiff { diff: diff.clone() }),
        (None, Some(before), Some(after)) => Some(Change::BeforeAfter {
            path: p.path.clone(),
            before: before.clone(),
            after: after.clone(),
        }),
        (None, Some(_), None) | (None, None, Some(_)) => {
            return Err(BuildError::Usage("before and after go together".into()));
        }
        (None, None, None) => None,
    };
    let mut context: Vec<(String, String)> = p
        .context
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    context.extend(server_context(client, p.tool.as_ref()));
    let args = ActionArgs {
        kind: Some(p.kind.clone()),
        summary: Some(p.summary.clone()),
        target: Some(p.target.clone()),
        environment: p
            .environment
            .clone()
            .filter(|e| !e.trim().is_empty())
            .or_else(|| who.environment.clone()),
        justification: p.justification.clone().unwrap_or_default(),
        context,
        on_behalf_of: who.on_behalf_of.clone(),
        ttl: p.ttl_seconds.map(Duration::from_secs),
        requester_id: who.requester_id.clone(),
        requester_name: who
            .requester_name
            .clone()
            .or_else(|| client.name.as_ref().map(|n| format!("{n} (MCP)"))),
        requester_kind: Some(RequesterKindArg::Agent),
        model: who.model.clone(),
        ..ActionArgs::default()
    };
    build_request(&args, command, change, env).map_err(|e| match e {
        BuildError::Usage(m) => BuildError::Usage(
            m.replace("--kind", "kind")
                .replace("--summary", "summary")
                .replace("--target", "target")
                .replace("--env", "environment"),
        ),
        other => other,
    })
}

/// The context entries the server records itself.
pub fn server_context(client: &ClientFacts, tool: Option<&ToolCall>) -> Vec<(String, String)> {
    let mut out = vec![("mcp.client".to_string(), client.label())];
    let Some(tool) = tool else {
        return out;
    };
    out.push(("mcp.tool".into(), tool.name.clone()));
    if let Some(server) = &tool.server {
        out.push(("mcp.tool.server".into(), server.clone()));
    }
    if let Some(h) = &tool.annotations {
        if let Some(title) = &h.title {
            out.push(("mcp.tool.title".into(), title.clone()));
        }
        for (key, value) in [
            ("mcp.tool.read_only_hint", h.read_only_hint),
            ("mcp.tool.destructive_hint", h.destructive_hint),
            ("mcp.tool.idempotent_hint", h.idempotent_hint),
            ("mcp.tool.open_world_hint", h.open_world_hint),
        ] {
            if let Some(v) = value {
                out.push((key.into(), v.to_string()));
            }
        }
    }
    for (_, v) in &mut out {
        if v.len() > limits::MAX_SHORT_FIELD {
            *v = crate::mcp::build::truncate(v, limits::MAX_SHORT_FIELD);
        }
    }
    out
}

/// `s` cut to at most `max` bytes on a character boundary, with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
