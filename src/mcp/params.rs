//! The arguments of each tool, as agents send them. The JSON Schemas agents see in
//! `tools/list` are generated from these types, so the schema and the parser agree.
//!
//! Unknown fields are refused: an agent that misspells `environment` should hear about
//! it, not have the field silently dropped from what the approver sees.

use std::collections::BTreeMap;

use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;

/// Arguments of `request_approval`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestApproval {
    /// Action kind, lowercase and dotted, e.g. `db.export`, `k8s.delete`, `command.exec`.
    pub kind: String,
    /// One line the approver reads first: what will happen.
    pub summary: String,
    /// What the action touches, as SYSTEM:RESOURCE, e.g. `postgres:customers`.
    pub target: String,
    /// Environment, e.g. `production`, `staging` (default: the server's `--env`).
    #[serde(default)]
    pub environment: Option<String>,
    /// The exact command that will run, as an argument vector (no shell). Only an argv
    /// can later be run with `run_approved`.
    #[serde(default)]
    pub argv: Option<Vec<String>>,
    /// The exact command as text (an SQL statement, a shell line), when it is not an argv.
    #[serde(default)]
    pub command: Option<String>,
    /// A unified diff of the change.
    #[serde(default)]
    pub diff: Option<String>,
    /// The document before the change (with `after`); the console shows the diff.
    #[serde(default)]
    pub before: Option<String>,
    /// The document after the change (with `before`).
    #[serde(default)]
    pub after: Option<String>,
    /// The path of the document `before`/`after` describe.
    #[serde(default)]
    pub path: Option<String>,
    /// Why this is needed, in words; shown to the approver.
    #[serde(default)]
    pub justification: Option<String>,
    /// Extra facts for the approver, e.g. `{"ticket": "OPS-42"}`. Keys starting with
    /// `mcp.` are reserved for what this server records itself.
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    /// Requested time to live in seconds; the broker's policy may shorten it.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    /// The tool call this approval is for, when the agent asks before calling another
    /// MCP tool: its name, server and annotations are shown to the approver.
    #[serde(default)]
    pub tool: Option<ToolCall>,
    /// How long to wait for the decision in this call, in seconds (at most 50, the
    /// default). When it ends first, the answer is `pending`: call `wait_for_decision`.
    #[serde(default)]
    pub wait_seconds: Option<u64>,
}

/// The tool an approval is for.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The tool's name, e.g. `delete_bucket`.
    pub name: String,
    /// The MCP server that offers it, e.g. `aws`.
    #[serde(default)]
    pub server: Option<String>,
    /// The tool's annotations as its server declared them.
    #[serde(default)]
    pub annotations: Option<ToolHints>,
}

/// A tool's annotations (MCP `ToolAnnotations`): hints, shown to the approver as such.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolHints {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub read_only_hint: Option<bool>,
    #[serde(default)]
    pub destructive_hint: Option<bool>,
    #[serde(default)]
    pub idempotent_hint: Option<bool>,
    #[serde(default)]
    pub open_world_hint: Option<bool>,
}

/// Arguments of `wait_for_decision`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitForDecision {
    /// The action id `request_approval` returned.
    pub id: String,
    /// How long to wait in this call, in seconds (at most 50, the default).
    #[serde(default)]
    pub wait_seconds: Option<u64>,
}

/// Arguments of `approval_status`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalStatus {
    /// The action id `request_approval` returned.
    pub id: String,
}

/// Arguments of `run_approved`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunApproved {
    /// The id of the approved action whose command to run.
    pub id: String,
    /// The argv you intend to run; when given it must equal the approved one exactly, or
    /// nothing runs. What runs is always the approved argv.
    #[serde(default)]
    pub argv: Option<Vec<String>>,
}

/// Parses a tool's arguments, with an error message an agent can act on.
pub fn parse<T: serde::de::DeserializeOwned>(
    tool: &str,
    args: Option<rmcp::model::JsonObject>,
) -> Result<T, String> {
    let value = serde_json::Value::Object(args.unwrap_or_default());
    serde_json::from_value(value).map_err(|e| format!("invalid arguments for {tool}: {e}"))
}
