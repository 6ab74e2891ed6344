//! The MCP server: `tools/list`, `tools/call`, and the tasks extension's `tasks/*`.
//!
//! Each tool call submits, waits or runs through the agent side's own code (the same
//! request builder, broker client, wait loop and digest checks as `signoff request` and
//! `signoff gate`); this file only maps calls to it and outcomes back to MCP results.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams, ContentBlock,
    CreateTaskResult, GetTaskParams, GetTaskResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::task_manager::{TaskExit, TaskManager, TaskOptions};
use rmcp::{ErrorData as McpError, ServerHandler};

use super::args::RequesterArgs;
use super::build::{ClientFacts, approval_request};
use super::outcome::{self, Outcome, OutcomeStatus};
use super::params::{self, ApprovalStatus, RequestApproval, RunApproved, WaitForDecision};
use super::registry::{Registry, withdraw_quietly};
use super::run::{RunOnce, RunOutcome, run_approved};
use super::tools;
use crate::agent::build::EnvLookup;
use crate::agent::client::AgentClient;
use crate::agent::outcome::describe;
use crate::agent::session::submit;
use crate::agent::wait::{WaitEnd, WaitEvent, deadline, expires_in, wait_for_outcome};
use crate::protocol::api::ActionCreated;
use crate::protocol::{ActionId, Timestamp};

/// The longest one call waits for a decision: under the 60 s after which common MCP
/// clients give up on a call.
pub const MAX_CALL_WAIT: Duration = Duration::from_secs(50);
/// How often a waiting call sends a progress notification.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

const INSTRUCTIONS: &str = "\
Before any privileged or irreversible action, call request_approval and describe exactly \
what will happen. Proceed only when the answer says approved: true. Pending means wait \
(call wait_for_decision); denied, expired, withdrawn or unknown mean do not proceed. Run \
approved commands with run_approved. Nothing here can approve or deny: only people can.";

/// One server: one broker, one agent identity, shared by every client it serves.
#[derive(Clone)]
pub struct Approvals {
    inner: Arc<Inner>,
}

struct Inner {
    client: AgentClient,
    who: RequesterArgs,
    /// How long a submission is resent (same idempotency key) through failures.
    submit_retry: Duration,
    /// Where the broker posts each outcome (`--callback-url`), set by whoever runs the
    /// server, never by the agent.
    callback: Option<String>,
    registry: Registry,
    once: RunOnce,
    tasks: TaskManager,
}

