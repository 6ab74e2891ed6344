//! The history screen's effects against a real broker on 127.0.0.1:0 whose SQLite store
//! is seeded with generated, signed history: `H` fetches the first page through the
//! runtime's `fetch_history`, moving to the end pulls every further page exactly once,
//! a chip refetches, and a refused token shows as an error state.

mod history_support;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use signoff::auth::static_tokens::{StaticToken, StaticTokens};
use signoff::auth::{PrincipalKind, hash_token};
use signoff::broker::{RunningBroker, Settings};
use signoff::client::BrokerHttp;
use signoff::console::app::{App, Screen};
use signoff::console::fixtures::live_app;
use signoff::console::history_live::{BrokerSearch, SETTLE_MS};
use signoff::console::history_view::{Load, PAGE_SIZE};
use signoff::console::runtime::{ask_history, fetch_history};
use signoff::console::{Effect, Msg, update};
use signoff::identity::FixedToken;
use signoff::protocol::{HistoryRecord, Status, Timestamp};
use tokio::sync::mpsc;

const APPROVER: &str = "approver-token";
/// More than two pages of [`PAGE_SIZE`].
const COUNT: usize = 450;

async fn start() -> (tempfile::TempDir, RunningBroker, Vec<HistoryRecord>) {
    start_edited(|_| {}).await
}

/// A broker seeded with [`COUNT`] records, `edit` applied before they are stored.
async fn start_edited(
    edit: impl FnOnce(&mut [HistoryRecord]),
) -> (tempfile::TempDir, RunningBroker, Vec<HistoryRecord>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let records = history_support::seed_edited(dir.path(), COUNT, edit);
    let auth = StaticTokens::new(vec![StaticToken {
        token_sha256: format!("sha256:{}", hash_token(APPROVER)),
        kind: PrincipalKind::Approver,
        subject: "maria.garcia@example.com".into(),
        email: None,
        name: None,
        groups: vec!["sre".into()],
    }]);
    let settings = Settings::new(Arc::new(auth), Default::default(), dir.path());
    let broker = signoff::broker::spawn(settings)
        .await
        .expect("broker starts");
    (dir, broker, records)
}

/// Drives the console like the runtime does: performs history fetches for real and
/// feeds their answers back until nothing is left to fetch. Returns how many fetches ran.
async fn drive(app: &mut App, http: &BrokerHttp, first: Vec<Effect>) -> usize {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut pending = first;
    let mut fetched = 0;
    loop {
        let mut waiting = 0;
        for e in pending.drain(..) {
            match e {
                Effect::FetchHistory { generation, query } => {
                    fetch_history(http.clone(), generation, query, tx.clone());
                }
                Effect::AskHistory {
                    ask,
                    generation,
                    query,
                } => ask_history(http.clone(), ask, generation, query, tx.clone()),
                _ => continue,
            }
            waiting += 1;
            fetched += 1;
        }
        if waiting == 0 {
            return fetched;
        }
        for _ in 0..waiting {
            let msg = tokio::time::timeout(Duration::from_secs(60), rx.recv())
                .await
                .expect("a history page within 60 s")
                .expect("the channel stays open");
            assert!(matches!(
                msg,
                Msg::HistoryPage { .. } | Msg::HistoryAnswer { .. }
            ));
            pending.extend(update(app, msg));
        }
    }
}

fn key(app: &mut App, c: char) -> Vec<Effect> {
    update(
        app,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    )
}

