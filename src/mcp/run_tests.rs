use super::*;
use crate::protocol::{Action, Execution, Timestamp};

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_string()).collect()
}

fn view(status: Status, command: Option<Command>) -> ActionView {
    let json = serde_json::json!({
        "id": "01JD0000000000000000000001",
        "kind": "command.exec", "summary": "s",
        "requester": {"kind": "agent", "id": "a", "display_name": "A"},
        "target": {"system": "command", "resource": "echo", "environment": "prod"},
        "justification": "", "context": [],
        "risk": {"level": "low", "score": 10, "tags": []},
        "policy": {"approvals_required": 1, "approver_groups": []},
        "created_at": "2026-11-23T10:00:00.000Z",
        "expires_at": "2026-11-23T10:15:00.000Z",
        "status": status,
    });
    let mut a: Action = serde_json::from_value(json).unwrap();
    a.command = command;
    let digest = a.digest();
    ActionView { action: a, digest }
}

fn echo() -> Option<Command> {
    Some(Command::Argv {
        argv: argv(&["echo", "hi"]),
    })
}

#[test]
fn runs_only_the_approved_argv() {
    let v = view(Status::Approved, echo());
    assert_eq!(may_run(&v, None, None), Ok(argv(&["echo", "hi"])));
    assert_eq!(
        may_run(&v, None, Some(&argv(&["echo", "hi"]))),
        Ok(argv(&["echo", "hi"]))
    );
    let e = may_run(&v, None, Some(&argv(&["echo", "hi", "; rm -rf /"]))).unwrap_err();
    assert!(e.contains("differs"), "{e}");
}

#[test]
fn refuses_what_is_not_approved_or_not_an_argv() {
    for status in [
        Status::Pending,
        Status::Denied,
        Status::Expired,
        Status::Withdrawn,
    ] {
        let e = may_run(&view(status, echo()), None, None).unwrap_err();
        assert!(e.contains("not approved"), "{e}");
    }
    let text = view(Status::Approved, Some(Command::Text { text: "ls".into() }));
    assert!(may_run(&text, None, None).unwrap_err().contains("no argv"));
    assert!(
        may_run(&view(Status::Approved, None), None, None)
            .unwrap_err()
            .contains("no argv")
    );
}

#[test]
fn refuses_content_that_does_not_match_the_signed_digest() {
    let mut v = view(Status::Approved, echo());
    v.action.command = Some(Command::Argv {
        argv: argv(&["rm", "-rf", "/"]),
    });
    let e = may_run(&v, None, None).unwrap_err();
    assert!(e.contains("digest"), "{e}");
}

#[test]
fn refuses_an_action_that_already_ran() {
    let mut v = view(Status::Approved, echo());
    v.action.execution = Some(Execution {
        exit_code: 0,
        reported_at: Timestamp::from_unix_millis(1),
        detail: None,
    });
    assert!(may_run(&v, None, None).unwrap_err().contains("already ran"));
}

#[test]
fn a_second_claim_is_refused() {
    let once = RunOnce::default();
    let id = ActionId::new();
    assert!(once.claim(id));
    assert!(!once.claim(id));
}

#[tokio::test]
async fn output_is_captured_and_bounded() {
    let (o, out, err) = run_captured(
        &argv(&[
            "sh",
            "-c",
            "head -c 100000 /dev/zero | tr '\\0' x; echo oops >&2; exit 3",
        ]),
        "01X",
    )
    .await;
    assert_eq!(o.exit_code, 3);
    assert!(out.starts_with("[… earlier output cut …]"));
    assert!(out.len() <= MAX_OUTPUT_BYTES + 64);
    assert_eq!(err, "oops\n");
}
