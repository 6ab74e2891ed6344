//! `signoff audit verify` and `export` on a real data directory, including a tampered one.

mod broker_common;

use std::path::Path;
use std::process::Command;

use broker_common::*;
use signoff::protocol::{ServerMsg, Verdict};

fn audit(args: &[&str], dir: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .arg("audit")
        .args(args)
        .arg("--data")
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// key_registered(1), action_created(2), vote(3), outcome(4).
async fn decided(dir: &Path) {
    let broker = start(dir).await;
    let http = Http::new(&broker);
    http.register(BOB, &key(1)).await;
    let (mut feed, _) = Feed::connect(&broker, BOB, None).await;
    let created = http.submit(AGENT, &request("export for audit")).await;
    let a = http.view(BOB, &created.id.to_string(), 0).await.action;
    let d = sign(&key(1), "bob", &a, Verdict::Approve, "ticket OPS-77");
    assert!(matches!(feed.decide(d).await, ServerMsg::Ack { .. }));
    drop(feed);
    broker.shutdown().await.unwrap();
}

#[tokio::test]
async fn verify_and_export_a_clean_log() {
    let dir = tempfile::tempdir().unwrap();
    decided(dir.path()).await;
    let (ok, out, err) = audit(&["verify"], dir.path());
    assert!(ok, "{err}");
    assert!(
        out.contains("4 entries, 1 vote signatures verified"),
        "{out}"
    );

    let (ok, out, err) = audit(&["export"], dir.path());
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 4);
    let types: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["entry"]["type"].as_str())
        .collect();
    assert_eq!(
        types,
        ["key_registered", "action_created", "vote", "outcome"]
    );
    assert_eq!(lines[3]["prev_hash"], lines[2]["hash"]);
    assert!(lines[2]["entry"]["payload"]["decision"]["signature"].is_string());

    let (ok, out, _) = audit(&["export", "--since", "2999-01-01T00:00:00Z"], dir.path());
    assert!(ok && out.is_empty());
    let (ok, _, err) = audit(&["export", "--since", "yesterday"], dir.path());
    assert!(!ok && err.contains("RFC 3339"), "{err}");
}

#[tokio::test]
async fn editing_one_audit_row_fails_verify_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    decided(dir.path()).await;
    let db = rusqlite::Connection::open(dir.path().join(signoff::broker::store::DB_FILE)).unwrap();
    let n = db
        .execute(
            "UPDATE audit SET entry = replace(entry, 'OPS-77', 'OPS-78') WHERE seq = 3",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(db);
    let (ok, _, err) = audit(&["verify"], dir.path());
    assert!(!ok);
    assert!(err.contains("audit entry 3:"), "{err}");
}

#[tokio::test]
async fn a_rehashed_edit_is_caught_by_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    decided(dir.path()).await;
    let db = rusqlite::Connection::open(dir.path().join(signoff::broker::store::DB_FILE)).unwrap();
    let (prev, entry): (String, String) = db
        .query_row(
            "SELECT prev_hash, entry FROM audit WHERE seq = 2",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let forged = entry.replace("export for audit", "something harmless");
    let hash = signoff::broker::store::audit::chain_hash(&prev, forged.as_bytes());
    db.execute(
        "UPDATE audit SET entry = ?1, hash = ?2 WHERE seq = 2",
        rusqlite::params![forged, hash],
    )
    .unwrap();
    drop(db);
    let (ok, _, err) = audit(&["verify"], dir.path());
    assert!(!ok);
    // The edited entry no longer matches the digest it records (and, were that rewritten
    // too, the vote that signed it); the link to entry 3 is broken as well.
    assert!(
        err.contains("audit entry 2:") && err.contains("content was changed after creation"),
        "{err}"
    );
}

fn open_db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(signoff::broker::store::DB_FILE)).unwrap()
}

/// What an operator with database access would do after an edit: recompute every hash
/// from `from` on, so the chain links again.
fn rechain(db: &rusqlite::Connection, from: i64) {
    let rows: Vec<(i64, String)> = db
        .prepare("SELECT seq, entry FROM audit WHERE seq >= ?1 ORDER BY seq")
        .unwrap()
        .query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev: String = db
        .query_row("SELECT prev_hash FROM audit WHERE seq = ?1", [from], |r| {
            r.get(0)
        })
        .unwrap();
    for (seq, entry) in rows {
        let hash = signoff::broker::store::audit::chain_hash(&prev, entry.as_bytes());
        db.execute(
            "UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![prev, hash, seq],
        )
        .unwrap();
        prev = hash;
    }
}

