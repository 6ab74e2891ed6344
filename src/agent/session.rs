//! What `request --wait` and `gate` share: connect, submit, then wait for the outcome while
//! listening for Ctrl-C, which withdraws the request.

use std::io::Read as _;
use std::time::{Duration, Instant};

use super::args::{ActionArgs, ConnectArgs};
use super::build::{EnvLookup, build_request, load_change};
use super::client::{AgentClient, ClientError};
use super::outcome::describe;
use super::signals::{Interrupt, Interrupts};
use super::wait::{WaitEnd, WaitEvent, deadline, expires_in, wait_for_outcome};
use super::{AgentError, say};
use crate::client::backoff::{Backoff, BackoffConfig, random_jitter};
use crate::protocol::api::{ActionCreated, ActionView};
use crate::protocol::idempotency;
use crate::protocol::{ActionRequest, Command, ErrorCode, Status, Timestamp};
use crate::text::visible_string as visible;

/// Builds the client from `--broker` and `--token` (or their environment variables).
pub fn connect(args: &ConnectArgs) -> Result<AgentClient, AgentError> {
    let broker = crate::env::or_deprecated(args.broker.clone());
    let broker = broker
        .as_deref()
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| {
            AgentError::Usage("no broker: pass --broker URL or set SIGNOFF_BROKER_URL".into())
        })?;
    let token = args
        .token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            AgentError::Usage("no agent token: set SIGNOFF_AGENT_TOKEN (or pass --token)".into())
        })?;
    Ok(AgentClient::new(broker, token.trim())?)
}

/// Loads the change files and builds the request from flags and the process environment.
pub fn prepare(args: &ActionArgs, command: Option<Command>) -> Result<ActionRequest, AgentError> {
    // Read at most one byte past the limit, so an endless pipe cannot exhaust memory.
    let mut stdin = || {
        let mut s = String::new();
        let bound = crate::protocol::limits::MAX_DIFF_BYTES as u64 + 1;
        std::io::stdin()
            .take(bound)
            .read_to_string(&mut s)
            .map(|_| s)
    };
    let change = load_change(args, &mut stdin)?;
    let env: EnvLookup<'_> = &|k| std::env::var(k).ok().filter(|v| !v.is_empty());
    Ok(build_request(args, command, change, env)?)
}

/// How long `request` and `gate` resend a submission through connection failures and
/// broker errors, unless `--retry-submit-for` says otherwise.
pub const SUBMIT_RETRY_FOR: Duration = Duration::from_secs(120);
/// The same for `signoff mcp` and `signoff hook`: short, because an MCP client gives up
/// on a call after about a minute and the call still has to wait for the decision.
pub const SUBMIT_RETRY_FOR_MCP: Duration = Duration::from_secs(5);

/// The backoff between submission attempts: 250 ms doubling to 5 s, with jitter.
const SUBMIT_BACKOFF: BackoffConfig = BackoffConfig {
    base: Duration::from_millis(250),
    max: Duration::from_secs(5),
};

/// The `Idempotency-Key` to send: the one given (validated), else a random one for this
/// invocation.
pub fn idempotency_key(given: Option<&str>) -> Result<String, AgentError> {
    match given {
        Some(k) => {
            idempotency::validate_key(k)
                .map_err(|why| AgentError::Usage(format!("--idempotency-key {why}")))?;
            Ok(k.to_string())
        }
        None => Ok(idempotency::random_key()),
    }
}

