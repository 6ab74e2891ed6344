use super::*;

fn input(tool: &str, tool_input: Value) -> HookInput {
    parse_input(
        &json!({
            "session_id": "s-1",
            "transcript_path": "/tmp/t.jsonl",
            "cwd": "/repo",
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": tool_input,
            "tool_use_id": "toolu_01",
        })
        .to_string(),
    )
    .unwrap()
}

fn nothing(_: &Path) -> Option<String> {
    None
}

fn ctx<'a>(m: &'a Mapped, key: &str) -> Option<&'a str> {
    m.args
        .context
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn bash_becomes_the_exact_shell_line() {
    let m = to_action(
        &input(
            "Bash",
            json!({"command": "/usr/bin/kubectl delete pod web-1", "description": "Delete the stuck pod"}),
        ),
        &nothing,
    );
    assert_eq!(m.args.kind.as_deref(), Some("command.exec"));
    assert_eq!(m.args.summary.as_deref(), Some("Delete the stuck pod"));
    assert_eq!(m.args.target.as_deref(), Some("command:kubectl"));
    assert_eq!(
        m.command,
        Some(Command::Text {
            text: "/usr/bin/kubectl delete pod web-1".into()
        })
    );
    assert_eq!(ctx(&m, "hook.tool"), Some("Bash"));
    assert_eq!(ctx(&m, "hook.tool_use_id"), Some("toolu_01"));
    assert_eq!(ctx(&m, "hook.cwd"), Some("/repo"));
}

#[test]
fn write_shows_the_file_before_and_after() {
    let read = |p: &Path| (p == Path::new("/repo/a.txt")).then(|| "old\n".to_string());
    let m = to_action(
        &input(
            "Write",
            json!({"file_path": "/repo/a.txt", "content": "new\n"}),
        ),
        &read,
    );
    assert_eq!(m.args.kind.as_deref(), Some("file.write"));
    assert_eq!(m.args.target.as_deref(), Some("file:/repo/a.txt"));
    assert_eq!(
        m.change,
        Some(Change::BeforeAfter {
            path: Some("/repo/a.txt".into()),
            before: "old\n".into(),
            after: "new\n".into()
        })
    );
}

#[test]
fn edit_shows_old_and_new_strings() {
    let m = to_action(
        &input(
            "Edit",
            json!({"file_path": "/repo/b.rs", "old_string": "a", "new_string": "b", "replace_all": true}),
        ),
        &nothing,
    );
    assert_eq!(m.args.kind.as_deref(), Some("file.edit"));
    assert!(
        matches!(m.change, Some(Change::BeforeAfter { ref before, ref after, .. }) if before == "a" && after == "b")
    );
    assert_eq!(ctx(&m, "hook.replace_all"), Some("true"));
}

#[test]
fn mcp_and_unknown_tools_carry_their_input() {
    let m = to_action(
        &input("mcp__aws__delete_bucket", json!({"bucket": "prod-logs"})),
        &nothing,
    );
    assert_eq!(m.args.kind.as_deref(), Some("mcp.tool_call"));
    assert_eq!(m.args.target.as_deref(), Some("mcp:aws/delete_bucket"));
    assert_eq!(
        ctx(&m, "hook.tool_input"),
        Some(r#"{"bucket":"prod-logs"}"#)
    );
    let m = to_action(&input("Task", json!({"prompt": "x"})), &nothing);
    assert_eq!(m.args.kind.as_deref(), Some("agent.tool_call"));
    assert_eq!(m.args.target.as_deref(), Some("claude-code:Task"));
}

#[test]
fn oversized_changes_are_left_out_and_said_so() {
    let big = "x".repeat(limits::MAX_DIFF_BYTES + 1);
    let m = to_action(
        &input("Write", json!({"file_path": "/repo/big", "content": big})),
        &nothing,
    );
    assert!(m.change.is_none());
    assert!(ctx(&m, "hook.change").unwrap().contains("not shown"));
}

#[test]
fn other_events_and_garbage_are_refused() {
    assert!(parse_input("not json").is_err());
    assert!(parse_input(r#"{"tool_input": {}}"#).is_err());
    let e = parse_input(r#"{"hook_event_name": "PostToolUse", "tool_name": "Bash"}"#).unwrap_err();
    assert!(e.contains("PostToolUse"), "{e}");
}

#[test]
fn the_verdict_is_claude_codes_documented_shape() {
    let v: Value = serde_json::from_str(&verdict(false, "denied by bob: no")).unwrap();
    let out = &v["hookSpecificOutput"];
    assert_eq!(out["hookEventName"], "PreToolUse");
    assert_eq!(out["permissionDecision"], "deny");
    assert_eq!(out["permissionDecisionReason"], "denied by bob: no");
    let v: Value = serde_json::from_str(&verdict(true, "ok")).unwrap();
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "allow");
}
