//! The console as its runtime drives it (`src/console/runtime.rs`): the real feed client,
//! the real `update`, effects performed the same way (decisions signed with the device
//! key and sent on the feed), and `Root` drawn only when the state changed — to a
//! `TestBackend` instead of a terminal, so a bench can look at what would be on screen.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use signoff::client::{BrokerHttp, FeedConfig, FeedHandle, feed};
use signoff::console::app::{App, Conn, Settings};
use signoff::console::keymap::Keymap;
use signoff::console::theme::Theme;
use signoff::console::ui::Root;
use signoff::console::{Effect, Msg, update};
use signoff::identity::FixedToken;
use signoff::protocol::{ClientMsg, KeyId, RiskLevel, Timestamp};

/// How long any wait may take before the bench gives up (a loaded 2-core machine).
pub const WAIT: Duration = Duration::from_secs(60);

pub struct Console {
    pub app: App,
    pub feed: FeedHandle,
    key: SigningKey,
    theme: Theme,
    terminal: Terminal<TestBackend>,
    /// What the last frame showed, one line per row.
    screen: String,
}

impl Console {
    /// Registers the device key, connects the feed and waits until the snapshot is in.
    pub async fn connect(url: &str, token: &str, key: SigningKey, size: (u16, u16)) -> Self {
        let tokens = Arc::new(FixedToken(token.into()));
        BrokerHttp::new(url, tokens.clone())
            .expect("broker URL")
            .register_key(&key.verifying_key(), "bench")
            .await
            .expect("device key registered");
        let settings = Settings {
            keymap: Keymap::default(),
            key_id: KeyId::of(&key.verifying_key()),
            alert_level: RiskLevel::Critical,
            broker_url: url.into(),
            decision_seed: ulid::Ulid::new().random(),
        };
        let mut app = App::new(settings, Timestamp::now());
        update(&mut app, Msg::Resize(size.0, size.1));
        let mut console = Self {
            app,
            feed: feed::spawn(FeedConfig::new(url), tokens),
            key,
            theme: Theme::dark(),
            terminal: Terminal::new(TestBackend::new(size.0, size.1)).expect("test terminal"),
            screen: String::new(),
        };
        console
            .run_until(|c| {
                c.app.conn == Conn::Live
                    && c.app.catching_up_to.is_none()
                    && c.app.last_seq.is_some()
            })
            .await;
        console
    }

    /// Applies one message and performs its effects, as the runtime does.
    pub fn handle(&mut self, msg: Msg) {
        for effect in update(&mut self.app, msg) {
            match effect {
                Effect::SignAndSend(decision) => {
                    let signed = decision.sign(&self.key);
                    self.feed.send(ClientMsg::Decide { decision: signed });
                }
                Effect::Send(m) => self.feed.send(m),
                Effect::Reconnect => self.feed.reconnect(),
                Effect::Resync => self.feed.resync(),
                // No terminal to ring, no sign-in flow or token refresh (static tokens),
                // nothing to quit; the benches stay on the queue screen, so no history is
                // fetched or exported.
                Effect::Alert { .. }
                | Effect::StartLogin
                | Effect::RefreshToken
                // Registered once before the run.
                | Effect::RegisterKey
                | Effect::Quit
                | Effect::FetchHistory { .. }
                | Effect::AskHistory { .. }
                | Effect::CopyToClipboard(_)
                | Effect::ExportHistory { .. }
                // Only `signoff review` claims; the benches never start that way.
                | Effect::Claim(_) => {}
            }
        }
    }

    /// Draws a frame when something visible changed; true when it did.
    pub fn draw(&mut self) -> bool {
        if !self.app.dirty {
            return false;
        }
        let (app, theme) = (&self.app, &self.theme);
        let frame = self
            .terminal
            .draw(|f| f.render_widget(Root { app, theme }, f.area()))
            .expect("TestBackend draws");
        self.screen = buffer_text(frame.buffer);
        self.app.dirty = false;
        true
    }

    /// True when the last frame shows `text`.
    pub fn shows(&self, text: &str) -> bool {
        self.screen.contains(text)
    }

    /// The runtime's loop, until `done` holds: draw if dirty, check, take the next feed
    /// event. Returns the instant `done` first held (right after the frame was drawn).
    pub async fn run_until(&mut self, mut done: impl FnMut(&Console) -> bool) -> Instant {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            self.draw();
            if done(self) {
                return Instant::now();
            }
            let ev = tokio::time::timeout_at(deadline, self.feed.events.recv())
                .await
                .expect("the condition held within the wait")
                .expect("the feed task runs");
            self.handle(Msg::Feed(ev));
        }
    }
}

/// A buffer's symbols, one line per row.
pub fn buffer_text(buf: &Buffer) -> String {
    let mut out =
        String::with_capacity(usize::from(buf.area.width + 1) * usize::from(buf.area.height));
    for y in buf.area.top()..buf.area.bottom() {
        for x in buf.area.left()..buf.area.right() {
            if let Some(c) = buf.cell((x, y)) {
                out.push_str(c.symbol());
            }
        }
        out.push('\n');
    }
    out
}