fn shown_ids(app: &App) -> Vec<String> {
    app.history
        .local()
        .result_records()
        .map(|r| r.action.id.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_screen_pages_lazily_from_a_real_broker() {
    let (_dir, broker, records) = start().await;
    let http = BrokerHttp::new(&broker.url(), Arc::new(FixedToken(APPROVER.into())))
        .expect("client builds");
    let mut app = live_app(Vec::new(), (160, 48));

    // H: one page, newest first, exactly as stored.
    let fx = key(&mut app, 'H');
    assert_eq!(app.screen, Screen::History);
    assert_eq!(drive(&mut app, &http, fx).await, 1);
    assert_eq!(app.history.load, Load::Ready);
    assert_eq!(app.history.local().loaded(), PAGE_SIZE as usize);
    assert!(app.history.next_cursor.is_some());
    let want: Vec<String> = records.iter().map(|r| r.action.id.to_string()).collect();
    assert_eq!(shown_ids(&app), want[..PAGE_SIZE as usize]);
    assert!(
        app.history
            .local()
            .result_records()
            .all(|r| r.signatures_verified.len() == r.action.votes.len()
                && r.signatures_verified.iter().all(|v| *v))
    );

    // Moving to the end pulls the next page, once per visit to the end.
    let mut pages = 1;
    while app.history.next_cursor.is_some() {
        let fx = key(&mut app, 'G');
        assert_eq!(drive(&mut app, &http, fx).await, 1);
        pages += 1;
        assert!(pages <= 3, "{COUNT} records are three pages");
    }
    assert_eq!(pages, 3);
    assert_eq!(
        shown_ids(&app),
        want,
        "every decision exactly once, in order"
    );
    assert!(key(&mut app, 'G').is_empty(), "nothing more to fetch");

    // A chip filters at once and refetches from the first page under the filter (the
    // selection stays on its record, near the end, so the following pages come too).
    let fx = key(&mut app, 'f');
    assert!(fx.is_empty());
    let fx = key(&mut app, ' ');
    match fx.as_slice() {
        [Effect::FetchHistory { query, .. }] => {
            assert_eq!(query.outcome, vec![Status::Approved]);
            assert_eq!(query.cursor, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(drive(&mut app, &http, fx).await >= 1);
    let approved: Vec<String> = records
        .iter()
        .filter(|r| r.action.status == Status::Approved)
        .map(|r| r.action.id.to_string())
        .collect();
    assert!(!approved.is_empty());
    assert_eq!(shown_ids(&app), approved);
    assert_eq!(app.history.local().loaded(), COUNT);

    // A refused token: the error is the state, not an empty list.
    let bad = BrokerHttp::new(&broker.url(), Arc::new(FixedToken("wrong".into())))
        .expect("client builds");
    let mut other = live_app(Vec::new(), (80, 24));
    let fx = key(&mut other, 'H');
    drive(&mut other, &bad, fx).await;
    assert!(
        matches!(&other.history.load, Load::Failed(e) if e.contains("401")),
        "{:?}",
        other.history.load
    );
    broker.shutdown().await.expect("broker stops");
}

/// A word that only an unloaded record's reason holds is found by the broker's full-text
/// search once the search text settles, and merges into the loaded set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_search_finds_a_word_only_in_an_unloaded_record() {
    const WORD: &str = "quokkapalooza";
    let (_dir, broker, records) = start_edited(|rs| {
        let oldest = rs.last_mut().expect("records");
        oldest.reason = format!("rolled back after the {WORD} incident");
    })
    .await;
    let target = records.last().expect("records").action.id;
    let http = BrokerHttp::new(&broker.url(), Arc::new(FixedToken(APPROVER.into())))
        .expect("client builds");
    let mut app = live_app(Vec::new(), (160, 48));
    let fx = key(&mut app, 'H');
    drive(&mut app, &http, fx).await;
    assert_eq!(app.history.local().loaded(), PAGE_SIZE as usize);
    assert!(app.history.local().index().slot_of(target).is_none());

    key(&mut app, '/');
    let mut fx = Vec::new();
    for c in WORD.chars() {
        fx.extend(key(&mut app, c));
    }
    assert!(fx.is_empty(), "typing alone asks nothing: {fx:?}");
    assert!(
        app.history.rows().is_empty(),
        "nothing loaded holds the word"
    );
    let settled = Timestamp::from_unix_millis(app.now.unix_millis() + SETTLE_MS);
    let fx = update(&mut app, Msg::Tick(settled));
    assert_eq!(drive(&mut app, &http, fx).await, 1, "one broker search");
    assert_eq!(shown_ids(&app), vec![target.to_string()]);
    assert_eq!(app.history.local().loaded(), PAGE_SIZE as usize + 1);
    assert!(
        matches!(
            &app.history.live.broker,
            BrokerSearch::Found { added: 1, .. }
        ),
        "{:?}",
        app.history.live.broker
    );
    broker.shutdown().await.expect("broker stops");
}
