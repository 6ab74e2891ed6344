use super::*;
use crate::mcp::params::ToolHints;
use crate::protocol::RequesterKind;

fn no_env(_: &str) -> Option<String> {
    None
}

fn params() -> RequestApproval {
    RequestApproval {
        kind: "k8s.delete".into(),
        summary: "Delete pod web-1".into(),
        target: "k8s:pod/web-1".into(),
        argv: Some(vec!["kubectl".into(), "delete".into(), "pod".into()]),
        ..RequestApproval::default()
    }
}

fn who() -> RequesterArgs {
    RequesterArgs {
        environment: Some("staging".into()),
        requester_id: Some("ci-bot".into()),
        ..RequesterArgs::default()
    }
}

fn claude() -> ClientFacts {
    ClientFacts {
        name: Some("claude-code".into()),
        version: Some("2.1.0".into()),
    }
}

fn value<'a>(req: &'a ActionRequest, key: &str) -> Option<&'a str> {
    req.context
        .iter()
        .find(|c| c.key == key)
        .map(|c| c.value.as_str())
}

#[test]
fn records_the_client_and_the_tool_hints_and_uses_server_defaults() {
    let mut p = params();
    p.tool = Some(ToolCall {
        name: "delete_pod".into(),
        server: Some("k8s".into()),
        annotations: Some(ToolHints {
            destructive_hint: Some(true),
            read_only_hint: Some(false),
            ..ToolHints::default()
        }),
    });
    p.context.insert("ticket".into(), "OPS-42".into());
    let req = approval_request(&p, &who(), &claude(), &no_env).unwrap();
    assert_eq!(req.target.environment, "staging");
    assert_eq!(req.requester.id, "ci-bot");
    assert_eq!(req.requester.kind, RequesterKind::Agent);
    assert_eq!(req.requester.display_name, "claude-code (MCP)");
    assert_eq!(value(&req, "mcp.client"), Some("claude-code 2.1.0"));
    assert_eq!(value(&req, "mcp.tool"), Some("delete_pod"));
    assert_eq!(value(&req, "mcp.tool.server"), Some("k8s"));
    assert_eq!(value(&req, "mcp.tool.destructive_hint"), Some("true"));
    assert_eq!(value(&req, "mcp.tool.read_only_hint"), Some("false"));
    assert_eq!(value(&req, "ticket"), Some("OPS-42"));
    assert!(matches!(req.command, Some(Command::Argv { .. })));
}

#[test]
fn agents_cannot_forge_server_recorded_context() {
    let mut p = params();
    p.context.insert("mcp.client".into(), "trusted".into());
    let e = approval_request(&p, &who(), &claude(), &no_env).unwrap_err();
    assert!(e.to_string().contains("mcp."), "{e}");
}

#[test]
fn refusals_name_the_tool_fields_not_cli_flags() {
    let mut p = params();
    p.target = "nocolon".into();
    let e = approval_request(&p, &who(), &claude(), &no_env).unwrap_err();
    assert!(e.to_string().starts_with("target must be"), "{e}");
    let mut p = params();
    p.summary = " ".into();
    let mut w = who();
    w.environment = None;
    let e = approval_request(&p, &w, &claude(), &no_env).unwrap_err();
    assert_eq!(e.to_string(), "missing summary, environment");
    let mut p = params();
    p.command = Some("rm -rf /".into());
    assert!(approval_request(&p, &who(), &claude(), &no_env).is_err());
    let mut p = params();
    p.before = Some("a".into());
    assert!(approval_request(&p, &who(), &claude(), &no_env).is_err());
    let mut p = params();
    p.argv = Some(Vec::new());
    assert!(approval_request(&p, &who(), &claude(), &no_env).is_err());
}

#[test]
fn truncate_respects_char_boundaries() {
    assert_eq!(truncate("abc", 5), "abc");
    let t = truncate("ééééé", 6);
    assert!(t.len() <= 6 && t.ends_with('…'), "{t}");
}
