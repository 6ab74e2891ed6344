//! `signoff hook claude-code`: read the pending tool call, submit it as an action, wait,
//! and answer the hook. Only an approval allows; every other ending denies, and so does
//! every failure, including a panic: Claude Code treats a hook that exits with an
//! unexpected code as a non-blocking error and would run the tool.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use super::args::{HookArgs, HookFormat};
use super::claude_code::{parse_input, to_action, verdict};
use crate::agent::build::{EnvLookup, build_request};
use crate::agent::outcome::describe;
use crate::agent::session::{Waited, connect, submit, wait_or_withdraw, withdraw};
use crate::agent::signals::Interrupts;
use crate::agent::{AgentError, say};
use crate::protocol::{Status, Timestamp, limits};
use crate::report;

/// The hook's exit code for "blocked" when no verdict JSON could be written.
const EXIT_BLOCK: u8 = 2;

/// Runs the hook; whatever happens, the answer on standard output denies unless approved.
/// The reason goes to standard error too: a failure as every command prints one (its
/// causes under it), and in the answer on one line, for the model.
pub fn main(args: HookArgs) -> ExitCode {
    let HookFormat::ClaudeCode = args.format;
    let ran = std::panic::catch_unwind(|| run(&args));
    let (allow, reason) = match ran {
        Ok(Ok(answer)) => {
            eprintln!("{}", answer.1);
            answer
        }
        Ok(Err(e)) => {
            let reason = format!("signoff: not approved: {}", report::one_line(&e));
            report::print(&report::Report::new(e).wrap_err("not approved"));
            (false, reason)
        }
        Err(_) => {
            say("not approved: the hook failed internally");
            (
                false,
                "signoff: not approved: the hook failed internally".into(),
            )
        }
    };
    let line = verdict(allow, &reason);
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        return ExitCode::from(EXIT_BLOCK);
    }
    ExitCode::SUCCESS
}

/// (allow, reason) for the pending call on standard input.
fn run(args: &HookArgs) -> Result<(bool, String), AgentError> {
    let mut text = String::new();
    std::io::stdin()
        .take(limits::MAX_ACTION_BYTES as u64 * 2)
        .read_to_string(&mut text)
        .map_err(AgentError::HookInput)?;
    let input = parse_input(&text).map_err(AgentError::Usage)?;
    let read = |p: &std::path::Path| -> Option<String> {
        let meta = std::fs::metadata(p).ok()?;
        if meta.len() > limits::MAX_DIFF_BYTES as u64 {
            return None;
        }
        std::fs::read_to_string(p).ok()
    };
    let mut mapped = to_action(&input, &read);
    let who = &args.requester;
    mapped.args.environment = who.environment.clone();
    mapped.args.requester_id = who.requester_id.clone();
    if let Some(name) = &who.requester_name {
        mapped.args.requester_name = Some(name.clone());
    }
    mapped.args.on_behalf_of = who.on_behalf_of.clone();
    mapped.args.model = who.model.clone();
    mapped.args.ttl = args.ttl;
    let env: EnvLookup<'_> = &|k| std::env::var(k).ok().filter(|v| !v.is_empty());
    let req = build_request(&mapped.args, mapped.command, mapped.change, env)?;
    let client = connect(&args.connect)?;
    let callback = crate::agent::session::callback_url(&args.connect)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AgentError::Runtime)?;
    rt.block_on(async {
        let mut interrupts = Interrupts::install().map_err(AgentError::Signals)?;
        let created = submit(
            &client,
            &req,
            &crate::protocol::idempotency::random_key(),
            callback.as_deref(),
            args.connect
                .retry_submit_for
                .unwrap_or(crate::agent::session::SUBMIT_RETRY_FOR_MCP),
        )
        .await?;
        let id = created.id;
        let answer =
            match wait_or_withdraw(&client, &created, Some(args.timeout), &mut interrupts).await {
                Waited::Final(v) if v.action.status == Status::Approved => (
                    true,
                    format!("signoff: {}", describe(&v.action, Timestamp::now())),
                ),
                Waited::Final(v) => (
                    false,
                    format!(
                        "signoff: not approved: {}. Do not retry this unchanged.",
                        describe(&v.action, Timestamp::now())
                    ),
                ),
                Waited::TimedOut(_) => {
                    let gone = match withdraw(&client, &created).await {
                        Ok(w) if w.action.status == Status::Approved => {
                            // Approved in the last moment: still allowed, it was decided.
                            return Ok((
                                true,
                                format!("signoff: {}", describe(&w.action, Timestamp::now())),
                            ));
                        }
                        Ok(_) => "withdrawn".to_string(),
                        Err(e) => format!("withdrawing failed: {}", report::one_line(&e)),
                    };
                    (
                        false,
                        format!(
                            "signoff: not approved: no decision on {id} within {} ({gone})",
                            crate::agent::duration::format_duration(args.timeout)
                        ),
                    )
                }
                Waited::Interrupted(sig, _) => (
                    false,
                    format!(
                        "signoff: not approved: interrupted ({}); {id} withdrawn",
                        sig.name()
                    ),
                ),
                Waited::Failed(e) => (
                    false,
                    format!(
                        "signoff: not approved: the outcome of {id} is unknown: {}",
                        report::one_line(&e)
                    ),
                ),
            };
        Ok(answer)
    })
}