impl Approvals {
    /// A server for `who` on `client`; with `callback`, every request asks the broker to
    /// post its outcome there.
    pub fn new(
        client: AgentClient,
        who: RequesterArgs,
        submit_retry: Duration,
        callback: Option<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                who,
                submit_retry,
                callback,
                registry: Registry::default(),
                once: RunOnce::default(),
                tasks: TaskManager::new(),
            }),
        }
    }

    pub fn client(&self) -> &AgentClient {
        &self.inner.client
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    async fn request_approval(
        &self,
        args: Option<rmcp::model::JsonObject>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResponse {
        let p: RequestApproval = match params::parse(tools::REQUEST_APPROVAL, args) {
            Ok(p) => p,
            Err(e) => return complete(outcome_result(&outcome::unknown(None, &e))),
        };
        let client_facts = ctx
            .client_info()
            .map(|i| ClientFacts {
                name: Some(i.name),
                version: Some(i.version),
            })
            .unwrap_or_default();
        let env: EnvLookup<'_> = &|k| std::env::var(k).ok().filter(|v| !v.is_empty());
        let req = match approval_request(&p, &self.inner.who, &client_facts, env) {
            Ok(r) => r,
            Err(e) => return complete(outcome_result(&outcome::unknown(None, &e.to_string()))),
        };
        let created = match submit(
            &self.inner.client,
            &req,
            &crate::protocol::idempotency::random_key(),
            self.inner.callback.as_deref(),
            self.inner.submit_retry,
        )
        .await
        {
            Ok(c) => c,
            Err(e) => return complete(outcome_result(&outcome::unknown(None, &e.to_string()))),
        };
        self.inner.registry.remember(created.id, req);
        if ctx
            .client_capabilities()
            .is_some_and(|c| c.supports_tasks())
        {
            return CallToolResponse::Task(CreateTaskResult::new(self.spawn_task(&created)));
        }
        let id = created.id;
        let _waiting = self.inner.registry.waiting(id);
        match self.wait_here(id, call_wait(p.wait_seconds), &ctx).await {
            Some(o) => complete(outcome_result(&o)),
            None => {
                withdraw_quietly(&self.inner.client, id).await;
                complete(outcome_result(&outcome::cancelled(id)))
            }
        }
    }

    /// Runs the wait for `created` as a task: until the action is final; `tasks/cancel`
    /// withdraws it.
    fn spawn_task(&self, created: &ActionCreated) -> rmcp::model::Task {
        let id = created.id;
        let left = expires_in(Timestamp::now(), created.expires_at);
        let ttl_ms =
            u64::try_from((left + Duration::from_secs(300)).as_millis()).unwrap_or(u64::MAX);
        let options = TaskOptions::new()
            .with_ttl_ms(ttl_ms)
            .with_poll_interval_ms(2_000)
            .with_status_message(format!("waiting for a decision on {id}"));
        let inner = self.inner.clone();
        let waiting = self.inner.registry.waiting(id);
        self.inner.tasks.spawn(options, move |tctx| {
            Box::pin(async move {
                let _waiting = waiting;
                let until = deadline(Instant::now(), None, left);
                let status = tctx.clone();
                let mut on_event = move |e: &WaitEvent| {
                    if let WaitEvent::Changed(v) = e {
                        status.set_status_message(describe(&v.action, Timestamp::now()));
                    }
                };
                tokio::select! {
                    end = wait_for_outcome(&inner.client, id, until, &mut on_event) => {
                        let o = outcome_of(end, id);
                        if o.status == OutcomeStatus::Unknown {
                            Err(TaskExit::Error(McpError::internal_error(
                                o.text(),
                                serde_json::to_value(&o).ok(),
                            )))
                        } else {
                            Ok(outcome_result(&o))
                        }
                    }
                    _ = tctx.cancelled() => {
                        withdraw_quietly(&inner.client, id).await;
                        Err(TaskExit::Cancelled)
                    }
                }
            })
        })
    }

    /// Waits up to `wait` for `id` in this call, with progress notifications; `None`
    /// when the call was cancelled first.
    async fn wait_here(
        &self,
        id: ActionId,
        wait: Duration,
        ctx: &RequestContext<RoleServer>,
    ) -> Option<Outcome> {
        let started = Instant::now();
        let mut on_event = |_: &WaitEvent| {};
        let waiting = wait_for_outcome(&self.inner.client, id, started + wait, &mut on_event);
        tokio::pin!(waiting);
        let token = ctx.meta.get_progress_token();
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
        loop {
            tokio::select! {
                end = &mut waiting => return Some(outcome_of(end, id)),
                _ = ctx.ct.cancelled() => return None,
                _ = tick.tick() => {
                    if let Some(token) = &token {
                        let secs = started.elapsed().as_secs();
                        let note = ProgressNotificationParam::new(token.clone(), secs as f64)
                            .with_total(wait.as_secs_f64())
                            .with_message(format!(
                                "waiting for a decision on {id}: {secs}s of {}s",
                                wait.as_secs()
                            ));
                        // A client that stopped listening for progress still gets the answer.
                        let _ = ctx.peer.notify_progress(note).await;
                    }
                }
            }
        }
    }

    async fn wait_for_decision(
        &self,
        args: Option<rmcp::model::JsonObject>,
        ctx: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let p: WaitForDecision = match params::parse(tools::WAIT_FOR_DECISION, args) {
            Ok(p) => p,
            Err(e) => return outcome_result(&outcome::unknown(None, &e)),
        };
        let id = match parse_id(&p.id) {
            Ok(id) => id,
            Err(e) => return outcome_result(&outcome::unknown(None, &e)),
        };
        match self.wait_here(id, call_wait(p.wait_seconds), &ctx).await {
            Some(o) => outcome_result(&o),
            None => outcome_result(&outcome::unknown(
                Some(id),
                "the wait was cancelled; the request is still pending",
            )),
        }
    }

    async fn approval_status(&self, args: Option<rmcp::model::JsonObject>) -> CallToolResult {
        let p: ApprovalStatus = match params::parse(tools::APPROVAL_STATUS, args) {
            Ok(p) => p,
            Err(e) => return outcome_result(&outcome::unknown(None, &e)),
        };
        let id = match parse_id(&p.id) {
            Ok(id) => id,
            Err(e) => return outcome_result(&outcome::unknown(None, &e)),
        };
        match self.inner.client.get(id, 0).await {
            Ok(v) => outcome_result(&outcome::from_view(&v, Timestamp::now())),
            Err(e) => outcome_result(&outcome::unknown(Some(id), &e.to_string())),
        }
    }

    async fn run_approved(&self, args: Option<rmcp::model::JsonObject>) -> CallToolResult {
        let p: RunApproved = match params::parse(tools::RUN_APPROVED, args) {
            Ok(p) => p,
            Err(e) => return run_result(&refusal("", e)),
        };
        let id = match parse_id(&p.id) {
            Ok(id) => id,
            Err(e) => return run_result(&refusal(&p.id, e)),
        };
        let submitted = self.inner.registry.submitted(id);
        let o = run_approved(
            &self.inner.client,
            &self.inner.once,
            id,
            submitted.as_ref(),
            p.argv.as_deref(),
        )
        .await;
        run_result(&o)
    }
}

impl ServerHandler for Approvals {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tasks()
                .build(),
        )
        .with_server_info(
            Implementation::new("signoff", env!("CARGO_PKG_VERSION"))
                .with_title("signoff approvals"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::all()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = request.arguments;
        Ok(match request.name.as_ref() {
            tools::REQUEST_APPROVAL => self.request_approval(args, context).await,
            tools::WAIT_FOR_DECISION => complete(self.wait_for_decision(args, context).await),
            tools::APPROVAL_STATUS => complete(self.approval_status(args).await),
            tools::RUN_APPROVED => complete(self.run_approved(args).await),
            other => {
                return Err(McpError::invalid_params(
                    format!(
                        "no tool named {other:?}; this server offers request_approval, wait_for_decision, approval_status and run_approved"
                    ),
                    None,
                ));
            }
        })
    }

    async fn get_task(
        &self,
        request: GetTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, McpError> {
        Ok(GetTaskResult::new(
            self.inner.tasks.get_task(&request.task_id)?,
        ))
    }

    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.inner.tasks.cancel_task(&request.task_id)
    }
}

fn complete(r: CallToolResult) -> CallToolResponse {
    CallToolResponse::Complete(r)
}

/// The wait of one call: what the agent asked for, at most [`MAX_CALL_WAIT`].
fn call_wait(seconds: Option<u64>) -> Duration {
    seconds
        .map(Duration::from_secs)
        .unwrap_or(MAX_CALL_WAIT)
        .min(MAX_CALL_WAIT)
}

fn parse_id(text: &str) -> Result<ActionId, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an action id (26 characters, from request_approval)"))
}

