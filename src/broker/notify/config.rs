//! `[[notify]]` sinks and `[callbacks]` in the broker config, and the secrets they name.
//!
//! A secret (Slack bot token, webhook signing secret, PagerDuty routing key, or the
//! Slack/Teams URL that is itself a credential) is read from a file or an environment
//! variable at start, never from the config text, and never printed: [`Secret`]'s
//! `Debug` is `Secret(…)`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::route::{Matcher, Route};

/// Where each kind of sink posts when the config does not say.
pub const SLACK_API: &str = "https://slack.com/api";
pub const PAGERDUTY_EVENTS: &str = "https://events.pagerduty.com/v2/enqueue";

/// The kinds of sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    /// A Slack app's bot token: `chat.postMessage`, then `chat.update` in place.
    Slack,
    /// A Slack incoming webhook URL (the secret): one message per event.
    SlackWebhook,
    /// A Microsoft Teams Workflows HTTP trigger URL (the secret): an Adaptive Card per event.
    Teams,
    /// Any HTTP receiver: JSON signed per Standard Webhooks.
    Webhook,
    /// PagerDuty Events API v2: trigger, then resolve with the same `dedup_key`.
    Pagerduty,
}

impl SinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::Slack => "slack",
            SinkKind::SlackWebhook => "slack_webhook",
            SinkKind::Teams => "teams",
            SinkKind::Webhook => "webhook",
            SinkKind::Pagerduty => "pagerduty",
        }
    }
}

/// One `[[notify]]` table as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    /// Names the sink in metrics, `/healthz?details` and logs: `[a-z0-9_-]`, unique.
    pub name: String,
    pub kind: SinkKind,
    /// Slack: the channel id to post in.
    pub channel: Option<String>,
    /// The file holding the secret (first line, trimmed). Keep it mode 0600.
    pub secret_file: Option<PathBuf>,
    /// Or the environment variable holding it.
    pub secret_env: Option<String>,
    /// Slack: the Web API base; webhook: the receiver (required); PagerDuty: the Events
    /// API endpoint. Slack incoming webhooks and Teams take their URL from the secret,
    /// unless this is set (tests point sinks at local receivers).
    pub url: Option<String>,
    #[serde(default)]
    pub route: Route,
    /// Only when the action is still undecided at this fraction of its time to live
    /// (0 < f < 1): escalation to a wider audience.
    pub escalate_at: Option<f64>,
    /// Only when the action is still undecided this many seconds after it was created.
    pub after_secs: Option<u64>,
    /// Per attempt [default 10].
    pub timeout_secs: Option<u64>,
    /// Attempts before a message is given up [default 20].
    pub max_attempts: Option<u32>,
    /// First retry delay; doubles each attempt, with jitter [default 1000].
    pub retry_base_ms: Option<u64>,
    /// Longest retry delay [default 600].
    pub retry_max_secs: Option<u64>,
    /// The console command line printed in messages [default `signoff review ID`];
    /// `{id}` is replaced by the action id.
    pub review_command: Option<String>,
}

/// `[callbacks]`: where requesters may ask to hear the outcome, and how it is signed.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbacksConfig {
    /// URL prefixes a `callback_url` must start with; others are refused.
    #[serde(default)]
    pub allow: Vec<String>,
    /// The Standard Webhooks secret (`whsec_…`) callbacks are signed with.
    pub secret_file: Option<PathBuf>,
    pub secret_env: Option<String>,
    pub timeout_secs: Option<u64>,
    pub max_attempts: Option<u32>,
    pub retry_base_ms: Option<u64>,
    pub retry_max_secs: Option<u64>,
}

/// `[slack_interactivity]`: the Slack app's interactivity endpoint, for the "I'm looking"
/// button on Slack messages (see docs/notify.md).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackAppConfig {
    /// The app's signing secret (*Basic Information* → *App Credentials*).
    pub signing_secret_file: Option<PathBuf>,
    pub signing_secret_env: Option<String>,
    /// Slack user id (`U0123ABCD`) → the approver it is, as the claim shows them (their
    /// display name if their identity has one, else their subject or email). Slack users
    /// not listed cannot claim.
    #[serde(default)]
    pub users: std::collections::BTreeMap<String, String>,
    /// Refusals are also posted to the interaction's `response_url` when it starts with
    /// this [default `https://hooks.slack.com/`].
    pub response_url_prefix: Option<String>,
}

