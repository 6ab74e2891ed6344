//! The four tools `signoff mcp` offers, as `tools/list` shows them.
//!
//! There is deliberately no tool that approves or denies: a decision is a person's,
//! signed with their device key in the console. An agent that could call "approve" would
//! approve itself.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use rmcp::schemars::JsonSchema;

use super::outcome::Outcome;
use super::params::{ApprovalStatus, RequestApproval, RunApproved, WaitForDecision};
use super::run::RunOutcome;

pub const REQUEST_APPROVAL: &str = "request_approval";
pub const WAIT_FOR_DECISION: &str = "wait_for_decision";
pub const APPROVAL_STATUS: &str = "approval_status";
pub const RUN_APPROVED: &str = "run_approved";

/// Every tool, in the order agents see them.
pub fn all() -> Vec<Tool> {
    vec![
        tool::<RequestApproval, Outcome>(
            REQUEST_APPROVAL,
            "Ask a human approver for permission before a privileged action (a data export, \
             a deletion, a deploy, a command). Describe exactly what will happen; the approver \
             sees every field. Waits up to 50 s for the decision and answers approved, denied \
             (with the reason), expired, or pending. Do not proceed unless `approved` is true. \
             When the answer is pending, call wait_for_decision with the returned id.",
            ToolAnnotations::with_title("Request approval")
                .read_only(false)
                .destructive(false)
                .idempotent(false)
                .open_world(true),
        ),
        tool::<WaitForDecision, Outcome>(
            WAIT_FOR_DECISION,
            "Wait up to 50 s more for the decision on an approval request, with progress \
             updates. Answers approved, denied, expired, withdrawn, or pending; the `next` \
             field says what to do.",
            ToolAnnotations::with_title("Wait for the decision")
                .read_only(true)
                .open_world(true),
        ),
        tool::<ApprovalStatus, Outcome>(
            APPROVAL_STATUS,
            "Where an approval request stands now, without waiting.",
            ToolAnnotations::with_title("Approval status")
                .read_only(true)
                .idempotent(true)
                .open_world(true),
        ),
        tool::<RunApproved, RunOutcome>(
            RUN_APPROVED,
            "Run the command of an approved request exactly as approved (the argv the \
             approver signed, no shell), once, and report its exit code to the approval \
             service. Refuses anything not approved, already run, or different from what was \
             approved. Returns the exit code and the command's output.",
            ToolAnnotations::with_title("Run the approved command")
                .read_only(false)
                .destructive(true)
                .idempotent(false)
                .open_world(true),
        ),
    ]
}

fn tool<P: JsonSchema + 'static, O: JsonSchema + 'static>(
    name: &'static str,
    description: &'static str,
    annotations: ToolAnnotations,
) -> Tool {
    Tool::new(name, description, Arc::new(JsonObject::new()))
        .with_input_schema::<P>()
        .with_output_schema::<O>()
        .annotate(annotations)
}
