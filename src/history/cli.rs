//! `signoff history`: the one I/O edge of the history module. Builds the query from the
//! flags, pages through `GET /v1/history` with the cursor, and prints a table or JSON Lines.
//!
//! Exit codes: 0 success (also when nothing matches), 1 broker unreachable or failing,
//! 2 a bad filter or missing setting (the CLI's own check, or the broker's `400
//! invalid_query`), 3 the token was refused.

use std::io::{IsTerminal as _, Write};
use std::process::ExitCode;
use std::time::Duration;

use reqwest::StatusCode;

use super::args::{HistoryArgs, build_query};
use super::params::to_pairs;
use super::table::render_table;
use crate::identity::session::SessionError;
use crate::protocol::api::ApiError;
use crate::protocol::history::MAX_PAGE;
use crate::protocol::{
    ErrorCode, HistoryCursor, HistoryPage, HistoryQuery, HistoryRecord, Timestamp,
};
use crate::report::{self, WrapErr as _};

/// Why `signoff history` failed; each maps to an exit code ([`CliError::exit_code`]).
/// The `String` variants are leaf reasons (a filter, a missing setting, the broker's
/// refusal); what wraps an HTTP, JSON, session or I/O error keeps it as its source.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("bad filter: {0}")]
    BadFilter(String),
    #[error("{0}")]
    Setup(String),
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    #[error("cannot find the sign-in session")]
    DataDir(#[source] SessionError),
    #[error("{0}")]
    Auth(String),
    #[error("your sign-in session")]
    Session(#[source] SessionError),
    #[error("{0}")]
    Broker(String),
    #[error("cannot reach the broker at {url}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("reading the broker's answer")]
    Answer(#[source] reqwest::Error),
    #[error("the broker's answer is not a history page")]
    NotAPage(#[source] serde_json::Error),
    #[error("writing output")]
    Output(#[source] std::io::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadFilter(_)
            | CliError::Setup(_)
            | CliError::HttpClient(_)
            | CliError::DataDir(_) => 2,
            CliError::Auth(_) | CliError::Session(_) => 3,
            CliError::Broker(_)
            | CliError::Unreachable { .. }
            | CliError::Answer(_)
            | CliError::NotAPage(_)
            | CliError::Output(_) => 1,
        }
    }
}

/// What was printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    pub records: u64,
    /// Where to continue when more records matched than `--limit` allowed.
    pub next_cursor: Option<HistoryCursor>,
}

/// Runs the command: stdout gets the records, stderr any message. A failure is printed
/// with its causes (`report::exit`) and exits with [`CliError::exit_code`] (1 otherwise).
pub fn run(args: HistoryArgs) -> ExitCode {
    report::exit(print(&args), |e| {
        report::find::<CliError>(e).map_or(1, CliError::exit_code)
    })
}

fn print(args: &HistoryArgs) -> report::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the runtime")?;
    let stdout = std::io::stdout();
    let width = stdout
        .is_terminal()
        .then(|| {
            crossterm::terminal::size()
                .ok()
                .map(|(w, _)| usize::from(w))
        })
        .flatten();
    let mut out = stdout.lock();
    let printed = runtime.block_on(execute(args, &mut out, Timestamp::now(), width))?;
    if printed.records == 0 && !args.json {
        eprintln!("No decisions match these filters.");
    } else if let Some(next) = &printed.next_cursor {
        eprintln!(
            "(showing the newest {}; for more use --limit N, --all, or --cursor {})",
            printed.records, next.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Fetches and prints. `width` is the terminal's, when stdout is one.
pub async fn execute(
    args: &HistoryArgs,
    out: &mut impl Write,
    now: Timestamp,
    width: Option<usize>,
) -> Result<Printed, CliError> {
    let query = build_query(args, now).map_err(CliError::BadFilter)?;
    let creds = credentials(args).await?;
    let (broker, token) = (creds.broker.as_str(), creds.token.as_str());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(CliError::HttpClient)?;
    let url = format!("{}/v1/history", broker.trim_end_matches('/'));
    let mut table_rows: Vec<HistoryRecord> = Vec::new();
    let mut printed = Printed {
        records: 0,
        next_cursor: None,
    };
    let each = |record: HistoryRecord, out: &mut dyn Write, rows: &mut Vec<HistoryRecord>| {
        if args.json {
            // Safe to cat: bidi, C1 and every other non-printable character as `\uXXXX`.
            let line = serde_json::to_string(&record).map_err(std::io::Error::other)?;
            writeln!(out, "{}", crate::text::escape_json(&line))
        } else {
            rows.push(record);
            Ok(())
        }
    };
    let result = pages(
        &client,
        &url,
        (token, creds.from_session),
        query,
        args.max_records(),
        |records, more| {
            for record in records {
                each(record, out, &mut table_rows)?;
                printed.records += 1;
            }
            printed.next_cursor = more;
            Ok(())
        },
    )
    .await;
    match result {
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(printed);
        }
        other => other?,
    }
    if !args.json && !table_rows.is_empty() {
        write_all(out, render_table(&table_rows, width).as_bytes())?;
    }
    Ok(printed)
}

fn write_all(out: &mut impl Write, bytes: &[u8]) -> Result<(), CliError> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(CliError::Output),
    }
}

