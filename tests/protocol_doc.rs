//! Keeps `docs/protocol.md` true.
//!
//! Every ```` ```json ```` block in the document names the type it shows in its info string
//! (```` ```json server_msg ````); this test parses each block as that type through the same
//! decoders the broker and console use, and fails on any block that does not parse, that
//! names no type, or that holds a field the type would drop. It also checks that every
//! message type and every error code is documented, and that the worked digest and
//! signature example verifies byte for byte.

#[path = "protocol_doc/examples.rs"]
mod examples;

use std::collections::BTreeSet;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use signoff::protocol::api::{
    ActionCreated, ActionView, ApiError, KeyInfo, KeyList, KeyRegistration, ResultReport,
};
use signoff::protocol::decision::{Decision, encode_public_key};
use signoff::protocol::{
    Action, ActionRequest, ActionRow, ClientMsg, Digest, ErrorCode, HistoryPage, HistoryQuery,
    KeyId, ServerMsg, SignedDecision, canonical_json, decode_client, decode_server,
};

const DOC: &str = include_str!("../docs/protocol.md");

/// One fenced block: its info string words and its body.
struct Block {
    line: usize,
    lang: String,
    words: Vec<String>,
    body: String,
}

fn blocks(doc: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let mut words = info.split_whitespace().map(String::from);
                    open = Some(Block {
                        line: i + 1,
                        lang: words.next().unwrap_or_default(),
                        words: words.collect(),
                        body: String::new(),
                    });
                }
            }
            Some(mut b) => {
                if trimmed.starts_with("```") {
                    out.push(b);
                } else {
                    b.body.push_str(line);
                    b.body.push('\n');
                    open = Some(b);
                }
            }
        }
    }
    assert!(open.is_none(), "docs/protocol.md ends inside a code block");
    out
}

/// True when every key and value in `doc` is in `typed` (the block re-serialized): a
/// misspelt or unknown field would be silently dropped by serde and show up here.
fn is_subset(doc: &Value, typed: &Value) -> Result<(), String> {
    match (doc, typed) {
        (Value::Object(d), Value::Object(t)) => {
            for (k, v) in d {
                let tv = t
                    .get(k)
                    .ok_or_else(|| format!("field `{k}` is not in the type"))?;
                is_subset(v, tv).map_err(|e| format!("{k}.{e}"))?;
            }
            Ok(())
        }
        (Value::Array(d), Value::Array(t)) if d.len() == t.len() => {
            for (i, (dv, tv)) in d.iter().zip(t).enumerate() {
                is_subset(dv, tv).map_err(|e| format!("[{i}] {e}"))?;
            }
            Ok(())
        }
        _ if doc == typed => Ok(()),
        _ => Err(format!("{doc} is read back as {typed}")),
    }
}

fn typed<T: DeserializeOwned + Serialize>(body: &str) -> Result<Value, String> {
    let t: T = serde_json::from_str(body).map_err(|e| e.to_string())?;
    serde_json::to_value(&t).map_err(|e| e.to_string())
}

/// Parses a block as the type its marker names; returns the value read back.
fn parse_as(marker: &str, body: &str) -> Result<Value, String> {
    let back = match marker {
        "client_msg" => decode_client(body)
            .map_err(|e| e.to_string())
            .and_then(|m| serde_json::to_value(m).map_err(|e| e.to_string())),
        "server_msg" => decode_server(body)
            .map_err(|e| e.to_string())
            .and_then(|m| serde_json::to_value(m).map_err(|e| e.to_string())),
        "action_request" => typed::<ActionRequest>(body),
        "action" => typed::<Action>(body),
        "action_row" => typed::<ActionRow>(body),
        "action_created" => typed::<ActionCreated>(body),
        "action_view" => typed::<ActionView>(body),
        "result_report" => typed::<ResultReport>(body),
        "key_registration" => typed::<KeyRegistration>(body),
        "key_info" => typed::<KeyInfo>(body),
        "key_list" => typed::<KeyList>(body),
        "history_query" => typed::<HistoryQuery>(body),
        "history_page" => typed::<HistoryPage>(body),
        "api_error" => typed::<ApiError>(body),
        "signed_decision" => typed::<SignedDecision>(body),
        "decision" => typed::<Decision>(body),
        other => return Err(format!("unknown marker {other:?}")),
    }?;
    let doc: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    is_subset(&doc, &back)?;
    Ok(back)
}

/// Every marker a JSON block may carry; each must be used at least once.
const MARKERS: &[&str] = &[
    "client_msg",
    "server_msg",
    "action_request",
    "action",
    "action_row",
    "action_created",
    "action_view",
    "result_report",
    "key_registration",
    "key_info",
    "key_list",
    "history_query",
    "history_page",
    "api_error",
    "signed_decision",
];

