//! Notifications end to end: a real broker posts to local receivers standing in for
//! Slack, Teams, PagerDuty and a webhook consumer; each payload's shape is checked,
//! webhook signatures are verified with the Standard Webhooks reference library
//! (`standardwebhooks` on npm), failures are retried, a SIGKILLed broker delivers what
//! it had not delivered after its restart with the same idempotency keys, and a Slack
//! message is edited in place through an action's whole life.

mod broker_common;
mod notify_support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use broker_common::*;
use notify_support::*;
use serde_json::Value;
use signoff::auth::static_tokens::StaticTokens;
use signoff::broker::config::Config;
use signoff::broker::policy::Engine;
use signoff::broker::{RunningBroker, Settings};
use signoff::protocol::{KeyId, ServerMsg, Status, Verdict};
use signoff::testkit::eventually_async;

/// The Slack app's signing secret in these tests.
const SLACK_SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// db.export in production is critical and needs two approvers.
const POLICY: &str = r#"
[[rule]]
name = "prod-export"
kind = "db.export"
environment = "production"
level = "critical"
approvals_required = 2

# The pictures in docs/notify.md are compared byte for byte; an off-hours tag would
# make them depend on the hour the tests run at.
[detectors.off-hours]
enabled = false
"#;

fn secret(name: &str) -> Option<String> {
    match name {
        "SLACK" => Some("xoxb-test-token".into()),
        "WH" => Some(WHSEC.into()),
        "PD" => Some("R0UTINGKEY0000000000000000000000".into()),
        "TEAMS" => Some("https://example.invalid/workflows/secret".into()),
        "SLACK_SIGNING" => Some(SLACK_SIGNING_SECRET.into()),
        _ => None,
    }
}

async fn start_with(dir: &Path, notify_toml: &str) -> RunningBroker {
    let c = Config::from_toml_str(notify_toml).expect("config");
    let mut s = Settings::new(
        Arc::new(StaticTokens::new(tokens())),
        Engine::from_toml_str(POLICY).expect("policy"),
        dir,
    );
    s.notify = signoff::broker::notify::config::load(
        &c.notify,
        c.callbacks.as_ref(),
        Path::new("."),
        &secret,
    )
    .expect("notify settings");
    if let Some(app) = &c.slack_interactivity {
        let app = signoff::broker::notify::config::load_slack_app(app, Path::new("."), &secret)
            .expect("slack interactivity settings");
        s.notify.slack_app = Some(Arc::new(app));
    }
    signoff::broker::spawn(s).await.expect("broker starts")
}

/// A Slack sink `oncall` posting to channel C42 through `slack`.
fn slack_sink(slack: &Receiver) -> String {
    format!(
        "[[notify]]\nname = \"oncall\"\nkind = \"slack\"\nchannel = \"C42\"\n\
         secret_env = \"SLACK\"\nurl = \"{}/api\"\n",
        slack.url()
    )
}

/// Signs and sends a vote over `token`'s own feed; the status the ack reports.
async fn approve(
    b: &RunningBroker,
    http: &Http,
    token: &str,
    who: &str,
    seed: u8,
    id: &str,
    verdict: Verdict,
) -> Status {
    vote_on(&b.feed_url(), http, (token, who, seed), id, verdict).await
}

