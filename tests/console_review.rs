//! `signoff review ID`, the command every notification carries: the real binary in a
//! pty opens the console with that action selected, and `y` copies the command for the
//! selected action.

mod console_support;

use console_support::pty::{Pty, key_file};
use console_support::{get_json, real_broker, request_of, submit};
use signoff::console::fixtures::action;
use signoff::protocol::RiskLevel;

#[test]
fn review_opens_the_console_on_the_action_and_y_copies_the_command() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_data, broker) = real_broker(&rt);
    let url = broker.url();
    let crit = action(
        1,
        "iam.grant",
        "role/admin",
        "production",
        RiskLevel::Critical,
    );
    let low = action(2, "terraform.apply", "vpc-main", "staging", RiskLevel::Low);
    let mid = action(
        3,
        "k8s.scale",
        "payments-api",
        "production",
        RiskLevel::Medium,
    );
    submit(&rt, &url, &request_of(&crit));
    let low = submit(&rt, &url, &request_of(&low));
    submit(&rt, &url, &request_of(&mid));
    let keys = tempfile::tempdir().unwrap();
    let key = key_file(keys.path(), 7);
    let id = low.id.to_string();
    let mut pty = Pty::spawn_args(
        &["review", &id],
        120,
        36,
        &[
            ("SIGNOFF_BROKER_URL", url.clone()),
            ("SIGNOFF_TOKEN", "bob-secret".into()),
            ("SIGNOFF_KEY_FILE", key.display().to_string()),
        ],
    );
    // Sorted by risk the low action is last; it is selected anyway, and its content
    // fills the context pane.
    pty.wait_for("terraform.apply on vpc-main", 30);
    // Keys are read once the console is up and connected (a key typed during start-up
    // may be taken by the terminal's capability queries on a loaded machine).
    pty.wait_for("● live", 30);
    pty.press("y");
    pty.wait_for(&format!("sent `signoff review {id}`"), 30);
    // And the broker heard "I'm looking" from Bob for that action.
    let path = format!("/v1/actions/{id}");
    let looking = signoff::testkit::eventually(std::time::Duration::from_secs(30), || {
        let view: signoff::protocol::api::ActionView = get_json(&rt, &url, &path, "agent-secret");
        (!view.action.looking.is_empty()).then_some(view.action.looking)
    });
    assert_eq!(looking, Some(vec!["Bob".to_string()]));
    pty.press("q");
    assert!(pty.wait_exit(10).success());
}

#[test]
fn review_refuses_what_is_not_an_action_id() {
    let mut pty = Pty::spawn_args(
        &["review", "not-an-id"],
        100,
        20,
        &[("SIGNOFF_TOKEN", "t".into())],
    );
    pty.wait_for("is not an action id", 20);
    assert!(!pty.wait_exit(10).success());
}
