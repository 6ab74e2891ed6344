//! `run_approved`: run an approved action's argv exactly as approved, once, and report
//! the exit code to the broker, as `signoff gate` does.
//!
//! What runs is always the argv in the action the broker returns, after checking that
//! the action's content still hashes to the digest the approvers signed, that it matches
//! what this server submitted (when it did), and that the agent's own idea of the argv,
//! when given, is the same. Output is captured, never sent to this process's standard
//! output: over stdio that stream is the MCP connection.

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Instant;

use rmcp::schemars::{self, JsonSchema};
use serde::Serialize;
use tokio::io::AsyncReadExt as _;

use crate::agent::child::{ChildOutcome, describe_spawn_error, describe_status};
use crate::agent::client::AgentClient;
use crate::agent::gate::{check_approved_matches, report_result};
use crate::protocol::api::ActionView;
use crate::protocol::{ActionId, ActionRequest, Command, Status};

/// At most this much of each output stream is returned; the rest is cut (the tail kept).
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;

/// The structured answer of `run_approved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RunOutcome {
    pub id: String,
    /// True when the command was started.
    pub ran: bool,
    /// The command's exit code (128+N when killed by signal N; 127 not found; 126 not
    /// executable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// One line: how it ended, or why nothing ran.
    pub message: String,
    /// The last 64 KiB of standard output.
    pub stdout: String,
    /// The last 64 KiB of standard error.
    pub stderr: String,
    /// What the agent should do now.
    pub next: String,
}

impl RunOutcome {
    fn refused(id: &str, why: String) -> Self {
        RunOutcome {
            id: id.to_string(),
            ran: false,
            exit_code: None,
            message: format!("nothing ran: {why}"),
            stdout: String::new(),
            stderr: String::new(),
            next: "Nothing ran. Do not run this command any other way; request approval \
                   for exactly what you need to run."
                .into(),
        }
    }

    pub fn text(&self) -> String {
        let mut s = format!("{}\nNext: {}", self.message, self.next);
        if !self.stdout.is_empty() {
            s.push_str(&format!("\n--- stdout ---\n{}", self.stdout));
        }
        if !self.stderr.is_empty() {
            s.push_str(&format!("\n--- stderr ---\n{}", self.stderr));
        }
        s
    }
}

/// Why the approved action may not run; pure, so every refusal is tested directly.
pub fn may_run(
    view: &ActionView,
    submitted: Option<&ActionRequest>,
    intended: Option<&[String]>,
) -> Result<Vec<String>, String> {
    let action = &view.action;
    if action.status != Status::Approved {
        return Err(format!("{} is {}, not approved", action.id, action.status));
    }
    let Some(Command::Argv { argv }) = &action.command else {
        return Err(format!(
            "{} has no argv to run (run_approved runs only commands given as argv)",
            action.id
        ));
    };
    if action.digest() != view.digest {
        return Err("the action's content does not match the digest the approvers signed".into());
    }
    if let Some(req) = submitted {
        check_approved_matches(view, req)?;
    }
    if let Some(intended) = intended
        && intended != argv.as_slice()
    {
        return Err("the argv given differs from the approved one".into());
    }
    if action.execution.is_some() {
        return Err(format!(
            "{} already ran (its result is recorded)",
            action.id
        ));
    }
    Ok(argv.clone())
}

/// Actions this server has started, so each runs at most once even when two calls race.
#[derive(Default)]
pub struct RunOnce(Mutex<HashSet<ActionId>>);

impl RunOnce {
    /// True the first time for `id`.
    fn claim(&self, id: ActionId) -> bool {
        self.0.lock().map(|mut s| s.insert(id)).unwrap_or(false)
    }
}

/// Runs the approved command of `id`; `submitted` is what this server asked for, if it did.
pub async fn run_approved(
    client: &AgentClient,
    once: &RunOnce,
    id: ActionId,
    submitted: Option<&ActionRequest>,
    intended: Option<&[String]>,
) -> RunOutcome {
    let shown = id.to_string();
    let view = match client.get(id, 0).await {
        Ok(v) => v,
        Err(e) => return RunOutcome::refused(&shown, format!("cannot check the approval: {e}")),
    };
    let argv = match may_run(&view, submitted, intended) {
        Ok(argv) => argv,
        Err(why) => return RunOutcome::refused(&shown, why),
    };
    if !once.claim(id) {
        return RunOutcome::refused(&shown, format!("{id} was already run by this server"));
    }
    let (outcome, stdout, stderr) = run_captured(&argv, &shown).await;
    crate::agent::say(&format!("{id}: command {}", outcome.detail));
    report_result(client, &view, &outcome).await;
    RunOutcome {
        id: shown,
        ran: true,
        exit_code: Some(outcome.exit_code),
        message: format!("ran the approved command: {}", outcome.detail),
        stdout,
        stderr,
        next: "The approved command ran once and its result was reported. Running it again \
               needs a new approval."
            .into(),
    }
}

/// Runs `argv` with no standard input and captured output; `SIGNOFF_ACTION_ID` is set.
async fn run_captured(argv: &[String], action_id: &str) -> (ChildOutcome, String, String) {
    let Some((program, rest)) = argv.split_first() else {
        let o = ChildOutcome {
            exit_code: 127,
            detail: "no command given".into(),
        };
        return (o, String::new(), String::new());
    };
    let started = Instant::now();
    let mut child = match tokio::process::Command::new(program)
        .args(rest)
        .env("SIGNOFF_ACTION_ID", action_id)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return (
                describe_spawn_error(program, &e),
                String::new(),
                String::new(),
            );
        }
    };
    let out = child.stdout.take();
    let err = child.stderr.take();
    let (status, stdout, stderr) = tokio::join!(child.wait(), tail(out), tail(err));
    let outcome = match status {
        Ok(s) => describe_status(s, started.elapsed()),
        Err(e) => ChildOutcome {
            exit_code: 1,
            detail: format!("lost track of {program:?}: {e}"),
        },
    };
    (outcome, stdout, stderr)
}

/// Reads a stream to its end, keeping the last [`MAX_OUTPUT_BYTES`].
async fn tail(stream: Option<impl tokio::io::AsyncRead + Unpin>) -> String {
    let Some(mut stream) = stream else {
        return String::new();
    };
    let mut kept: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    let mut cut = false;
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > MAX_OUTPUT_BYTES {
                    let excess = kept.len() - MAX_OUTPUT_BYTES;
                    kept.drain(..excess);
                    cut = true;
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&kept).into_owned();
    if cut {
        format!("[… earlier output cut …]\n{text}")
    } else {
        text
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