#[tokio::test]
async fn slack_message_is_posted_then_updated_in_place_through_the_whole_life() {
    let dir = tempfile::tempdir().unwrap();
    let slack = Receiver::start(Role::Slack).await;
    let b = start_with(dir.path(), &slack_sink(&slack)).await;
    let http = Http::new(&b);
    http.register(BOB, &key(1)).await;
    http.register(CAROL, &key(2)).await;
    let created = http.submit(AGENT, &request("Export customers")).await;
    let id = created.id.to_string();

    let got = slack.wait_for(1).await;
    assert_eq!(got[0].path, "/api/chat.postMessage");
    assert_eq!(got[0].header("authorization"), "Bearer xoxb-test-token");
    let post = got[0].json();
    assert_eq!(post["channel"], "C42");
    let blocks = post["blocks"].as_array().expect("Block Kit blocks");
    assert_eq!(blocks[0]["type"], "header");
    assert!(
        blocks.iter().all(|b| b["type"] != "actions"),
        "no approve button"
    );
    let text = post.to_string();
    for want in [
        "db.export",
        "postgres:customers",
        "production",
        "critical",
        "Data assistant (agent-7) on behalf of alice@example.com",
        "0 of 2 approvals",
        "left",
        created.digest.prefix(12),
        &format!("signoff review {id}"),
    ] {
        assert!(
            text.contains(want),
            "{want:?} missing from the post: {text}"
        );
    }

    // "I'm looking": on the action (not its digest), on the feed row, in the message.
    let (s, v) = http.claim(BOB, &id).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["action"]["looking"][0], "bob");
    assert_eq!(
        v["digest"],
        created.digest.as_str(),
        "a claim changes no digest"
    );
    let (s, _) = http.claim(AGENT, &id).await;
    assert_eq!(s, 403, "approvers only");
    let got = slack.wait_for(2).await;
    assert_eq!(got[1].path, "/api/chat.update");
    assert_eq!(got[1].json()["ts"], "1700000000.000001");
    assert!(got[1].body.contains("bob is looking"), "{}", got[1].body);

    // A vote: the same message, edited.
    let status = approve(&b, &http, BOB, "bob", 1, &id, Verdict::Approve).await;
    assert_eq!(status, Status::Pending);
    let got = slack.wait_for(3).await;
    assert_eq!(got[2].path, "/api/chat.update");
    let update = got[2].json();
    assert_eq!(update["channel"], "C42");
    assert_eq!(
        update["ts"], "1700000000.000001",
        "the ts chat.postMessage answered"
    );
    let text = update.to_string();
    assert!(
        text.contains("1 of 2 approvals") && text.contains("bob approve"),
        "{text}"
    );

    // The decision: who, outcome, reason, key id; still the same message.
    let status = approve(&b, &http, CAROL, "carol", 2, &id, Verdict::Approve).await;
    assert_eq!(status, Status::Approved);
    let got = slack.wait_for(4).await;
    assert_eq!(got[3].path, "/api/chat.update");
    let done = got[3].json();
    assert_eq!(done["ts"], "1700000000.000001");
    let text = done.to_string();
    let carol_key = KeyId::of(&key(2).verifying_key()).0;
    assert!(text.contains("Approved: db.export"), "{text}");
    assert!(text.contains("approved by bob, carol"), "{text}");
    assert!(
        text.contains("carol says so") && text.contains(&carol_key),
        "{text}"
    );

    // Withdrawn: posted, then edited to say so.
    let (s, _) = http.claim(BOB, &id).await;
    assert_eq!(s, 409, "a decided action takes no claim");
    let other = http.submit(AGENT, &request("Export again")).await;
    slack.wait_for(5).await;
    let (s, _) = http.withdraw(AGENT, &other.id.to_string()).await;
    assert_eq!(s, 200);
    let got = slack.wait_for(6).await;
    assert_eq!(got[4].path, "/api/chat.postMessage");
    assert_eq!(got[5].path, "/api/chat.update");
    assert_eq!(got[5].json()["ts"], "1700000000.000002");
    assert!(
        got[5].body.contains("withdrawn by agent-7"),
        "{}",
        got[5].body
    );
    assert_eq!(
        slack
            .got()
            .iter()
            .filter(|r| r.path.ends_with("postMessage"))
            .count(),
        2,
        "one message per action"
    );
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn teams_card_signed_webhook_and_pagerduty_trigger_then_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let teams = Receiver::start(Role::Teams).await;
    let hook = Receiver::start(Role::Webhook).await;
    let pd = Receiver::start(Role::PagerDuty).await;
    let b = start_with(
        dir.path(),
        &format!(
            r#"
[[notify]]
name = "teams"
kind = "teams"
secret_env = "TEAMS"
url = "{}/workflows/trigger"

[[notify]]
name = "hook"
kind = "webhook"
url = "{}/in"
secret_env = "WH"

[[notify]]
name = "page"
kind = "pagerduty"
url = "{}/v2/enqueue"
secret_env = "PD"
after_secs = 1
route = {{ risk = ["critical"] }}
"#,
            teams.url(),
            hook.url(),
            pd.url()
        ),
    )
    .await;
    let http = Http::new(&b);
    http.register(BOB, &key(1)).await;
    let created = http.submit(AGENT, &request("Export customers")).await;
    let id = created.id.to_string();

    // Teams: an Adaptive Card 1.4 as the one attachment of a message.
    let card = teams.wait_for(1).await[0].json();
    assert_eq!(card["type"], "message");
    let att = &card["attachments"][0];
    assert_eq!(
        att["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(att["content"]["type"], "AdaptiveCard");
    assert_eq!(
        att["content"]["$schema"],
        "http://adaptivecards.io/schemas/adaptive-card.json"
    );
    assert_eq!(att["content"]["version"], "1.4");
    let facts: Vec<String> = att["content"]["body"][2]["facts"]
        .as_array()
        .expect("a FactSet")
        .iter()
        .map(|f| f["title"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        facts,
        [
            "Kind",
            "Target",
            "Environment",
            "Risk",
            "Requester",
            "Quorum",
            "Time left",
            "Digest"
        ]
    );
    assert!(card.to_string().contains(&format!("signoff review {id}")));

    // The webhook: verified by the reference library; a tampered body is not.
    let mut verifier = Verifier::start();
    let first = hook.wait_for(1).await.remove(0);
    assert_eq!(first.path, "/in");
    assert_eq!(first.header("webhook-id"), format!("{id}.hook.created"));
    let payload = verifier
        .verify(WHSEC, &first)
        .expect("standardwebhooks accepts it");
    assert_eq!(payload["type"], "action.created");
    assert_eq!(payload["data"]["action_id"], id);
    assert_eq!(payload["data"]["risk"], "critical");
    assert_eq!(
        payload["data"]["review_command"],
        format!("signoff review {id}")
    );
    let mut tampered = first.clone();
    tampered.body = tampered.body.replace("critical", "low");
    assert!(
        verifier.verify(WHSEC, &tampered).is_err(),
        "a changed body fails"
    );

    // PagerDuty: triggered once the critical action has waited past one second.
    let trigger = pd.wait_for(1).await[0].json();
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["routing_key"], "R0UTINGKEY0000000000000000000000");
    assert_eq!(trigger["dedup_key"], format!("signoff-{id}"));
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "signoff");
    assert_eq!(trigger["payload"]["group"], "production");
    assert!(
        trigger["payload"]["summary"]
            .as_str()
            .unwrap()
            .contains("Export customers")
    );

    // Denied: Teams gets the outcome, the webhook the resolution, PagerDuty resolves.
    let status = approve(&b, &http, BOB, "bob", 1, &id, Verdict::Deny).await;
    assert_eq!(status, Status::Denied);
    let outcome = teams.wait_for(2).await[1].json().to_string();
    assert!(
        outcome.contains("Denied") && outcome.contains("denied by bob"),
        "{outcome}"
    );
    let resolved = hook.wait_for(2).await.remove(1);
    assert_eq!(resolved.header("webhook-id"), format!("{id}.hook.resolved"));
    let payload = verifier.verify(WHSEC, &resolved).expect("verified");
    assert_eq!(payload["type"], "action.resolved");
    assert_eq!(payload["data"]["status"], "denied");
    assert_eq!(payload["data"]["decided_by"][0], "bob");
    let resolve = pd.wait_for(2).await[1].json();
    assert_eq!(resolve["event_action"], "resolve");
    assert_eq!(resolve["dedup_key"], trigger["dedup_key"]);
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn pagerduty_is_not_paged_for_an_action_decided_before_its_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let pd = Receiver::start(Role::PagerDuty).await;
    let hook = Receiver::start(Role::Webhook).await;
    let b = start_with(
        dir.path(),
        &format!(
            "[[notify]]\nname = \"page\"\nkind = \"pagerduty\"\nurl = \"{}/e\"\nsecret_env = \"PD\"\nafter_secs = 2\n\
             [[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}/in\"\nsecret_env = \"WH\"\nafter_secs = 2\n",
            pd.url(),
            hook.url()
        ),
    )
    .await;
    let http = Http::new(&b);
    http.register(BOB, &key(1)).await;
    let early = http.submit(AGENT, &request("decided at once")).await;
    approve(
        &b,
        &http,
        BOB,
        "bob",
        1,
        &early.id.to_string(),
        Verdict::Deny,
    )
    .await;
    // A later action that waits: its escalation arrives, so the earlier one's would have too.
    let late = http.submit(AGENT, &request("left waiting")).await;
    let got = hook.wait_for(1).await;
    assert_eq!(
        got[0].header("webhook-id"),
        format!("{}.hook.created", late.id)
    );
    let got = pd.wait_for(1).await;
    assert_eq!(got[0].json()["dedup_key"], format!("signoff-{}", late.id));
    assert!(
        pd.got()
            .iter()
            .all(|r| !r.body.contains(&early.id.to_string())),
        "no page, no resolve for the action decided in time"
    );
    b.shutdown().await.unwrap();
}

