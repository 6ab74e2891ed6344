//! Notifications from several `signoff broker` processes on one PostgreSQL database: one
//! outbox, written in the same transaction as the events, sent by whichever replica
//! leases a message first, each message once; a replica SIGKILLed while it holds leases
//! leaves its messages to the other, which sends them with the same idempotency keys.
//!
//! Real parts: the signoff binary (two processes), a throwaway PostgreSQL server, the
//! local receivers of `notify_sinks.rs` standing in for Slack, Teams, PagerDuty and a
//! webhook consumer, and the Standard Webhooks reference library verifying signatures.

mod broker_common;
mod notify_support;
mod pg_cluster;
mod pg_support;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use broker_common::*;
use notify_support::*;
use pg_cluster::Cluster;
use signoff::protocol::{Status, Verdict};
use signoff::testkit::eventually_async;

fn secret_file(dir: &Path, name: &str, value: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("{value}\n")).expect("secret file");
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod 600");
}

/// Every sink kind, pointed at local receivers (secrets in files under the cluster dir),
/// and requester callbacks to the webhook receiver.
fn sinks(all: &AllSinks) -> String {
    let file = |kind: &str| {
        let name = match kind {
            "slack" => "slack.token",
            "teams" => "teams.url",
            "webhook" => "webhook.whsec",
            _ => "pagerduty.key",
        };
        format!("secret_file = \"{{dir}}/{name}\"")
    };
    format!(
        "{}\n[callbacks]\nallow = [\"{}/cb/\"]\nsecret_file = \"{{dir}}/webhook.whsec\"\n",
        all.config(file),
        all.hook.url()
    )
}

fn write_secrets(dir: &Path) {
    secret_file(dir, "slack.token", "xoxb-test-token");
    secret_file(dir, "teams.url", "https://example.invalid/workflows/secret");
    secret_file(dir, "webhook.whsec", WHSEC);
    secret_file(dir, "pagerduty.key", "R0UTINGKEY0000000000000000000000");
}

/// The idempotency keys a receiver got more than once.
fn repeated(got: &[Received]) -> Vec<String> {
    let mut n: HashMap<String, usize> = HashMap::new();
    for r in got {
        *n.entry(r.header("idempotency-key").to_string())
            .or_default() += 1;
    }
    let mut twice: Vec<String> = n
        .into_iter()
        .filter(|(_, c)| *c > 1)
        .map(|(k, _)| k)
        .collect();
    twice.sort();
    twice
}