#[test]
fn every_json_block_parses_as_its_named_type() {
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    let mut count = 0;
    for b in blocks(DOC).iter().filter(|b| b.lang == "json") {
        count += 1;
        let Some(marker) = b.words.first() else {
            failures.push(format!("line {}: ```json block names no type", b.line));
            continue;
        };
        used.insert(marker.clone());
        if let Err(e) = parse_as(marker, &b.body) {
            failures.push(format!("line {}: not a valid {marker}: {e}", b.line));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let missing: Vec<_> = MARKERS.iter().filter(|m| !used.contains(**m)).collect();
    assert!(missing.is_empty(), "no example for {missing:?}");
    assert!(count >= 20, "only {count} JSON examples");
}

/// Every digest shown next to an action is that action's digest, and every row of the
/// worked example's action carries its digest and sizes: an independent client checking
/// the examples must not find a digest that is not the digest of what is shown.
#[test]
fn example_digests_are_the_digests_of_the_examples() {
    let worked = ActionRow::compute(&examples::action());
    let check_row = |line: usize, row: &ActionRow, failures: &mut Vec<String>| {
        if row.id == worked.id && (row.digest != worked.digest || row.sizes != worked.sizes) {
            failures.push(format!(
                "line {line}: row of the worked example has digest {} and sizes {:?}; expected {} and {:?}",
                row.digest, row.sizes, worked.digest, worked.sizes
            ));
        }
        if row.id != worked.id {
            failures.push(format!(
                "line {line}: a row example that is not the worked example's action"
            ));
        }
    };
    let mut failures = Vec::new();
    let mut seen = 0;
    for b in blocks(DOC).iter().filter(|b| b.lang == "json") {
        match b.words.first().map(String::as_str) {
            Some("action_view") => {
                let v: ActionView = serde_json::from_str(&b.body).expect("action_view parses");
                seen += 1;
                if v.digest != v.action.digest() {
                    failures.push(format!(
                        "line {}: action_view digest {} is not its action's {}",
                        b.line,
                        v.digest,
                        v.action.digest()
                    ));
                }
            }
            Some("history_page") => {
                let p: HistoryPage = serde_json::from_str(&b.body).expect("history_page parses");
                for r in &p.records {
                    seen += 1;
                    if r.digest != r.action.digest() {
                        failures.push(format!(
                            "line {}: history record digest {} is not its action's {}",
                            b.line,
                            r.digest,
                            r.action.digest()
                        ));
                    }
                }
            }
            Some("action_row") => {
                let r: ActionRow = serde_json::from_str(&b.body).expect("action_row parses");
                seen += 1;
                check_row(b.line, &r, &mut failures);
            }
            Some("server_msg") => match decode_server(&b.body) {
                Ok(ServerMsg::Action { action, digest, .. }) => {
                    seen += 1;
                    if digest != action.digest() {
                        failures.push(format!(
                            "line {}: `action` digest is not its action's",
                            b.line
                        ));
                    }
                }
                Ok(
                    ServerMsg::Pending { row, .. }
                    | ServerMsg::Updated { row, .. }
                    | ServerMsg::Resolved { row, .. }
                    | ServerMsg::Executed { row, .. },
                ) => {
                    seen += 1;
                    check_row(b.line, &row, &mut failures);
                }
                Ok(ServerMsg::Snapshot { rows, .. }) => {
                    for r in &rows {
                        seen += 1;
                        check_row(b.line, r, &mut failures);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(seen >= 8, "only {seen} digests checked");
}

/// Index of a client message variant; the exhaustive match breaks the build when a
/// variant is added, so the document cannot silently fall behind.
fn client_index(m: &ClientMsg) -> usize {
    match m {
        ClientMsg::Hello { .. } => 0,
        ClientMsg::Decide { .. } => 1,
        ClientMsg::QueryHistory { .. } => 2,
        ClientMsg::GetAction { .. } => 3,
    }
}
const CLIENT_VARIANTS: usize = 4;

fn server_index(m: &ServerMsg) -> usize {
    match m {
        ServerMsg::Welcome { .. } => 0,
        ServerMsg::Snapshot { .. } => 1,
        ServerMsg::Pending { .. } => 2,
        ServerMsg::Updated { .. } => 3,
        ServerMsg::Resolved { .. } => 4,
        ServerMsg::Ack { .. } => 5,
        ServerMsg::Rejected { .. } => 6,
        ServerMsg::HistoryPage { .. } => 7,
        ServerMsg::QueryFailed { .. } => 8,
        ServerMsg::Error { .. } => 9,
        ServerMsg::Executed { .. } => 10,
        ServerMsg::Skipped { .. } => 11,
        ServerMsg::Action { .. } => 12,
        ServerMsg::Checkpoint { .. } => 13,
    }
}
const SERVER_VARIANTS: usize = 14;

#[test]
fn every_message_type_has_an_example_and_a_heading() {
    let mut client = [false; CLIENT_VARIANTS];
    let mut server = [false; SERVER_VARIANTS];
    for b in blocks(DOC).iter().filter(|b| b.lang == "json") {
        match b.words.first().map(String::as_str) {
            Some("client_msg") => {
                if let Ok(m) = decode_client(&b.body) {
                    client[client_index(&m)] = true;
                    let ty = serde_json::to_value(&m).unwrap_or_default()["type"].clone();
                    let heading = format!("### `{}`", ty.as_str().unwrap_or_default());
                    assert!(DOC.contains(&heading), "no heading {heading}");
                }
            }
            Some("server_msg") => {
                if let Ok(m) = decode_server(&b.body) {
                    server[server_index(&m)] = true;
                    let ty = serde_json::to_value(&m).unwrap_or_default()["type"].clone();
                    let heading = format!("### `{}`", ty.as_str().unwrap_or_default());
                    assert!(DOC.contains(&heading), "no heading {heading}");
                }
            }
            _ => {}
        }
    }
    assert!(
        client.iter().all(|s| *s),
        "client messages without example: {client:?}"
    );
    assert!(
        server.iter().all(|s| *s),
        "server messages without example: {server:?}"
    );
}

#[test]
fn every_error_code_is_documented_in_the_table() {
    let missing: Vec<_> = ErrorCode::ALL
        .iter()
        .filter(|c| !DOC.contains(&format!("| `{}` |", c.as_str())))
        .collect();
    assert!(
        missing.is_empty(),
        "error codes missing from the table: {missing:?}"
    );
}

/// The body of the one block carrying `label` in its info string.
fn labelled(label: &str) -> String {
    let found: Vec<_> = blocks(DOC)
        .into_iter()
        .filter(|b| b.words.iter().any(|w| w == label))
        .collect();
    assert_eq!(found.len(), 1, "expected one block labelled {label}");
    found[0].body.trim_end_matches('\n').to_string()
}

#[test]
fn worked_example_digest_and_signature_verify() {
    let action: Action = serde_json::from_str(&labelled("example:action")).unwrap_or_else(|e| {
        panic!("example action: {e}");
    });
    let canonical = labelled("example:action-canonical");
    assert_eq!(
        String::from_utf8(canonical_json(&action.digest_input())).unwrap_or_default(),
        canonical,
        "the action's canonical bytes"
    );
    let digest = labelled("example:action-digest");
    assert_eq!(Digest::of_bytes(canonical.as_bytes()).as_str(), digest);
    assert_eq!(action.digest().as_str(), digest);

    let signed: SignedDecision = serde_json::from_str(&labelled("example:signed-decision"))
        .unwrap_or_else(|e| panic!("example decision: {e}"));
    assert_eq!(signed.decision.action_digest.as_str(), digest);
    assert_eq!(signed.decision.action_id, action.id);
    let decision_canonical = labelled("example:decision-canonical");
    assert_eq!(
        String::from_utf8(signed.decision.signing_input()).unwrap_or_default(),
        decision_canonical
    );

    assert_eq!(labelled("example:secret-key"), examples::TEST_SECRET_HEX);
    let key = examples::test_key();
    assert_eq!(
        labelled("example:public-key"),
        encode_public_key(&key.verifying_key())
    );
    assert_eq!(
        labelled("example:key-id"),
        KeyId::of(&key.verifying_key()).0
    );
    assert_eq!(signed.decision.key_id, KeyId::of(&key.verifying_key()));
    assert_eq!(signed.verify(&key.verifying_key()), Ok(()));
    // Ed25519 is deterministic: signing the documented bytes again gives the same signature.
    assert_eq!(signed.decision.clone().sign(&key), signed);
    // And the example is the one the generator builds.
    assert_eq!(action, examples::action());
    assert_eq!(signed, examples::decision());
}

/// Prints the worked example and a sample of messages, for editing the document.
#[test]
#[ignore = "generator: run with --ignored --nocapture to print the examples"]
fn print_examples() {
    let a = examples::action();
    println!("== action\n{}", pretty(&a));
    println!(
        "== action canonical\n{}",
        String::from_utf8(canonical_json(&a.digest_input())).unwrap_or_default()
    );
    println!("== action digest\n{}", a.digest());
    let d = examples::decision();
    println!("== signed decision\n{}", pretty(&d));
    println!(
        "== decision canonical\n{}",
        String::from_utf8(d.decision.signing_input()).unwrap_or_default()
    );
    let key = examples::test_key();
    println!("== public key\n{}", encode_public_key(&key.verifying_key()));
    println!("== key id\n{}", KeyId::of(&key.verifying_key()));
    println!("== request\n{}", pretty(&examples::request()));
    let (client, server) = examples::messages();
    for m in client {
        println!("== client\n{}", pretty(&m));
    }
    for m in server {
        println!("== server\n{}", pretty(&m));
    }
}

fn pretty<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