async fn metric(http: &Http, line_prefix: &str) -> Option<f64> {
    let (_, v) = http
        .send(reqwest::Method::GET, "/metrics", AGENT, None)
        .await;
    let text = v.as_str().unwrap_or_default().to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(line_prefix))
        .and_then(|v| v.trim().parse().ok())
}

async fn wait_metric(http: &Http, line_prefix: &str, at_least: f64) {
    eventually_async(WAIT, || async {
        metric(http, line_prefix)
            .await
            .is_some_and(|v| v >= at_least)
            .then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("{line_prefix} did not reach {at_least} within {WAIT:?}"));
}

#[tokio::test]
async fn receivers_that_fail_or_hang_get_retries_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = Receiver::start(Role::Webhook).await;
    flaky.script(&[Answer::Fail, Answer::Fail]);
    let slow = Receiver::start(Role::Webhook).await;
    slow.script(&[Answer::Hang]);
    let b = start_with(
        dir.path(),
        &format!(
            "[[notify]]\nname = \"flaky\"\nkind = \"webhook\"\nurl = \"{}/in\"\nsecret_env = \"WH\"\nretry_base_ms = 50\n\
             [[notify]]\nname = \"slow\"\nkind = \"webhook\"\nurl = \"{}/in\"\nsecret_env = \"WH\"\nretry_base_ms = 50\ntimeout_secs = 1\n",
            flaky.url(),
            slow.url()
        ),
    )
    .await;
    let http = Http::new(&b);
    let created = http.submit(AGENT, &request("Export customers")).await;
    let key = format!("{}.flaky.created", created.id);

    let got = flaky.wait_for(3).await;
    assert!(
        got.iter().all(|r| r.header("webhook-id") == key),
        "one key for every attempt"
    );
    let mut verifier = Verifier::start();
    verifier
        .verify(WHSEC, &got[2])
        .expect("the retry is signed afresh and verifies");
    let got = slow.wait_for(2).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));

    wait_metric(&http, "signoff_notify_sent_total{sink=\"flaky\"} ", 1.0).await;
    wait_metric(&http, "signoff_notify_sent_total{sink=\"slow\"} ", 1.0).await;
    assert_eq!(
        metric(&http, "signoff_notify_failed_total{sink=\"flaky\"} ").await,
        Some(2.0)
    );
    assert_eq!(
        metric(&http, "signoff_notify_failed_total{sink=\"slow\"} ").await,
        Some(1.0)
    );
    assert!(
        metric(&http, "signoff_notify_lag_seconds{sink=\"flaky\"} ")
            .await
            .is_some()
    );
    assert_eq!(flaky.got().len(), 3, "no more attempts once delivered");
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_dead_sink_shows_in_healthz_details_and_never_slows_a_decision() {
    let dir = tempfile::tempdir().unwrap();
    let dead = Receiver::start(Role::Webhook).await;
    dead.then(Answer::Fail);
    let b = start_with(
        dir.path(),
        &format!(
            "[[notify]]\nname = \"gone\"\nkind = \"webhook\"\nurl = \"{}/in\"\nsecret_env = \"WH\"\nretry_base_ms = 10\nmax_attempts = 2\n",
            dead.url()
        ),
    )
    .await;
    let http = Http::new(&b);
    http.register(BOB, &key(1)).await;
    let created = http.submit(AGENT, &request("Export customers")).await;
    dead.wait_for(2).await;
    let started = std::time::Instant::now();
    let status = approve(
        &b,
        &http,
        BOB,
        "bob",
        1,
        &created.id.to_string(),
        Verdict::Deny,
    )
    .await;
    assert_eq!(status, Status::Denied);
    assert!(started.elapsed() < Duration::from_secs(10));

    let (s, body) = http
        .send(reqwest::Method::GET, "/healthz", AGENT, None)
        .await;
    assert_eq!((s, body), (200, Value::String("ok".into())), "never fatal");
    let details = || async {
        http.send(reqwest::Method::GET, "/healthz?details", AGENT, None)
            .await
    };
    let v = eventually_async(WAIT, || async {
        let (s, v) = details().await;
        assert_eq!(s, 200);
        assert_eq!(v["status"], "ok");
        (v["notify"]["gone"]["state"] == "dead").then_some(v)
    })
    .await;
    let Some(v) = v else {
        panic!("never dead within {WAIT:?}: {}", details().await.1);
    };
    assert!(
        v["notify"]["gone"]["given_up"].as_u64().unwrap() >= 1,
        "{v}"
    );
    assert_eq!(v["notify"]["gone"]["last_error"], "HTTP 500");
    assert!(
        !v.to_string().contains(&dead.url()),
        "no URL in the details"
    );
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn callbacks_go_only_to_allowed_urls_and_carry_the_signed_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let ci = Receiver::start(Role::Webhook).await;
    let b = start_with(
        dir.path(),
        &format!(
            "[callbacks]\nallow = [\"{}/cb/\"]\nsecret_env = \"WH\"\n",
            ci.url()
        ),
    )
    .await;
    let http = Http::new(&b);
    http.register(BOB, &key(1)).await;
    let mut req = request("Export customers");
    req["callback_url"] = Value::String("https://evil.example/cb/".into());
    let (s, v) = http
        .send(reqwest::Method::POST, "/v1/actions", AGENT, Some(&req))
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["code"], "invalid_field", "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "callback_url", "{v}");
    req["callback_url"] = Value::Number(3.into());
    let (s, _) = http
        .send(reqwest::Method::POST, "/v1/actions", AGENT, Some(&req))
        .await;
    assert_eq!(s, 400);

    req["callback_url"] = Value::String(format!("{}/cb/run-42", ci.url()));
    let created = http.submit(AGENT, &req).await;
    let view = http.view(AGENT, &created.id.to_string(), 0).await;
    assert!(
        !serde_json::to_string(&view.action)
            .unwrap()
            .contains("callback"),
        "not part of the action or its digest"
    );
    assert_eq!(view.digest, created.digest);
    approve(
        &b,
        &http,
        BOB,
        "bob",
        1,
        &created.id.to_string(),
        Verdict::Deny,
    )
    .await;
    let got = ci.wait_for(1).await;
    assert_eq!(got[0].path, "/cb/run-42");
    assert_eq!(
        got[0].header("webhook-id"),
        format!("{}.callback", created.id)
    );
    let payload = Verifier::start().verify(WHSEC, &got[0]).expect("verified");
    assert_eq!(payload["type"], "action.resolved");
    assert_eq!(payload["data"]["status"], "denied");
    b.shutdown().await.unwrap();

    // A broker without [callbacks] refuses the field.
    let dir = tempfile::tempdir().unwrap();
    let plain = start(dir.path()).await;
    let (s, v) = Http::new(&plain)
        .send(reqwest::Method::POST, "/v1/actions", AGENT, Some(&req))
        .await;
    assert_eq!(s, 400);
    assert!(v.to_string().contains("callback_url"), "{v}");
    plain.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_killed_broker_delivers_after_restart_with_the_same_keys() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Receiver::start(Role::Webhook).await;
    hook.then(Answer::Fail);
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, format!("{WHSEC}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let policy_file = dir.path().join("policy.toml");
    std::fs::write(&policy_file, POLICY).unwrap();
    let cfg = format!(
        "policy = {:?}\n{}\n[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}/in\"\nsecret_file = {:?}\nretry_base_ms = 100\nretry_max_secs = 1\n",
        policy_file,
        config_toml(),
        hook.url(),
        secret_file
    );
    let (child, url) = process_with_config(dir.path(), &cfg).await;
    let http = Http::at(&url);
    let one = http.submit(AGENT, &request("first")).await;
    let two = http.submit(AGENT, &request("second")).await;
    let keys = [
        format!("{}.hook.created", one.id),
        format!("{}.hook.created", two.id),
    ];
    hook.wait_until("an attempt for each", |g| {
        keys.iter()
            .all(|k| g.iter().any(|r| r.header("webhook-id") == k))
    })
    .await;

    // SIGKILL with both undelivered; the receiver comes back.
    let mut child = child;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let before = hook.got().len();
    hook.then(Answer::Ok);

    let (mut child, url) = process_with_config(dir.path(), &cfg).await;
    let got = hook
        .wait_until("both delivered after the restart", |g| {
            keys.iter()
                .all(|k| g[before..].iter().any(|r| r.header("webhook-id") == k))
        })
        .await;
    let mut verifier = Verifier::start();
    for r in &got[before..] {
        verifier
            .verify(WHSEC, r)
            .expect("verified after the restart");
    }
    wait_metric(
        &Http::at(&url),
        "signoff_notify_sent_total{sink=\"hook\"} ",
        2.0,
    )
    .await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}

/// The broker binary with `config` (tokens and sinks), data in `DIR/data`.
async fn process_with_config(dir: &Path, config: &str) -> (tokio::process::Child, String) {
    let cfg = dir.join("broker.toml");
    std::fs::write(&cfg, config).expect("broker config");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["broker", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data")
        .arg(dir.join("data"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("broker binary starts");
    let stdout = child.stdout.take().expect("broker stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("broker reports its address in time")
        .expect("broker stdout readable")
        .expect("a line");
    let url = line.rsplit(' ').next().expect("the URL").to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    (child, url)
}

/// A click on the "I'm looking" button as Slack posts it (form-encoded `payload`).
fn slack_click(user: &str, action: &str, response_url: &str) -> String {
    let payload = serde_json::json!({
        "type": "block_actions",
        "user": {"id": user, "username": "someone", "team_id": "T0TEAM"},
        "team": {"id": "T0TEAM", "domain": "example"},
        "api_app_id": "A0APP",
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C42"},
        "channel": {"id": "C42", "name": "oncall"},
        "response_url": response_url,
        "actions": [{"action_id": "signoff_looking", "block_id": "signoff", "type": "button",
                     "text": {"type": "plain_text", "text": "I'm looking"}, "value": action,
                     "action_ts": "1700000001.000100"}],
    });
    format!("payload={}", urlencode(&payload.to_string()))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Posts `body` to the broker's Slack interactivity endpoint; (status, body).
async fn interact(http: &Http, body: &str, headers: &[(&str, String)]) -> (u16, serde_json::Value) {
    let mut r = http
        .client
        .post(format!("{}/v1/notify/slack/interactions", http.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    let resp = r.send().await.expect("answered");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn slacks_im_looking_button_claims_for_a_mapped_approver_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let slack = Receiver::start(Role::Slack).await;
    let b = start_with(
        dir.path(),
        &format!(
            "{}[slack_interactivity]\nsigning_secret_env = \"SLACK_SIGNING\"\n\
             response_url_prefix = \"{}/resp/\"\nusers = {{ U0BOB = \"bob\" }}\n",
            slack_sink(&slack),
            slack.url()
        ),
    )
    .await;
    let http = Http::new(&b);
    let created = http.submit(AGENT, &request("Export customers")).await;
    let id = created.id.to_string();
    // The post carries one button, "I'm looking", and the console command.
    let post = slack.wait_for(1).await[0].json();
    let actions: Vec<&Value> = post["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .collect();
    assert_eq!(actions.len(), 1, "{post}");
    let buttons = actions[0]["elements"].as_array().unwrap();
    assert_eq!(buttons.len(), 1, "no approve or deny button");
    assert_eq!(buttons[0]["action_id"], "signoff_looking");
    assert_eq!(buttons[0]["text"]["text"], "I'm looking");
    assert_eq!(buttons[0]["value"], id);
    assert!(
        post.to_string()
            .contains(&format!("Open in console: `signoff review {id}`")),
        "{post}"
    );
    // A console, watching the row.
    let (mut console, _) = Feed::connect(&b, CAROL, None).await;

    let mut signer = SlackSigner::start();
    let now = signoff::protocol::Timestamp::now().unix_millis() / 1000;
    let resp_url = format!("{}/resp/hook-1", slack.url());
    let signed = |signer: &mut SlackSigner, secret: &str, ts: i64, body: &str| {
        vec![
            ("x-slack-request-timestamp", ts.to_string()),
            ("x-slack-signature", signer.sign(secret, ts, body)),
        ]
    };
    let bob = slack_click("U0BOB", &id, &resp_url);

    // Signed with another secret: refused.
    let h = signed(&mut signer, "not-the-signing-secret", now, &bob);
    let (s, v) = interact(&http, &bob, &h).await;
    assert_eq!(s, 401, "{v}");
    assert!(v.to_string().contains("does not match"), "{v}");
    // Signed correctly, but six minutes ago: refused.
    let h = signed(&mut signer, SLACK_SIGNING_SECRET, now - 360, &bob);
    let (s, v) = interact(&http, &bob, &h).await;
    assert_eq!(s, 401, "{v}");
    assert!(v.to_string().contains("five minutes"), "{v}");
    // A body changed after signing: refused.
    let h = signed(&mut signer, SLACK_SIGNING_SECRET, now, &bob);
    let forged = slack_click("U0BOB", &id, &format!("{}/resp/other", slack.url()));
    let (s, _) = interact(&http, &forged, &h).await;
    assert_eq!(s, 401);
    // No signature at all: refused.
    let (s, _) = interact(&http, &bob, &[]).await;
    assert_eq!(s, 401);
    // A Slack user nobody mapped: told so, only them; nothing changes.
    let eve = slack_click("U0EVE", &id, &resp_url);
    let h = signed(&mut signer, SLACK_SIGNING_SECRET, now, &eve);
    let (s, v) = interact(&http, &eve, &h).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["response_type"], "ephemeral", "{v}");
    assert_eq!(v["replace_original"], false, "{v}");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("does not know your Slack account")
    );
    let got = slack
        .wait_until("the ephemeral reply", |g| {
            g.iter().any(|r| r.path == "/resp/hook-1")
        })
        .await;
    let reply = got
        .iter()
        .find(|r| r.path == "/resp/hook-1")
        .unwrap()
        .json();
    assert_eq!(reply["response_type"], "ephemeral");
    let view = http.view(BOB, &id, 0).await;
    assert!(view.action.looking.is_empty(), "{:?}", view.action.looking);

    // Bob, mapped, signed by Slack's SDK: the same claim as the console's.
    let h = signed(&mut signer, SLACK_SIGNING_SECRET, now, &bob);
    let (s, v) = interact(&http, &bob, &h).await;
    assert_eq!(s, 200, "{v}");
    let row = loop {
        match console.next().await {
            ServerMsg::Updated { row, .. } => break row,
            _ => continue,
        }
    };
    assert_eq!(row.id, created.id);
    assert_eq!(
        row.looking,
        vec!["bob".to_string()],
        "the first change is bob's claim"
    );
    assert_eq!(row.digest, created.digest, "a claim changes no digest");
    let view = http.view(BOB, &id, 0).await;
    assert_eq!(view.action.looking, vec!["bob".to_string()]);
    assert_eq!(
        view.action.status,
        Status::Pending,
        "a claim decides nothing"
    );
    assert!(view.action.votes.is_empty());
    // The Slack message, edited in place, says so and keeps the button.
    let got = slack
        .wait_until("the claim's edit", |g| {
            g.iter().any(|r| r.path == "/api/chat.update")
        })
        .await;
    let update = got.iter().find(|r| r.path == "/api/chat.update").unwrap();
    assert_eq!(update.json()["ts"], "1700000000.000001");
    assert!(update.body.contains("bob is looking"), "{}", update.body);
    assert!(update.body.contains("signoff_looking"), "{}", update.body);
    // Clicking again changes nothing more; a decided action takes no claim.
    let h = signed(&mut signer, SLACK_SIGNING_SECRET, now, &bob);
    assert_eq!(interact(&http, &bob, &h).await.0, 200);
    let (s, _) = http.withdraw(AGENT, &id).await;
    assert_eq!(s, 200);
    let h = signed(&mut signer, SLACK_SIGNING_SECRET, now, &bob);
    let (s, v) = interact(&http, &bob, &h).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["text"].as_str().unwrap().contains("already withdrawn"),
        "{v}"
    );
    let posts = slack
        .got()
        .iter()
        .filter(|r| r.path == "/api/chat.postMessage")
        .count();
    assert_eq!(posts, 1);
    b.shutdown().await.unwrap();

    // Without [slack_interactivity] there is no such endpoint, and no button.
    let dir = tempfile::tempdir().unwrap();
    let plain = start(dir.path()).await;
    let (s, _) = interact(&Http::new(&plain), &bob, &[]).await;
    assert_eq!(s, 404);
    plain.shutdown().await.unwrap();
}

/// What the pictures in docs/notify.md are rendered from: `screenshots/notify/NAME.json`.
fn pictures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots/notify")
}

/// Set to rewrite the committed payloads from what the product sends today.
const UPDATE_PICTURES: &str = "SIGNOFF_UPDATE_NOTIFY_PICTURES";

/// The fixed values a captured payload's varying parts are replaced with.
const SAMPLE_ID: &str = "01JDXQ1R6C7V3M9T2K5W8Y4Z0A";
const SAMPLE_DIGEST: &str = "a5edccb8932e";
const SAMPLE_CREATED: &str = "2026-12-02T03:12:00.000Z";
const SAMPLE_EXPIRES: &str = "2026-12-02T03:22:00.000Z";
const SAMPLE_VOTED: &str = "2026-12-02T03:14:41.000Z";
/// When a message about the new action was sent, and one after the votes.
const SAMPLE_SENT_NEW: &str = "2026-12-02T03:12:01.000Z";
const SAMPLE_SENT_LATER: &str = "2026-12-02T03:14:42.000Z";
const SAMPLE_LEFT: &str = "9m left";

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b.ends_with(b"Z")
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | 'T' | ':' | '.' | 'Z'))
}

/// `head` without a trailing `N` + unit (`h`, `m` or `s`), if it ends with one.
fn strip_amount(head: &str) -> Option<&str> {
    let h = head.strip_suffix(['h', 'm', 's'])?;
    let digits = h.chars().rev().take_while(char::is_ascii_digit).count();
    (digits > 0).then(|| &h[..h.len() - digits])
}

/// `12m left`, `1h 5m left`, `40s left` → [`SAMPLE_LEFT`].
fn fixed_time_left(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(" left") {
        let (head, tail) = rest.split_at(i);
        match strip_amount(head) {
            Some(mut h) => {
                // `1h 5m`: the hours too.
                if let Some(hours) = h.strip_suffix(' ').and_then(strip_amount)
                    && h.strip_suffix(' ').is_some_and(|x| x.ends_with('h'))
                {
                    h = hours;
                }
                out.push_str(h);
                out.push_str(SAMPLE_LEFT);
            }
            None => {
                out.push_str(head);
                out.push_str(" left");
            }
        }
        rest = &tail[" left".len()..];
    }
    out.push_str(rest);
    out
}

/// The payload with the action id, digest, times and time left of this run replaced by
/// fixed sample values, so it can be compared with (and pictured from) a committed copy.
/// `sent` stands for the time it was sent.
fn normalized(
    v: &Value,
    id: &str,
    digest: &str,
    (created, expires): (&str, &str),
    sent: &str,
) -> Value {
    fn walk(v: &Value, key: &str, f: &dyn Fn(&str, &str) -> String) -> Value {
        match v {
            Value::String(s) => Value::String(f(key, s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| walk(x, key, f)).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, x)| (k.clone(), walk(x, k, f))).collect())
            }
            other => other.clone(),
        }
    }
    let f = |key: &str, s: &str| -> String {
        if is_timestamp(s) {
            return match s {
                _ if s == created => SAMPLE_CREATED,
                _ if s == expires => SAMPLE_EXPIRES,
                _ if key == "at" => SAMPLE_VOTED,
                _ => sent,
            }
            .to_string();
        }
        fixed_time_left(&s.replace(id, SAMPLE_ID).replace(digest, SAMPLE_DIGEST))
    };
    walk(v, "", &f)
}

