//! The console's login dialog, driven by the same device-flow code as `signoff login`.
//!
//! [`DeviceLogin`] implements the console's [`LoginFlow`]: `start` asks the issuer for a
//! code (and draws its QR code with [`qr_lines`]), `finish` polls until the approver
//! confirms, then [`complete_login`] stores the session (0600), creates the device key on
//! first sign-in and registers it with the broker — exactly what `signoff login` does.

use std::collections::HashMap;
use std::sync::Mutex;

use super::runtime::LoginFlow;
use crate::auth::BoxFuture;
use crate::console::dialogs::login::LoginCode;
use crate::identity::broker_keys::KeysError;
use crate::identity::device_flow::{self, start_device_flow};
use crate::identity::login::{LoginError, complete_login};
use crate::identity::oidc::IssuerConfig;
use crate::identity::qr_lines;
use crate::identity::session::SessionStore;

/// Device-flow sign-in into one data dir, registering the key with one broker.
pub struct DeviceLogin {
    store: SessionStore,
    issuer: IssuerConfig,
    broker: Option<String>,
    /// Flows started and not yet finished, by user code. The console only sees the
    /// display half of an authorization; the device code stays here.
    pending: Mutex<HashMap<String, device_flow::DeviceAuthorization>>,
}

impl DeviceLogin {
    pub fn new(store: SessionStore, issuer: IssuerConfig, broker: Option<String>) -> Self {
        Self {
            store,
            issuer,
            broker,
            pending: Mutex::new(HashMap::new()),
        }
    }

    pub fn issuer(&self) -> &IssuerConfig {
        &self.issuer
    }

    fn pending(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, device_flow::DeviceAuthorization>> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The console's view of an authorization: what to show, never the device code.
pub fn for_display(auth: &device_flow::DeviceAuthorization) -> LoginCode {
    LoginCode {
        verification_uri: auth.verification_uri.clone(),
        verification_uri_complete: auth.verification_uri_complete.clone(),
        user_code: auth.user_code.clone(),
        expires_at: auth.expires_at,
        qr: qr_lines(auth.qr_target()),
    }
}

/// A sign-in error, with what to do when this device's key belongs to someone else
/// (another person signed in on this device before).
fn with_hint(e: &LoginError) -> String {
    match e {
        LoginError::Register(KeysError::Api { status: 409, .. }) => format!(
            "{e}; to sign in as another person on this device, run `signoff logout \
             --forget-key` first"
        ),
        _ => e.to_string(),
    }
}

impl LoginFlow for DeviceLogin {
    fn start(&self) -> BoxFuture<'_, Result<LoginCode, String>> {
        Box::pin(async move {
            let auth = start_device_flow(&self.issuer)
                .await
                .map_err(|e| e.to_string())?;
            let shown = for_display(&auth);
            self.pending().insert(auth.user_code.clone(), auth);
            Ok(shown)
        })
    }

    fn finish(&self, shown: LoginCode) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let auth = self
                .pending()
                .remove(&shown.user_code)
                .ok_or("this sign-in code is no longer pending; press Enter to start again")?;
            let mut session = auth
                .poll(tokio::time::sleep)
                .await
                .map_err(|e| e.to_string())?;
            session.broker = self.broker.clone();
            let outcome = match complete_login(&self.store, session).await {
                Ok(o) => o,
                // Signed in, but the broker is down: the console registers the key once
                // its feed connects, so this is not worth a second sign-in.
                Err(LoginError::Register(e @ KeysError::Unreachable { .. })) => {
                    tracing::warn!(error = %e, "signed in; key registration waits for the broker");
                    return Ok(());
                }
                Err(e) => return Err(with_hint(&e)),
            };
            tracing::info!(
                subject = %outcome.session.identity.subject,
                key_id = %outcome.key_id,
                registered = ?outcome.registered,
                "signed in from the console"
            );
            Ok(())
        })
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;
    use std::time::Duration;

    use super::*;
    use crate::identity::dev_issuer::{self, DevIssuerConfig};

    #[tokio::test]
    async fn signs_in_through_the_dev_issuer_and_stores_a_0600_session() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = dev_issuer::start(
            listener,
            DevIssuerConfig {
                confirm_delay: Duration::from_millis(50),
                ..DevIssuerConfig::default()
            },
        )
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let flow = DeviceLogin::new(SessionStore::new(dir.path()), issuer.issuer_config(), None);
        let shown = flow.start().await.unwrap();
        assert!(shown.verification_uri.starts_with(&issuer.issuer_url));
        assert!(!shown.qr.is_empty(), "a QR code of the verification URI");
        flow.finish(shown.clone()).await.unwrap();
        let store = SessionStore::new(dir.path());
        let session = store.load().unwrap().expect("session stored");
        assert_eq!(session.identity.subject, "dev-approver");
        let mode = std::fs::metadata(store.session_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(store.device_key_path().exists(), "device key created");
        // The same code cannot be finished twice.
        let again = flow.finish(shown).await.unwrap_err();
        assert!(again.contains("no longer pending"), "{again}");
        issuer.shutdown().await;
    }
}