fn edit_entry(db: &rusqlite::Connection, seq: i64, from: &str, to: &str) {
    let n = db
        .execute(
            "UPDATE audit SET entry = replace(entry, ?1, ?2) WHERE seq = ?3",
            rusqlite::params![from, to, seq],
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn summary_rewritten_with_a_recomputed_chain_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    decided(dir.path()).await;
    let db = open_db(dir.path());
    edit_entry(&db, 2, "export for audit", "something harmless");
    rechain(&db, 2);
    drop(db);
    let (ok, _, err) = audit(&["verify"], dir.path());
    assert!(!ok);
    assert!(
        err.contains("audit entry 2:") && err.contains("changed after creation"),
        "{err}"
    );
}

#[tokio::test]
async fn outcome_flipped_with_a_recomputed_chain_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    decided(dir.path()).await;
    let db = open_db(dir.path());
    edit_entry(&db, 4, "\"status\":\"approved\"", "\"status\":\"denied\"");
    rechain(&db, 4);
    db.execute("UPDATE actions SET status = 'denied'", [])
        .unwrap();
    drop(db);
    let (ok, _, err) = audit(&["verify"], dir.path());
    assert!(!ok);
    assert!(
        err.contains("audit entry 4:") && err.contains("make it approved"),
        "{err}"
    );
}

