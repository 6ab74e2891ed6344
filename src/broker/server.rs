//! Starting and stopping a broker: open the store, start the writer and expiry tasks,
//! serve HTTP (optionally TLS) until the shutdown future completes, then drain.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::keys::Keys;
use super::live::Live;
use super::metrics::Metrics;
use super::state::{AppState, Inner};
use super::store::notify::{Outbox, SqliteOutbox};
use super::store::{PgStore, Recovered, SqliteStore, Store, StoreError};
use super::writer::{Op, Parts, Writer};
use super::{Settings, expiry, tls};

/// Why the broker could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("config: {0}")]
    Config(String),
    /// The store URL, its password file or its CA certificates cannot be used.
    #[error("config: {0}")]
    StoreOptions(#[source] crate::broker::store::PgUrlError),
    /// A notification sink, `[callbacks]` or `[slack_interactivity]` cannot be used.
    #[error("config: {0}")]
    Notify(#[from] super::notify::config::NotifyConfigError),
    #[error("audit key: {0}")]
    AuditKey(#[from] crate::identity::device_key::KeyError),
    #[error("config: {0}")]
    ConfigFile(#[from] super::config::ConfigError),
    #[error("config: cannot read the policy {}", path.display())]
    PolicyFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config: {}: {source}", path.display())]
    Policy {
        path: std::path::PathBuf,
        #[source]
        source: super::policy::PolicyError,
    },
    #[error("config: [oidc]: {0}")]
    Oidc(#[from] crate::auth::jwt::JwtConfigError),
}

/// An opened broker: store recovered, writer running, not yet serving.
pub struct Broker {
    state: AppState,
    settings: Settings,
    writer: JoinHandle<()>,
    shutdown_tx: watch::Sender<bool>,
    /// Sends notifications while the broker serves (when any are configured).
    delivery: Option<super::notify::delivery::Delivery>,
}

/// All routes over a shared state.
pub(crate) fn router(state: AppState) -> axum::Router {
    super::http::router(state)
}

impl Broker {
    /// Opens the data directory, recovers pending actions and sequence numbers, and starts
    /// the writer thread.
    pub async fn open(settings: Settings) -> Result<Self, BrokerError> {
        let dir = settings.data_dir.clone();
        let pg = settings.postgres.clone();
        let notifies = !settings.notify.is_empty();
        let (store, outbox, rec) = tokio::task::spawn_blocking(move || {
            let (store, outbox): (Arc<dyn Store>, Option<Arc<dyn Outbox>>) = match pg {
                Some(o) => {
                    let s = Arc::new(PgStore::open(o)?);
                    // Every broker on the database shares one outbox, leasing what it sends.
                    let outbox = notifies.then(|| Arc::new(s.outbox()) as Arc<dyn Outbox>);
                    (s, outbox)
                }
                None => {
                    let s = Arc::new(SqliteStore::open(&dir)?);
                    let outbox = match notifies {
                        true => Some(Arc::new(SqliteOutbox::open(&dir)?) as Arc<dyn Outbox>),
                        false => None,
                    };
                    (s, outbox)
                }
            };
            let rec: Recovered = store.recover()?;
            Ok::<_, StoreError>((store, outbox, rec))
        })
        .await
        .map_err(|e| BrokerError::Io(std::io::Error::other(e)))??;
        let shown = match &settings.postgres {
            Some(o) => o.url.to_string(),
            None => settings.data_dir.display().to_string(),
        };
        tracing::info!(
            store = %shown,
            pending = rec.pending.len(),
            head_seq = rec.head_seq,
            audit_seq = rec.audit_seq,
            "store recovered"
        );
        let t = settings.tunables.clone();
        // The resume window survives a restart: the events kept with their batches.
        let kept = {
            let (store, head, window) = (store.clone(), rec.head_seq, t.resume_window);
            tokio::task::spawn_blocking(move || {
                store.events_after(head.saturating_sub(window as u64), window)
            })
            .await
            .map_err(|e| BrokerError::Io(std::io::Error::other(e)))??
        };
        let live = Arc::new(Live::new(
            rec.pending,
            rec.head_seq,
            t.feed_queue_depth,
            t.resume_window,
        ));
        let replayable = live.restore(kept);
        tracing::debug!(replayable, "resume window restored");
        let keys = Arc::new(Keys::new(rec.keys));
        let metrics = Arc::new(Metrics::default());
        let new_action = Arc::new(Notify::new());
        let key_dir = settings.data_dir.clone();
        let audit_key =
            tokio::task::spawn_blocking(move || super::audit_key::load_or_create(&key_dir))
                .await
                .map_err(|e| BrokerError::Io(std::io::Error::other(e)))??;
        let checkpoint = super::audit_key::Latest::new(super::audit_key::initial(
            &audit_key,
            rec.audit_seq,
            &rec.audit_hash,
        ));
        if store.shared() {
            // Every replica signs checkpoints of the one chain: with one key.
            let ours = super::audit_key::public(&audit_key).public_key;
            let s = store.clone();
            let mine = ours.clone();
            let recorded = tokio::task::spawn_blocking(move || s.claim("audit_public_key", &mine))
                .await
                .map_err(|e| BrokerError::Io(std::io::Error::other(e)))??;
            if recorded != ours {
                return Err(BrokerError::Config(format!(
                    "this database's audit checkpoints are signed with another key than {}: \
                     every broker on one database needs the same {} (copy it from the first \
                     broker's data directory)",
                    super::audit_key::path(&settings.data_dir).display(),
                    super::audit_key::AUDIT_KEY_FILE
                )));
            }
        }
        let audit_key = Arc::new(audit_key);
        let parts = Parts {
            store: store.clone(),
            live: live.clone(),
            keys: keys.clone(),
            metrics: metrics.clone(),
            new_action: new_action.clone(),
            audit_key: audit_key.clone(),
            checkpoint: checkpoint.clone(),
            budgets: t.budgets,
            events_kept: t.resume_window,
            clock: super::writer::wall_clock(),
        };
        let notify_wake = Arc::new(Notify::new());
        let plan = super::notify::Plan::new(&settings.notify, notify_wake.clone()).map(Arc::new);
        let notify_health = Arc::new(super::notify::Health::default());
        let delivery = outbox.map(|outbox| {
            super::notify::delivery::Delivery::new(
                &settings.notify,
                outbox,
                notify_health.clone(),
                notify_wake,
            )
        });
        let w = Writer::new(
            parts,
            rec.head_seq,
            rec.audit_seq,
            rec.audit_hash,
            t.max_batch,
        )
        .with_notify(plan);
        let (wtx, wrx) = mpsc::channel(t.max_batch.max(1024) * 4);
        if store.shared() {
            // Other brokers' commits wake this writer, which reads their events back.
            let flag = w.wake_flag();
            let weak = wtx.downgrade();
            store.watch(Arc::new(move || {
                use std::sync::atomic::Ordering::SeqCst;
                if !flag.swap(true, SeqCst) {
                    let sent = weak
                        .upgrade()
                        .is_some_and(|tx| tx.try_send(Op::CatchUp).is_ok());
                    if !sent {
                        flag.store(false, SeqCst);
                    }
                }
            }));
        }
        let writer = std::thread::Builder::new()
            .name("signoff-writer".into())
            .spawn(move || w.run(wrx))?;
        let verify = super::verify_stage::start(wtx.clone())?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let state = AppState(Arc::new(Inner {
            authenticator: settings.authenticator.clone(),
            policy: settings.policy.clone(),
            store,
            live,
            keys,
            metrics,
            writer: wtx,
            verify,
            new_action,
            tunables: t,
            shutdown: shutdown_rx,
            audit_key: super::audit_key::public(&audit_key),
            checkpoint,
            notify_health,
            callbacks: settings.notify.callbacks.clone(),
            slack_app: settings.notify.slack_app.clone(),
        }));
        Ok(Self {
            state,
            settings,
            writer,
            shutdown_tx,
            delivery,
        })
    }

    /// The broker's routes, for calling the router directly (`tower::ServiceExt::oneshot`).
    pub fn router(&self) -> axum::Router {
        router(self.state.clone())
    }

    /// Serves until `shutdown` completes; then closes feeds, drains the writer and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), BrokerError> {
        let Broker {
            state,
            settings,
            writer,
            shutdown_tx,
            delivery,
        } = self;
        let delivery = delivery.map(|d| tokio::spawn(d.run(state.shutdown.clone())));
        let expiry = tokio::spawn(expiry::run(
            state.live.clone(),
            state.writer.clone(),
            state.new_action.clone(),
            state.shutdown.clone(),
        ));
        let app = router(state.clone());
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: closing feeds and long polls");
            let _ = shutdown_tx.send(true);
        };
        let served = match &settings.tls {
            None => {
                // No Nagle: an ack written right after an event frame must not wait for
                // the peer's delayed ACK (about 40 ms on Linux).
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(signal)
                    .await
            }
            Some(files) => {
                let cfg = tls::server_config(&files.cert, &files.key).map_err(BrokerError::Tls)?;
                let l = tls::TlsListener::new(listener, cfg)?;
                axum::serve(l, app).with_graceful_shutdown(signal).await
            }
        };
        expiry.abort();
        if let Some(d) = delivery {
            d.abort();
        }
        let _ = state.writer.send(Op::Stop).await;
        drop(state);
        let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        tracing::info!("broker stopped");
        served.map_err(BrokerError::Io)
    }
}

/// Opens the broker in `settings` and serves on `listener` until `shutdown` completes.
pub async fn launch(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BrokerError> {
    Broker::open(settings)
        .await?
        .serve(listener, shutdown)
        .await
}

/// A broker running in this process (tests of every module start one with [`spawn`]).
pub struct RunningBroker {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), BrokerError>>>,
}

impl RunningBroker {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/v1/feed`
    pub fn feed_url(&self) -> String {
        format!("ws://{}/v1/feed", self.addr)
    }

    /// Stops gracefully and waits until the store is closed.
    pub async fn shutdown(mut self) -> Result<(), BrokerError> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        match self.handle.take() {
            Some(h) => h
                .await
                .map_err(|e| BrokerError::Io(std::io::Error::other(e)))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningBroker {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Opens a broker and serves it on `127.0.0.1:0` in the background.
pub async fn spawn(settings: Settings) -> Result<RunningBroker, BrokerError> {
    let data_dir = settings.data_dir.clone();
    let broker = Broker::open(settings).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(broker.serve(listener, async move {
        let _ = stopped.await;
    }));
    Ok(RunningBroker {
        addr,
        data_dir,
        stop: Some(stop),
        handle: Some(handle),
    })
}

#[cfg(test)]
mod health_tests {
    use std::time::Duration;

    use axum::extract::State;
    use axum::response::IntoResponse as _;

    use super::*;
    use crate::auth::static_tokens::StaticTokens;
    use crate::broker::http::health::healthz;

    #[tokio::test]
    async fn healthz_fails_once_the_writer_thread_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::new(
            Arc::new(StaticTokens::new([])),
            crate::broker::policy::Engine::default(),
            dir.path(),
        );
        let b = Broker::open(settings).await.unwrap();
        let ok = healthz(State(b.state.clone())).await.into_response();
        assert_eq!(ok.status(), 200);
        // The writer ends (as after a panic): its queue closes with it.
        b.state.writer.send(Op::Stop).await.unwrap();
        let writer = &b.writer;
        let ended = crate::testkit::eventually_async(Duration::from_secs(10), move || async move {
            writer.is_finished().then_some(())
        })
        .await;
        assert!(ended.is_some(), "the writer thread did not end");
        let dead = healthz(State(b.state.clone())).await.into_response();
        assert_eq!(dead.status(), 503);
    }
}
