//! `signoff history` flags, and their meaning as a [`HistoryQuery`]. Pure: the clock is
//! passed in, so relative times (`24h`, `7d`) are testable.

use time::OffsetDateTime;
use time::macros::format_description;

use crate::protocol::{HistoryCursor, HistoryQuery, RiskLevel, Status, Timestamp};

/// Decided actions, newest first, from the broker's audit log.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HistoryArgs {
    /// Outcomes: approved, denied, expired, withdrawn, or executed (approved and ran).
    #[arg(long, value_delimiter = ',', value_name = "OUTCOME,..")]
    pub outcome: Vec<String>,
    /// Risk levels: low, medium, high, critical.
    #[arg(long, value_delimiter = ',', value_name = "LEVEL,..")]
    pub risk: Vec<String>,
    /// Environments, exactly as the agent named them (e.g. production).
    #[arg(long, value_delimiter = ',', value_name = "ENV,..")]
    pub env: Vec<String>,
    /// Action kinds, exactly (e.g. db.export,terraform.apply).
    #[arg(long, value_delimiter = ',', value_name = "KIND,..")]
    pub kind: Vec<String>,
    /// Requester id or display name (exact).
    #[arg(long, value_name = "WHO")]
    pub requester: Option<String>,
    /// Subject of an approver who voted.
    #[arg(long, value_name = "SUBJECT")]
    pub approver: Option<String>,
    /// Decided at or after: RFC 3339, a date (YYYY-MM-DD, UTC), or relative (30m, 24h, 7d, 2w).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Decided before: same forms as --since.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Free text over summary, kind, target, requester, approver, reason and command.
    #[arg(long, short = 'q', value_name = "TEXT")]
    pub query: Option<String>,
    /// Most records to print.
    #[arg(long, default_value_t = 100, value_name = "N", conflicts_with = "all")]
    pub limit: u64,
    /// Print every matching record (pages through the whole result).
    #[arg(long)]
    pub all: bool,
    /// Continue after an earlier run, from the cursor it printed.
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
    /// JSON Lines: one history record per line, for pipes.
    #[arg(long)]
    pub json: bool,
    /// Broker base URL.
    #[arg(long, env = "SIGNOFF_BROKER_URL", value_name = "URL")]
    pub broker: Option<String>,
    /// Approver bearer token [default: the sign-in session of `signoff login`].
    #[arg(
        long,
        env = "SIGNOFF_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Directory of the sign-in session [default: the platform data dir].
    #[arg(long, env = "SIGNOFF_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
}

impl HistoryArgs {
    /// How many records at most (`None`: all).
    pub fn max_records(&self) -> Option<u64> {
        (!self.all).then_some(self.limit)
    }
}

/// Builds the query the flags describe, at `now`. Errors are one clear sentence.
pub fn build_query(args: &HistoryArgs, now: Timestamp) -> Result<HistoryQuery, String> {
    let mut q = HistoryQuery::default();
    for s in args
        .outcome
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        if s == "executed" {
            q.executed = Some(true);
            continue;
        }
        let status: Status = s.parse().map_err(|_| {
            format!(
                "--outcome: unknown outcome {s:?} (approved, denied, expired, withdrawn, executed)"
            )
        })?;
        if status == Status::Pending {
            return Err(
                "--outcome: pending actions are not history (see the console's queue)".into(),
            );
        }
        if !q.outcome.contains(&status) {
            q.outcome.push(status);
        }
    }
    if q.executed == Some(true) {
        if q.outcome.iter().any(|s| *s != Status::Approved) {
            return Err("--outcome: `executed` means approved and ran; it cannot be combined with other outcomes".into());
        }
        q.outcome = vec![Status::Approved];
    }
    for s in args.risk.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let level: RiskLevel = s.parse().map_err(|e| format!("--risk: {e}"))?;
        if !q.risk.contains(&level) {
            q.risk.push(level);
        }
    }
    q.environment = nonempty(&args.env);
    q.kind = nonempty(&args.kind);
    q.requester = args.requester.clone().filter(|s| !s.trim().is_empty());
    q.approver = args.approver.clone().filter(|s| !s.trim().is_empty());
    if let Some(s) = &args.since {
        q.since = Some(parse_time(s, now).map_err(|e| format!("--since: {e}"))?);
    }
    if let Some(s) = &args.until {
        q.until = Some(parse_time(s, now).map_err(|e| format!("--until: {e}"))?);
    }
    q.text = args.query.clone().filter(|t| !t.trim().is_empty());
    q.cursor = args
        .cursor
        .clone()
        .filter(|c| !c.is_empty())
        .map(HistoryCursor);
    if !args.all && args.limit == 0 {
        return Err("--limit: must be at least 1 (use --all for everything)".into());
    }
    q.validate().map_err(|e| format!("--since/--until: {e}"))?;
    Ok(q)
}

fn nonempty(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// RFC 3339, a UTC date, or a duration back from `now` (`90s`, `30m`, `24h`, `7d`, `2w`).
pub fn parse_time(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Some(secs) = relative_secs(s) {
        return Ok(now.plus_secs(-secs));
    }
    if let Ok(t) = Timestamp::parse(s) {
        return Ok(t);
    }
    let date = format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &date) {
        return Ok(Timestamp::from_datetime(OffsetDateTime::new_utc(
            d,
            time::Time::MIDNIGHT,
        )));
    }
    Err(format!(
        "{s:?} is not a time: use RFC 3339 (2026-11-23T14:00:00Z), a date (2026-11-23) \
         or a duration ago (30m, 24h, 7d, 2w)"
    ))
}

fn relative_secs(s: &str) -> Option<i64> {
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()]
        .parse()
        .ok()
        .filter(|n| *n >= 0)?;
    let per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(per)
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
