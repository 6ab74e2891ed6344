//! Filter chips: the console's toggles (outcome, risk, environment, kind, "decided by me",
//! "requested by X", a time range) as a plain model that produces a [`HistoryQuery`].
//!
//! The model holds no clock and no identity: the caller passes `now` and its own subject
//! when it asks for the query, so the same chips mean "the last hour" whenever applied.

use std::collections::HashMap;

use crate::protocol::{HistoryQuery, RiskLevel, Status, Timestamp};

use super::index::HistoryIndex;

/// A time-range chip. Presets count back from `now`; custom bounds are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeRange {
    #[default]
    All,
    LastHour,
    Last24Hours,
    Last7Days,
    Custom {
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    },
}

impl TimeRange {
    /// The presets in the order a key press cycles through them.
    pub const PRESETS: [TimeRange; 4] = [
        TimeRange::All,
        TimeRange::LastHour,
        TimeRange::Last24Hours,
        TimeRange::Last7Days,
    ];

    /// `(since, until)` at `now`.
    pub fn bounds(self, now: Timestamp) -> (Option<Timestamp>, Option<Timestamp>) {
        match self {
            TimeRange::All => (None, None),
            TimeRange::LastHour => (Some(now.plus_secs(-3600)), None),
            TimeRange::Last24Hours => (Some(now.plus_secs(-86_400)), None),
            TimeRange::Last7Days => (Some(now.plus_secs(-7 * 86_400)), None),
            TimeRange::Custom { since, until } => (since, until),
        }
    }

    /// The next preset (a custom range cycles back to the first preset).
    pub fn next(self) -> TimeRange {
        let at = Self::PRESETS.iter().position(|p| *p == self);
        match at {
            Some(i) => Self::PRESETS[(i + 1) % Self::PRESETS.len()],
            None => TimeRange::All,
        }
    }

    pub fn label(self) -> String {
        match self {
            TimeRange::All => "any time".into(),
            TimeRange::LastHour => "last 1h".into(),
            TimeRange::Last24Hours => "last 24h".into(),
            TimeRange::Last7Days => "last 7d".into(),
            TimeRange::Custom { since, until } => match (since, until) {
                (Some(s), Some(u)) => format!("{s} → {u}"),
                (Some(s), None) => format!("since {s}"),
                (None, Some(u)) => format!("until {u}"),
                (None, None) => "any time".into(),
            },
        }
    }
}

/// What a chip filters on, so a view can style and remove chips one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chip {
    Outcome(Status),
    Executed(bool),
    Risk(RiskLevel),
    Environment(String),
    Kind(String),
    DecidedByMe,
    RequestedBy(String),
    Time(TimeRange),
}

impl Chip {
    pub fn label(&self) -> String {
        match self {
            Chip::Outcome(s) => s.as_str().into(),
            Chip::Executed(true) => "executed".into(),
            Chip::Executed(false) => "not executed".into(),
            Chip::Risk(r) => format!("risk {r}"),
            Chip::Environment(e) => format!("env {e}"),
            Chip::Kind(k) => format!("kind {k}"),
            Chip::DecidedByMe => "decided by me".into(),
            Chip::RequestedBy(who) => format!("requested by {who}"),
            Chip::Time(t) => t.label(),
        }
    }
}

/// The active filter chips. Several values of one chip kind are alternatives (OR);
/// different chip kinds combine (AND).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chips {
    pub outcomes: Vec<Status>,
    pub executed: Option<bool>,
    pub risks: Vec<RiskLevel>,
    pub environments: Vec<String>,
    pub kinds: Vec<String>,
    pub decided_by_me: bool,
    pub requested_by: Option<String>,
    pub time: TimeRange,
}

fn toggle<T: PartialEq>(list: &mut Vec<T>, value: T) {
    match list.iter().position(|v| *v == value) {
        Some(i) => {
            list.remove(i);
        }
        None => list.push(value),
    }
}

impl Chips {
    /// Toggles an outcome. `pending` is not history and is ignored.
    pub fn toggle_outcome(&mut self, status: Status) {
        if status != Status::Pending {
            toggle(&mut self.outcomes, status);
        }
    }

