//! The HTTP client and error text shared by everything that talks to an issuer: the
//! broker's JWKS cache here and the approver's sign-in in `identity`.

use std::time::Duration;

/// An HTTP client for the issuer: no redirects (SSRF), bounded time.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

/// An error and its causes on one line.
pub use crate::report::one_line as error_chain;