fn outcome_of(end: WaitEnd, id: ActionId) -> Outcome {
    match end {
        WaitEnd::Final(v) | WaitEnd::TimedOut(v) => outcome::from_view(&v, Timestamp::now()),
        WaitEnd::Failed { error, .. } => outcome::unknown(Some(id), &error.to_string()),
    }
}

/// A tool result: the verdict as text first, then the same as JSON, and structured.
fn outcome_result(o: &Outcome) -> CallToolResult {
    let value = serde_json::to_value(o).unwrap_or_default();
    let mut r = CallToolResult::structured(value.clone());
    r.content = vec![
        ContentBlock::text(o.text()),
        ContentBlock::text(value.to_string()),
    ];
    r.is_error = Some(o.status == OutcomeStatus::Unknown);
    r
}

fn refusal(id: &str, why: String) -> RunOutcome {
    RunOutcome {
        id: id.to_string(),
        ran: false,
        exit_code: None,
        message: format!("nothing ran: {why}"),
        stdout: String::new(),
        stderr: String::new(),
        next: "Nothing ran. Fix the call, or request approval for what you need to run.".into(),
    }
}

fn run_result(o: &RunOutcome) -> CallToolResult {
    let value = serde_json::to_value(o).unwrap_or_default();
    let mut r = CallToolResult::structured(value.clone());
    r.content = vec![
        ContentBlock::text(o.text()),
        ContentBlock::text(value.to_string()),
    ];
    r.is_error = Some(!o.ran);
    r
}
