//! The worked example of `docs/protocol.md`, built from code so the document can be
//! regenerated (`cargo test --test protocol_doc -- --ignored --nocapture print_examples`)
//! and checked byte for byte.

use ed25519_dalek::SigningKey;
use signoff::protocol::messages::Identity;
use signoff::protocol::{
    Action, ActionId, ActionRequest, ClientMsg, Command, ContextEntry, Decision, DecisionId,
    ErrorCode, KeyId, Policy, Requester, RequesterKind, Risk, RiskLevel, RiskTag, ServerMsg,
    SignedDecision, Status, Target, Timestamp, Verdict,
};

/// The documented test key: the secret key of RFC 8032, section 7.1, TEST 1.
/// Never use it for anything but examples: it is public.
pub const TEST_SECRET_HEX: &str =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

pub fn test_key() -> SigningKey {
    let bytes: [u8; 32] = hex::decode(TEST_SECRET_HEX)
        .unwrap_or_default()
        .try_into()
        .unwrap_or([0; 32]);
    SigningKey::from_bytes(&bytes)
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

pub fn request() -> ActionRequest {
    ActionRequest {
        kind: "k8s.delete".into(),
        summary: "Delete deployment payments-v1".into(),
        requester: Requester {
            kind: RequesterKind::Agent,
            id: "deploy-bot".into(),
            display_name: "Deploy bot".into(),
            model: Some("claude-opus-4".into()),
            on_behalf_of: Some("alice@example.com".into()),
        },
        target: Target {
            system: "k8s".into(),
            resource: "namespace/payments".into(),
            environment: "production".into(),
        },
        justification: "v1 replaced by v2 (CHG-5521)".into(),
        context: vec![ContextEntry {
            key: "ticket".into(),
            value: "CHG-5521".into(),
        }],
        command: Some(Command::Argv {
            argv: [
                "kubectl",
                "delete",
                "deployment",
                "payments-v1",
                "-n",
                "payments",
            ]
            .map(String::from)
            .to_vec(),
        }),
        change: None,
        ttl_secs: Some(900),
    }
}

pub fn action() -> Action {
    let created = ts("2026-11-23T14:00:00.000Z");
    let mut a = Action::from_request(
        request(),
        Risk {
            level: RiskLevel::High,
            score: 65,
            tags: vec![
                RiskTag {
                    id: "production".into(),
                    label: "prod".into(),
                    reason: "environment is \"production\"".into(),
                },
                RiskTag {
                    id: "destructive".into(),
                    label: "destructive".into(),
                    reason: "kind contains \"delete\"; command contains \"kubectl delete\"".into(),
                },
            ],
        },
        Policy {
            approvals_required: 2,
            approver_groups: vec!["sre".into()],
            rule: Some("prod-k8s-delete".into()),
            confirm: None,
            distinct_groups: false,
        },
        created,
        created.plus_secs(900),
    );
    a.id = ActionId(ulid::Ulid::from_parts(
        created.unix_millis() as u64,
        0xD1E7E,
    ));
    a
}

pub fn decision() -> SignedDecision {
    let key = test_key();
    let a = action();
    let issued = ts("2026-11-23T14:03:12.345Z");
    Decision {
        decision_id: DecisionId(ulid::Ulid::from_parts(issued.unix_millis() as u64, 0xB0B)),
        action_id: a.id,
        action_digest: a.digest(),
        verdict: Verdict::Approve,
        reason: "v2 is serving all traffic".into(),
        approver: "bob@example.com".into(),
        key_id: KeyId::of(&key.verifying_key()),
        issued_at: issued,
    }
    .sign(&key)
}

pub fn identity() -> Identity {
    Identity {
        subject: "bob@example.com".into(),
        email: Some("bob@example.com".into()),
        name: Some("Bob Ng".into()),
        groups: vec!["sre".into()],
    }
}

/// A sample of every message, for the generator.
pub fn messages() -> (Vec<ClientMsg>, Vec<ServerMsg>) {
    let a = action();
    let client = vec![
        ClientMsg::hello("signoff/0.1.0", Some(41)),
        ClientMsg::Decide {
            decision: decision(),
        },
    ];
    let server = vec![
        ServerMsg::Welcome {
            protocol: signoff::protocol::PROTOCOL_VERSION,
            identity: identity(),
            server_time: ts("2026-11-23T14:00:01.000Z"),
            head_seq: 42,
        },
        ServerMsg::Pending {
            seq: 42,
            row: signoff::protocol::ActionRow::compute(&a),
        },
        ServerMsg::Ack {
            decision_id: decision().decision.decision_id,
            action_id: a.id,
            status: Status::Pending,
            audit_hash: a.digest(),
            checkpoint: None,
        },
        ServerMsg::Checkpoint {
            checkpoint: signoff::protocol::Checkpoint::sign(
                43,
                "6a1f0e3c2b4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f",
                ts("2026-11-23T14:00:02.000Z"),
                &test_key(),
            ),
        },
        ServerMsg::Rejected {
            decision_id: decision().decision.decision_id,
            code: ErrorCode::DigestMismatch,
            message: "the action changed since you saw it".into(),
        },
    ];
    (client, server)
}