    /// Cycles the executed chip: off → executed → not executed → off.
    pub fn cycle_executed(&mut self) {
        self.executed = match self.executed {
            None => Some(true),
            Some(true) => Some(false),
            Some(false) => None,
        };
    }

    pub fn toggle_risk(&mut self, level: RiskLevel) {
        toggle(&mut self.risks, level);
    }

    pub fn toggle_environment(&mut self, env: &str) {
        toggle(&mut self.environments, env.to_string());
    }

    pub fn toggle_kind(&mut self, kind: &str) {
        toggle(&mut self.kinds, kind.to_string());
    }

    pub fn toggle_decided_by_me(&mut self) {
        self.decided_by_me = !self.decided_by_me;
    }

    /// Sets "requested by X"; the same requester again clears it.
    pub fn toggle_requested_by(&mut self, who: &str) {
        self.requested_by = match &self.requested_by {
            Some(current) if current == who => None,
            _ => Some(who.to_string()),
        };
    }

    pub fn cycle_time(&mut self) {
        self.time = self.time.next();
    }

    /// Removes one chip (as listed by [`Chips::active`]).
    pub fn remove(&mut self, chip: &Chip) {
        match chip {
            Chip::Outcome(s) => self.outcomes.retain(|o| o != s),
            Chip::Executed(_) => self.executed = None,
            Chip::Risk(r) => self.risks.retain(|l| l != r),
            Chip::Environment(e) => self.environments.retain(|v| v != e),
            Chip::Kind(k) => self.kinds.retain(|v| v != k),
            Chip::DecidedByMe => self.decided_by_me = false,
            Chip::RequestedBy(_) => self.requested_by = None,
            Chip::Time(_) => self.time = TimeRange::All,
        }
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// The active chips, in display order.
    pub fn active(&self) -> Vec<Chip> {
        let mut out: Vec<Chip> = self.outcomes.iter().map(|s| Chip::Outcome(*s)).collect();
        out.extend(self.executed.map(Chip::Executed));
        out.extend(self.risks.iter().map(|r| Chip::Risk(*r)));
        out.extend(self.environments.iter().cloned().map(Chip::Environment));
        out.extend(self.kinds.iter().cloned().map(Chip::Kind));
        if self.decided_by_me {
            out.push(Chip::DecidedByMe);
        }
        out.extend(self.requested_by.clone().map(Chip::RequestedBy));
        if self.time != TimeRange::All {
            out.push(Chip::Time(self.time));
        }
        out
    }

    /// The query these chips mean at `now` for the approver `me` (text and paging unset).
    pub fn to_query(&self, now: Timestamp, me: &str) -> HistoryQuery {
        let (since, until) = self.time.bounds(now);
        HistoryQuery {
            outcome: self.outcomes.clone(),
            risk: self.risks.clone(),
            kind: self.kinds.clone(),
            environment: self.environments.clone(),
            requester: self.requested_by.clone(),
            approver: self.decided_by_me.then(|| me.to_string()),
            executed: self.executed,
            since,
            until,
            ..HistoryQuery::default()
        }
    }
}

/// The values a chip picker can offer, with how many loaded records have each.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facets {
    pub environments: Vec<(String, usize)>,
    pub kinds: Vec<(String, usize)>,
    pub requesters: Vec<(String, usize)>,
}

impl Facets {
    /// Counts over every record in `index`, most frequent first (ties by name).
    pub fn of(index: &HistoryIndex) -> Self {
        let mut env: HashMap<&str, usize> = HashMap::new();
        let mut kind: HashMap<&str, usize> = HashMap::new();
        let mut req: HashMap<&str, usize> = HashMap::new();
        for &slot in index.order() {
            let a = &index.record(slot).action;
            *env.entry(&a.target.environment).or_default() += 1;
            *kind.entry(&a.kind).or_default() += 1;
            *req.entry(&a.requester.id).or_default() += 1;
        }
        Self {
            environments: sorted(env),
            kinds: sorted(kind),
            requesters: sorted(req),
        }
    }
}

fn sorted(counts: HashMap<&str, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

#[cfg(test)]
mod tests;
