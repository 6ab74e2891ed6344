//! What users of k9s, gitui and atuin expect from the real binary (issue 18): shell
//! completions and a man page from the clap definitions, `--version` with the commit
//! and build date, no colour codes in logs that are not a terminal, quiet pipes, and the
//! audit commands' data-dir hint.

use std::process::{Command, Stdio};

fn signoff(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(args)
        .env_remove("SIGNOFF_BROKER_URL")
        .output()
        .expect("signoff runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let out = signoff(&["--version"]);
    assert!(out.status.success());
    let v = text(&out.stdout);
    assert!(v.starts_with("signoff 0."), "{v}");
    assert!(v.contains("(commit ") && v.contains(", built 20"), "{v}");
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = signoff(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(
            script.contains("signoff") && script.contains("history"),
            "{shell}"
        );
    }
    let out = signoff(&["completions", "tcsh"]);
    assert!(!out.status.success());
    let man = signoff(&["man"]);
    assert!(man.status.success());
    let page = text(&man.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH signoff 1"),
        "{page}"
    );
    assert!(
        page.contains("broker") && page.contains("approvals"),
        "{page}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = signoff(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for page in [
        "signoff.1",
        "signoff-history.1",
        "signoff-gate.1",
        "signoff-broker.1",
    ] {
        let body = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(body.contains(".TH"), "{page}");
    }
}

#[test]
fn audit_verify_names_the_data_dir_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["audit", "verify"])
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no broker database") && err.contains("--data"),
        "{err}"
    );
    // With a `broker --dev` store beside it, the hint names that dir.
    let dev = dir.path().join("data/signoff/dev");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("signoff.db"), b"").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["audit", "verify"])
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(
        err.contains("broker --dev") && err.contains(&format!("--data {}", dev.display())),
        "{err}"
    );
}

#[test]
fn broker_logs_into_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["broker", "--dev", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert!(line.contains("listening on"), "{line}");
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let done = child.wait_with_output().unwrap();
    let err = text(&done.stderr);
    assert!(err.contains("INFO") || err.contains("WARN"), "{err}");
    assert!(!err.contains('\u{1b}'), "colour codes in a pipe: {err:?}");
}

#[test]
fn audit_export_into_a_closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // A store with a few hundred entries, more than one pipe buffer of JSON.
    let seeded = signoff(&[
        "dev",
        "seed",
        "--decisions",
        "300",
        "--data",
        dir.path().to_str().unwrap(),
    ]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let mut child = Command::new(env!("CARGO_BIN_EXE_signoff"))
        .args(["audit", "export", "--data"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `| head -1` does.
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    drop(out);
    let done = child.wait_with_output().unwrap();
    assert!(line.starts_with("{\"seq\":1,"), "{line}");
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    assert_eq!(text(&done.stderr), "");
}
