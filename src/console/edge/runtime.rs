//! The edge: one `tokio::select!` over terminal input, the broker feed, effect results
//! and the clock; performs effects; draws only when the state changed.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use ed25519_dalek::{SigningKey, VerifyingKey};
use futures_util::StreamExt as _;
use tokio::sync::mpsc;

use crate::auth::BoxFuture;
use crate::client::{BrokerHttp, ClientError, FeedConfig, feed};
use crate::console::core::app::{App, Level, Settings};
use crate::console::core::keymap::Keymap;
use crate::console::core::msg::{Effect, HistoryAsk, KeyRegistration, Msg};
use crate::console::core::session;
use crate::console::core::update::update;
use crate::console::dialogs::login::DeviceAuthorization;
use crate::console::edge::config::Config;
use crate::console::edge::export::{export_jsonl, osc52};
use crate::console::edge::heap_trim::{self, TrimPolicy};
use crate::console::edge::notify::alert_bytes;
use crate::console::edge::signals::StopSignals;
use crate::console::edge::terminal::TerminalGuard;
use crate::console::ui::Root;
use crate::console::ui::theme::Theme;
use crate::identity::{TokenError, TokenSource};
use crate::protocol::{ClientMsg, HistoryQuery, HistoryRecord, KeyId, Timestamp};

/// The device-flow sign-in, as the console drives it. The identity module implements it.
pub trait LoginFlow: Send + Sync + 'static {
    /// Asks the issuer for a device code.
    fn start(&self) -> BoxFuture<'_, Result<DeviceAuthorization, String>>;
    /// Waits until the approver confirmed (or the code expired) and stores the session.
    fn finish(&self, auth: DeviceAuthorization) -> BoxFuture<'_, Result<(), String>>;
}

/// Everything the console needs to run.
pub struct RunOptions {
    pub config: Config,
    pub theme: Theme,
    pub tokens: Arc<dyn TokenSource>,
    pub key: SigningKey,
    pub login: Option<Arc<dyn LoginFlow>>,
    /// No usable session: open with the login dialog (needs `login`).
    pub needs_login: bool,
    /// Lines shown first in the help overlay (`?`) for the whole session.
    pub intro: Vec<String>,
    /// `signoff review ID`: select this action once it is on the queue.
    pub review: Option<crate::protocol::ActionId>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    #[error("config: {0}")]
    Config(String),
}

