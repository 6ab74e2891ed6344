//! The MCP client configuration `signoff demo` offers, so an agent can ask the demo's
//! broker for approval: an `mcpServers` entry that starts `signoff mcp` with the demo's
//! broker URL and a demo agent token (Claude Code `--mcp-config`, `.mcp.json`, Cursor).

use std::path::Path;

use serde_json::{Value, json};

/// The requester id of the demo's MCP agent.
pub const DEMO_MCP_AGENT: &str = "mcp-agent";

/// The snippet: one server named `signoff-demo`.
pub fn demo_snippet(signoff: &Path, broker_url: &str, token: &str) -> Value {
    json!({
        "mcpServers": {
            "signoff-demo": {
                "type": "stdio",
                "command": signoff.display().to_string(),
                "args": ["mcp"],
                "env": {
                    "SIGNOFF_BROKER_URL": broker_url,
                    "SIGNOFF_AGENT_TOKEN": token,
                    "SIGNOFF_AGENT_ID": DEMO_MCP_AGENT,
                    "SIGNOFF_ENV": "demo",
                }
            }
        }
    })
}

/// Writes the snippet to `path`, readable by its owner only (it holds a token).
pub fn write_snippet(path: &Path, snippet: &Value) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let text = serde_json::to_string_pretty(snippet).map_err(std::io::Error::other)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snippet_starts_signoff_mcp_against_the_demo_broker_in_a_0600_file() {
        let s = demo_snippet(Path::new("/bin/signoff"), "http://127.0.0.1:7", "sot_x");
        let server = &s["mcpServers"]["signoff-demo"];
        assert_eq!(server["command"], "/bin/signoff");
        assert_eq!(server["args"], json!(["mcp"]));
        assert_eq!(server["env"]["SIGNOFF_BROKER_URL"], "http://127.0.0.1:7");
        assert_eq!(server["env"]["SIGNOFF_AGENT_TOKEN"], "sot_x");
        assert_eq!(server["env"]["SIGNOFF_AGENT_ID"], DEMO_MCP_AGENT);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcp.json");
        write_snippet(&path, &s).unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let back: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
