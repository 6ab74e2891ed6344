use ed25519_dalek::SigningKey;
use serde_json::json;

use super::*;
use crate::protocol::decision::encode_public_key;
use crate::protocol::{Decision, DecisionId, Digest, Verdict};

fn chain() -> Vec<StoredEntry> {
    let k = SigningKey::from_bytes(&[3; 32]);
    let at = Timestamp::from_unix_millis(1_795_000_000_000);
    let action_id = ActionId::new();
    let signed = Decision {
        decision_id: DecisionId::new(),
        action_id,
        action_digest: Digest::of_bytes(b"a"),
        verdict: Verdict::Approve,
        reason: "ok".into(),
        approver: "bob".into(),
        key_id: KeyId::of(&k.verifying_key()),
        issued_at: at,
    }
    .sign(&k);
    let entries = [
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
            kind: AuditKind::Vote,
            action_id: Some(action_id),
            actor: "bob".into(),
            payload: json!({ "decision": signed }),
        },
    ];
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
    let e = verify(&c).unwrap_err();
    assert_eq!(e.seq, 1);
    assert!(e.what.contains("hash"), "{e}");
}

#[test]
fn resealed_edit_breaks_the_vote_signature_or_the_link() {
    let mut c = chain();
    let mut entry: AuditEntry = serde_json::from_str(&c[1].canonical).unwrap();
    entry.payload["decision"]["decision"]["reason"] = json!("forged");
    c[1] = seal(&entry, &c[0].hash);
    let e = verify(&c).unwrap_err();
    assert_eq!(e.seq, 2);
    assert!(e.what.contains("signature"), "{e}");
}

#[test]
fn gaps_and_broken_links_are_named() {
    let c = chain();
    assert_eq!(verify(&c[1..]).unwrap_err().seq, 2);
    let mut c = chain();
    c[1].prev_hash = GENESIS.into();
    assert!(verify(&c).unwrap_err().what.contains("prev_hash"));
}
