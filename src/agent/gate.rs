//! `signoff gate -- COMMAND…`: submit the exact argv, wait, run it only when approved,
//! pass its exit code through, and report the result so the audit log closes the loop.

use std::time::Duration;

use super::args::GateArgs;
use super::build::apply_gate_defaults;
use super::child::{ChildOutcome, run_child};
use super::client::AgentClient;
use super::outcome::{EXIT_ERROR, EXIT_PENDING, describe, exit_code_for};
use super::session::{
    Waited, after_interrupt, callback_url, connect, idempotency_key, prepare, submit,
    wait_or_withdraw, withdraw,
};
use super::signals::Interrupts;
use super::wait::backoff;
use super::{AgentError, say};
use crate::protocol::api::{ActionView, ResultReport};
use crate::protocol::{ActionRequest, Command, Status, Timestamp};
use crate::report::one_line;

/// How many times the execution result is offered to the broker before giving up.
const REPORT_ATTEMPTS: u32 = 5;

/// Runs `signoff gate`; returns the exit code (the command's own when it ran).
pub async fn run(args: GateArgs) -> Result<u8, AgentError> {
    let client = connect(&args.connect)?;
    let mut action_args = args.action.clone();
    apply_gate_defaults(&mut action_args, &args.command);
    let command = Command::Argv {
        argv: args.command.clone(),
    };
    let req = prepare(&action_args, Some(command))?;
    let key = idempotency_key(args.idempotency_key.as_deref())?;
    let callback = callback_url(&args.connect)?;
    let retry_for = args
        .connect
        .retry_submit_for
        .unwrap_or(super::session::SUBMIT_RETRY_FOR);
    let mut interrupts = Interrupts::install().map_err(AgentError::Signals)?;
    let created = submit(&client, &req, &key, callback.as_deref(), retry_for).await?;
    say(&format!("waiting for approval to run: {}", req.summary));
    let view = match wait_or_withdraw(&client, &created, args.timeout, &mut interrupts).await {
        Waited::Final(v) if v.action.status == Status::Approved => v,
        Waited::Final(v) => {
            say(&format!(
                "{}; not running the command",
                describe(&v.action, Timestamp::now())
            ));
            return Ok(exit_code_for(v.action.status));
        }
        Waited::TimedOut(v) => {
            say(&format!(
                "timed out waiting; {}",
                describe(&v.action, Timestamp::now())
            ));
            match withdraw(&client, &created).await {
                Ok(w) => say(&format!(
                    "{}; not running the command",
                    describe(&w.action, Timestamp::now())
                )),
                Err(e) => say(&format!(
                    "could not withdraw {}: {}",
                    created.id,
                    one_line(&e)
                )),
            }
            return Ok(EXIT_PENDING);
        }
        Waited::Interrupted(sig, result) => return Ok(after_interrupt(sig, result)),
        Waited::Failed(e) => {
            say(&format!(
                "gave up waiting for {}: {}; not running the command",
                created.id,
                one_line(&e)
            ));
            return Ok(EXIT_ERROR);
        }
    };
    if let Err(why) = check_approved_matches(&view, &req) {
        say(&format!("refusing to run {}: {why}", created.id));
        return Ok(EXIT_ERROR);
    }
    say(&describe(&view.action, Timestamp::now()));
    let outcome = run_child(&args.command, &created.id.to_string(), &mut interrupts).await;
    say(&format!("command {}", outcome.detail));
    report_result(&client, &view, &outcome).await;
    Ok(u8::try_from(outcome.exit_code.clamp(0, 255)).unwrap_or(u8::MAX))
}

/// What was approved must be what we asked to run: same command, and a digest that
/// matches the action's content. Guards against a broker bug or a swapped response.
pub fn check_approved_matches(view: &ActionView, req: &ActionRequest) -> Result<(), String> {
    if view.action.command != req.command {
        return Err("the approved command differs from the submitted one".into());
    }
    if view.action.digest() != view.digest {
        return Err("the action's digest does not match its content".into());
    }
    Ok(())
}

/// Reports the execution result, retrying through transient failures; a failure to report
/// is printed but never changes the exit code (the command already ran). `signoff mcp`'s
/// `run_approved` reports through here too.
pub async fn report_result(client: &AgentClient, view: &ActionView, outcome: &ChildOutcome) {
    let body = ResultReport {
        exit_code: outcome.exit_code,
        detail: Some(outcome.detail.clone()),
    };
    let id = view.action.id;
    for attempt in 1..=REPORT_ATTEMPTS {
        match client.report_result(id, &body).await {
            Ok(_) => return,
            Err(e) if e.is_transient() && attempt < REPORT_ATTEMPTS => {
                let delay = backoff(attempt, 0.5).min(Duration::from_secs(5));
                say(&format!(
                    "reporting the result of {id} failed, retrying: {e}"
                ));
                tokio::time::sleep(delay).await;
            }
            Err(e) => {
                say(&format!(
                    "could not report the result of {id} to the broker: {e}"
                ));
                return;
            }
        }
    }
}