/// The Slack app's interactivity settings, ready to use.
#[derive(Debug, Clone)]
pub struct SlackApp {
    pub signing_secret: Secret,
    pub users: std::collections::BTreeMap<String, String>,
    pub response_url_prefix: String,
}

/// Where Slack's `response_url`s live.
pub const SLACK_RESPONSE_URLS: &str = "https://hooks.slack.com/";

/// Why the notification settings cannot be used. No message holds a secret's value: a
/// leaf reason names the setting, a secret file that cannot be read names the file and
/// keeps the I/O error as its source.
#[derive(Debug, thiserror::Error)]
pub enum NotifyConfigError {
    /// What is wrong, prefixed with where (`notify[0] (oncall)`, `[callbacks]`, …).
    #[error("{0}")]
    Invalid(String),
    #[error("{what}: cannot read {key} {}", path.display())]
    SecretFile {
        what: String,
        /// `secret_file` or `signing_secret_file`.
        key: String,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<String> for NotifyConfigError {
    fn from(reason: String) -> Self {
        Self::Invalid(reason)
    }
}

/// Reads `[slack_interactivity]` and its signing secret.
pub fn load_slack_app(
    c: &SlackAppConfig,
    base: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<SlackApp, NotifyConfigError> {
    let what = "[slack_interactivity]";
    let file = c.signing_secret_file.as_ref().map(|p| {
        if p.is_relative() {
            base.join(p)
        } else {
            p.clone()
        }
    });
    let signing_secret = read_secret_named(
        what,
        "signing_secret",
        file.as_deref(),
        c.signing_secret_env.as_deref(),
        lookup,
    )?;
    for (user, approver) in &c.users {
        let ok_id = user.len() >= 2
            && user.len() <= 32
            && user.starts_with(['U', 'W'])
            && user
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !ok_id {
            return Err(format!(
                "{what} users: {:?} is not a Slack user id (U… or W…, upper-case letters and \
                 digits)",
                crate::text::visible_string(user)
            )
            .into());
        }
        crate::identity::person::check_identifier(approver).map_err(|m| {
            format!(
                "{what} users.{user}: {:?} {m}",
                crate::text::visible_string(approver)
            )
        })?;
    }
    let prefix = c
        .response_url_prefix
        .clone()
        .unwrap_or_else(|| SLACK_RESPONSE_URLS.to_string());
    check_url(&format!("{what} response_url_prefix"), &prefix)?;
    Ok(SlackApp {
        signing_secret,
        users: c.users.clone(),
        response_url_prefix: prefix,
    })
}

/// A credential; never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// How a sink retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub timeout: Duration,
    pub max_attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Retry {
    fn from(
        timeout_secs: Option<u64>,
        max_attempts: Option<u32>,
        base_ms: Option<u64>,
        max_secs: Option<u64>,
    ) -> Self {
        Self {
            timeout: Duration::from_secs(timeout_secs.unwrap_or(10).max(1)),
            max_attempts: max_attempts.unwrap_or(20).max(1),
            base: Duration::from_millis(base_ms.unwrap_or(1000).max(1)),
            max: Duration::from_secs(max_secs.unwrap_or(600).max(1)),
        }
    }
}

/// When a sink hears about an action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    /// At once.
    None,
    /// At this fraction of the action's time to live.
    FractionOfTtl(f64),
    /// This long after creation.
    After(Duration),
}

/// A sink ready to use: secret loaded, defaults applied.
#[derive(Debug, Clone)]
pub struct Sink {
    pub name: String,
    pub kind: SinkKind,
    pub channel: Option<String>,
    pub secret: Secret,
    /// Where to send (for Slack, the API base).
    pub url: String,
    pub route: Matcher,
    pub delay: Delay,
    pub retry: Retry,
    pub review_command: String,
}

/// Callbacks ready to use.
#[derive(Debug, Clone)]
pub struct Callbacks {
    pub allow: Vec<String>,
    pub secret: Secret,
    pub retry: Retry,
}

impl Callbacks {
    /// The URL to call when `url` is allowed, else why not (for `invalid_field`). The
    /// prefix is checked on the URL as it will be requested (after `..` and `%2e%2e`
    /// segments are resolved), so `allowed/../elsewhere` cannot step out of it.
    pub fn check(&self, url: &str) -> Result<String, String> {
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must be a URL without spaces or control characters".into());
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not a URL ({e})"))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err("must be an http(s) URL".into());
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("must not carry credentials".into());
        }
        let normal = parsed.to_string();
        if self.allow.iter().any(|p| normal.starts_with(p.as_str())) {
            Ok(normal)
        } else {
            Err("is not under a URL prefix the broker allows ([callbacks] allow)".into())
        }
    }
}

/// Every sink and the callback settings: what the broker runs with.
#[derive(Debug, Clone, Default)]
pub struct NotifySettings {
    pub sinks: Vec<Sink>,
    pub callbacks: Option<Callbacks>,
    /// The Slack app's interactivity endpoint: Slack messages then carry an "I'm looking"
    /// button.
    pub slack_app: Option<std::sync::Arc<SlackApp>>,
}

impl NotifySettings {
    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty() && self.callbacks.is_none()
    }
}

