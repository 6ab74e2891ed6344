//! One broker on PostgreSQL runs the flows it runs on SQLite: submit, feed, vote, quorum,
//! self-approval refused, long poll, history, `audit verify --store postgres://…`, and a
//! restart that recovers the pending actions and continues the chain.

mod broker_common;
mod pg_support;

use broker_common::*;
use pg_support::audit_verify;
use reqwest::Method;
use signoff::broker::policy::Engine;
use signoff::broker::{RunningBroker, Tunables};
use signoff::protocol::{ErrorCode, ServerMsg, Status, Verdict};

async fn start_pg(dir: &std::path::Path, pg: &pg_support::PgServer, url: &str) -> RunningBroker {
    let mut s = settings(dir, Tunables::default());
    s.policy = Engine::from_toml_str("[defaults]\napprovals_required = 2\n").expect("policy");
    s.postgres = Some(pg.options(url));
    signoff::broker::spawn(s)
        .await
        .expect("broker starts on PostgreSQL")
}

async fn pending_row(feed: &mut Feed) -> signoff::protocol::ActionRow {
    loop {
        if let ServerMsg::Pending { row, .. } = feed.next().await {
            return row;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_on_postgres_decides_recovers_and_verifies() {
    let pg = pg_support::server();
    let url = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let pw = pg.password_file(dir.path());
    let broker = start_pg(dir.path(), &pg, &url).await;
    let http = Http::new(&broker);
    http.register(BOB, &key(1)).await;
    http.register(CAROL, &key(2)).await;
    http.register(ALICE, &key(3)).await;
    let (mut bob, _) = Feed::connect(&broker, BOB, None).await;
    let _snapshot = bob.next().await;

    // Quorum 2: bob, then carol; the agent's long poll returns when it is decided.
    let created = http.submit(AGENT, &request("Export customers")).await;
    let row = pending_row(&mut bob).await;
    assert_eq!(row.digest, created.digest);
    let poll = {
        let http = Http::new(&broker);
        let id = created.id.to_string();
        tokio::spawn(async move { http.view(AGENT, &id, 60).await })
    };
    let ack = bob
        .decide(sign(&key(1), "bob", &row, Verdict::Approve, "ticket 1"))
        .await;
    assert!(
        matches!(
            ack,
            ServerMsg::Ack {
                status: Status::Pending,
                ..
            }
        ),
        "{ack:?}"
    );
    // One person, one vote; and alice is who the agent acts for.
    let again = bob
        .decide(sign(&key(1), "bob", &row, Verdict::Approve, "twice"))
        .await;
    assert!(
        matches!(
            again,
            ServerMsg::Rejected {
                code: ErrorCode::AlreadyVoted,
                ..
            }
        ),
        "{again:?}"
    );
    let (mut alice, _) = Feed::connect(&broker, ALICE, None).await;
    let mine = alice
        .decide(sign(&key(3), "alice", &row, Verdict::Approve, "mine"))
        .await;
    assert!(
        matches!(
            mine,
            ServerMsg::Rejected {
                code: ErrorCode::SelfApproval,
                ..
            }
        ),
        "{mine:?}"
    );
    let (mut carol, _) = Feed::connect(&broker, CAROL, None).await;
    let ack = carol
        .decide(sign(&key(2), "carol", &row, Verdict::Approve, "ticket 2"))
        .await;
    assert!(
        matches!(
            ack,
            ServerMsg::Ack {
                status: Status::Approved,
                ..
            }
        ),
        "{ack:?}"
    );
    let view = poll.await.expect("poll");
    assert_eq!(view.action.status, Status::Approved);
    assert_eq!(view.action.votes.len(), 2);

    // History, over HTTP, with free text.
    let (s, v) = http
        .send(
            Method::GET,
            "/v1/history?q=custom&outcome=approved",
            BOB,
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["records"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(
        v["records"][0]["signatures_verified"],
        serde_json::json!([true, true])
    );

    // A second action stays pending across a restart.
    let second = http.submit(AGENT, &request("Export invoices")).await;
    let _ = pending_row(&mut bob).await;
    let (s, v) = http.send(Method::GET, "/healthz", BOB, None).await;
    assert_eq!((s, v.as_str()), (200, Some("ok")));
    drop((bob, alice, carol));
    broker.shutdown().await.expect("clean shutdown");

    let (ok, out) = audit_verify(&url, &pw);
    assert!(ok, "{out}");
    assert!(out.contains("audit log OK"), "{out}");
    assert!(!out.contains(pg_support::PASSWORD), "{out}");

    let broker = start_pg(dir.path(), &pg, &url).await;
    let http = Http::new(&broker);
    let (mut bob, welcome) = Feed::connect(&broker, BOB, None).await;
    let ServerMsg::Welcome { head_seq, .. } = welcome else {
        unreachable!()
    };
    assert!(
        head_seq >= 4,
        "event numbers survive the restart: {head_seq}"
    );
    let ServerMsg::Snapshot { rows, .. } = bob.next().await else {
        panic!("snapshot expected")
    };
    assert_eq!(rows.len(), 1, "the pending action is recovered");
    assert_eq!(rows[0].id, second.id);
    let row = rows[0].clone();
    let deny = bob
        .decide(sign(
            &key(1),
            "bob",
            &row,
            Verdict::Deny,
            "not this quarter",
        ))
        .await;
    assert!(
        matches!(
            deny,
            ServerMsg::Ack {
                status: Status::Denied,
                ..
            }
        ),
        "{deny:?}"
    );
    let view = http.view(AGENT, &second.id.to_string(), 0).await;
    assert_eq!(view.action.status, Status::Denied);
    drop(bob);
    broker.shutdown().await.expect("clean shutdown");
    let (ok, out) = audit_verify(&url, &pw);
    assert!(ok, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_need_the_same_audit_key() {
    let pg = pg_support::server();
    let url = pg.database();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let first = start_pg(a.path(), &pg, &url).await;
    let mut s = settings(b.path(), Tunables::default());
    s.postgres = Some(pg.options(&url));
    let e = signoff::broker::spawn(s)
        .await
        .err()
        .expect("a replica with another audit key is refused");
    assert!(e.to_string().contains("audit-key.json"), "{e}");
    // With the first broker's key it starts.
    std::fs::copy(
        a.path().join("audit-key.json"),
        b.path().join("audit-key.json"),
    )
    .expect("copy key");
    let second = start_pg(b.path(), &pg, &url).await;
    second.shutdown().await.expect("stops");
    first.shutdown().await.expect("stops");
}