/// Runs the console until the approver quits.
pub async fn run(opts: RunOptions) -> Result<(), ConsoleError> {
    let keymap = Keymap::with_overrides(&opts.config.keys).map_err(ConsoleError::Config)?;
    let http = BrokerHttp::new(&opts.config.broker_url, opts.tokens.clone())
        .map_err(|e| ConsoleError::Config(e.to_string()))?;
    let settings = Settings {
        keymap,
        key_id: KeyId::of(&opts.key.verifying_key()),
        alert_level: opts.config.alert_level,
        broker_url: opts.config.broker_url.clone(),
        // The only random source of the console's decisions, read here at the edge.
        decision_seed: ulid::Ulid::new().random(),
    };
    let mut app = App::new(settings, Timestamp::now());
    app.intro = opts.intro.clone();
    app.review = opts.review;
    let mut feed = feed::spawn(
        FeedConfig::new(&opts.config.broker_url),
        opts.tokens.clone(),
    );
    let (results_tx, mut results) = mpsc::unbounded_channel::<Msg>();

    // The device key registration (idempotent) lets the broker accept our signatures;
    // the core decides when (at start, after every sign-in, and again on a connect while
    // it is not registered).
    let register = Registrar {
        http: http.clone(),
        key: opts.key.verifying_key(),
        tx: results_tx.clone(),
    };
    let sign_in_first = opts.needs_login && opts.login.is_some();
    let mut pending = update(&mut app, Msg::Started { sign_in_first });

    let mut stop = StopSignals::install()?;
    let mut guard = TerminalGuard::enter()?;
    let size = guard.terminal.size()?;
    update(&mut app, Msg::Resize(size.width, size.height));
    let mut input = EventStream::new();
    let mut second = tokio::time::interval(Duration::from_secs(1));
    let mut spin = tokio::time::interval(Duration::from_millis(120));
    second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    spin.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    let mut trim_policy = TrimPolicy::default();
    let mut trim_due = false;
    // Keep the terminal's own title to put back at exit (xterm's title stack).
    guard.write_raw(b"\x1b[22;0t")?;
    let mut title = String::new();

    loop {
        let now_title = crate::console::core::review::title(&app);
        if now_title != title {
            title = now_title;
            guard.write_raw(&title_bytes(&title))?;
        }
        if app.dirty {
            guard.terminal.draw(|f| {
                f.render_widget(
                    Root {
                        app: &app,
                        theme: &opts.theme,
                    },
                    f.area(),
                )
            })?;
            app.dirty = false;
        }
        if trim_due {
            // After the frame that shows the snapshot (so it is not delayed), once the
            // message carrying its decoded actions has been applied and dropped.
            heap_trim::trim();
            trim_due = false;
        }
        let busy = app.busy();
        let msg = tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Some(Ok(Event::Mouse(m))) => Msg::Mouse(m),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(Event::Paste(text))) => Msg::Paste(text),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            Some(ev) = feed.events.recv() => Msg::Feed(ev),
            Some(m) = results.recv() => m,
            name = stop.recv() => {
                tracing::info!(signal = name, "stopping: terminal closed or told to stop");
                break;
            }
            _ = second.tick() => Msg::Tick(Timestamp::now()),
            _ = spin.tick(), if busy => Msg::Tick(Timestamp::now()),
            // A diff computed off the event loop made progress or finished: redraw.
            () = crate::console::model::diff_job::WAKE.notified() => {
                app.dirty = true;
                continue;
            }
        };
        trim_due |= trim_policy.after(&msg);
        let log_msg = !matches!(msg, Msg::Tick(_));
        if log_msg {
            tracing::debug!(?msg, "msg");
        }
        let mut effects = std::mem::take(&mut pending);
        effects.extend(update(&mut app, msg));
        for effect in effects {
            match effect {
                Effect::SignAndSend(decision) => {
                    tracing::info!(decision = %decision.decision_id, action = %decision.action_id, verdict = %decision.verdict, "sending decision");
                    let signed = decision.sign(&opts.key);
                    feed.send(ClientMsg::Decide { decision: signed });
                }
                Effect::Send(m) => feed.send(m),
                Effect::Alert { title, body } => {
                    let bytes = alert_bytes(opts.config.notify, &title, &body);
                    if !bytes.is_empty() {
                        guard.write_raw(&bytes)?;
                    }
                }
                Effect::Reconnect => feed.reconnect(),
                Effect::Claim(id) => {
                    let (http, tx) = (http.clone(), results_tx.clone());
                    tokio::spawn(async move {
                        // A hint for other approvers: failing to send it is only a notice.
                        if let Err(e) = http.claim(id).await {
                            tracing::warn!(error = %e, action = %id, "claim failed");
                            let _ = tx.send(Msg::Notice {
                                level: Level::Warn,
                                text: format!("could not tell the broker you are looking: {e}"),
                            });
                        }
                    });
                }
                Effect::RegisterKey => register.clone().spawn(),
                Effect::RefreshToken => {
                    let (tokens, tx) = (opts.tokens.clone(), results_tx.clone());
                    tokio::spawn(async move {
                        let answer = session::Answer::of(tokens.bearer().await);
                        let _ = tx.send(Msg::TokenChecked(answer));
                    });
                }
                Effect::Resync => feed.resync(),
                Effect::StartLogin => start_login(opts.login.clone(), results_tx.clone()),
                Effect::FetchHistory { generation, query } => {
                    fetch_history(http.clone(), generation, query, results_tx.clone());
                }
                Effect::AskHistory {
                    ask,
                    generation,
                    query,
                } => ask_history(http.clone(), ask, generation, query, results_tx.clone()),
                Effect::CopyToClipboard(text) => guard.write_raw(&osc52(&text))?,
                Effect::ExportHistory { file_name, records } => {
                    export_history(file_name, records, results_tx.clone());
                }
                Effect::Quit => app.should_quit = true,
            }
        }
        if app.should_quit {
            break;
        }
    }
    let _ = guard.write_raw(b"\x1b[23;0t");
    drop(guard);
    Ok(())
}