/// The `--callback-url` to send, checked for what the broker would refuse anyway (it
/// checks the allow-list): an http(s) URL without spaces or credentials.
pub fn callback_url(args: &ConnectArgs) -> Result<Option<String>, AgentError> {
    let Some(raw) = args.callback_url.as_deref().map(str::trim) else {
        return Ok(None);
    };
    let bad = |why: &str| AgentError::Usage(format!("--callback-url {}: {why}", visible(raw)));
    if raw.is_empty() {
        return Ok(None);
    }
    let url = reqwest::Url::parse(raw).map_err(|source| AgentError::CallbackUrl {
        url: visible(raw),
        source,
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be an http(s) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    Ok(Some(raw.to_string()))
}

/// Submits the request with `key` as its `Idempotency-Key` and says what the broker made
/// of it. A submission whose answer was lost (connection refused or dropped, timeout, a
/// 5xx) is sent again with the same key, with backoff, for up to `retry_for`:
/// the broker answers a repeat with the action the first one made, so a retry never
/// creates a second action. A refusal (4xx) is final. `callback` is the requester's
/// callback URL (see [`callback_url`]), sent with every attempt.
pub async fn submit(
    client: &AgentClient,
    req: &ActionRequest,
    key: &str,
    callback: Option<&str>,
    retry_for: Duration,
) -> Result<ActionCreated, AgentError> {
    let until = Instant::now() + retry_for;
    let mut backoff = Backoff::new(SUBMIT_BACKOFF);
    let created = loop {
        match client.create_keyed(req, key, callback).await {
            Ok(c) => break c,
            Err(e) if e.should_resubmit() && Instant::now() < until => {
                let (attempt, delay) = backoff.failed(random_jitter());
                let delay = delay.min(until.saturating_duration_since(Instant::now()));
                say(&format!(
                    "submitting failed (attempt {attempt}), retrying in {:.1}s with the same \
                     idempotency key: {e}",
                    delay.as_secs_f64()
                ));
                tokio::time::sleep(delay).await;
            }
            Err(e) => return Err(refused(e)),
        }
    };
    if backoff.attempt() > 0 {
        say(&format!("submitted after {} retries", backoff.attempt()));
    }
    let p = &created.policy;
    say(&format!(
        "submitted {}: {} risk, needs {} approval{}, expires at {}",
        created.id,
        created.risk.level,
        p.approvals_required,
        if p.approvals_required == 1 { "" } else { "s" },
        created.expires_at
    ));
    Ok(created)
}

/// A submission the broker refused, with a hint for the refusals a person can fix.
fn refused(e: ClientError) -> AgentError {
    match e {
        ClientError::Api { error, .. }
            if error.fields.iter().any(|f| f.field == "callback_url") =>
        {
            let why = error
                .fields
                .iter()
                .find(|f| f.field == "callback_url")
                .map(|f| f.message.clone())
                .unwrap_or_default();
            AgentError::Usage(format!(
                "the broker refused --callback-url: {}; nothing was submitted (ask the \
                 broker's operator which URL prefixes [callbacks] allow)",
                visible(&why)
            ))
        }
        ClientError::Api { error, .. } if error.code == ErrorCode::Forbidden => {
            AgentError::Usage(format!(
                "the broker refused the request: {} (is --requester-id / SIGNOFF_AGENT_ID \
                 the agent token's subject?)",
                visible(&error.message)
            ))
        }
        ClientError::Api { error, .. } if error.code == ErrorCode::IdempotencyConflict => {
            AgentError::Usage(format!(
                "the broker refused the request: {} (--idempotency-key must be new for each \
                 different request)",
                visible(&error.message)
            ))
        }
        other => other.into(),
    }
}

/// How waiting ended, from the caller's point of view.
#[derive(Debug)]
pub enum Waited {
    /// The action reached a final status on its own.
    Final(ActionView),
    /// `--timeout` ended first; the action is still pending.
    TimedOut(ActionView),
    /// A signal arrived; the request was withdrawn (or, if it was decided in the meantime,
    /// its final state is returned).
    Interrupted(Interrupt, Result<ActionView, AgentError>),
    /// The outcome is unknown.
    Failed(AgentError),
}

/// Waits for the outcome of `created`, withdrawing it on SIGINT or SIGTERM.
pub async fn wait_or_withdraw(
    client: &AgentClient,
    created: &ActionCreated,
    timeout: Option<Duration>,
    interrupts: &mut Interrupts,
) -> Waited {
    let until = deadline(
        Instant::now(),
        timeout,
        expires_in(Timestamp::now(), created.expires_at),
    );
    let mut on_event = |e: &WaitEvent| match e {
        WaitEvent::Changed(v) => say(&describe(&v.action, Timestamp::now())),
        WaitEvent::Retrying {
            error,
            attempt,
            delay,
        } => say(&format!(
            "broker unreachable (attempt {attempt}), retrying in {:.1}s: {error}",
            delay.as_secs_f64()
        )),
        WaitEvent::Reconnected => say("broker reachable again"),
    };
    let end = tokio::select! {
        end = wait_for_outcome(client, created.id, until, &mut on_event) => end,
        sig = interrupts.recv() => {
            say(&format!("{} received: withdrawing {}", sig.name(), created.id));
            return Waited::Interrupted(sig, withdraw(client, created).await);
        }
    };
    match end {
        WaitEnd::Final(v) => Waited::Final(v),
        WaitEnd::TimedOut(v) => Waited::TimedOut(v),
        WaitEnd::Failed { error, .. } => Waited::Failed(refused_while_waiting(error, created)),
    }
}

/// A token refused after the broker accepted the request with it means the broker forgot
/// the token (restarted with new ones): say so, and that the action stays pending.
pub fn refused_while_waiting(error: ClientError, created: &ActionCreated) -> AgentError {
    match &error {
        ClientError::Api {
            status: 401,
            error: body,
        } => AgentError::TokenForgotten {
            message: body.message.clone(),
            id: created.id,
            expires_at: created.expires_at,
        },
        _ => error.into(),
    }
}

/// Withdraws the request; when it is no longer pending (decided meanwhile), returns its
/// final state instead.
pub async fn withdraw(
    client: &AgentClient,
    created: &ActionCreated,
) -> Result<ActionView, AgentError> {
    match client.withdraw(created.id).await {
        Ok(v) => Ok(v),
        Err(e) if e.code() == Some(ErrorCode::Conflict) => Ok(client.get(created.id, 0).await?),
        Err(e) => Err(e.into()),
    }
}

/// The exit code and message after an interrupt.
pub fn after_interrupt(sig: Interrupt, result: Result<ActionView, AgentError>) -> u8 {
    use super::outcome::{EXIT_CLOSED, EXIT_ERROR, exit_code_for};
    match result {
        Ok(v) if v.action.status == Status::Withdrawn => {
            say(&format!(
                "withdrawn {} ({}); nothing ran",
                v.action.id,
                sig.name()
            ));
            EXIT_CLOSED
        }
        Ok(v) if v.action.status == Status::Approved => {
            say(&format!(
                "interrupted ({}) after {} was approved; nothing ran",
                sig.name(),
                v.action.id
            ));
            EXIT_CLOSED
        }
        Ok(v) => {
            say(&describe(&v.action, Timestamp::now()));
            exit_code_for(v.action.status)
        }
        Err(e) => {
            say(&format!(
                "interrupted ({}), and withdrawing failed: {}",
                sig.name(),
                crate::report::one_line(&e)
            ));
            EXIT_ERROR
        }
    }
}
