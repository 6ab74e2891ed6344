//! The issuer side of sign-in: configuration, discovery, and turning a token response into
//! a [`Session`].
//!
//! Discovery is redone for each sign-in and refresh (both are rare), so key rotation and
//! endpoint moves at the issuer need no restart.

pub use crate::auth::http::{error_chain, http_client};
use std::collections::BTreeMap;
use std::fmt;

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
    CoreTokenResponse,
};
use openidconnect::{
    AdditionalProviderMetadata, ClientId, ClientSecret, DeviceAuthorizationUrl, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, ProviderMetadata, RevocationUrl,
};
use serde::{Deserialize, Serialize};

use super::session::Session;
use crate::auth::jose;
use crate::protocol::Timestamp;
use crate::protocol::messages::Identity;

/// Scopes always requested at sign-in; [`IssuerConfig::scopes`] adds to them.
pub const BASE_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Which issuer the console signs in with, and as which client.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The issuer URL; discovery is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// The console's (public) client id at the issuer.
    pub client_id: String,
    /// Only for issuers that insist on a secret for device-flow clients (Google).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Extra scopes beyond `openid profile email offline_access`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Extra parameters for the device authorization request, e.g. `audience` (Auth0) or
    /// `resource` (RFC 8707) so that the access token is a JWT for the broker.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_params: BTreeMap<String, String>,
    /// The claim holding the user's groups (in the ID or access token).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
}

fn default_groups_claim() -> String {
    "groups".into()
}

impl IssuerConfig {
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            scopes: Vec::new(),
            extra_params: BTreeMap::new(),
            groups_claim: default_groups_claim(),
        }
    }

    /// Every scope requested: the base set, then the configured extras, without repeats.
    pub fn all_scopes(&self) -> Vec<String> {
        let mut out: Vec<String> = BASE_SCOPES.iter().map(|s| s.to_string()).collect();
        for s in &self.scopes {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        out
    }
}

impl fmt::Debug for IssuerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("scopes", &self.scopes)
            .field("extra_params", &self.extra_params)
            .field("groups_claim", &self.groups_claim)
            .finish()
    }
}

/// Endpoints beyond the core discovery document: device authorization and revocation.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ExtraMetadata {
    #[serde(default)]
    pub device_authorization_endpoint: Option<DeviceAuthorizationUrl>,
    #[serde(default)]
    pub revocation_endpoint: Option<RevocationUrl>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Why talking to the issuer failed. Messages never contain tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    #[error("issuer URL {0:?} is not valid")]
    BadIssuerUrl(String),
    #[error("could not read the issuer's discovery document at {issuer}: {detail}")]
    Discovery { issuer: String, detail: String },
    #[error("the issuer {0} does not offer the device authorization grant")]
    NoDeviceFlow(String),
    #[error("the issuer's token response is unusable: {0}")]
    BadTokenResponse(String),
    #[error("could not reach the issuer: {0}")]
    Unreachable(String),
}

/// Fetches and checks the discovery document.
pub async fn discover(cfg: &IssuerConfig, http: &reqwest::Client) -> Result<Metadata, IssuerError> {
    let url = IssuerUrl::new(cfg.issuer.clone())
        .map_err(|_| IssuerError::BadIssuerUrl(cfg.issuer.clone()))?;
    Metadata::discover_async(url, http)
        .await
        .map_err(|e| IssuerError::Discovery {
            issuer: cfg.issuer.clone(),
            detail: error_chain(&e),
        })
}

/// The openidconnect client type with the endpoints discovery sets.
pub type OidcClient = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// A client for the discovered issuer (token endpoint from discovery).
pub fn client(cfg: &IssuerConfig, meta: Metadata) -> OidcClient {
    CoreClient::from_provider_metadata(
        meta,
        ClientId::new(cfg.client_id.clone()),
        cfg.client_secret.clone().map(ClientSecret::new),
    )
}

/// Builds a session from a token response: verifies the ID token when there is one, and
/// reads subject, email, name and groups from it (groups also from a JWT access token).
pub fn session_from_response(
    cfg: &IssuerConfig,
    meta: &Metadata,
    resp: &CoreTokenResponse,
    previous: Option<&Session>,
) -> Result<Session, IssuerError> {
    let access_token = resp.access_token().secret().clone();
    let access_claims = jose::unverified_claims(&access_token);
    let now = Timestamp::now();
    let mut identity = match resp.extra_fields().id_token() {
        Some(id_token) => {
            let c = client(cfg, meta.clone());
            let verifier = c.id_token_verifier().set_allowed_algs([
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                CoreJwsSigningAlgorithm::EdDsa,
            ]);
            // Device-flow ID tokens carry no nonce (there is no front-channel request).
            let claims = id_token
                .claims(&verifier, |_: Option<&Nonce>| Ok(()))
                .map_err(|e| IssuerError::BadTokenResponse(format!("ID token: {e}")))?;
            let raw = jose::unverified_claims(&id_token.to_string()).unwrap_or_default();
            Identity {
                subject: claims.subject().to_string(),
                email: claims.email().map(|e| e.to_string()),
                name: claims
                    .name()
                    .and_then(|n| n.get(None))
                    .map(|n| n.to_string()),
                groups: jose::string_list(raw.get(&cfg.groups_claim)),
            }
        }
        None => match (previous, &access_claims) {
            // Refresh responses may omit the ID token; the person has not changed.
            (Some(p), _) => p.identity.clone(),
            (None, Some(c)) => Identity {
                subject: c
                    .get("sub")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                email: c.get("email").and_then(|v| v.as_str()).map(String::from),
                name: c.get("name").and_then(|v| v.as_str()).map(String::from),
                groups: Vec::new(),
            },
            (None, None) => {
                return Err(IssuerError::BadTokenResponse(
                    "neither an ID token nor a JWT access token names the user".into(),
                ));
            }
        },
    };
    if identity.subject.is_empty() {
        return Err(IssuerError::BadTokenResponse("no subject".into()));
    }
    if let Some(c) = &access_claims {
        let from_access = jose::string_list(c.get(&cfg.groups_claim));
        if identity.groups.is_empty() {
            identity.groups = from_access;
        }
        if identity.email.is_none() {
            identity.email = c.get("email").and_then(|v| v.as_str()).map(String::from);
        }
    }
    let jwt_exp = access_claims
        .as_ref()
        .and_then(|c| c.get("exp"))
        .and_then(|v| v.as_i64())
        .map(|s| Timestamp::from_unix_millis(s.saturating_mul(1000)));
    let expires_at = match (resp.expires_in(), jwt_exp) {
        (Some(d), _) => now.plus_secs(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        (None, Some(t)) => t,
        // Unknown lifetime: assume short, so the next use refreshes early.
        (None, None) => now.plus_secs(300),
    };
    let refresh_token = resp
        .refresh_token()
        .map(|t| t.secret().clone())
        .or_else(|| previous.and_then(|p| p.refresh_token.clone()));
    Ok(Session {
        issuer: cfg.clone(),
        access_token,
        refresh_token,
        id_token: resp
            .extra_fields()
            .id_token()
            .map(|t| t.to_string())
            .or_else(|| previous.and_then(|p| p.id_token.clone())),
        expires_at,
        obtained_at: now,
        identity,
        broker: previous.and_then(|p| p.broker.clone()),
    })
}
