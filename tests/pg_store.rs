//! The PostgreSQL store on a real, throwaway PostgreSQL server: migrations when several
//! brokers start at once, a refused newer schema, `signoff broker migrate`, and history
//! search that finds exactly what the SQLite store finds for the same records.

mod pg_support;

use std::process::Command;

use signoff::broker::store::{PgStore, SqliteStore, Store};
use signoff::devtools::seed::seed_into;
use signoff::history::r#gen::GenConfig;
use signoff::protocol::{HistoryPage, HistoryQuery, RiskLevel, Status, Timestamp};

fn signoff() -> Command {
    Command::new(env!("CARGO_BIN_EXE_signoff"))
}

#[test]
fn replicas_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let pg = pg_support::server();
    let url = pg.database();
    let db = pg_support::db_name(&url).to_string();
    let opened: Vec<_> = (0..4)
        .map(|_| {
            let o = pg.options(&url);
            std::thread::spawn(move || PgStore::open(o).map(|_| ()))
        })
        .collect();
    for t in opened {
        t.join()
            .expect("thread")
            .expect("every replica opens the store");
    }
    assert_eq!(
        pg.psql(
            &db,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version"
        ),
        (1..=signoff::broker::store::pg::SCHEMA_VERSION)
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(","),
        "each migration once"
    );
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM chain_head"), "1");

    let dir = tempfile::tempdir().unwrap();
    let pw = pg.password_file(dir.path());
    let out = signoff()
        .args([
            "broker",
            "migrate",
            "--store",
            &url,
            "--store-password-file",
        ])
        .arg(&pw)
        .output()
        .expect("signoff broker migrate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("nothing to do"), "{stdout}");
    assert!(!stdout.contains(pg_support::PASSWORD));

    // A newer broker migrated this database: an older one refuses to touch it.
    pg.psql(&db, "INSERT INTO schema_version (version) VALUES (99)");
    let e = PgStore::open(pg.options(&url)).expect_err("a newer schema is refused");
    assert!(e.to_string().contains("version 99, newer"), "{e}");
    let out = signoff()
        .args([
            "broker",
            "migrate",
            "--store",
            &url,
            "--store-password-file",
        ])
        .arg(&pw)
        .output()
        .expect("signoff broker migrate");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("newer than this broker knows"), "{stderr}");
}

#[test]
fn a_wrong_password_is_an_error_that_does_not_show_it() {
    let pg = pg_support::server();
    let url = pg.database();
    let u = url.replace("postgres@", "postgres:not-the-password@");
    let o = signoff::broker::store::PgOptions::new(
        signoff::broker::store::PgUrl::parse(&u, None).expect("url"),
    );
    let e = PgStore::open(o).expect_err("authentication fails");
    let text = e.to_string();
    assert!(!text.contains("not-the-password"), "{text}");
    assert!(text.contains("password"), "{text}");
}

fn ids(p: &HistoryPage) -> Vec<String> {
    p.records.iter().map(|r| r.action.id.to_string()).collect()
}