fn read_secret(
    what: &str,
    file: Option<&Path>,
    env: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, NotifyConfigError> {
    read_secret_named(what, "secret", file, env, lookup)
}

/// Reads `{key}_file` (mode 0600) or `{key}_env`: the first line, trimmed.
fn read_secret_named(
    what: &str,
    key: &str,
    file: Option<&Path>,
    env: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, NotifyConfigError> {
    let raw = match (file, env) {
        (Some(_), Some(_)) => {
            return Err(format!("{what}: set {key}_file or {key}_env, not both").into());
        }
        (Some(p), None) => {
            let unreadable = |source| NotifyConfigError::SecretFile {
                what: what.to_string(),
                key: format!("{key}_file"),
                path: p.to_path_buf(),
                source,
            };
            let meta = std::fs::metadata(p).map_err(unreadable)?;
            if let Some(why) = readable_by_others(p, &meta) {
                return Err(format!("{what}: {why}").into());
            }
            std::fs::read_to_string(p).map_err(unreadable)?
        }
        (None, Some(v)) => {
            lookup(v).ok_or_else(|| format!("{what}: environment variable {v} is not set"))?
        }
        (None, None) => return Err(format!("{what}: needs {key}_file or {key}_env").into()),
    };
    let s = raw.lines().next().unwrap_or_default().trim().to_string();
    if s.is_empty() {
        return Err(format!("{what}: the secret is empty").into());
    }
    Ok(Secret(s))
}

/// Why a secret file must not be used as it is: others can read it.
fn readable_by_others(p: &Path, meta: &std::fs::Metadata) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Some(format!(
                "secret_file {} is readable by others (mode {mode:o}); run: chmod 600 {}",
                p.display(),
                p.display()
            ));
        }
    }
    let _ = (p, meta);
    None
}

fn check_url(what: &str, url: &str) -> Result<(), String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(format!("{what}: url must be http(s)"))
    }
}

