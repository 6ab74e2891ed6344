//! `--callback-url` on the agent side: `signoff request`, `signoff gate` and `signoff mcp`
//! (the real binary) ask a real broker to post the outcome to a local receiver, whose
//! signature the Standard Webhooks reference library verifies; a URL the broker does not
//! allow exits 1 with a clear message, and nothing is submitted.

mod agent_support;
mod notify_support;

use std::time::Duration;

use agent_support::*;
use notify_support::{Received, Receiver, Role, Verifier, WHSEC};
use serde_json::{Value, json};
use signoff::protocol::{Status, Verdict};

/// The callback's verified payload, checked to be the outcome of `id`.
fn outcome(verifier: &mut Verifier, r: &Received, id: &str, status: &str) -> Value {
    assert_eq!(r.header("webhook-id"), format!("{id}.callback"));
    let payload = verifier
        .verify(WHSEC, r)
        .expect("standardwebhooks accepts the callback");
    assert_eq!(payload["type"], "action.resolved", "{payload}");
    assert_eq!(payload["data"]["action_id"], id, "{payload}");
    assert_eq!(payload["data"]["status"], status, "{payload}");
    payload
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_and_gate_ask_for_the_outcome_at_their_callback_url() {
    let ci = Receiver::start(Role::Webhook).await;
    let env = start_with_callbacks(&format!("{}/cb/", ci.url()), WHSEC).await;
    let mut alice = env.approver(ALICE_TOKEN, 1).await;
    let mut verifier = Verifier::start();

    // request --wait --callback-url: the agent waits, and the URL hears the outcome too.
    let url = format!("{}/cb/job-1", ci.url());
    let child = env.spawn(&request_flags(
        "restart web (callback)",
        &["--wait", "--json", "--callback-url", &url],
    ));
    let action = pending(&mut alice, "restart web (callback)").await;
    let id = action.id.to_string();
    assert!(
        !serde_json::to_string(&action).unwrap().contains("/cb/"),
        "the URL is not part of what approvers see or sign"
    );
    alice
        .decide(&action, Verdict::Deny, "not now")
        .await
        .unwrap();
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 2, "{stderr}");
    let got = ci.wait_for(1).await;
    assert_eq!(got[0].path, "/cb/job-1");
    let payload = outcome(&mut verifier, &got[0], &id, "denied");
    assert_eq!(payload["data"]["reason"], "not now");

    // gate, with the URL from SIGNOFF_CALLBACK_URL: approved, the command runs, the
    // callback hears it.
    let mut gate = env.signoff(&["gate", "--env", "staging", "--", "true"]);
    gate.env("SIGNOFF_CALLBACK_URL", format!("{}/cb/job-2", ci.url()));
    let child = gate.spawn().expect("gate starts");
    let action = alice
        .next_pending(Duration::from_secs(30), |r| r.summary == "true")
        .await
        .expect("the gate's action");
    let id = action.id.to_string();
    assert_eq!(
        alice.decide(&action, Verdict::Approve, "go").await.unwrap(),
        Status::Approved
    );
    let (code, _, stderr) = finish(child).await;
    assert_eq!(code, 0, "{stderr}");
    let got = ci.wait_for(2).await;
    assert_eq!(got[1].path, "/cb/job-2");
    outcome(&mut verifier, &got[1], &id, "approved");
    assert_eq!(ci.got().len(), 2, "one callback per action");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_url_the_broker_refuses_exits_1_and_submits_nothing() {
    let ci = Receiver::start(Role::Webhook).await;
    let env = start_with_callbacks(&format!("{}/cb/", ci.url()), WHSEC).await;
    // Outside the allow-list: the broker's refusal, worded for the person.
    let (code, stdout, stderr) = finish(env.spawn(&request_flags(
        "restart web (refused)",
        &["--wait", "--callback-url", "https://elsewhere.example/cb/1"],
    )))
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("the broker refused --callback-url")
            && stderr.contains("is not under a URL prefix the broker allows")
            && stderr.contains("nothing was submitted"),
        "{stderr}"
    );
    // Not a URL at all, or with credentials: refused before anything is sent.
    for bad in ["not a url", "ftp://x/cb/", "https://u:p@example.test/cb/"] {
        let (code, _, stderr) = finish(env.spawn(&request_flags(
            "restart web (bad url)",
            &["--callback-url", bad],
        )))
        .await;
        assert_eq!(code, 1, "{bad}: {stderr}");
        assert!(stderr.contains("--callback-url"), "{stderr}");
    }
    // A gate refused the same way runs nothing.
    let marker = env.dir.path().join("ran");
    let script = format!("touch '{}'", marker.display());
    let (code, _, stderr) = finish(env.spawn(&[
        "gate",
        "--env",
        "staging",
        "--callback-url",
        "https://elsewhere.example/cb/2",
        "--",
        "sh",
        "-c",
        &script,
    ]))
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(!exists(&marker), "nothing ran");
    // None of them made an action: the one allowed request after them is the only one.
    let (code, _, stderr) = finish(env.spawn(&request_flags(
        "restart web (allowed)",
        &["--callback-url", &format!("{}/cb/ok", ci.url())],
    )))
    .await;
    assert_eq!(code, 0, "{stderr}");
    let created: Vec<String> = env
        .audit()
        .await
        .iter()
        .filter(|e| e["entry"]["type"] == "action_created")
        .map(|e| e["entry"]["payload"].to_string())
        .collect();
    assert_eq!(created.len(), 1, "{created:?}");
    assert!(created[0].contains("restart web (allowed)"), "{created:?}");
    // A broker without [callbacks] refuses the flag just as clearly.
    let plain = start().await;
    let (code, _, stderr) = finish(plain.spawn(&request_flags(
        "restart web (no callbacks)",
        &["--callback-url", &format!("{}/cb/3", ci.url())],
    )))
    .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("takes no callbacks"), "{stderr}");
    assert!(ci.got().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_request_approval_sends_the_servers_callback_url() {
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
    let ci = Receiver::start(Role::Webhook).await;
    let env = start_with_callbacks(&format!("{}/cb/", ci.url()), WHSEC).await;
    let mut alice = env.approver(ALICE_TOKEN, 2).await;
    let mut mcp = env.signoff(&["mcp", "--env", "staging"]);
    mcp.arg("--callback-url")
        .arg(format!("{}/cb/mcp", ci.url()))
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut server = mcp.spawn().expect("signoff mcp starts");
    let mut stdin = server.stdin.take().expect("stdin");
    let mut lines = tokio::io::BufReader::new(server.stdout.take().expect("stdout")).lines();
    let input = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "callback-test", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "request_approval", "arguments": {
                "kind": "service.restart", "summary": "restart web (mcp callback)",
                "target": "k8s:deployment/web"}}}),
    ];
    for v in &input {
        stdin
            .write_all(format!("{v}\n").as_bytes())
            .await
            .expect("write");
    }
    stdin.flush().await.expect("flush");
    let action = pending(&mut alice, "restart web (mcp callback)").await;
    alice.decide(&action, Verdict::Approve, "ok").await.unwrap();
    let answer = loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the server answers in time")
            .expect("stdout")
            .expect("a line");
        let v: Value = serde_json::from_str(&line).expect("JSON");
        if v["id"] == 2 {
            break v;
        }
    };
    assert_eq!(
        answer["result"]["structuredContent"]["approved"], true,
        "{answer}"
    );
    let got = ci.wait_for(1).await;
    assert_eq!(got[0].path, "/cb/mcp");
    outcome(
        &mut Verifier::start(),
        &got[0],
        &action.id.to_string(),
        "approved",
    );
    drop(stdin);
    let _ = tokio::time::timeout(Duration::from_secs(30), server.wait()).await;
}
