//! How a command's failure reaches the person who ran it: the binary's edge turns every
//! command's error into one [`Report`] (color-eyre's `eyre`) and prints its message with
//! each cause the message does not already say, so the chain from a typed error (an I/O
//! error under a session error under a login error) is never lost.

use std::process::ExitCode;

pub use color_eyre::eyre::{Report, Result, WrapErr, eyre};

/// The lines to print for `err` under the `signoff:` prefix: the message, then each
/// cause that adds something (a `thiserror` message often embeds its source already).
pub fn lines(err: &Report) -> Vec<String> {
    let mut said = String::new();
    let mut out: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || said.contains(&text) {
            continue;
        }
        out.push(if out.is_empty() {
            text.clone()
        } else {
            format!("caused by: {text}")
        });
        said.push_str(&text);
        said.push('\n');
    }
    out
}

/// An error and each cause its message does not already say, on one line joined by `: `,
/// for a failure told inside a longer sentence ("gave up waiting for …: reason") or a
/// message that must stay one line (a hook's answer, a client error's detail).
pub fn one_line(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !text.is_empty() && !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

/// [`lines`] as printed on stderr: `signoff: message`, causes indented under it.
pub fn print(err: &Report) {
    for (i, l) in lines(err).iter().enumerate() {
        if i == 0 {
            eprintln!("signoff: {l}");
        } else {
            eprintln!("  {l}");
        }
    }
}

/// The edge of a command with exit codes of its own (the broker's and `audit`'s exit 2
/// for "nothing to check", 1 for a failed check; `mcp`'s agent codes): prints a failure
/// as `main` does and exits with `code(&err)`.
pub fn exit(result: Result<ExitCode>, code: impl FnOnce(&Report) -> u8) -> ExitCode {
    match result {
        Ok(c) => c,
        Err(e) => {
            print(&e);
            ExitCode::from(code(&e))
        }
    }
}

/// The first error of type `E` in `err`'s chain, to pick an exit code by what failed.
pub fn find<E: std::error::Error + 'static>(err: &Report) -> Option<&E> {
    err.chain().find_map(|c| c.downcast_ref::<E>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Inner {
        #[error("permission denied")]
        Denied,
    }

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        /// Says its source itself.
        #[error("session: {0}")]
        Says(#[source] Inner),
        /// Leaves it to the chain.
        #[error("cannot store the session")]
        Hides(#[source] Inner),
    }

    #[test]
    fn each_cause_is_printed_once_and_only_when_the_message_lacks_it() {
        let r = Report::new(Outer::Hides(Inner::Denied));
        assert_eq!(
            lines(&r),
            ["cannot store the session", "caused by: permission denied"]
        );
        let r = Report::new(Outer::Says(Inner::Denied));
        assert_eq!(lines(&r), ["session: permission denied"]);
        let r = Report::new(Outer::Hides(Inner::Denied)).wrap_err("signing in");
        assert_eq!(
            lines(&r),
            [
                "signing in",
                "caused by: cannot store the session",
                "caused by: permission denied"
            ]
        );
        assert_eq!(lines(&eyre!("plain text")), ["plain text"]);
    }

    #[test]
    fn one_line_joins_the_causes_a_message_lacks() {
        assert_eq!(
            one_line(&Outer::Hides(Inner::Denied)),
            "cannot store the session: permission denied"
        );
        assert_eq!(
            one_line(&Outer::Says(Inner::Denied)),
            "session: permission denied"
        );
    }

    #[test]
    fn find_sees_a_typed_error_under_context() {
        let r = Report::new(Outer::Hides(Inner::Denied)).wrap_err("signing in");
        assert!(matches!(find::<Outer>(&r), Some(Outer::Hides(_))));
        assert!(find::<std::io::Error>(&r).is_none());
    }
}