/// Polls SQL until it prints `want`.
async fn until_sql(pg: &pg_support::PgServer, db: &str, sql: &str, want: &str) {
    let found = eventually_async(RECEIVE_WAIT, || async {
        (pg.psql(db, sql) == want).then_some(())
    })
    .await;
    assert!(
        found.is_some(),
        "{sql}: {:?}, never {want:?} within {RECEIVE_WAIT:?}; outbox: {}",
        pg.psql(db, sql),
        pg.psql(
            db,
            "SELECT idem_key, state, attempts, last_error FROM notify_outbox ORDER BY id"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_send_each_message_once_and_edit_one_slack_message_in_place() {
    let pg = pg_support::server();
    let all = AllSinks::start().await;
    let (slack, teams, hook, pd) = (&all.slack, &all.teams, &all.hook, &all.pd);
    let mut c = Cluster::with_config(&pg, 2, &sinks(&all));
    write_secrets(c.dir.path());
    let db = pg_support::db_name(&c.db_url).to_string();
    let a = c.start("a").await;
    let b = c.start("b").await;
    let (ha, hb) = (Http::at(&a.url), Http::at(&b.url));
    ha.register(BOB, &key(1)).await;
    ha.register(CAROL, &key(2)).await;

    // One action through its whole life, touched on both replicas.
    let mut req = request("Export customers");
    req["callback_url"] = serde_json::Value::String(format!("{}/cb/run-1", hook.url()));
    let created = ha.submit(AGENT, &req).await;
    let id = created.id.to_string();
    let post = slack.wait_for(1).await.remove(0);
    assert_eq!(post.path, "/api/chat.postMessage");
    pd.wait_until("the page", |g| !g.is_empty()).await;
    let (s, v) = hb.claim(BOB, &id).await;
    assert_eq!(s, 200, "{v}");
    slack
        .wait_until("the claim's edit", |g| {
            g.iter().any(|r| r.body.contains("bob is looking"))
        })
        .await;
    let status = vote_on(&a.feed_url(), &ha, (BOB, "bob", 1), &id, Verdict::Approve).await;
    assert_eq!(status, Status::Pending);
    slack
        .wait_until("the vote's edit", |g| {
            g.iter().any(|r| r.body.contains("1 of 2 approvals"))
        })
        .await;
    let status = vote_on(
        &b.feed_url(),
        &hb,
        (CAROL, "carol", 2),
        &id,
        Verdict::Approve,
    )
    .await;
    assert_eq!(status, Status::Approved);
    let got = slack
        .wait_until("the outcome's edit", |g| {
            g.iter().any(|r| r.body.contains("approved by bob, carol"))
        })
        .await;
    let ts = "1700000000.000001";
    assert_eq!(
        got.iter()
            .filter(|r| r.path.ends_with("chat.postMessage"))
            .count(),
        1,
        "one message for the action"
    );
    for r in &got[1..] {
        assert_eq!(r.path, "/api/chat.update", "{}", r.body);
        assert_eq!(r.json()["ts"], ts, "edited in place");
    }
    assert_eq!(got.len(), 4, "post, claim, vote, outcome");
    teams
        .wait_until("created and resolved cards", |g| g.len() >= 2)
        .await;
    let resolve = pd.wait_until("trigger and resolve", |g| g.len() >= 2).await;
    assert_eq!(resolve[1].json()["event_action"], "resolve");
    let got = hook
        .wait_until("the callback", |g| g.iter().any(|r| r.path == "/cb/run-1"))
        .await;
    let mut verifier = Verifier::start();
    for r in &got {
        verifier
            .verify(WHSEC, r)
            .expect("standardwebhooks accepts it");
    }

    // Many actions at once through both replicas: every message exactly once.
    let n = 20usize;
    let mut ids = Vec::new();
    for i in 0..n {
        let h = if i % 2 == 0 { &ha } else { &hb };
        ids.push(
            h.submit(AGENT, &request(&format!("Export batch {i}")))
                .await
                .id,
        );
    }
    slack
        .wait_until("a post per action", |g| {
            ids.iter()
                .all(|id| g.iter().any(|r| r.body.contains(&id.to_string())))
        })
        .await;
    hook.wait_until("a webhook per action", |g| {
        ids.iter().all(|id| {
            g.iter()
                .any(|r| r.header("webhook-id") == format!("{id}.hook.created"))
        })
    })
    .await;
    until_sql(
        &pg,
        &db,
        "SELECT count(*) FROM notify_outbox WHERE sink IN ('oncall', 'teams', 'hook') \
         AND state <> 'done'",
        "0",
    )
    .await;
    for (name, r) in [("slack", slack), ("teams", teams), ("hook", hook)] {
        assert_eq!(
            repeated(&r.got()),
            Vec::<String>::new(),
            "{name}: sent twice"
        );
    }
    assert_eq!(
        slack
            .got()
            .iter()
            .filter(|r| r.path.ends_with("chat.postMessage"))
            .count(),
        n + 1,
        "one post per action"
    );
    eprintln!(
        "messages sent per replica: {}",
        pg.psql(
            &db,
            "SELECT string_agg(c::text, ' + ') FROM (SELECT count(*) AS c FROM notify_outbox \
             WHERE state = 'done' GROUP BY lease_owner) x"
        )
    );
    let (ok, out) = c.audit_verify();
    assert!(ok, "{out}");
    c.logs_hold_no_password();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_holding_leases_leaves_its_messages_to_the_other() {
    let pg = pg_support::server();
    let hook = Receiver::start(Role::Webhook).await;
    // Every attempt hangs until the test says otherwise: the sender holds its lease.
    hook.then(Answer::Hang);
    let timeout = 10;
    let mut c = Cluster::with_config(
        &pg,
        1,
        &format!(
            "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}/in\"\n\
             secret_file = \"{{dir}}/webhook.whsec\"\ntimeout_secs = {timeout}\n\
             retry_base_ms = 100\n",
            hook.url()
        ),
    );
    write_secrets(c.dir.path());
    let db = pg_support::db_name(&c.db_url).to_string();
    let mut a = c.start("a").await;
    let ha = Http::at(&a.url);
    let one = ha.submit(AGENT, &request("first")).await;
    let two = ha.submit(AGENT, &request("second")).await;
    let keys = [
        format!("{}.hook.created", one.id),
        format!("{}.hook.created", two.id),
    ];
    let first = hook
        .wait_until("A's attempt at each", |g| {
            keys.iter()
                .all(|k| g.iter().any(|r| r.header("webhook-id") == k))
        })
        .await;
    let taken_at = Instant::now();
    // A dies within its attempts (which would time out after `timeout`), leases held.
    a.kill().await;
    let held = pg.psql(
        &db,
        "SELECT count(*) FROM notify_outbox WHERE state = 'pending' AND lease_until IS NOT NULL",
    );
    assert_eq!(held, "2", "A died holding both leases");
    hook.then(Answer::Ok);
    let b = c.start("b").await;
    let got = hook
        .wait_until("B sends both", |g| {
            keys.iter()
                .all(|k| g[first.len()..].iter().any(|r| r.header("webhook-id") == k))
        })
        .await;
    let waited = taken_at.elapsed();
    assert!(
        waited >= Duration::from_secs(timeout),
        "B took A's messages after {waited:?}, before A's lease could have ended"
    );
    let mut verifier = Verifier::start();
    for r in &got[first.len()..] {
        let payload = verifier.verify(WHSEC, r).expect("verified");
        assert_eq!(payload["type"], "action.created");
    }
    until_sql(
        &pg,
        &db,
        "SELECT count(*) FROM notify_outbox WHERE state = 'done'",
        "2",
    )
    .await;
    assert_eq!(
        got[first.len()..].len(),
        2,
        "B sends each once: {:#?}",
        &got[first.len()..]
    );
    let _ = b;
    c.logs_hold_no_password();
}
