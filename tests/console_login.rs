//! Sign-in from the console, end to end: the real `signoff` binary in a pty with an empty
//! data dir, a real broker validating the development issuer's JWTs, and the device flow
//! in the login dialog — then the queue, an agent's action on screen, a 0600 session, and
//! the dialog again when the session dies mid-run.
//! Also `signoff demo` (issue 7): a first action on screen, `q` quits cleanly.

mod broker_common;
mod console_support;
#[path = "oidc/harness.rs"]
mod harness;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use console_support::pty::Pty;
use signoff::auth::jwt::JwtAuthenticator;
use signoff::auth::static_tokens::StaticTokens;
use signoff::auth::{Authenticator, Chain};
use signoff::identity::SessionStore;
use signoff::identity::dev_issuer::{self, DevIssuerConfig};
use signoff::protocol::api::KeyList;
use signoff::testkit::eventually;

/// The user code shown after `Code` in the login dialog.
fn user_code_on(screen: &str) -> Option<String> {
    screen
        .lines()
        .find_map(|l| l.split_once("Code    ").map(|(_, rest)| rest))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|c| c.trim_matches('║').to_string())
        .filter(|c| !c.is_empty())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn an_empty_data_dir_signs_in_through_the_dialog_then_shows_the_queue() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let issuer = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cfg = DevIssuerConfig {
            // Long enough to read the code on screen on a loaded machine.
            confirm_delay: Duration::from_secs(4),
            // Short-lived access tokens: the console refreshes them while running.
            access_token_ttl: Duration::from_secs(50),
            ..DevIssuerConfig::default()
        };
        dev_issuer::start(listener, cfg).await.unwrap()
    });
    let broker_dir = tempfile::tempdir().unwrap();
    let jwt = JwtAuthenticator::new(issuer.jwt_config()).unwrap();
    let auth: Arc<dyn Authenticator> = Arc::new(Chain(vec![
        Arc::new(StaticTokens::new(broker_common::tokens())),
        Arc::new(jwt),
    ]));
    let settings = signoff::broker::Settings::new(
        auth,
        signoff::broker::policy::Engine::default(),
        broker_dir.path(),
    );
    let broker = rt.block_on(signoff::broker::spawn(settings)).unwrap();
    let url = broker.url();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("signoff");

    let mut pty = Pty::spawn(
        100,
        40,
        &[
            ("SIGNOFF_BROKER_URL", url.clone()),
            ("SIGNOFF_ISSUER", issuer.issuer_url.clone()),
            ("SIGNOFF_CLIENT_ID", "signoff-console".into()),
            ("SIGNOFF_DATA_DIR", data_dir.display().to_string()),
        ],
    );
    // The dialog with the device flow's code, where to enter it, and its QR code.
    pty.wait_for("Sign in to start approving.", 60);
    pty.wait_for(&format!("{}/device", issuer.issuer_url), 10);
    let screen = pty.contents();
    let code = user_code_on(&screen).unwrap_or_else(|| panic!("no user code:\n{screen}"));
    assert!(code.len() >= 8 && code.contains('-'), "{code:?}\n{screen}");
    assert!(
        screen.contains('▀') || screen.contains('▄'),
        "QR code:\n{screen}"
    );
    // The development issuer confirms by itself; the queue takes over.
    pty.wait_for("signed in", 60);
    pty.wait_gone("Sign in to start approving.", 10);
    pty.wait_for("● live", 60);

    let store = SessionStore::new(&data_dir);
    let session = store.load().unwrap().expect("session stored");
    assert_eq!(session.identity.subject, "dev-approver");
    assert_eq!(session.broker.as_deref(), Some(url.as_str()));
    assert_eq!(mode(&store.session_path()), 0o600, "session file 0600");
    assert_eq!(mode(&store.device_key_path()), 0o600, "device key 0600");

    // The sign-in registered this device's key with the broker.
    let http = broker_common::Http::at(&url);
    let keys: KeyList = console_support::get_json(&rt, &url, "/v1/keys", &session.access_token);
    let key = signoff::identity::DeviceKey::load(&store.device_key_path())
        .unwrap()
        .unwrap();
    assert!(
        keys.keys.iter().any(|k| k.key_id == key.key_id()),
        "{keys:?}"
    );

    // An agent's action reaches the signed-in console.
    rt.block_on(http.submit(
        broker_common::AGENT,
        &broker_common::request("Export after sign-in"),
    ));
    pty.wait_for("Data assistant", 60);
    assert!(pty.contents().contains("db.export"));

    // The session dies mid-run (signed out elsewhere): the dialog opens by itself,
    // signs in again, and the queue comes back.
    // (The console refreshes the 50 s tokens every 15 s; a refresh in flight while the
    // file is deleted writes it back, so delete again until the console notices.)
    let mut deleted: Option<Instant> = None;
    let opened = eventually(Duration::from_secs(120), || {
        if deleted.is_none_or(|t| t.elapsed() >= Duration::from_secs(20)) {
            store.delete().unwrap();
            deleted = Some(Instant::now());
        }
        pty.contents()
            .contains("Sign in to keep approving.")
            .then_some(())
    });
    assert!(
        opened.is_some(),
        "the dialog never opened; screen:\n{}",
        pty.contents()
    );
    pty.wait_gone("Sign in to keep approving.", 60);
    pty.wait_for("● live", 60);
    assert!(store.load().unwrap().is_some(), "signed in again");
    pty.wait_for("Data assistant", 10);
    pty.press("q");
    assert!(pty.wait_exit(30).success());
    assert!(pty.restored());
    rt.block_on(async {
        let _ = broker.shutdown().await;
        issuer.shutdown().await;
    });
}