#[tokio::test]
async fn editing_the_at_type_or_action_id_column_fails_verify() {
    for (column, value, says) in [
        ("at", "0", "column at"),
        ("type", "'withdrawal'", "column type"),
        (
            "action_id",
            "'01JD0000000000000000000002'",
            "column action_id",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        decided(dir.path()).await;
        let db = open_db(dir.path());
        db.execute(
            &format!("UPDATE audit SET {column} = {value} WHERE seq = 4"),
            [],
        )
        .unwrap();
        drop(db);
        let (ok, _, err) = audit(&["verify"], dir.path());
        assert!(!ok, "{column}");
        assert!(
            err.contains("audit entry 4:") && err.contains(says),
            "{column}: {err}"
        );
    }
}

#[tokio::test]
async fn the_actions_table_must_agree_with_the_log() {
    let dir = tempfile::tempdir().unwrap();
    decided(dir.path()).await;
    let db = open_db(dir.path());
    db.execute(
        "UPDATE actions SET status = 'denied', \
         body = replace(body, '\"status\":\"approved\"', '\"status\":\"denied\"')",
        [],
    )
    .unwrap();
    drop(db);
    let (ok, _, err) = audit(&["verify"], dir.path());
    assert!(!ok);
    assert!(err.contains("is stored as denied"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    decided(dir.path()).await;
    let db = open_db(dir.path());
    db.execute(
        "UPDATE actions SET body = replace(body, 'export for audit', 'harmless')",
        [],
    )
    .unwrap();
    drop(db);
    let (ok, _, err) = audit(&["verify"], dir.path());
    assert!(!ok);
    assert!(err.contains("stored content hashes to"), "{err}");
}

/// What history shows and filters on (outcome, who decided, why, the approver index) and
/// the votes the record pane lists are held against the chain: an operator with database
/// access cannot rewrite a decision there, drop it from history, or slip in an action the
/// chain never created.
#[tokio::test]
async fn the_history_table_and_stored_votes_must_agree_with_the_log() {
    let cases: &[(&str, &str)] = &[
        (
            "UPDATE history SET outcome = 'denied'",
            "history row differs from the audit log in outcome",
        ),
        (
            "UPDATE history SET decided_by = '[\"mallory\"]'",
            "in decided_by",
        ),
        (
            "UPDATE history SET reason = 'approved by the CAB'",
            "in reason",
        ),
        ("UPDATE history SET risk = 'low'", "in risk"),
        (
            "UPDATE history SET decided_at = decided_at + 1",
            "in decided_at",
        ),
        ("DELETE FROM history_voters", "in voters"),
        ("DELETE FROM history", "missing from history"),
        (
            "UPDATE actions SET body = replace(body, 'ticket OPS-77', 'ticket OPS-99')",
            "stored vote 1 (approve by \"bob\") differs from the signed vote",
        ),
        (
            "INSERT INTO actions (id, status, requester_id, kind, created_at, expires_at, digest, body) \
             SELECT '01KZZZZZZZZZZZZZZZZZZZZZZZ', 'pending', requester_id, kind, created_at, \
             expires_at, digest, body FROM actions",
            "in the store's actions table but never created in the audit log",
        ),
    ];
    for (sql, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        decided(dir.path()).await;
        let (ok, _, err) = audit(&["verify"], dir.path());
        assert!(ok, "clean before the edit: {err}");
        let db = open_db(dir.path());
        let n = db.execute(sql, []).unwrap();
        assert!(n >= 1, "{sql} changed nothing");
        drop(db);
        let (ok, _, err) = audit(&["verify"], dir.path());
        assert!(!ok, "{sql}: verify passed");
        assert!(err.contains(says), "{sql}: {err}");
    }
}

/// `signoff dev seed` fills a store whose whole chain, signatures included, verifies.
#[test]
fn seeded_history_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["dev", "seed", "--decisions", "500", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("seeded 500 decisions") && stdout.contains("rows/s"),
        "{stdout}"
    );
    let (ok, out, err) = audit(&["verify"], dir.path());
    assert!(ok, "{err}");
    assert!(out.contains("audit log OK"), "{out}");
    let votes: u64 = out
        .split(", ")
        .find_map(|p| p.strip_suffix(" vote signatures verified"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(votes > 300, "{out}");
}

/// Like [`decided`], keeping what a console keeps: the checkpoint that came with the ack
/// (written to `checkpoint.json`) and the published audit key (`audit-key.pub.json`).
async fn decided_with_checkpoint(dir: &Path, files: &Path) -> signoff::protocol::Checkpoint {
    let broker = start(dir).await;
    let http = Http::new(&broker);
    let (s, published) = http
        .send(reqwest::Method::GET, "/v1/audit/key", "", None)
        .await;
    assert_eq!(s, 200, "{published}");
    std::fs::write(files.join("audit-key.pub.json"), published.to_string()).unwrap();
    http.register(BOB, &key(1)).await;
    let (mut feed, _) = Feed::connect(&broker, BOB, None).await;
    let created = http.submit(AGENT, &request("export for audit")).await;
    let a = http.view(BOB, &created.id.to_string(), 0).await.action;
    let d = sign(&key(1), "bob", &a, Verdict::Approve, "ticket OPS-77");
    let ServerMsg::Ack { checkpoint, .. } = feed.decide(d).await else {
        panic!("ack expected")
    };
    let checkpoint = checkpoint.expect("every ack carries a checkpoint");
    assert_eq!(
        checkpoint.audit_seq, 4,
        "covers the vote and the outcome of its batch"
    );
    let (s, latest) = http
        .send(reqwest::Method::GET, "/v1/audit/checkpoint", BOB, None)
        .await;
    assert_eq!(s, 200, "{latest}");
    assert_eq!(latest["audit_seq"], 4);
    std::fs::write(
        files.join("checkpoint.json"),
        serde_json::to_string(&checkpoint).unwrap(),
    )
    .unwrap();
    drop(feed);
    broker.shutdown().await.unwrap();
    checkpoint
}

fn verify_with_checkpoint(dir: &Path, files: &Path) -> (bool, String, String) {
    let cp = files.join("checkpoint.json");
    let key = files.join("audit-key.pub.json");
    audit(
        &[
            "verify",
            "--checkpoint",
            cp.to_str().unwrap(),
            "--audit-key",
            key.to_str().unwrap(),
        ],
        dir,
    )
}

#[cfg(unix)]
#[tokio::test]
async fn the_audit_key_is_private_and_checkpoints_verify_on_a_clean_log() {
    use std::os::unix::fs::PermissionsExt as _;
    let (dir, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    decided_with_checkpoint(dir.path(), files.path()).await;
    let mode = std::fs::metadata(dir.path().join(signoff::broker::audit_key::AUDIT_KEY_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let (ok, out, err) = verify_with_checkpoint(dir.path(), files.path());
    assert!(ok, "{err}");
    assert!(out.contains("1 checkpoint(s) held"), "{out}");
}

#[tokio::test]
async fn deleting_the_last_records_is_detected_by_a_checkpoint() {
    let (dir, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    decided_with_checkpoint(dir.path(), files.path()).await;
    // The operator deletes the vote and the outcome and puts the action back as pending,
    // exactly as it was created: the rest of the log is consistent again.
    let db = open_db(dir.path());
    let created: String = db
        .query_row("SELECT entry FROM audit WHERE seq = 2", [], |r| r.get(0))
        .unwrap();
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    let body = created["payload"]["action"].to_string();
    db.execute("DELETE FROM audit WHERE seq >= 3", []).unwrap();
    db.execute("DELETE FROM votes", []).unwrap();
    db.execute("DELETE FROM history", []).unwrap();
    db.execute(
        "UPDATE actions SET status = 'pending', body = ?1",
        rusqlite::params![body],
    )
    .unwrap();
    drop(db);
    let (ok, _, err) = audit(&["verify"], dir.path());
    assert!(
        ok,
        "without a checkpoint the truncation is invisible: {err}"
    );
    let (ok, _, err) = verify_with_checkpoint(dir.path(), files.path());
    assert!(!ok);
    assert!(
        err.contains("checkpoint 4") && err.contains("log ends at entry 2"),
        "{err}"
    );
}

#[tokio::test]
async fn a_rewrite_with_a_recomputed_chain_is_detected_by_a_checkpoint() {
    let (dir, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    decided_with_checkpoint(dir.path(), files.path()).await;
    // A field no other entry binds (the outcome's reason), rewritten and re-chained, and
    // the history row made to agree (reason and the outcome entry's new hash).
    let db = open_db(dir.path());
    edit_entry(&db, 4, "ticket OPS-77", "ticket OPS-99");
    rechain(&db, 4);
    db.execute(
        "UPDATE history SET reason = replace(reason, 'OPS-77', 'OPS-99'), \
         audit_hash = (SELECT hash FROM audit WHERE seq = 4)",
        [],
    )
    .unwrap();
    drop(db);
    let (ok, _, err) = audit(&["verify"], dir.path());
    assert!(ok, "{err}");
    let (ok, _, err) = verify_with_checkpoint(dir.path(), files.path());
    assert!(!ok);
    assert!(err.contains("was rewritten"), "{err}");
    // A forged checkpoint (another key) is refused, naming the key.
    let mut forged: signoff::protocol::Checkpoint = serde_json::from_str(
        &std::fs::read_to_string(files.path().join("checkpoint.json")).unwrap(),
    )
    .unwrap();
    forged = signoff::protocol::Checkpoint::sign(
        forged.audit_seq,
        &forged.head_hash,
        forged.at,
        &key(77),
    );
    std::fs::write(
        files.path().join("checkpoint.json"),
        serde_json::to_string(&forged).unwrap(),
    )
    .unwrap();
    let (ok, _, err) = verify_with_checkpoint(dir.path(), files.path());
    assert!(!ok);
    assert!(err.contains("not by the broker's audit key"), "{err}");
}

fn signoff(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_receipt_verifies_offline_and_refuses_any_edit() {
    let (dir, files) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    decided_with_checkpoint(dir.path(), files.path()).await;
    let id: String = open_db(dir.path())
        .query_row("SELECT action_id FROM audit WHERE seq = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    let data = dir.path().to_str().unwrap();
    let (ok, receipt, err) = signoff(&["audit", "receipt", &id, "--data", data]);
    assert!(ok, "{err}");
    let path = files.path().join("receipt.json");
    std::fs::write(&path, &receipt).unwrap();
    let key = files.path().join("audit-key.pub.json");
    let (p, k) = (path.to_str().unwrap(), key.to_str().unwrap());
    // The broker's database is gone: the receipt stands on its own.
    drop(dir);
    let (ok, out, err) = signoff(&["audit", "verify-receipt", p, "--audit-key", k]);
    assert!(ok, "{err}");
    assert!(
        out.contains("approved")
            && out.contains("1 vote signatures verified")
            && out.contains("(pinned)"),
        "{out}"
    );
    let r: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(
        r["entries"].as_array().map(Vec::len),
        Some(4),
        "key, creation, vote, outcome"
    );

    // Any edit is refused: the summary, the outcome, or the whole receipt re-signed with
    // another key (caught by the pinned key).
    for (from, to, says) in [
        ("export for audit", "something harmless", "entry 2"),
        (
            "\\\"status\\\":\\\"approved\\\"",
            "\\\"status\\\":\\\"denied\\\"",
            "entry 4",
        ),
    ] {
        std::fs::write(&path, receipt.replace(from, to)).unwrap();
        let (ok, _, err) = signoff(&["audit", "verify-receipt", p, "--audit-key", k]);
        assert!(!ok, "{from}");
        assert!(err.contains(says), "{from}: {err}");
    }
    let mut forged: serde_json::Value = r.clone();
    forged["audit_key"]["key_id"] = "0000000000000000".into();
    std::fs::write(&path, forged.to_string()).unwrap();
    let (ok, _, err) = signoff(&["audit", "verify-receipt", p, "--audit-key", k]);
    assert!(!ok && err.contains("pinned"), "{err}");
}