/// Turns the config's tables into sinks, reading each secret. `base` resolves relative
/// secret files; `lookup` reads environment variables.
pub fn load(
    sinks: &[SinkConfig],
    callbacks: Option<&CallbacksConfig>,
    base: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<NotifySettings, NotifyConfigError> {
    let mut out = NotifySettings::default();
    for (i, c) in sinks.iter().enumerate() {
        let what = format!("notify[{i}] ({})", c.name);
        if c.name.is_empty()
            || c.name == "callback"
            || !c
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "notify[{i}].name {:?} must be [a-z0-9_-] (and not \"callback\")",
                c.name
            )
            .into());
        }
        if out.sinks.iter().any(|s: &Sink| s.name == c.name) {
            return Err(format!("notify[{i}].name {:?} is used twice", c.name).into());
        }
        let route = c
            .route
            .compile()
            .map_err(|e| format!("{what}.route: {e}"))?;
        let file = c.secret_file.as_ref().map(|p| {
            if p.is_relative() {
                base.join(p)
            } else {
                p.clone()
            }
        });
        let secret = read_secret(&what, file.as_deref(), c.secret_env.as_deref(), lookup)?;
        let url = match (c.kind, &c.url) {
            (_, Some(u)) => u.clone(),
            (SinkKind::Slack, None) => SLACK_API.to_string(),
            (SinkKind::Pagerduty, None) => PAGERDUTY_EVENTS.to_string(),
            (SinkKind::SlackWebhook | SinkKind::Teams, None) => secret.expose().to_string(),
            (SinkKind::Webhook, None) => return Err(format!("{what}: a webhook needs url").into()),
        };
        check_url(&what, &url)?;
        if c.kind == SinkKind::Slack && c.channel.as_deref().is_none_or(str::is_empty) {
            return Err(format!("{what}: a slack sink needs channel").into());
        }
        if c.kind == SinkKind::Webhook {
            super::sign::WebhookKey::parse(secret.expose()).map_err(|e| format!("{what}: {e}"))?;
        }
        let delay = match (c.escalate_at, c.after_secs) {
            (Some(_), Some(_)) => {
                return Err(format!("{what}: set escalate_at or after_secs, not both").into());
            }
            (Some(f), None) if f > 0.0 && f < 1.0 => Delay::FractionOfTtl(f),
            (Some(f), None) => {
                return Err(format!("{what}: escalate_at {f} must be between 0 and 1").into());
            }
            (None, Some(s)) => Delay::After(Duration::from_secs(s)),
            (None, None) => Delay::None,
        };
        out.sinks.push(Sink {
            name: c.name.clone(),
            kind: c.kind,
            channel: c.channel.clone(),
            secret,
            url,
            route,
            delay,
            retry: Retry::from(
                c.timeout_secs,
                c.max_attempts,
                c.retry_base_ms,
                c.retry_max_secs,
            ),
            review_command: c
                .review_command
                .clone()
                .unwrap_or_else(|| "signoff review {id}".into()),
        });
    }
    if let Some(c) = callbacks {
        let file = c.secret_file.as_ref().map(|p| {
            if p.is_relative() {
                base.join(p)
            } else {
                p.clone()
            }
        });
        let secret = read_secret(
            "[callbacks]",
            file.as_deref(),
            c.secret_env.as_deref(),
            lookup,
        )?;
        super::sign::WebhookKey::parse(secret.expose()).map_err(|e| format!("[callbacks]: {e}"))?;
        for p in &c.allow {
            check_url("[callbacks] allow", p)?;
        }
        out.callbacks = Some(Callbacks {
            allow: c.allow.clone(),
            secret,
            retry: Retry::from(
                c.timeout_secs,
                c.max_attempts,
                c.retry_base_ms,
                c.retry_max_secs,
            ),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Vec<SinkConfig> {
        #[derive(Deserialize)]
        struct W {
            notify: Vec<SinkConfig>,
        }
        toml::from_str::<W>(toml_text).unwrap().notify
    }

    fn env(name: &str) -> Option<String> {
        match name {
            "SLACK_TOKEN" => Some("xoxb-very-secret\n".into()),
            "WH" => Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
            _ => None,
        }
    }

    #[test]
    fn sinks_load_with_defaults_and_secrets_never_print() {
        let c = parse(
            r#"
[[notify]]
name = "oncall"
kind = "slack"
channel = "C1"
secret_env = "SLACK_TOKEN"
route = { risk = ["high", "critical"] }

[[notify]]
name = "hook"
kind = "webhook"
url = "https://example.test/hook"
secret_env = "WH"
escalate_at = 0.5
"#,
        );
        let s = load(&c, None, Path::new("."), &env).unwrap();
        assert_eq!(s.sinks[0].url, SLACK_API);
        assert_eq!(s.sinks[0].secret.expose(), "xoxb-very-secret");
        assert_eq!(s.sinks[1].delay, Delay::FractionOfTtl(0.5));
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("very-secret") && !shown.contains("MfKQ"),
            "{shown}"
        );
    }

    #[test]
    fn bad_sinks_are_refused_with_their_index() {
        let e = |t: &str| {
            load(&parse(t), None, Path::new("."), &env)
                .unwrap_err()
                .to_string()
        };
        let msg = e("[[notify]]\nname = \"a\"\nkind = \"slack\"\nsecret_env = \"SLACK_TOKEN\"\n");
        assert!(
            msg.contains("notify[0]") && msg.contains("channel"),
            "{msg}"
        );
        let msg = e("[[notify]]\nname = \"a\"\nkind = \"pagerduty\"\nsecret_env = \"NOPE\"\n");
        assert!(msg.contains("NOPE is not set"), "{msg}");
        let msg = e("[[notify]]\nname = \"A B\"\nkind = \"pagerduty\"\nsecret_env = \"WH\"\n");
        assert!(msg.contains("[a-z0-9_-]"), "{msg}");
        let msg = e(
            "[[notify]]\nname = \"a\"\nkind = \"webhook\"\nurl = \"https://x\"\nsecret_env = \"SLACK_TOKEN\"\n",
        );
        assert!(msg.contains("whsec_"), "{msg}");
        let msg = e(
            "[[notify]]\nname = \"a\"\nkind = \"pagerduty\"\nsecret_env = \"WH\"\nescalate_at = 1.5\n",
        );
        assert!(msg.contains("between 0 and 1"), "{msg}");
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("token");
        std::fs::write(&f, "xoxb-1\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let c = parse(&format!(
            "[[notify]]\nname = \"a\"\nkind = \"slack\"\nchannel = \"C\"\nsecret_file = {f:?}\n"
        ));
        let e = load(&c, None, Path::new("."), &env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("chmod 600") && !e.contains("xoxb-1"), "{e}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let s = load(&c, None, Path::new("."), &env).unwrap();
        assert_eq!(s.sinks[0].secret.expose(), "xoxb-1");
        // A file that is not there: named, with the I/O error kept as the source.
        let absent = dir.path().join("absent");
        let c = parse(&format!(
            "[[notify]]\nname = \"a\"\nkind = \"slack\"\nchannel = \"C\"\nsecret_file = {absent:?}\n"
        ));
        let e = load(&c, None, Path::new("."), &env).unwrap_err();
        assert!(
            matches!(&e, NotifyConfigError::SecretFile { what, source, .. }
                if what == "notify[0] (a)" && source.kind() == std::io::ErrorKind::NotFound),
            "{e:?}"
        );
        assert!(e.to_string().contains("absent"), "{e}");
    }

    #[test]
    fn slack_interactivity_maps_slack_user_ids_and_reads_its_signing_secret() {
        let parse_app = |t: &str| toml::from_str::<SlackAppConfig>(t).unwrap();
        let lookup = |k: &str| (k == "SIGNING").then(|| "s3cr3t-signing\n".to_string());
        let app = load_slack_app(
            &parse_app("signing_secret_env = \"SIGNING\"\nusers = { U0BOB = \"bob\", W0ALICE = \"alice@example.com\" }\n"),
            Path::new("."),
            &lookup,
        )
        .unwrap();
        assert_eq!(app.signing_secret.expose(), "s3cr3t-signing");
        assert_eq!(app.users["U0BOB"], "bob");
        assert_eq!(app.response_url_prefix, SLACK_RESPONSE_URLS);
        assert!(!format!("{app:?}").contains("s3cr3t"));
        let e = load_slack_app(
            &parse_app("signing_secret_env = \"SIGNING\"\nusers = { bob = \"bob\" }\n"),
            Path::new("."),
            &lookup,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not a Slack user id"), "{e}");
        let e = load_slack_app(&parse_app(""), Path::new("."), &lookup)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("signing_secret_file or signing_secret_env"),
            "{e}"
        );
        assert!(toml::from_str::<SlackAppConfig>("bogus = 1").is_err());
    }

    #[test]
    fn callbacks_allow_only_listed_prefixes() {
        let c = CallbacksConfig {
            allow: vec!["https://ci.example.test/hooks/".into()],
            secret_env: Some("WH".into()),
            ..Default::default()
        };
        let s = load(&[], Some(&c), Path::new("."), &env).unwrap();
        let cb = s.callbacks.unwrap();
        assert_eq!(
            cb.check("https://ci.example.test/hooks/42").as_deref(),
            Ok("https://ci.example.test/hooks/42")
        );
        assert!(cb.check("https://evil.test/hooks/").is_err());
        assert!(cb.check("https://ci.example.test/hooks/ x").is_err());
        assert!(cb.check("https://ci.example.test/hooks/../admin").is_err());
        assert!(
            cb.check("https://ci.example.test/hooks/%2e%2e/admin")
                .is_err()
        );
        assert!(cb.check("https://u:p@ci.example.test/hooks/1").is_err());
        assert!(cb.check("ftp://ci.example.test/hooks/1").is_err());
    }
}