/// Waits until the dialog shows a user code other than `not`.
fn wait_user_code(pty: &Pty, not: Option<&str>, secs: u64) -> String {
    eventually(Duration::from_secs(secs), || {
        user_code_on(&pty.contents()).filter(|c| Some(c.as_str()) != not)
    })
    .unwrap_or_else(|| panic!("no new user code; screen:\n{}", pty.contents()))
}

/// Against the real OpenID provider (`oidc-provider`), confirmed over HTTP as a phone
/// would: a declined sign-in shows `access_denied` in the dialog, Enter starts a new
/// one, and confirming it opens the queue.
#[cfg(unix)]
#[test]
fn declined_then_confirmed_at_the_real_provider() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let provider = harness::Provider::start(harness::Options::default());
    let jwt: signoff::auth::jwt::JwtConfig = serde_json::from_value(serde_json::json!({
        "issuer": provider.issuer, "audience": "urn:signoff:broker",
    }))
    .unwrap();
    let auth: Arc<dyn Authenticator> = Arc::new(Chain(vec![
        Arc::new(StaticTokens::new(broker_common::tokens())),
        Arc::new(JwtAuthenticator::new(jwt).unwrap()),
    ]));
    let broker_dir = tempfile::tempdir().unwrap();
    let settings = signoff::broker::Settings::new(
        auth,
        signoff::broker::policy::Engine::default(),
        broker_dir.path(),
    );
    let broker = rt.block_on(signoff::broker::spawn(settings)).unwrap();
    let url = broker.url();
    let data = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        100,
        40,
        &[
            ("SIGNOFF_BROKER_URL", url.clone()),
            ("SIGNOFF_ISSUER", provider.issuer.clone()),
            ("SIGNOFF_CLIENT_ID", "signoff-console".into()),
            ("SIGNOFF_DATA_DIR", data.path().display().to_string()),
        ],
    );
    let first = wait_user_code(&pty, None, 60);
    rt.block_on(harness::confirm_user_code(
        &provider.issuer,
        &first,
        "alice",
        true,
    ));
    pty.wait_for("(access_denied)", 60);
    pty.wait_for("Enter try again", 5);
    pty.press("\r");
    let second = wait_user_code(&pty, Some(&first), 60);
    rt.block_on(harness::confirm_user_code(
        &provider.issuer,
        &second,
        "alice",
        false,
    ));
    pty.wait_for("signed in", 60);
    pty.wait_for("● live", 60);
    let session = SessionStore::new(data.path())
        .load()
        .unwrap()
        .expect("session");
    assert_eq!(session.identity.subject, "alice");
    rt.block_on(broker_common::Http::at(&url).submit(
        broker_common::AGENT,
        &broker_common::request("Export after a real sign-in"),
    ));
    pty.wait_for("Data assistant", 60);
    pty.press("q");
    assert!(pty.wait_exit(30).success());
    rt.block_on(async {
        let _ = broker.shutdown().await;
    });
}

/// A code nobody confirms in time: the real provider's `expired_token` is shown in the
/// dialog, and Enter asks for a new code.
#[cfg(unix)]
#[test]
fn an_unconfirmed_code_expires_with_its_message() {
    let provider = harness::Provider::start(harness::Options {
        device_ttl_secs: Some(3),
        ..harness::Options::default()
    });
    let data = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(
        100,
        40,
        &[
            ("SIGNOFF_ISSUER", provider.issuer.clone()),
            ("SIGNOFF_CLIENT_ID", "signoff-console".into()),
            ("SIGNOFF_DATA_DIR", data.path().display().to_string()),
        ],
    );
    let first = wait_user_code(&pty, None, 60);
    pty.wait_for("(expired_token)", 60);
    pty.wait_for("Enter try again", 5);
    pty.press("\r");
    wait_user_code(&pty, Some(&first), 60);
    assert!(
        SessionStore::new(data.path()).load().unwrap().is_none(),
        "no session from an expired code"
    );
    pty.press("q");
    assert!(pty.wait_exit(30).success());
}

