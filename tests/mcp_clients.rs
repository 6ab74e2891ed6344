//! `signoff mcp` driven by the official MCP Python SDK (`mcp` 2.3.0, which speaks the
//! current protocol revision) against one real broker, with real signed decisions by a
//! test approver on the broker's feed.

mod mcp_support;
#[path = "console_support/pty.rs"]
mod pty;

use std::time::Duration;

use mcp_support::*;
use serde_json::{Value, json};
use signoff::agent::AgentClient;
use signoff::protocol::{ActionId, Status, Verdict};
use signoff::testkit::eventually_async;

async fn status_of(id: &str) -> Status {
    let client = AgentClient::new(broker_url(), AGENT_TOKEN).expect("client");
    let id: ActionId = id.parse().expect("action id");
    client.get(id, 0).await.expect("action").action.status
}

/// Waits (bounded) until action `id` is no longer pending; returns its final status.
async fn final_status(id: ActionId) -> Status {
    let client = &AgentClient::new(broker_url(), AGENT_TOKEN).expect("client");
    // Each probe is a long poll of up to 5 s on the broker.
    eventually_async(Duration::from_secs(60), move || async move {
        let status = client.get(id, 5).await.expect("action").action.status;
        (status != Status::Pending).then_some(status)
    })
    .await
    .unwrap_or_else(|| panic!("action {id} still pending after 60 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_four_tools_with_schemas_and_annotations_and_none_decides() {
    let mut py = PyClient::start("list_tools", &json!({}));
    let e = py.expect("tools").await;
    assert_eq!(e["protocol"], "2026-07-28", "the current revision: {e}");
    let tools = e["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "request_approval",
            "wait_for_decision",
            "approval_status",
            "run_approved"
        ]
    );
    for t in tools {
        let name = t["name"].as_str().unwrap_or_default();
        assert!(
            !name.contains("approve_") && !name.contains("deny"),
            "{name}"
        );
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert!(t["outputSchema"].is_object(), "{t}");
    }
    let req = &tools[0];
    let required: Vec<&str> = req["inputSchema"]["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["kind", "summary", "target"]);
    assert_eq!(tools[3]["annotations"]["destructiveHint"], true);
    assert_eq!(tools[1]["annotations"]["readOnlyHint"], true);
    py.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_by_a_signed_decision_answers_approved_and_records_client_and_tool() {
    let mut alice = alice(11).await;
    let summary = "mcp: restart web (approve)";
    let mut py = PyClient::start(
        "request",
        &json!({"call": call(summary, json!({
            "justification": "stuck pods",
            "context": {"ticket": "OPS-7"},
            "tool": {"name": "restart_deployment", "server": "k8s",
                     "annotations": {"destructiveHint": true, "readOnlyHint": false}}
        }))}),
    );
    py.expect("connected").await;
    let action = alice
        .next_pending(Duration::from_secs(60), |a| a.summary == summary)
        .await
        .expect("the request reaches the approver");
    let ctx = |k: &str| {
        action
            .context
            .iter()
            .find(|c| c.key == k)
            .map(|c| c.value.clone())
    };
    assert!(
        ctx("mcp.client").is_some_and(|c| c.starts_with("mcp")),
        "{:?}",
        action.context
    );
    assert_eq!(ctx("mcp.tool").as_deref(), Some("restart_deployment"));
    assert_eq!(ctx("mcp.tool.server").as_deref(), Some("k8s"));
    assert_eq!(ctx("mcp.tool.destructive_hint").as_deref(), Some("true"));
    assert_eq!(ctx("ticket").as_deref(), Some("OPS-7"));
    assert_eq!(action.requester.id, AGENT);
    assert_eq!(action.target.environment, "staging");
    alice
        .decide(&action, Verdict::Approve, "go")
        .await
        .expect("signed approval accepted");
    let r = py.expect("result").await;
    let o = &r["result"]["structured"];
    assert_eq!(o["status"], "approved", "{r}");
    assert_eq!(o["approved"], true);
    assert_eq!(o["approved_by"][0], "alice");
    assert_eq!(o["id"], action.id.to_string());
    assert_eq!(r["result"]["is_error"], false);
    assert!(
        r["result"]["texts"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("APPROVED")
    );
    py.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_with_a_reason_answers_denied_with_who_and_why() {
    let mut alice = alice(12).await;
    let summary = "mcp: restart web (deny)";
    let mut py = PyClient::start("request", &json!({"call": call(summary, json!({}))}));
    let action = alice
        .next_pending(Duration::from_secs(60), |a| a.summary == summary)
        .await
        .expect("pending");
    alice
        .decide(&action, Verdict::Deny, "change freeze until Monday")
        .await
        .expect("signed denial accepted");
    let r = py.expect("result").await;
    let o = &r["result"]["structured"];
    assert_eq!(o["status"], "denied", "{r}");
    assert_eq!(o["approved"], false);
    assert_eq!(o["denied_by"][0]["approver"], "alice");
    assert_eq!(o["denied_by"][0]["reason"], "change freeze until Monday");
    let next = o["next"].as_str().unwrap_or_default();
    assert!(
        next.contains("change freeze until Monday") && next.contains("Do not"),
        "{next}"
    );
    assert!(
        r["result"]["texts"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("NOT APPROVED")
    );
    py.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_times_out_answers_pending_with_next_and_progress_then_the_wait_ends() {
    let mut alice = alice(13).await;
    let summary = "mcp: restart web (pending)";
    // Six seconds: long enough for one progress notification (every five).
    let mut py = PyClient::start(
        "request",
        &json!({"call": call(summary, json!({"wait_seconds": 6})), "then_wait": 1, "wait_seconds": 50}),
    );
    let r = py.expect("result").await;
    let o = &r["result"]["structured"];
    assert_eq!(o["status"], "pending", "{r}");
    assert_eq!(o["approved"], false);
    let id = o["id"].as_str().expect("id").to_string();
    let next = o["next"].as_str().unwrap_or_default();
    assert!(next.starts_with("Still pending: do not proceed"), "{next}");
    assert!(
        next.contains("wait_for_decision") && next.contains(&id),
        "{next}"
    );
    let progress = r["progress"].as_array().expect("progress");
    assert!(
        !progress.is_empty(),
        "progress notifications while waiting: {r}"
    );
    assert!(
        progress[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&id)
    );
    assert_eq!(
        status_of(&id).await,
        Status::Pending,
        "a timed-out call leaves it pending"
    );
    // Now the approver decides while wait_for_decision holds the call.
    let action = alice
        .next_pending(Duration::from_secs(60), |a| a.summary == summary)
        .await
        .expect("pending");
    alice
        .decide(&action, Verdict::Approve, "ok")
        .await
        .expect("approved");
    let r = py.expect("result").await;
    assert_eq!(r["result"]["structured"]["status"], "approved", "{r}");
    py.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_call_withdraws_the_action() {
    let mut alice = alice(14).await;
    let summary = "mcp: restart web (cancel)";
    let mut py = PyClient::start("cancel", &json!({"call": call(summary, json!({}))}));
    py.expect("calling").await;
    let action = alice
        .next_pending(Duration::from_secs(60), |a| a.summary == summary)
        .await
        .expect("pending");
    py.say(&action.id.to_string()).await;
    py.expect("cancelled").await;
    let r = py.expect("after").await;
    assert_eq!(r["result"]["structured"]["status"], "withdrawn", "{r}");
    assert_eq!(r["result"]["structured"]["approved"], false);
    assert_eq!(final_status(action.id).await, Status::Withdrawn);
    py.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_a_task_it_works_until_approved_then_completes() {
    let mut alice = alice(15).await;
    let summary = "mcp: restart web (task approve)";
    let mut py = PyClient::start("task", &json!({"call": call(summary, json!({}))}));
    let t = py.expect("task").await;
    assert_eq!(t["created"]["status"], "working", "{t}");
    assert_eq!(t["got"]["status"], "working", "{t}");
    let action = alice
        .next_pending(Duration::from_secs(60), |a| a.summary == summary)
        .await
        .expect("pending");
    alice
        .decide(&action, Verdict::Approve, "ok")
        .await
        .expect("approved");
    py.say("wait").await;
    let f = py.expect("final").await;
    assert_eq!(f["got"]["status"], "completed", "{f}");
    let result = &f["got"]["result"];
    assert_eq!(result["structuredContent"]["status"], "approved", "{f}");
    assert_eq!(result["structuredContent"]["approved"], true);
    py.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_a_task_cancelling_it_withdraws_the_action() {
    let mut alice = alice(16).await;
    let summary = "mcp: restart web (task cancel)";
    let mut py = PyClient::start("task", &json!({"call": call(summary, json!({}))}));
    py.expect("task").await;
    let action = alice
        .next_pending(Duration::from_secs(60), |a| a.summary == summary)
        .await
        .expect("pending");
    py.say("cancel").await;
    let f = py.expect("final").await;
    assert_eq!(f["got"]["status"], "cancelled", "{f}");
    assert_eq!(final_status(action.id).await, Status::Withdrawn);
    py.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_approved_runs_the_approved_argv_once_and_refuses_a_changed_one() {
    let mut alice = alice(17).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = dir.path().join("ran");
    let script = format!(
        "echo \"$SIGNOFF_ACTION_ID\" >> '{}'; echo done; exit 3",
        marker.display()
    );
    let argv = json!(["sh", "-c", script]);
    let summary = "mcp: run a script (run_approved)";
    let mut py = PyClient::start(
        "request",
        &json!({
            "call": call(summary, json!({"kind": "command.exec", "argv": argv})),
            "run": [
                {"argv": ["sh", "-c", format!("{script}; rm -rf /tmp/nothing")]},
                {},
                {}
            ],
        }),
    );
    let action = alice
        .next_pending(Duration::from_secs(60), |a| a.summary == summary)
        .await
        .expect("pending");
    assert!(!marker.exists(), "nothing runs before approval");
    alice
        .decide(&action, Verdict::Approve, "ok")
        .await
        .expect("approved");
    let r = py.expect("result").await;
    assert_eq!(r["result"]["structured"]["runnable"], true, "{r}");
    let changed = py.expect("run").await;
    assert_eq!(changed["result"]["structured"]["ran"], false, "{changed}");
    assert!(
        changed["result"]["structured"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("differs"),
        "{changed}"
    );
    assert_eq!(changed["result"]["is_error"], true);
    let ran = py.expect("run").await;
    let o = &ran["result"]["structured"];
    assert_eq!(o["ran"], true, "{ran}");
    assert_eq!(o["exit_code"], 3);
    assert_eq!(o["stdout"], "done\n");
    let again = py.expect("run").await;
    assert_eq!(again["result"]["structured"]["ran"], false, "{again}");
    py.finish().await;
    let lines = std::fs::read_to_string(&marker).expect("marker");
    assert_eq!(
        lines.lines().collect::<Vec<_>>(),
        [action.id.to_string()],
        "ran exactly once"
    );
    let client = AgentClient::new(broker_url(), AGENT_TOKEN).expect("client");
    let view = client.get(action.id, 0).await.expect("action");
    assert_eq!(
        view.action.execution.expect("execution reported").exit_code,
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_broker_is_reported_as_not_approved() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut env = agent_env();
    for (k, v) in &mut env {
        if *k == "SIGNOFF_BROKER_URL" {
            *v = format!("http://127.0.0.1:{port}");
        }
    }
    // The submission is retried (same idempotency key) for this long before giving up.
    env.push(("SIGNOFF_RETRY_SUBMIT_FOR", "1s".into()));
    let mut py = PyClient::start_with(
        "request",
        &json!({"call": call("mcp: nobody listens", json!({}))}),
        &env,
    );
    let r = py.expect("result").await;
    let o = &r["result"]["structured"];
    assert_eq!(o["status"], "unknown", "{r}");
    assert_eq!(o["approved"], false);
    assert_eq!(r["result"]["is_error"], true);
    assert!(
        o["next"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Not approved"),
        "{r}"
    );
    py.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_wait_gets_its_action_withdrawn_and_the_server_exits() {
    let mut alice = alice(18).await;
    let summary = "mcp: restart web (disconnect)";
    let mut py = PyClient::start("disconnect", &json!({"call": call(summary, json!({}))}));
    let calling = py.expect("calling").await;
    let servers: Vec<u32> = calling["server_pids"]
        .as_array()
        .expect("pids")
        .iter()
        .filter_map(|p| p.as_u64().and_then(|p| u32::try_from(p).ok()))
        .collect();
    assert_eq!(servers.len(), 1, "{calling}");
    let action = alice
        .next_pending(Duration::from_secs(60), |a| a.summary == summary)
        .await
        .expect("pending");
    py.say("vanish").await;
    assert_eq!(final_status(action.id).await, Status::Withdrawn);
    let gone = eventually_async(Duration::from_secs(30), || async {
        (!alive(servers[0])).then_some(())
    })
    .await;
    let still = gone.is_none();
    if still {
        let _ = std::process::Command::new("kill")
            .arg(servers[0].to_string())
            .status();
    }
    assert!(!still, "signoff mcp exits once its client has gone");
}

/// `signoff mcp` with the shared broker's agent settings, talked to over raw stdio.
fn raw_server() -> tokio::process::Child {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"));
    cmd.arg("mcp")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in agent_env() {
        cmd.env(k, v);
    }
    cmd.spawn().expect("signoff mcp starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_stdio_is_skipped_and_the_server_keeps_serving_and_refusing() {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let mut server = raw_server();
    let mut stdin = server.stdin.take().expect("stdin");
    let mut lines = tokio::io::BufReader::new(server.stdout.take().expect("stdout")).lines();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw-test", "version": "0"}}});
    let input = [
        init.to_string(),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
        "this is not JSON at all".to_string(),
        "{\"jsonrpc\": \"2.0\", \"id\": ".to_string(),
        "\u{1b}[2J\u{0}\u{202e}".to_string(),
        json!({"jsonrpc": "2.0", "id": 7, "method": "no/such/method"}).to_string(),
        json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
               "params": {"name": "approve", "arguments": {"id": "x"}}})
        .to_string(),
        json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
               "params": {"name": "request_approval", "arguments": {"kind": 5}}})
        .to_string(),
        json!({"jsonrpc": "2.0", "id": 10, "method": "tools/list"}).to_string(),
    ];
    for line in &input {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write");
    }
    stdin.flush().await.expect("flush");
    let mut answers = std::collections::BTreeMap::new();
    while [7, 8, 9, 10].iter().any(|id| !answers.contains_key(id)) {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the server answers in time")
            .expect("stdout")
            .expect("the server kept its stdout open");
        let v: Value = serde_json::from_str(&line).expect("every line the server writes is JSON");
        if let Some(id) = v["id"].as_u64() {
            answers.insert(id, v);
        }
    }
    assert!(answers[&7]["error"].is_object(), "{}", answers[&7]);
    assert!(
        answers[&8]["error"].is_object(),
        "no approve tool: {}",
        answers[&8]
    );
    let bad = &answers[&9]["result"];
    assert_eq!(bad["isError"], true, "{bad}");
    assert_eq!(bad["structuredContent"]["approved"], false, "{bad}");
    assert_eq!(
        answers[&10]["result"]["tools"].as_array().map(Vec::len),
        Some(4)
    );
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(30), server.wait())
        .await
        .expect("the server exits when stdin closes")
        .expect("status");
    assert!(status.success(), "{status}");
}

/// `signoff hook claude-code` with one PreToolUse input on its stdin.
async fn hook(input: &str, extra: &[&str]) -> tokio::process::Child {
    use tokio::io::AsyncWriteExt as _;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"));
    cmd.args(["hook", "claude-code"])
        .args(extra)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in agent_env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("signoff hook starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).await.expect("write");
    drop(stdin);
    child
}

fn pre_tool_use(tool: &str, tool_input: Value) -> String {
    json!({
        "session_id": "sess-1", "transcript_path": "/tmp/t.jsonl", "cwd": "/repo",
        "permission_mode": "default", "hook_event_name": "PreToolUse",
        "tool_name": tool, "tool_input": tool_input, "tool_use_id": "toolu_42"
    })
    .to_string()
}

async fn verdict(child: tokio::process::Child) -> (i32, Value, String) {
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the hook answers in time")
        .expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let v = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_allows_a_claude_code_tool_call_only_once_approved() {
    let mut alice = alice(21).await;
    let line = "kubectl rollout restart deployment/web-hook-approve";
    let child = hook(&pre_tool_use("Bash", json!({"command": line})), &[]).await;
    let action = alice
        .next_pending(Duration::from_secs(60), |a| a.summary == line)
        .await
        .expect("the tool call reaches the approver");
    assert_eq!(action.kind, "command.exec");
    assert_eq!(
        action.command,
        Some(signoff::protocol::Command::Text { text: line.into() })
    );
    assert!(
        action
            .context
            .iter()
            .any(|c| c.key == "hook.tool_use_id" && c.value == "toolu_42")
    );
    alice
        .decide(&action, Verdict::Approve, "ok")
        .await
        .expect("approved");
    let (code, v, stderr) = verdict(child).await;
    assert_eq!(code, 0, "{stderr}");
    let out = &v["hookSpecificOutput"];
    assert_eq!(out["hookEventName"], "PreToolUse", "{v}");
    assert_eq!(out["permissionDecision"], "allow", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_denies_with_the_approvers_reason() {
    let mut alice = alice(22).await;
    let child = hook(
        &pre_tool_use(
            "Write",
            json!({"file_path": "/repo/deploy-hook-deny.yaml", "content": "replicas: 0\n"}),
        ),
        &[],
    )
    .await;
    let action = alice
        .next_pending(Duration::from_secs(60), |a| {
            a.summary == "Write /repo/deploy-hook-deny.yaml"
        })
        .await
        .expect("pending");
    assert_eq!(action.kind, "file.write");
    alice
        .decide(&action, Verdict::Deny, "not scaling prod to zero")
        .await
        .expect("denied");
    let (code, v, stderr) = verdict(child).await;
    assert_eq!(code, 0, "{stderr}");
    let out = &v["hookSpecificOutput"];
    assert_eq!(out["permissionDecision"], "deny", "{v}");
    let reason = out["permissionDecisionReason"].as_str().unwrap_or_default();
    assert!(reason.contains("not scaling prod to zero"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_denies_garbage_and_a_timeout_and_withdraws() {
    let (code, v, _) = verdict(hook("{not json", &[]).await).await;
    assert_eq!(code, 0);
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny", "{v}");
    let child = hook(
        &pre_tool_use("Bash", json!({"command": "echo hook-timeout"})),
        &["--timeout", "1s"],
    )
    .await;
    let (code, v, stderr) = verdict(child).await;
    assert_eq!(code, 0, "{stderr}");
    let out = &v["hookSpecificOutput"];
    assert_eq!(out["permissionDecision"], "deny", "{v}");
    let reason = out["permissionDecisionReason"].as_str().unwrap_or_default();
    assert!(reason.contains("withdrawn"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_serves_the_same_tools_on_loopback_only() {
    use tokio::io::AsyncBufReadExt as _;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"));
    cmd.args(["mcp", "--listen", "127.0.0.1:0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in agent_env() {
        cmd.env(k, v);
    }
    let mut server = cmd.spawn().expect("signoff mcp --listen starts");
    let mut lines = tokio::io::BufReader::new(server.stdout.take().expect("stdout")).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the endpoint is printed in time")
        .expect("stdout")
        .expect("a first line");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
        "{url}"
    );
    // An action to ask about, submitted through the same server kind over stdio earlier is
    // not needed: an unknown id must come back as not approved, never as an error page.
    let unknown = ActionId::new().to_string();
    let mut py = PyClient::start("list_tools", &json!({"url": url, "status_of": unknown}));
    let e = py.expect("tools").await;
    assert_eq!(e["tools"].as_array().map(Vec::len), Some(4), "{e}");
    let s = py.expect("status").await;
    assert_eq!(s["result"]["structured"]["approved"], false, "{s}");
    assert_eq!(s["result"]["structured"]["status"], "unknown", "{s}");
    py.finish().await;
    let _ = server.start_kill();
    let _ = server.wait().await;

    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["mcp", "--listen", "0.0.0.0:0"])
        .envs(agent_env())
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("loopback"));
}

/// The demo's temporary directories under `tmp` that hold an MCP snippet.
fn demo_snippets(tmp: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(tmp)
        .map(|d| {
            d.flatten()
                .map(|e| e.path().join("mcp.json"))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_offers_an_mcp_snippet_that_reaches_its_broker() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().expect("temp dir");
    let demo = pty::Pty::spawn_args(
        &["demo"],
        120,
        40,
        &[("TMPDIR", tmp.path().display().to_string())],
    );
    let path = eventually_async(Duration::from_secs(60), || async {
        demo_snippets(tmp.path()).pop()
    })
    .await
    .unwrap_or_else(|| panic!("no MCP snippet within 60 s; screen:\n{}", demo.contents()));
    let mode = std::fs::metadata(&path)
        .expect("snippet")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the snippet holds a token");
    let snippet: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    let server = &snippet["mcpServers"]["signoff-demo"];
    assert_eq!(server["args"], json!(["mcp"]));
    let mut env = vec![(
        "SIGNOFF_BIN",
        server["command"].as_str().expect("command").to_string(),
    )];
    for (k, v) in server["env"].as_object().expect("env") {
        let k: &'static str = match k.as_str() {
            "SIGNOFF_BROKER_URL" => "SIGNOFF_BROKER_URL",
            "SIGNOFF_AGENT_TOKEN" => "SIGNOFF_AGENT_TOKEN",
            "SIGNOFF_AGENT_ID" => "SIGNOFF_AGENT_ID",
            "SIGNOFF_ENV" => "SIGNOFF_ENV",
            other => panic!("unexpected variable {other}"),
        };
        env.push((k, v.as_str().unwrap_or_default().to_string()));
    }
    let mut py = PyClient::start_with(
        "request",
        &json!({"call": call("mcp: from the demo snippet", json!({"wait_seconds": 1}))}),
        &env,
    );
    let r = py.expect("result").await;
    let o = &r["result"]["structured"];
    assert_eq!(
        o["status"], "pending",
        "the demo broker took the request: {r}"
    );
    assert_eq!(o["approved"], false);
    py.finish().await;
    drop(demo);
}