#[test]
fn sample_time_left_is_fixed_wherever_it_appears() {
    assert_eq!(
        fixed_time_left("*Time left*\n14m left"),
        "*Time left*\n9m left"
    );
    assert_eq!(fixed_time_left("1h 5m left, 40s left"), "9m left, 9m left");
    assert_eq!(fixed_time_left("nothing left"), "nothing left");
}

#[tokio::test]
async fn the_pictures_in_docs_show_what_the_sinks_are_sent_today() {
    let dir = tempfile::tempdir().unwrap();
    let all = AllSinks::start().await;
    let (slack, teams, hook, pd) = (&all.slack, &all.teams, &all.hook, &all.pd);
    let env = |kind: &str| {
        let var = match kind {
            "slack" => "SLACK",
            "teams" => "TEAMS",
            "webhook" => "WH",
            _ => "PD",
        };
        format!("secret_env = \"{var}\"")
    };
    let b = start_with(
        dir.path(),
        &format!(
            "{}\n[slack_interactivity]\nsigning_secret_env = \"SLACK_SIGNING\"\n\
             users = {{ U0BOB = \"bob\" }}\n",
            all.config(env)
        ),
    )
    .await;
    let http = Http::new(&b);
    http.register(BOB, &key(1)).await;
    http.register(CAROL, &key(2)).await;
    // One sample action through its life: posted, paged, looked at, voted on, approved.
    let created = http.submit(AGENT, &request("Export customers")).await;
    let id = created.id.to_string();
    slack.wait_for(1).await;
    teams.wait_for(1).await;
    hook.wait_for(1).await;
    pd.wait_for(1).await;
    let (s, _) = http.claim(BOB, &id).await;
    assert_eq!(s, 200);
    slack.wait_for(2).await;
    hook.wait_for(2).await;
    assert_eq!(
        approve(&b, &http, BOB, "bob", 1, &id, Verdict::Approve).await,
        Status::Pending
    );
    slack.wait_for(3).await;
    hook.wait_for(3).await;
    assert_eq!(
        approve(&b, &http, CAROL, "carol", 2, &id, Verdict::Approve).await,
        Status::Approved
    );
    let slack_got = slack.wait_for(4).await;
    let teams_got = teams.wait_for(2).await;
    let hook_got = hook.wait_for(4).await;
    let pd_got = pd.wait_for(2).await;
    b.shutdown().await.unwrap();

    let first = hook_got[0].json();
    let (made, expires) = (
        first["data"]["created_at"].as_str().unwrap().to_string(),
        first["data"]["expires_at"].as_str().unwrap().to_string(),
    );
    let digest = created.digest.prefix(12).to_string();
    let capture = |r: &Received, sent: &str| {
        let mut headers = serde_json::Map::new();
        for h in ["idempotency-key", "webhook-id"] {
            if !r.header(h).is_empty() {
                headers.insert(h.into(), Value::String(r.header(h).into()));
            }
        }
        let v = serde_json::json!({
            "request": format!("POST {}", r.path),
            "headers": headers,
            "body": r.json(),
        });
        normalized(&v, &id, &digest, (&made, &expires), sent)
    };
    let pictures = [
        ("slack-posted", &slack_got[0]),
        ("slack-looking", &slack_got[1]),
        ("slack-voted", &slack_got[2]),
        ("slack-approved", &slack_got[3]),
        ("teams-created", &teams_got[0]),
        ("teams-approved", &teams_got[1]),
        ("webhook-created", &hook_got[0]),
        ("webhook-resolved", &hook_got[3]),
        ("pagerduty-triggered", &pd_got[0]),
        ("pagerduty-resolved", &pd_got[1]),
    ];
    let update = std::env::var_os(UPDATE_PICTURES).is_some();
    let mut stale = Vec::new();
    for (name, r) in pictures {
        let sent = if name.ends_with("posted") || name.ends_with("created") {
            SAMPLE_SENT_NEW
        } else {
            SAMPLE_SENT_LATER
        };
        let now = serde_json::to_string_pretty(&capture(r, sent)).unwrap() + "\n";
        let path = pictures_dir().join(format!("{name}.json"));
        if update {
            std::fs::create_dir_all(pictures_dir()).unwrap();
            std::fs::write(&path, &now).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(have) if have.replace("\r\n", "\n") == now => {}
            Ok(have) => stale.push(format!("{}: now\n{now}\ncommitted\n{have}", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "the payloads the pictures in docs/notify.md show are not what the sinks are sent \
         today; regenerate: {UPDATE_PICTURES}=1 cargo test --test notify_sinks pictures, then \
         node tests/notify/render/render.mjs, look at the PNGs, and commit both:\n{}",
        stale.join("\n")
    );
}
