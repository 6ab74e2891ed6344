//! The sign-in dialog's state: what the approver needs to finish an OIDC device-flow
//! sign-in on another device (RFC 8628), and how it ended.
//!
//! The identity module runs the flow; the console only shows it. This struct is the
//! console's view of a device authorization response, so the dialog is testable without
//! an identity provider.

use crate::console::core::ctx::Ctx;
use crate::console::core::msg::{Action, Effect};
use crate::console::core::notice::Level;
use crate::protocol::Timestamp;

/// The parts of a device authorization response the approver needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAuthorization {
    /// Where to go, e.g. `https://idp.example/device`.
    pub verification_uri: String,
    /// The same with the code filled in, when the issuer offers it (shown as a QR code).
    pub verification_uri_complete: Option<String>,
    /// The code to type there, e.g. `WDJB-MJHT`.
    pub user_code: String,
    pub expires_at: Timestamp,
    /// Optional QR rendering of the complete URI, one string per row (from identity's
    /// `qr_lines`).
    pub qr: Vec<String>,
}

/// Where the sign-in stands. Every state carries `ended`: why the previous session ended,
/// kept visible for the whole sign-in (an approver woken at 3 a.m. wants to know why), or
/// `None` when this device never had a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginState {
    /// Asking the issuer for a code.
    Starting { ended: Option<String> },
    /// Waiting for the approver to confirm on another device.
    Waiting {
        auth: DeviceAuthorization,
        ended: Option<String>,
    },
    /// The flow failed; Enter retries.
    Failed {
        reason: String,
        ended: Option<String>,
    },
}

impl LoginState {
    /// Why the previous session ended, if there was one.
    pub fn ended(&self) -> Option<&str> {
        match self {
            LoginState::Starting { ended }
            | LoginState::Waiting { ended, .. }
            | LoginState::Failed { ended, .. } => ended.as_deref(),
        }
    }

    /// Seconds left to enter the code, at `now`.
    pub fn secs_left(&self, now: Timestamp) -> Option<i64> {
        match self {
            LoginState::Waiting { auth: d, .. } => {
                Some((now.millis_until(d.expires_at) / 1000).max(0))
            }
            _ => None,
        }
    }
}

/// What a key left of the sign-in dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginKey {
    Open(LoginState),
    Closed,
    /// Quit was pressed: the console quits (or asks again while decisions are in
    /// flight, and then the dialog stays).
    Quit(LoginState),
}

impl LoginState {
    /// A key in the dialog: Enter retries a failed sign-in, Esc closes it (the queue
    /// stays readable, nothing can be decided; `retry` is the key that signs in again).
    pub fn key(self, cx: &mut Ctx, action: Action, retry: &str) -> LoginKey {
        match (action, &self) {
            (Action::Submit, LoginState::Failed { ended, .. }) => {
                cx.effect(Effect::StartLogin);
                LoginKey::Open(LoginState::Starting {
                    ended: ended.clone(),
                })
            }
            (Action::Cancel, _) => {
                cx.notice(
                    Level::Warn,
                    &format!("signed out: decisions are disabled; press {retry} to try again"),
                );
                LoginKey::Closed
            }
            (Action::Quit, _) => LoginKey::Quit(self),
            _ => LoginKey::Open(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_never_goes_negative() {
        let now = Timestamp::from_unix_millis(1_000_000);
        let s = LoginState::Waiting {
            auth: DeviceAuthorization {
                verification_uri: "https://idp/device".into(),
                verification_uri_complete: None,
                user_code: "ABCD-EFGH".into(),
                expires_at: now.plus_secs(90),
                qr: vec![],
            },
            ended: Some("expired".into()),
        };
        assert_eq!(s.ended(), Some("expired"));
        assert_eq!(s.secs_left(now), Some(90));
        assert_eq!(s.secs_left(now.plus_secs(100)), Some(0));
        assert_eq!(
            LoginState::Failed {
                reason: "x".into(),
                ended: None
            }
            .secs_left(now),
            None
        );
    }
}
