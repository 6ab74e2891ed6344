//! The payload of each kind of audit entry, built in one place: the broker's writer
//! appends them and `signoff dev seed` generates them, so a seeded store holds exactly
//! what a broker writes, and `signoff audit verify` (`store::audit_actions`) reads one
//! format. A field changed here changes both.

use serde_json::{Value, json};

use crate::protocol::api::KeyInfo;
use crate::protocol::person::PersonKey;
use crate::protocol::{Action, Digest, Execution, SignedDecision, Status};

/// `action_created`: the action as submitted (pending, no votes) and its digest.
pub fn action_created(action: &Action, digest: &Digest) -> Value {
    json!({ "action": action, "digest": digest })
}

/// `vote`: the signed decision, the status it leaves the action in, and the person who
/// cast it (one person, one vote, however they signed in).
pub fn vote(signed: &SignedDecision, status_after: Status, person: &PersonKey) -> Value {
    json!({
        "decision": signed,
        "status_after": status_after,
        "person": person,
    })
}

/// `outcome` (and `withdrawal`): the final status, who decided it, why, and how many
/// approvals it had.
pub fn outcome(status: Status, decided_by: &[String], reason: &str, approvals: u32) -> Value {
    json!({
        "status": status,
        "decided_by": decided_by,
        "reason": reason,
        "approvals": approvals,
    })
}

/// `execution`: the result an agent reported, and the digest of the action with it.
pub fn execution(execution: &Execution, digest: &Digest) -> Value {
    json!({ "execution": execution, "digest": digest })
}

/// `key_registered`: the device key and whom it signs for.
pub fn key_registered(info: &KeyInfo) -> Value {
    json!({
        "key_id": info.key_id,
        "subject": info.subject,
        "public_key": info.public_key,
        "label": info.label,
    })
}

/// `key_revoked`: which key, whose.
pub fn key_revoked(info: &KeyInfo) -> Value {
    json!({ "key_id": info.key_id, "subject": info.subject })
}
