//! OIDC bearer JWT validation against the issuer's JWKS.

use serde::{Deserialize, Serialize};

use super::PrincipalKind;

/// How the broker validates JWTs from one issuer (the `[oidc]` section of its config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The issuer URL; discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The audience tokens must carry (usually the console's client id or an API id).
    pub audience: String,
    /// Allowed signing algorithms; only RS256, ES256 and EdDSA may be listed.
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// Clock leeway for `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    #[serde(default = "default_subject_claim")]
    pub subject_claim: String,
    #[serde(default = "default_email_claim")]
    pub email_claim: String,
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Whether tokens from this issuer are approvers (console) or agents (client credentials).
    #[serde(default = "default_kind")]
    pub kind: PrincipalKind,
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into(), "EdDSA".into()]
}
fn default_leeway() -> u64 {
    30
}
fn default_subject_claim() -> String {
    "sub".into()
}
fn default_email_claim() -> String {
    "email".into()
}
fn default_groups_claim() -> String {
    "groups".into()
}
fn default_kind() -> PrincipalKind {
    PrincipalKind::Approver
}
