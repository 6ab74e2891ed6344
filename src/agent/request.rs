//! `signoff request`: submit one action; with `--wait`, wait and exit with its outcome.

use super::args::RequestArgs;
use super::outcome::{EXIT_APPROVED, EXIT_ERROR, EXIT_PENDING, describe, exit_code_for};
use super::session::{
    Waited, after_interrupt, callback_url, connect, idempotency_key, prepare, submit,
    wait_or_withdraw,
};
use super::signals::Interrupts;
use super::{AgentError, say};
use crate::protocol::{Command, Timestamp};
use crate::report::one_line;

/// Runs `signoff request`; returns the exit code.
pub async fn run(args: RequestArgs) -> Result<u8, AgentError> {
    let client = connect(&args.connect)?;
    let command = args.command.clone().map(|text| Command::Text { text });
    let req = prepare(&args.action, command)?;
    let key = idempotency_key(args.idempotency_key.as_deref())?;
    let callback = callback_url(&args.connect)?;
    let retry_for = args
        .connect
        .retry_submit_for
        .unwrap_or(super::session::SUBMIT_RETRY_FOR);
    // Installed before submitting, so a Ctrl-C during submission still withdraws.
    let mut interrupts = if args.wait {
        Some(Interrupts::install().map_err(AgentError::Signals)?)
    } else {
        None
    };
    let created = submit(&client, &req, &key, callback.as_deref(), retry_for).await?;
    let Some(interrupts) = interrupts.as_mut() else {
        if args.json {
            println!("{}", to_json(&created)?);
        } else {
            println!("{}", created.id);
        }
        return Ok(EXIT_APPROVED);
    };
    say(&format!("waiting for the decision on {}", created.id));
    let (code, view) = match wait_or_withdraw(&client, &created, args.timeout, interrupts).await {
        Waited::Final(v) => {
            say(&describe(&v.action, Timestamp::now()));
            keep_checkpoint(&client).await;
            (exit_code_for(v.action.status), Some(v))
        }
        Waited::TimedOut(v) => {
            say(&format!(
                "timed out waiting; {}",
                describe(&v.action, Timestamp::now())
            ));
            (EXIT_PENDING, Some(v))
        }
        Waited::Interrupted(sig, result) => {
            let view = result.as_ref().ok().cloned();
            (after_interrupt(sig, result), view)
        }
        Waited::Failed(e) => {
            say(&format!(
                "gave up waiting for {}: {}",
                created.id,
                one_line(&e)
            ));
            (EXIT_ERROR, None)
        }
    };
    if args.json
        && let Some(v) = view
    {
        println!("{}", to_json(&v)?);
    }
    Ok(code)
}

/// Keeps the broker's latest audit checkpoint, which covers this outcome (see
/// [`crate::client::checkpoints`]); a broker without one is not an error.
async fn keep_checkpoint(client: &super::client::AgentClient) {
    match client.checkpoint().await {
        Ok(c) => {
            let dir = crate::client::checkpoints::state_dir();
            let base = client.base().as_str().to_string();
            let kept = tokio::task::spawn_blocking(move || {
                crate::client::checkpoints::keep_in(&dir, &base, &c)
            })
            .await;
            if let Ok(Err(e)) = kept {
                tracing::warn!(error = %e, "cannot keep the audit checkpoint");
            }
        }
        Err(e) => tracing::debug!(error = %e, "no audit checkpoint"),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, AgentError> {
    serde_json::to_string_pretty(v).map_err(AgentError::Json)
}