/// Pages through the history, handing each page's records (at most `max` in all) to
/// `sink`, with the cursor to continue from when records beyond `max` remain.
async fn pages(
    client: &reqwest::Client,
    url: &str,
    token: (&str, bool),
    mut query: HistoryQuery,
    max: Option<u64>,
    mut sink: impl FnMut(Vec<HistoryRecord>, Option<HistoryCursor>) -> std::io::Result<()>,
) -> Result<(), CliError> {
    let mut seen: u64 = 0;
    loop {
        let want = max.map_or(u64::from(MAX_PAGE), |m| (m - seen).min(u64::from(MAX_PAGE)));
        query.limit = Some(want as u32);
        let page = fetch_page(client, url, token, &query).await?;
        let mut records = page.records;
        records.truncate(want as usize);
        seen += records.len() as u64;
        let got_none = records.is_empty();
        let reached = max.is_some_and(|m| seen >= m);
        let more = page.next_cursor.clone().filter(|_| reached);
        sink(records, more).map_err(CliError::Output)?;
        match page.next_cursor {
            Some(next) if !reached && !got_none => {
                if query.cursor.as_ref() == Some(&next) {
                    return Err(CliError::Broker(
                        "the broker returned the same cursor twice".into(),
                    ));
                }
                query.cursor = Some(next);
            }
            _ => return Ok(()),
        }
    }
}

async fn fetch_page(
    client: &reqwest::Client,
    url: &str,
    (token, from_session): (&str, bool),
    query: &HistoryQuery,
) -> Result<HistoryPage, CliError> {
    let response = client
        .get(url)
        .query(&to_pairs(query))
        .bearer_auth(token)
        .send()
        .await
        .map_err(|source| CliError::Unreachable {
            url: url.to_string(),
            source,
        })?;
    let status = response.status();
    let body = response.bytes().await.map_err(CliError::Answer)?;
    if status == StatusCode::OK {
        return serde_json::from_slice(&body).map_err(CliError::NotAPage);
    }
    let api: Option<ApiError> = serde_json::from_slice(&body).ok();
    let message = api.as_ref().map_or_else(
        || String::from_utf8_lossy(&body).chars().take(200).collect(),
        |a| a.error.message.clone(),
    );
    let code = api.map(|a| a.error.code);
    Err(match (status, code) {
        (_, Some(ErrorCode::InvalidQuery | ErrorCode::InvalidField))
        | (StatusCode::BAD_REQUEST, _) => {
            CliError::BadFilter(format!("the broker refused the filter: {message}"))
        }
        (StatusCode::UNAUTHORIZED, _) if from_session => CliError::Auth(format!(
            "the broker refused your session's token: {message}; sign in again with `signoff login`"
        )),
        (StatusCode::UNAUTHORIZED, _) => CliError::Auth(format!("token refused: {message}")),
        (StatusCode::FORBIDDEN, _) => CliError::Auth(format!(
            "forbidden: {message} (history needs an approver token)"
        )),
        _ => CliError::Broker(format!("the broker answered {status}: {message}")),
    })
}

/// Where to ask and with what: the flags and environment, else the sign-in session.
struct Credentials {
    broker: String,
    token: String,
    /// The token came from `signoff login`'s session (a 401 then means: sign in again).
    from_session: bool,
}

/// `--token`/`SIGNOFF_TOKEN` and `--broker`/`SIGNOFF_BROKER_URL` win; otherwise the
/// approver's sign-in session gives both (refreshed when due), as it does for the console.
async fn credentials(args: &HistoryArgs) -> Result<Credentials, CliError> {
    let nonempty = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
    let broker = nonempty(crate::env::or_deprecated(args.broker.clone()));
    let (token, from_session, session_broker) = match nonempty(args.token.clone()) {
        Some(t) => (t, false, None),
        None => {
            let s = session(args).await?;
            (s.access_token, true, s.broker)
        }
    };
    let broker = broker.or(session_broker).ok_or_else(|| {
        CliError::Setup(
            "no broker: pass --broker URL, set SIGNOFF_BROKER_URL, or sign in with \
             `signoff login --broker URL`"
                .into(),
        )
    })?;
    Ok(Credentials {
        broker,
        token,
        from_session,
    })
}

async fn session(args: &HistoryArgs) -> Result<crate::identity::Session, CliError> {
    use crate::identity::session::{SessionStore, default_data_dir};
    let dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => default_data_dir().map_err(CliError::DataDir)?,
    };
    match SessionStore::new(dir).valid_session().await {
        Ok(s) => Ok(s),
        Err(SessionError::NotSignedIn) => Err(CliError::Setup(
            "no token: sign in with `signoff login`, or pass --token / set SIGNOFF_TOKEN \
             (an approver token)"
                .into(),
        )),
        Err(e) => Err(CliError::Session(e)),
    }
}
