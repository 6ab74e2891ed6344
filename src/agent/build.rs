//! From flags and the environment to an [`ActionRequest`]: pure, so every default and
//! every refusal is tested without a broker.
//!
//! The environment is passed in as a lookup function; the binary passes `std::env::var`,
//! tests pass a map. Under CI (GitHub Actions, GitLab CI) the run URL, commit, ref and actor
//! are added to the context, because an approver at 3 a.m. needs to know which run asks.

use std::path::Path;

use super::args::ActionArgs;
use crate::protocol::validate::{FieldError, validate_request};
use crate::protocol::{ActionRequest, Change, Command, ContextEntry, Requester, RequesterKind};
use crate::protocol::{Target, limits};

/// Reads one environment variable; `None` when unset or empty.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Why flags could not become a request.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Usage(String),
    /// A change file (`--diff`, `--before`, `--after`), or standard input for `-`.
    #[error("cannot read {what}")]
    Read {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the request is not valid: {}", fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Invalid { fields: Vec<FieldError> },
}

/// Fills what `gate` can infer from the command: kind `command.exec`, the command line as
/// summary, and `command:<program>` as target.
pub fn apply_gate_defaults(args: &mut ActionArgs, argv: &[String]) {
    let line = Command::Argv {
        argv: argv.to_vec(),
    }
    .display_line();
    args.kind.get_or_insert_with(|| "command.exec".into());
    args.summary.get_or_insert_with(|| {
        let mut s: String = line.chars().take(200).collect();
        if s.len() < line.len() {
            s.push('…');
        }
        s
    });
    if args.target.is_none() {
        let program = argv
            .first()
            .map(|p| {
                Path::new(p)
                    .file_name()
                    .map_or(p.clone(), |f| f.to_string_lossy().into())
            })
            .unwrap_or_default();
        args.target = Some(format!("command:{program}"));
    }
}

/// Builds and validates the request. `change` is the already-loaded diff, if any.
pub fn build_request(
    args: &ActionArgs,
    command: Option<Command>,
    change: Option<Change>,
    env: EnvLookup<'_>,
) -> Result<ActionRequest, BuildError> {
    let mut missing = Vec::new();
    for (flag, value) in [
        ("--kind", &args.kind),
        ("--summary", &args.summary),
        ("--target", &args.target),
        ("--env", &args.environment),
    ] {
        if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
            missing.push(flag);
        }
    }
    if !missing.is_empty() {
        return Err(BuildError::Usage(format!("missing {}", missing.join(", "))));
    }
    let target = args.target.as_deref().unwrap_or_default();
    let Some((system, resource)) = target.split_once(':') else {
        return Err(BuildError::Usage(format!(
            "--target must be SYSTEM:RESOURCE (e.g. postgres:customers), got {target:?}"
        )));
    };
    let ci = ci_facts(env);
    let kind = match args.requester_kind {
        Some(k) => k.into(),
        None if ci.is_some() => RequesterKind::Pipeline,
        None => RequesterKind::Agent,
    };
    let id = args
        .requester_id
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| default_requester_id(env));
    let display_name = args
        .requester_name
        .clone()
        .or_else(|| ci.as_ref().and_then(|c| c.display_name.clone()))
        .unwrap_or_else(|| id.clone());
    let mut context: Vec<ContextEntry> = args
        .context
        .iter()
        .map(|(k, v)| ContextEntry {
            key: k.clone(),
            value: v.clone(),
        })
        .collect();
    if !args.no_ci_context
        && let Some(ci) = &ci
    {
        for (k, v) in &ci.context {
            if !context.iter().any(|c| &c.key == k) {
                context.push(ContextEntry {
                    key: k.clone(),
                    value: v.clone(),
                });
            }
        }
    }
    let req = ActionRequest {
        kind: args.kind.clone().unwrap_or_default(),
        summary: args.summary.clone().unwrap_or_default(),
        requester: Requester {
            kind,
            id,
            display_name,
            model: args.model.clone(),
            on_behalf_of: args.on_behalf_of.clone(),
        },
        target: Target {
            system: system.trim().to_string(),
            resource: resource.trim().to_string(),
            environment: args.environment.clone().unwrap_or_default(),
        },
        justification: args.justification.clone(),
        context,
        command,
        change,
        ttl_secs: args.ttl.map(|d| d.as_secs().max(1)),
    };
    validate_request(&req).map_err(|fields| BuildError::Invalid { fields })?;
    Ok(req)
}