/// The bytes that set the terminal title (crossterm's `SetTitle`); the title is built
/// from counts only, never from agent text.
fn title_bytes(title: &str) -> Vec<u8> {
    let mut s = String::new();
    let _ = crossterm::Command::write_ansi(&crossterm::terminal::SetTitle(title), &mut s);
    s.into_bytes()
}

/// Registers the console's device key with the broker (idempotent), in the background.
#[derive(Clone)]
struct Registrar {
    http: BrokerHttp,
    key: VerifyingKey,
    tx: mpsc::UnboundedSender<Msg>,
}

impl Registrar {
    /// Registers the key and reports how it ended as [`Msg::KeyRegistration`].
    fn spawn(self) {
        tokio::spawn(async move { self.register().await });
    }

    async fn register(&self) {
        let label = crate::identity::login::device_label();
        let result = match self.http.register_key(&self.key, &label).await {
            Ok(_) => KeyRegistration::Registered,
            // Signed out: the login dialog takes over and registers after the sign-in.
            Err(ClientError::Token(TokenError::SignedOut(_))) => KeyRegistration::SignedOut,
            Err(e) => {
                tracing::warn!(error = %e, "device key registration failed");
                KeyRegistration::Failed(e.to_string())
            }
        };
        let _ = self.tx.send(Msg::KeyRegistration(result));
    }
}

/// Runs one device-flow sign-in in the background, reporting its steps as messages (the
/// core registers the key afterwards).
fn start_login(login: Option<Arc<dyn LoginFlow>>, tx: mpsc::UnboundedSender<Msg>) {
    let Some(flow) = login else {
        let _ = tx.send(Msg::LoginFinished(Err(
            "no sign-in is configured for this console: restart it with a fresh --token (or \
             SIGNOFF_TOKEN), or without --token to use `signoff login`'s session"
                .into(),
        )));
        return;
    };
    tokio::spawn(async move {
        match flow.start().await {
            Ok(auth) => {
                let _ = tx.send(Msg::LoginStarted(auth.clone()));
                let done = flow.finish(auth).await;
                let _ = tx.send(Msg::LoginFinished(done));
            }
            Err(e) => {
                let _ = tx.send(Msg::LoginFinished(Err(e)));
            }
        }
    });
}

/// Fetches one history page off the UI path; the answer comes back as a message.
pub fn fetch_history(
    http: BrokerHttp,
    generation: u64,
    query: HistoryQuery,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let result = http.history(&query).await.map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::warn!(error = %e, "history page failed");
        }
        let _ = tx.send(Msg::HistoryPage { generation, result });
    });
}

/// Fetches a refresh or search page off the UI path; the answer comes back as a message.
pub fn ask_history(
    http: BrokerHttp,
    ask: HistoryAsk,
    generation: u64,
    query: HistoryQuery,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::spawn(async move {
        let result = http.history(&query).await.map_err(|e| e.to_string());
        let _ = tx.send(Msg::HistoryAnswer {
            ask,
            generation,
            result,
        });
    });
}

/// Writes the export in the working directory off the UI path and says where it went.
fn export_history(
    file_name: String,
    records: Vec<Arc<HistoryRecord>>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    tokio::task::spawn_blocking(move || {
        let dir = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."));
        let msg = match export_jsonl(&dir, &file_name, &records) {
            Ok(path) => Msg::Notice {
                level: Level::Success,
                text: format!(
                    "exported {} record(s) as JSON Lines to {} (working directory)",
                    records.len(),
                    path.display()
                ),
            },
            Err(e) => Msg::Notice {
                level: Level::Error,
                text: format!("export failed: {e}"),
            },
        };
        let _ = tx.send(msg);
    });
}