/// Every page of `q` (following cursors), as ids, and each page's signature checks.
fn all_pages(s: &dyn Store, q: &HistoryQuery) -> (Vec<Vec<String>>, Vec<Vec<bool>>) {
    let mut q = q.clone();
    let mut pages = Vec::new();
    let mut sigs = Vec::new();
    for _ in 0..200 {
        let page = s.history(&q).expect("query");
        pages.push(ids(&page));
        sigs.push(
            page.records
                .iter()
                .flat_map(|r| r.signatures_verified.clone())
                .collect(),
        );
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    (pages, sigs)
}

#[test]
fn history_finds_the_same_records_on_postgres_as_on_sqlite() {
    let pg = pg_support::server();
    let url = pg.database();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(dir.path()).expect("sqlite");
    let postgres = PgStore::open(pg.options(&url)).expect("postgres");
    let config = GenConfig {
        count: 400,
        ..GenConfig::default()
    };
    seed_into(&sqlite, "sqlite", config, |_| {}).expect("seed sqlite");
    seed_into(&postgres, "postgres", config, |_| {}).expect("seed postgres");

    let everything = sqlite
        .history(&HistoryQuery {
            limit: Some(500),
            ..Default::default()
        })
        .expect("all");
    assert_eq!(everything.records.len(), 400);
    // Words, prefixes and phrases taken from the records themselves.
    let mut texts: Vec<String> = vec![
        "".into(),
        "   ".into(),
        "-".into(),
        "- !".into(),
        "nosuchwordanywhere".into(),
        "DROP".into(),
        "prod".into(),
        "customers".into(),
        "café".into(),
    ];
    for r in everything.records.iter().step_by(37) {
        let a = &r.action;
        let words: Vec<&str> = a.summary.split_whitespace().collect();
        if let Some(w) = words.first() {
            texts.push(w.to_string());
            texts.push(w.chars().take(3).collect());
        }
        if words.len() >= 2 {
            texts.push(format!("{}-{}", words[0], words[1]));
            texts.push(format!("{} {}", words[1], words[0]));
        }
        texts.push(a.target.resource.clone());
        texts.push(a.requester.display_name.clone());
        if let Some(v) = a.votes.first() {
            texts.push(v.approver.clone());
            texts.push(v.reason.chars().take(12).collect());
        }
        if let Some(c) = &a.command {
            texts.push(c.display_line().chars().take(20).collect());
        }
    }
    let sample = &everything.records[17].action;
    let mid = everything.records[200].decided_at;
    let mut queries: Vec<HistoryQuery> = texts
        .into_iter()
        .map(|t| HistoryQuery {
            text: Some(t),
            limit: Some(50),
            ..Default::default()
        })
        .collect();
    queries.extend([
        HistoryQuery::default(),
        HistoryQuery {
            limit: Some(7),
            ..Default::default()
        },
        HistoryQuery {
            outcome: vec![Status::Denied],
            ..Default::default()
        },
        HistoryQuery {
            outcome: vec![Status::Approved, Status::Expired],
            limit: Some(33),
            ..Default::default()
        },
        HistoryQuery {
            risk: vec![RiskLevel::High, RiskLevel::Critical],
            ..Default::default()
        },
        HistoryQuery {
            environment: vec![sample.target.environment.clone()],
            kind: vec![sample.kind.clone()],
            ..Default::default()
        },
        HistoryQuery {
            requester: Some(sample.requester.id.clone()),
            ..Default::default()
        },
        HistoryQuery {
            requester: Some(sample.requester.display_name.clone()),
            ..Default::default()
        },
        HistoryQuery {
            approver: sample.votes.first().map(|v| v.approver.clone()),
            limit: Some(9),
            ..Default::default()
        },
        HistoryQuery {
            executed: Some(true),
            ..Default::default()
        },
        HistoryQuery {
            since: Some(mid),
            ..Default::default()
        },
        HistoryQuery {
            until: Some(mid),
            since: Some(Timestamp::from_unix_millis(
                mid.unix_millis() - 5 * 86_400_000,
            )),
            limit: Some(11),
            ..Default::default()
        },
    ]);
    let mut compared = 0;
    for q in &queries {
        let (a, sa) = all_pages(&sqlite, q);
        let (b, sb) = all_pages(&postgres, q);
        assert_eq!(a, b, "pages differ for {q:?}");
        assert_eq!(sa, sb, "signature checks differ for {q:?}");
        assert!(sa.iter().flatten().all(|ok| *ok), "{q:?}");
        compared += a.iter().map(Vec::len).sum::<usize>();
    }
    assert!(
        compared > 1000,
        "the queries found too little to compare: {compared}"
    );
    // A cursor from another kind of query text is refused the same way.
    let bad = HistoryQuery {
        cursor: Some(signoff::protocol::HistoryCursor("nope!".into())),
        ..Default::default()
    };
    assert!(sqlite.history(&bad).is_err() && postgres.history(&bad).is_err());
}

#[test]
fn tls_to_postgres_verifies_the_server_certificate() {
    let pg = pg_support::PgServer::start_tls();
    let plain = pg.database();
    let db = pg_support::db_name(&plain).to_string();
    let url = format!("{plain}?sslmode=require");
    let mut o = pg.options(&url);
    o.ca_file = Some(pg.ca_file());
    let store = PgStore::open(o).expect("a TLS connection with the server's CA");
    assert!(store.recover().is_ok());
    assert!(store.health().is_ok());
    // Encrypted: the server says so for this store's connections, and none is plain.
    let counts = pg.psql(
        &db,
        "SELECT count(*) FILTER (WHERE s.ssl) || ' ' || count(*) FILTER (WHERE NOT s.ssl)
         FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE a.application_name = 'signoff-broker'",
    );
    let (tls, plain): (u32, u32) = counts
        .split_once(' ')
        .map(|(a, b)| (a.parse().unwrap_or(0), b.parse().unwrap_or(1)))
        .unwrap_or((0, 1));
    assert!(tls >= 1 && plain == 0, "tls {tls}, plain {plain}");
    drop(store);
    // Without that CA (the public web roots only), the self-signed certificate is refused.
    let e = PgStore::open(pg.options(&url)).expect_err("an unknown certificate is refused");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
}

fn outbox_row(key: &str, stream: &str) -> signoff::broker::store::notify::NewMessage {
    let action = format!("A-{stream}");
    signoff::broker::store::notify::NewMessage::pending(
        "hook",
        &action,
        stream,
        key,
        "{}".into(),
        1,
    )
}

#[test]
fn the_outbox_leases_each_message_to_one_broker_and_hands_over_ended_leases() {
    use signoff::broker::store::Mutation;
    use signoff::broker::store::notify::Outbox;
    use std::time::Duration;
    let pg = pg_support::server();
    let url = pg.database();
    let db = pg_support::db_name(&url).to_string();
    let a = std::sync::Arc::new(PgStore::open(pg.options(&url)).expect("open a"));
    let b = std::sync::Arc::new(PgStore::open(pg.options(&url)).expect("open b"));
    // 40 streams of two messages each, and one twice (kept once).
    let mut batch: Vec<Mutation> = Vec::new();
    for i in 0..40 {
        for n in 1..=2 {
            batch.push(Mutation::NotifyEnqueue(outbox_row(
                &format!("s{i}.{n}"),
                &format!("s{i}"),
            )));
        }
    }
    batch.push(Mutation::NotifyEnqueue(outbox_row("s0.1", "s0")));
    a.commit(&batch).expect("commit");
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM notify_outbox"), "80");
    let (oa, ob) = (a.outbox(), b.outbox());
    let long = Duration::from_secs(300);
    // Both brokers take at once: every stream's first message, each to one of them.
    let (ta, tb) = std::thread::scope(|s| {
        let ta = s.spawn(|| oa.take_due(i64::MAX / 2, 30, &[], long).expect("take a"));
        let tb = s.spawn(|| ob.take_due(i64::MAX / 2, 30, &[], long).expect("take b"));
        (ta.join().expect("a"), tb.join().expect("b"))
    });
    let rest = oa
        .take_due(i64::MAX / 2, 100, &[], long)
        .expect("take the rest");
    let mut keys: Vec<String> = ta
        .iter()
        .chain(&tb)
        .chain(&rest)
        .map(|m| m.key.clone())
        .collect();
    eprintln!(
        "taken at once: {} and {}, then {}",
        ta.len(),
        tb.len(),
        rest.len()
    );
    keys.sort();
    let mut want: Vec<String> = (0..40).map(|i| format!("s{i}.1")).collect();
    want.sort();
    assert_eq!(
        keys, want,
        "each stream's first message, to exactly one broker"
    );
    assert!(
        ob.take_due(i64::MAX / 2, 100, &[], long)
            .expect("take")
            .is_empty(),
        "leased messages and those behind them wait"
    );
    // The holder marks it; the stream's next message becomes due.
    let first = ta.first().or(tb.first()).or(rest.first()).expect("one");
    let holder: &dyn Outbox = if ta.iter().any(|m| m.id == first.id) {
        &oa
    } else if tb.iter().any(|m| m.id == first.id) {
        &ob
    } else {
        &oa
    };
    holder.finish(first.id, "done", None).expect("finish");
    let next = ob.take_due(i64::MAX / 2, 100, &[], long).expect("take");
    let stream = first.key.split('.').next().expect("stream");
    assert_eq!(
        next.iter().map(|m| m.key.clone()).collect::<Vec<_>>(),
        vec![format!("{stream}.2")]
    );
    // A lease that ended (its broker died) is taken over; the old holder's mark is dropped.
    let c = std::sync::Arc::new(PgStore::open(pg.options(&url)).expect("open c"));
    let oc = c.outbox();
    pg.psql(
        &db,
        "UPDATE notify_outbox SET lease_until = 0 WHERE state = 'pending'",
    );
    let taken = oc
        .take_due(i64::MAX / 2, 100, &[], long)
        .expect("take over");
    assert_eq!(taken.len(), 40, "every leased message, taken over");
    let late = &taken[0];
    oa.finish(late.id, "done", None).expect("a stale mark");
    ob.finish(late.id, "done", None).expect("a stale mark");
    assert_eq!(
        pg.psql(
            &db,
            &format!("SELECT state FROM notify_outbox WHERE id = {}", late.id)
        ),
        "pending",
        "only the lease holder marks a message"
    );
    oc.retry(late.id, 5, "HTTP 500").expect("retry");
    assert_eq!(
        pg.psql(
            &db,
            &format!(
                "SELECT state, attempts, lease_until IS NULL FROM notify_outbox WHERE id = {}",
                late.id
            )
        ),
        "pending|1|t"
    );
}