/// The status bar's `N pending`.
fn pending_count(screen: &str) -> Option<usize> {
    let words: Vec<&str> = screen.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[1] == "pending" && w[0].chars().all(|c| c.is_ascii_digit()))
        .and_then(|w| w[0].parse().ok())
}

/// The pids whose parent is `pid` (from /proc).
#[cfg(target_os = "linux")]
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces, so split after the `)`.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(p);
        }
    }
    out
}

/// The demo's temporary directories under `tmp`.
fn demo_dirs(tmp: &Path) -> Vec<String> {
    std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("signoff-demo-"))
        .collect()
}

/// Starts `signoff demo` with its temp dir under `tmp` and waits for a first action.
fn demo_with_a_first_action(tmp: &Path) -> Pty {
    demo_sized(tmp, 120, 40, &[])
}

fn demo_sized(tmp: &Path, cols: u16, rows: u16, args: &[&str]) -> Pty {
    let mut all = vec!["demo"];
    all.extend_from_slice(args);
    let pty = Pty::spawn_args(&all, cols, rows, &[("TMPDIR", tmp.display().to_string())]);
    // The demo signs in in the console's dialog, by itself.
    pty.wait_for("Sign in to start approving.", 60);
    pty.wait_for("signed in", 60);
    // A first sample action: the status bar counts it.
    let counted = eventually(Duration::from_secs(90), || {
        pending_count(&pty.contents()).filter(|n| *n > 0)
    });
    assert!(counted.is_some(), "no action; screen:\n{}", pty.contents());
    pty.wait_gone("No pending actions", 30);
    assert_eq!(demo_dirs(tmp).len(), 1, "the demo's temp dir while it runs");
    pty
}

#[cfg(target_os = "linux")]
#[test]
fn demo_shows_a_first_action_and_quits_leaving_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let mut pty = demo_with_a_first_action(tmp.path());
    let pid = pty.pid().expect("running");
    assert!(children_of(pid).is_empty(), "the demo runs in one process");
    pty.press("q");
    let status = pty.wait_exit(60);
    assert!(status.success(), "exit status {status:?}");
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "process gone");
    assert!(
        demo_dirs(tmp.path()).is_empty(),
        "temp dir removed: {:?}",
        demo_dirs(tmp.path())
    );
    assert!(pty.restored());
}

/// Closing the terminal window (SIGHUP) or `kill` (SIGTERM) must clean up like `q`:
/// their default action would kill the process before the temp dir is removed.
#[cfg(target_os = "linux")]
#[test]
fn demo_cleans_up_when_the_terminal_closes_or_it_is_killed() {
    for signal in [libc::SIGHUP, libc::SIGTERM] {
        let tmp = tempfile::tempdir().unwrap();
        let mut pty = demo_with_a_first_action(tmp.path());
        let pid = pty.pid().expect("running");
        // SAFETY: sending a signal to our own child, which is still running.
        assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
        let status = pty.wait_exit(60);
        assert!(status.success(), "signal {signal}: exit status {status:?}");
        assert!(
            demo_dirs(tmp.path()).is_empty(),
            "signal {signal}: temp dir removed: {:?}",
            demo_dirs(tmp.path())
        );
    }
}

/// Issue 18: the demo names its broker and the one-liners for a second terminal (in `?`),
/// and `signoff history` run as printed uses the demo's sign-in session; `--theme light`
/// is accepted.
#[cfg(target_os = "linux")]
#[test]
fn demo_tells_what_to_run_in_a_second_terminal_and_it_works() {
    let tmp = tempfile::tempdir().unwrap();
    let mut pty = demo_sized(tmp.path(), 230, 50, &["--theme", "light"]);
    pty.press("?");
    pty.wait_for("signoff history --broker", 10);
    let screen = pty.contents();
    let line = screen
        .lines()
        .find(|l| l.contains("signoff history --broker"))
        .unwrap_or_else(|| panic!("{screen}"));
    let mut words = line
        .split_whitespace()
        .skip_while(|w| !w.starts_with("SIGNOFF_DATA_DIR="));
    let data_dir = words
        .next()
        .and_then(|w| w.strip_prefix("SIGNOFF_DATA_DIR="))
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let broker = line
        .split_whitespace()
        .skip_while(|w| *w != "--broker")
        .nth(1)
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    assert!(
        screen.contains(&format!("signoff demo: broker {broker}")),
        "{screen}"
    );
    assert!(screen.contains("SIGNOFF_AGENT_TOKEN=sot_demo_"), "{screen}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["history", "--broker", &broker])
        .env("SIGNOFF_DATA_DIR", &data_dir)
        .env_remove("SIGNOFF_TOKEN")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pty.press("?");
    pty.press("q");
    pty.wait_exit(30);
}
