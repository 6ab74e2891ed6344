use ed25519_dalek::SigningKey;
use serde_json::json;

use super::*;
use crate::protocol::decision::encode_public_key;
use crate::protocol::{Decision, DecisionId, Verdict};

fn entries() -> Vec<AuditEntry> {
    let k = SigningKey::from_bytes(&[3; 32]);
    let at = Timestamp::from_unix_millis(1_795_000_000_000);
    let mut action = crate::protocol::action::fixtures::action();
    action.policy.approvals_required = 1;
    let action_id = action.id;
    let signed = Decision {
        decision_id: DecisionId::new(),
        action_id,
        action_digest: action.digest(),
        verdict: Verdict::Approve,
        reason: "ok".into(),
        approver: "bob".into(),
        key_id: KeyId::of(&k.verifying_key()),
        issued_at: at,
    }
    .sign(&k);
    vec![
        AuditEntry {
            seq: 1,
            at,
            kind: AuditKind::KeyRegistered,
            action_id: None,
            actor: "bob".into(),
            payload: json!({
                "key_id": KeyId::of(&k.verifying_key()),
                "subject": "bob",
                "public_key": encode_public_key(&k.verifying_key()),
            }),
        },
        AuditEntry {
            seq: 2,
            at,
            kind: AuditKind::ActionCreated,
            action_id: Some(action_id),
            actor: action.requester.id.clone(),
            payload: json!({ "action": &action, "digest": action.digest() }),
        },
        AuditEntry {
            seq: 3,
            at,
            kind: AuditKind::Vote,
            action_id: Some(action_id),
            actor: "bob".into(),
            payload: json!({ "decision": signed, "status_after": "approved" }),
        },
        AuditEntry {
            seq: 4,
            at,
            kind: AuditKind::Outcome,
            action_id: Some(action_id),
            actor: "bob".into(),
            payload: json!({
                "status": "approved", "decided_by": ["bob"], "reason": "ok", "approvals": 1,
            }),
        },
    ]
}

/// Seals entries into a chain, as the broker does (or as an operator recomputing it would).
fn reseal(entries: &[AuditEntry]) -> Vec<StoredEntry> {
    let mut prev = GENESIS.to_string();
    entries
        .iter()
        .map(|e| {
            let s = seal(e, &prev);
            prev = s.hash.clone();
            s
        })
        .collect()
}

fn chain() -> Vec<StoredEntry> {
    reseal(&entries())
}

fn verify(entries: &[StoredEntry]) -> Result<(), ChainError> {
    let mut v = Verifier::new();
    entries.iter().try_for_each(|e| v.push(e))
}

#[test]
fn a_sealed_chain_verifies() {
    let c = chain();
    assert_eq!(c[0].prev_hash, GENESIS);
    assert_eq!(c[1].prev_hash, c[0].hash);
    assert_eq!(verify(&c), Ok(()));
}

#[test]
fn hash_input_is_prev_hex_then_canonical_bytes() {
    let c = chain();
    let mut input = c[1].prev_hash.clone().into_bytes();
    input.extend_from_slice(c[1].canonical.as_bytes());
    assert_eq!(c[1].hash, hex::encode(Sha256::digest(&input)));
}

#[test]
fn edited_content_names_the_entry() {
    let mut c = chain();
    c[0].canonical = c[0].canonical.replace("bob", "eve");
    assert!(c[0].canonical.contains("eve"));
    let e = verify(&c).unwrap_err();
    assert_eq!(e.seq, 1);
    assert!(e.what.contains("hash"), "{e}");
}

#[test]
fn resealed_edit_breaks_the_vote_signature_or_the_link() {
    let mut c = chain();
    let mut entry: AuditEntry = serde_json::from_str(&c[2].canonical).unwrap();
    entry.payload["decision"]["decision"]["reason"] = json!("forged");
    c[2] = seal(&entry, &c[1].hash);
    let e = verify(&c).unwrap_err();
    assert_eq!(e.seq, 3);
    assert!(e.what.contains("signature"), "{e}");
}

#[test]
fn summary_rewritten_with_a_recomputed_chain_is_detected() {
    let mut es = entries();
    es[1].payload["action"]["summary"] = json!("Something harmless");
    let e = verify(&reseal(&es)).unwrap_err();
    assert_eq!(e.seq, 2);
    assert!(e.what.contains("content was changed after creation"), "{e}");
    // Rewriting the recorded digest too moves the break to the vote, which signed the old one.
    let mut es = entries();
    es[1].payload["action"]["summary"] = json!("Something harmless");
    let mut a: crate::protocol::Action =
        serde_json::from_value(es[1].payload["action"].clone()).unwrap();
    a.summary = "Something harmless".into();
    es[1].payload["digest"] = json!(a.digest());
    let e = verify(&reseal(&es)).unwrap_err();
    assert_eq!(e.seq, 3);
    assert!(e.what.contains("was created with digest"), "{e}");
}

