//! The README's five-minute guide, run as written, command by command (issue 18): the
//! commands are read from README.md itself and from what `signoff broker --dev` prints,
//! and run through `sh` with the real binary first on PATH. The only additions are a
//! free port and a temp data dir for the broker (so the test never meets a developer's
//! broker on 7700), and a `terraform` stand-in on PATH for the gated command.

mod console_support;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use console_support::pty::Pty;
use signoff::testkit::eventually;

const README: &str = include_str!("../README.md");

/// The inline command in the README that starts with `start`, whitespace joined.
fn readme_command(start: &str) -> String {
    let at = README
        .find(&format!("`{start}"))
        .unwrap_or_else(|| panic!("README has no `{start}…`"));
    let rest = &README[at + 1..];
    let end = rest
        .find('`')
        .unwrap_or_else(|| panic!("unclosed `{start}"));
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_signoff"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// PATH with the built `signoff` and the test's shims first.
fn path(shims: &Path) -> String {
    format!(
        "{}:{}:{}",
        bin_dir().display(),
        shims.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn sh(line: &str, shims: &Path, envs: &[(&str, &str)]) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", line])
        .env("PATH", path(shims))
        .env_remove("SIGNOFF_BROKER_URL")
        .env_remove("SIGNOFF_TOKEN");
    for (k, v) in envs {
        c.env(k, v);
    }
    c
}

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the child this test started.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

fn wait_child(c: &mut Child, secs: u64) -> std::process::ExitStatus {
    eventually(Duration::from_secs(secs), || c.try_wait().unwrap())
        .expect("the command did not finish")
}

/// Approves the newest action on the console's screen (typing the resource name first,
/// which a critical action asks for and any other takes as its reason).
fn approve(console: &mut Pty, kind: &str, resource: &str) {
    console.wait_for(kind, 60);
    console.press("a");
    console.wait_for("your approval completes the quorum", 10);
    assert!(console.contents().contains(&format!("Kind         {kind}")));
    console.press(resource);
    console.press("\r");
}

#[cfg(target_os = "linux")]
#[test]
fn the_five_minute_guide_works_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let shims = tmp.path().join("shims");
    std::fs::create_dir_all(&shims).unwrap();
    let terraform = shims.join("terraform");
    std::fs::write(&terraform, "#!/bin/sh\necho \"terraform $*: applied\"\n").unwrap();
    std::fs::set_permissions(
        &terraform,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let data = tmp.path().join("broker-data");
    let session = tmp.path().join("session");
    let session_s = session.display().to_string();

    // 1. Run a broker: `signoff broker --dev`, which prints what to run next.
    let step1 = readme_command("signoff broker --dev");
    assert_eq!(step1, "signoff broker --dev");
    let mut broker = sh(
        &format!(
            "exec {step1} --listen 127.0.0.1:0 --data '{}'",
            data.display()
        ),
        &shims,
        &[("RUST_LOG", "warn")],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut out = BufReader::new(broker.stdout.take().unwrap());
    let broker = Broker(broker);
    let (mut login, mut console_line, mut request) = (None, None, None);
    while request.is_none() {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "broker stdout closed"
        );
        let t = line.trim().to_string();
        if t.starts_with("signoff login ") {
            login = Some(t);
        } else if t.starts_with("signoff --broker ") {
            console_line = Some(t);
        } else if t.starts_with("SIGNOFF_AGENT_TOKEN=") {
            request = Some(t);
        }
    }
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let (login, console_line, request) = (login.unwrap(), console_line.unwrap(), request.unwrap());
    let url = login
        .split_whitespace()
        .skip_while(|w| *w != "--broker")
        .nth(1)
        .unwrap()
        .to_string();
    let token = request
        .split_whitespace()
        .next()
        .and_then(|w| w.strip_prefix("SIGNOFF_AGENT_TOKEN="))
        .unwrap()
        .to_string();

    // 2. Sign in once with the printed `signoff login`, then just `signoff`.
    let env_path = path(&shims);
    let envs = [("SIGNOFF_DATA_DIR", session_s.clone()), ("PATH", env_path)];
    let mut login_pty = Pty::spawn_shell(&login, 120, 40, &envs);
    login_pty.wait_for("Signed in as", 60);
    assert!(login_pty.wait_exit(30).success());
    let whoami = sh(
        "signoff whoami",
        &shims,
        &[("SIGNOFF_DATA_DIR", &session_s)],
    )
    .output()
    .unwrap();
    assert!(
        whoami.status.success(),
        "{}",
        String::from_utf8_lossy(&whoami.stdout)
    );
    assert!(console_line.starts_with("signoff --broker"));
    let mut console = Pty::spawn_shell("signoff", 160, 48, &envs);
    console.wait_for("● live", 60);

    // The printed agent request waits for the approver, who approves in the console.
    let mut req = sh(&request, &shims, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    approve(&mut console, "db.export", "customers");
    let status = wait_child(&mut req, 60);
    assert!(status.success(), "request --wait exits 0 once approved");

    // 3. Gate a command, exactly as the README writes it.
    let step3 = readme_command("signoff gate --kind");
    assert!(README.contains("`SIGNOFF_AGENT_ID`") && README.contains("`dev-agent`"));
    assert!(!step3.contains("--wait"), "gate has no --wait: {step3}");
    let mut gate = sh(
        &step3,
        &shims,
        &[
            ("SIGNOFF_BROKER_URL", &url),
            ("SIGNOFF_AGENT_TOKEN", &token),
            ("SIGNOFF_AGENT_ID", "dev-agent"),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // The request reaches the console, unless the gate ends first (then say why).
    let shown = eventually(Duration::from_secs(60), || {
        if gate.try_wait().unwrap().is_some() {
            return Some(false);
        }
        console
            .contents()
            .contains("terraform.apply")
            .then_some(true)
    });
    match shown {
        Some(true) => {}
        Some(false) => {
            let o = gate.wait_with_output().unwrap();
            panic!(
                "gate ended early: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        None => panic!("{}", console.contents()),
    }
    approve(&mut console, "terraform.apply", "network");
    let done = {
        wait_child(&mut gate, 60);
        gate.wait_with_output().unwrap()
    };
    let said = String::from_utf8_lossy(&done.stdout);
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(said.contains("terraform apply plan.out: applied"), "{said}");

    // Then: history with the same session, and the audit log verifies.
    let history = sh(
        "signoff history",
        &shims,
        &[("SIGNOFF_DATA_DIR", &session_s)],
    )
    .output()
    .unwrap();
    let table = String::from_utf8_lossy(&history.stdout);
    assert!(
        history.status.success(),
        "{}",
        String::from_utf8_lossy(&history.stderr)
    );
    assert!(
        table.contains("db.export") && table.contains("terraform.apply"),
        "{table}"
    );
    console.press("q");
    assert!(console.wait_exit(10).success());
    drop(broker);
    let verify = sh(
        &format!("signoff audit verify --data '{}'", data.display()),
        &shims,
        &[],
    )
    .output()
    .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