/// `$USER@$HOSTNAME`, from whatever the environment offers.
fn default_requester_id(env: EnvLookup<'_>) -> String {
    let user = env("USER")
        .or_else(|| env("LOGNAME"))
        .unwrap_or_else(|| "agent".into());
    match env("HOSTNAME") {
        Some(host) => format!("{user}@{host}"),
        None => user,
    }
}

/// What a CI system tells us about the run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CiFacts {
    display_name: Option<String>,
    context: Vec<(String, String)>,
}

fn ci_facts(env: EnvLookup<'_>) -> Option<CiFacts> {
    let pairs = |list: &[(&str, Option<String>)]| -> Vec<(String, String)> {
        list.iter()
            .filter_map(|(k, v)| v.clone().map(|v| ((*k).to_string(), v)))
            .collect()
    };
    if env("GITHUB_ACTIONS").as_deref() == Some("true") {
        let run_url = match (
            env("GITHUB_SERVER_URL"),
            env("GITHUB_REPOSITORY"),
            env("GITHUB_RUN_ID"),
        ) {
            (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
            _ => None,
        };
        let name = match (env("GITHUB_REPOSITORY"), env("GITHUB_WORKFLOW")) {
            (Some(r), Some(w)) => Some(format!("GitHub Actions: {r} / {w}")),
            (Some(r), None) => Some(format!("GitHub Actions: {r}")),
            _ => None,
        };
        return Some(CiFacts {
            display_name: name,
            context: pairs(&[
                ("ci.provider", Some("github-actions".into())),
                ("ci.run_url", run_url),
                ("ci.repository", env("GITHUB_REPOSITORY")),
                ("ci.workflow", env("GITHUB_WORKFLOW")),
                ("ci.commit", env("GITHUB_SHA")),
                ("ci.ref", env("GITHUB_REF")),
                ("ci.actor", env("GITHUB_ACTOR")),
            ]),
        });
    }
    if env("GITLAB_CI").as_deref() == Some("true") {
        return Some(CiFacts {
            display_name: env("CI_PROJECT_PATH").map(|p| format!("GitLab CI: {p}")),
            context: pairs(&[
                ("ci.provider", Some("gitlab-ci".into())),
                (
                    "ci.run_url",
                    env("CI_JOB_URL").or_else(|| env("CI_PIPELINE_URL")),
                ),
                ("ci.repository", env("CI_PROJECT_PATH")),
                ("ci.job", env("CI_JOB_NAME")),
                ("ci.commit", env("CI_COMMIT_SHA")),
                ("ci.ref", env("CI_COMMIT_REF_NAME")),
                ("ci.actor", env("GITLAB_USER_LOGIN")),
            ]),
        });
    }
    if env("CI").is_some_and(|v| v != "false" && v != "0") {
        return Some(CiFacts {
            display_name: None,
            context: vec![("ci.provider".into(), "ci".into())],
        });
    }
    None
}

/// Loads `--diff` or `--before/--after`, refusing files past the size limit before
/// reading them whole. `stdin` supplies `-`.
pub fn load_change(
    args: &ActionArgs,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
) -> Result<Option<Change>, BuildError> {
    if let Some(path) = &args.diff {
        let diff = read_bounded(path, stdin)?;
        return Ok(Some(Change::UnifiedDiff { diff }));
    }
    if let (Some(b), Some(a)) = (&args.before, &args.after) {
        let before = read_bounded(b, stdin)?;
        let after = read_bounded(a, stdin)?;
        return Ok(Some(Change::BeforeAfter {
            path: Some(a.display().to_string()),
            before,
            after,
        }));
    }
    Ok(None)
}

fn read_bounded(
    path: &Path,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
) -> Result<String, BuildError> {
    let shown = path.display();
    let text = if path.as_os_str() == "-" {
        stdin().map_err(|source| BuildError::Read {
            what: "standard input".into(),
            source,
        })?
    } else {
        let unreadable = |source| BuildError::Read {
            what: shown.to_string(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if meta.len() > limits::MAX_DIFF_BYTES as u64 {
            return Err(too_big(&shown.to_string(), meta.len()));
        }
        let bytes = std::fs::read(path).map_err(unreadable)?;
        String::from_utf8(bytes)
            .map_err(|_| BuildError::Usage(format!("{shown}: not UTF-8 text")))?
    };
    if text.len() > limits::MAX_DIFF_BYTES {
        return Err(too_big(&shown.to_string(), text.len() as u64));
    }
    Ok(text)
}

fn too_big(what: &str, len: u64) -> BuildError {
    BuildError::Usage(format!(
        "{what}: {len} bytes is over the {}-byte limit for a change",
        limits::MAX_DIFF_BYTES
    ))
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