#[test]
fn outcome_flipped_with_a_recomputed_chain_is_detected() {
    let mut es = entries();
    es[3].payload["status"] = json!("denied");
    let e = verify(&reseal(&es)).unwrap_err();
    assert_eq!(e.seq, 4);
    assert!(e.what.contains("make it approved"), "{e}");
    // An expiry recorded although the approval reached quorum: refused the same way.
    let mut es = entries();
    es[3].payload["status"] = json!("expired");
    es[3].actor = "system".into();
    assert_eq!(verify(&reseal(&es)).unwrap_err().seq, 4);
    // A vote's recorded status must follow from the votes too.
    let mut es = entries();
    es[2].payload["status_after"] = json!("pending");
    assert!(
        verify(&reseal(&es))
            .unwrap_err()
            .what
            .contains("votes so far")
    );
}

#[test]
fn an_outcome_without_its_votes_is_detected() {
    // Dropping the vote and resealing: an approval nobody signed.
    let mut es = entries();
    es.remove(2);
    es[2].seq = 3;
    let e = verify(&reseal(&es)).unwrap_err();
    assert_eq!(e.seq, 3);
    assert!(e.what.contains("undecided"), "{e}");
}

#[test]
fn a_second_vote_by_the_same_person_is_detected() {
    let mut es = entries();
    let mut a: crate::protocol::Action =
        serde_json::from_value(es[1].payload["action"].clone()).unwrap();
    a.policy.approvals_required = 2;
    es[1].payload["digest"] = json!(a.digest());
    es[1].payload["action"] = json!(a);
    let k = SigningKey::from_bytes(&[3; 32]);
    let at = es[0].at;
    let vote = |reason: &str| {
        Decision {
            decision_id: DecisionId::new(),
            action_id: a.id,
            action_digest: a.digest(),
            verdict: Verdict::Approve,
            reason: reason.into(),
            approver: "bob".into(),
            key_id: KeyId::of(&k.verifying_key()),
            issued_at: at,
        }
        .sign(&k)
    };
    es[2].payload = json!({ "decision": vote("one"), "status_after": "pending" });
    let mut again = es[2].clone();
    again.seq = 4;
    again.payload = json!({ "decision": vote("two"), "status_after": "approved" });
    es.truncate(3);
    es.push(again);
    let e = verify(&reseal(&es)).unwrap_err();
    assert_eq!(e.seq, 4);
    assert!(e.what.contains("one person, one vote"), "{e}");
}

#[test]
fn copied_columns_must_match_the_hashed_entry() {
    let c = chain();
    let cols = |c: &StoredEntry| {
        let e: AuditEntry = serde_json::from_str(&c.canonical).unwrap();
        AuditColumns {
            at_millis: e.at.unix_millis(),
            kind: e.kind.as_str().into(),
            action_id: e.action_id.map(|i| i.to_string()),
        }
    };
    let with = |edit: &dyn Fn(&mut AuditColumns)| {
        let mut c = chain();
        for e in &mut c {
            e.columns = Some(cols(e));
        }
        edit(c[3].columns.as_mut().unwrap());
        verify(&c)
    };
    assert_eq!(with(&|_| {}), Ok(()));
    assert!(
        with(&|c| c.at_millis += 1)
            .unwrap_err()
            .what
            .contains("column at")
    );
    assert!(
        with(&|c| c.kind = "vote".into())
            .unwrap_err()
            .what
            .contains("column type")
    );
    assert!(
        with(&|c| c.action_id = Some(ActionId::new().to_string()))
            .unwrap_err()
            .what
            .contains("column action_id")
    );
    drop(c);
}

#[test]
fn gaps_and_broken_links_are_named() {
    let c = chain();
    assert_eq!(verify(&c[1..]).unwrap_err().seq, 2);
    assert_eq!(c.len(), 4);
    let mut c = chain();
    c[1].prev_hash = GENESIS.into();
    assert!(verify(&c).unwrap_err().what.contains("prev_hash"));
}

#[test]
fn entries_are_written_canonically_field_by_field_as_the_generic_path_writes_them() {
    let mut all = entries();
    let at = Timestamp::from_unix_millis(1_795_000_000_123);
    all.push(AuditEntry {
        seq: 9,
        at,
        kind: AuditKind::Execution,
        action_id: Some(ActionId::new()),
        actor: "ağent \u{202e}ŝ \"quoted\" \\ \u{1F600}".into(),
        payload: json!({
            "é": 1, "z": [true, null, {"b": "x", "a": -3}], "\u{1F600}": "astral",
            "\u{FFFD}": "bmp above astral surrogates", "": {}
        }),
    });
    // Past what the direct path writes: a float, and a huge sequence number.
    all.push(AuditEntry {
        seq: 10,
        at,
        kind: AuditKind::Outcome,
        action_id: None,
        actor: "system".into(),
        payload: json!({"ratio": 0.5}),
    });
    all.push(AuditEntry {
        seq: (1 << 53) + 1,
        at,
        kind: AuditKind::Vote,
        action_id: None,
        actor: "system".into(),
        payload: json!({}),
    });
    for e in &all {
        assert_eq!(
            String::from_utf8(canonical_entry(e)).expect("utf-8"),
            String::from_utf8(canonical_json(e)).expect("utf-8"),
            "entry {}",
            e.seq
        );
    }
}
