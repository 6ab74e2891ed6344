//! What the views are allowed to see of an action: every string already display-safe.
//!
//! A queue entry keeps the raw [`ActionRow`] the feed sent and, once fetched and checked,
//! the full [`Action`] privately (the console computes the digest it signs from that body,
//! never from what the broker announced). It exposes a small [`QueueRow`] for the queue
//! list plus this [`SafeAction`], built the first time a detail pane or dialog asks for it.
//! Views take `&QueueRow` or `&SafeAction`, so no agent string reaches a widget
//! unsanitized. The body is fetched only for the action being viewed, so 10,000 pending
//! actions hold 10,000 rows and one body.

use std::sync::{Arc, OnceLock};

use crate::protocol::{Action, ActionId, ActionRow, Digest, RiskLevel, Status, Timestamp, Verdict};

use crate::console::model::diff::DiffModel;
use crate::console::model::diff_job::{DiffJob, DiffState};
use crate::console::model::sanitize::SafeText;
use crate::protocol::person::{self, PersonKey};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeTag {
    pub label: SafeText,
    pub id: SafeText,
    pub reason: Vec<SafeText>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeVote {
    pub approver: SafeText,
    pub verdict: Verdict,
    pub reason: SafeText,
    pub at: Timestamp,
}

/// An action as the views see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeAction {
    pub id: ActionId,
    pub kind: SafeText,
    pub summary: SafeText,
    pub requester_kind: &'static str,
    pub requester_id: SafeText,
    pub requester_name: SafeText,
    pub model: Option<SafeText>,
    pub on_behalf_of: Option<SafeText>,
    pub system: SafeText,
    pub resource: SafeText,
    pub environment: SafeText,
    pub justification: Vec<SafeText>,
    pub context: Vec<(SafeText, Vec<SafeText>)>,
    pub command: Option<Vec<SafeText>>,
    pub risk: RiskLevel,
    pub score: u32,
    pub tags: Vec<SafeTag>,
    pub approvals: u32,
    pub required: u32,
    pub groups: Vec<SafeText>,
    pub rule: Option<SafeText>,
    /// The phrase a policy rule asks for to approve a critical action (else the
    /// resource name is typed).
    pub confirm: Option<SafeText>,
    pub votes: Vec<SafeVote>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub status: Status,
    /// The digest the console computed itself (what it will sign).
    pub digest: Digest,
    /// True when any agent string carried something that had to be made visible.
    pub hidden_chars: bool,
    /// Set while the body is not shown (loading, or refused): the detail panes show this
    /// instead of the justification, context, command and change.
    pub body_note: Option<String>,
}

impl SafeAction {
    /// The full view of a checked body: the row's fields (one path, [`SafeAction::of_row`]),
    /// then what only the body has — justification, context, command, vote reasons, and
    /// hidden characters looked for in every agent-supplied text.
    pub fn of(a: &Action, digest: &Digest) -> Self {
        use crate::protocol::Command;
        let row = ActionRow::of(a, digest.clone(), crate::protocol::BodySizes::default());
        Self {
            justification: SafeText::lines(&a.justification),
            context: a
                .context
                .iter()
                .map(|c| (SafeText::line(&c.key), SafeText::lines(&c.value)))
                .collect(),
            command: a.command.as_ref().map(|c| match c {
                Command::Text { text } => SafeText::lines(text),
                Command::Argv { .. } => vec![SafeText::line(&c.display_line())],
            }),
            approvals: person::distinct_approvers(&a.votes),
            votes: a
                .votes
                .iter()
                .map(|v| SafeVote {
                    approver: SafeText::line(&v.approver),
                    verdict: v.verdict,
                    reason: SafeText::line(&v.reason),
                    at: v.at,
                })
                .collect(),
            hidden_chars: a
                .agent_texts()
                .iter()
                .any(|(_, t)| crate::text::has_hidden(t)),
            body_note: None,
            ..Self::of_row(&row, String::new())
        }
    }

    /// The view of an action whose body is not shown: the row's fields, and `note` in
    /// place of the body.
    pub fn of_row(r: &ActionRow, note: String) -> Self {
        use crate::protocol::RequesterKind;
        let hidden = [
            &r.kind,
            &r.summary,
            &r.requester.id,
            &r.requester.display_name,
            &r.target.system,
            &r.target.resource,
            &r.target.environment,
        ]
        .iter()
        .any(|t| crate::text::has_hidden(t));
        Self {
            id: r.id,
            kind: SafeText::line(&r.kind),
            summary: SafeText::line(&r.summary),
            requester_kind: match r.requester.kind {
                RequesterKind::Agent => "agent",
                RequesterKind::Pipeline => "pipeline",
                RequesterKind::Human => "human",
            },
            requester_id: SafeText::line(&r.requester.id),
            requester_name: SafeText::line(&r.requester.display_name),
            model: r.requester.model.as_deref().map(SafeText::line),
            on_behalf_of: r.requester.on_behalf_of.as_deref().map(SafeText::line),
            system: SafeText::line(&r.target.system),
            resource: SafeText::line(&r.target.resource),
            environment: SafeText::line(&r.target.environment),
            justification: Vec::new(),
            context: Vec::new(),
            command: None,
            risk: r.risk.level,
            score: r.risk.score,
            tags: r
                .risk
                .tags
                .iter()
                .map(|t| SafeTag {
                    label: SafeText::line(&t.label),
                    id: SafeText::line(&t.id),
                    reason: SafeText::lines(&t.reason),
                })
                .collect(),
            approvals: r.approvals(),
            required: r.policy.approvals_required,
            groups: r
                .policy
                .approver_groups
                .iter()
                .map(|g| SafeText::line(g))
                .collect(),
            rule: r.policy.rule.as_deref().map(SafeText::line),
            confirm: r.policy.confirm.as_deref().map(SafeText::line),
            votes: r
                .votes
                .iter()
                .map(|v| SafeVote {
                    approver: SafeText::line(&v.approver),
                    verdict: v.verdict,
                    reason: SafeText::line(""),
                    at: v.at,
                })
                .collect(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            status: r.status,
            digest: r.digest.clone(),
            hidden_chars: hidden,
            body_note: Some(note),
        }
    }

    /// `kind system/resource`, one line, for notices and titles.
    pub fn label(&self) -> String {
        format!(
            "{} {}/{}",
            self.kind.plain(),
            self.system.plain(),
            self.resource.plain()
        )
    }
}

/// What a queue row shows (and sorting and filtering read), already display-safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    pub id: ActionId,
    pub risk: RiskLevel,
    pub kind: SafeText,
    pub resource: SafeText,
    pub environment: SafeText,
    pub requester_name: SafeText,
    /// Approvals by distinct persons.
    pub approvals: u32,
    pub required: u32,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// `bob is looking` (approvers who claimed it), when any did.
    pub looking: Option<SafeText>,
}

impl QueueRow {
    fn of(a: &ActionRow) -> Self {
        Self {
            id: a.id,
            risk: a.risk.level,
            kind: SafeText::line(&a.kind),
            resource: SafeText::line(&a.target.resource),
            environment: SafeText::line(&a.target.environment),
            requester_name: SafeText::line(&a.requester.display_name),
            // The broker refuses a second vote by one person, so the row's approvals are
            // approvals by distinct persons.
            approvals: a.approvals(),
            required: a.policy.approvals_required,
            created_at: a.created_at,
            expires_at: a.expires_at,
            looking: match a.looking.as_slice() {
                [] => None,
                [one] => Some(SafeText::line(&format!("{one} is looking"))),
                [rest @ .., last] => Some(SafeText::line(&format!(
                    "{} and {last} are looking",
                    rest.join(", ")
                ))),
            },
        }
    }
}

/// Where the full action of an entry stands while it is not shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyFetch {
    /// Not asked for yet (asked when the action is viewed).
    Missing,
    /// `get_action` is on its way.
    Requested,
    /// The last request failed for a reason that may pass (the broker's own error, no
    /// answer in time); asked again from `at` (the `attempt`th retry).
    Retry {
        at: crate::protocol::Timestamp,
        attempt: u32,
        why: String,
    },
    /// The broker could not send it, or its digest was not the announced one: never
    /// shown, never signable.
    Refused(String),
}

/// One pending action in the queue.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The row as the feed sent it, private to this module: views reach only
    /// [`QueueRow`] and [`SafeAction`], and the decision path only the narrow methods below.
    raw: ActionRow,
    /// The full action, once fetched and checked against `raw.digest`.
    body: Option<Box<Action>>,
    /// Why there is no body yet.
    pub fetch: BodyFetch,
    pub row: QueueRow,
    /// Built on first view (see [`Entry::view`]); boxed so an unbuilt one costs a word.
    view: OnceLock<Box<SafeAction>>,
    /// Started on first view, kept while the action stays selected (see [`Entry::diff`]).
    diff: OnceLock<Option<Arc<DiffJob>>>,
    /// When this console first saw it (for "new" marks and age).
    pub seen_at: Timestamp,
    /// [`Entry::names`] for the last approver asked about.
    names_me: NamesMe,
}

/// The answer of [`Entry::names`] for one approver, so the queue does not fold the
/// requester's identifiers (NFKC, case, skeleton) on every frame, nor keep their person
/// keys for 10,000 rows: one word, `fingerprint of me | answer`, with answer 0 for "not
/// asked yet", 1 `None`, 2 `Some(false)`, 3 `Some(true)`. Another approver (another
/// fingerprint) is answered afresh.
#[derive(Debug, Default)]
struct NamesMe(std::sync::atomic::AtomicU64);

impl Clone for NamesMe {
    fn clone(&self) -> Self {
        Self(std::sync::atomic::AtomicU64::new(
            self.0.load(std::sync::atomic::Ordering::Relaxed),
        ))
    }
}

/// A fingerprint of `me` with its two low bits clear.
fn fingerprint(me: &PersonKey) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    me.hash(&mut h);
    h.finish() & !3
}

/// A body that does not match the row it was fetched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyMismatch {
    pub announced: Digest,
    pub computed: Digest,
}

impl Entry {
    pub fn new(row: ActionRow, seen_at: Timestamp) -> Self {
        Self {
            row: QueueRow::of(&row),
            raw: row,
            body: None,
            fetch: BodyFetch::Missing,
            view: OnceLock::new(),
            diff: OnceLock::new(),
            seen_at,
            names_me: NamesMe::default(),
        }
    }

    /// How the action names `me` as its own requester or the person it acts for (compared
    /// with the same person keys the broker uses): `Some(false)` the same person,
    /// `Some(true)` a look-alike, `None` not at all. The requester is covered by the
    /// digest, so the answer holds for the entry's life.
    pub fn names(&self, me: &PersonKey) -> Option<bool> {
        use std::sync::atomic::Ordering::Relaxed;
        let fp = fingerprint(me);
        let cached = self.names_me.0.load(Relaxed);
        if cached & !3 == fp && cached & 3 != 0 {
            return match cached & 3 {
                1 => None,
                2 => Some(false),
                _ => Some(true),
            };
        }
        let answer = std::iter::once(self.raw.requester.id.as_str())
            .chain(self.raw.requester.on_behalf_of.as_deref())
            .filter_map(|k| person::names_me(me, &PersonKey::claimed(k)))
            .min();
        let code = match answer {
            None => 1,
            Some(false) => 2,
            Some(true) => 3,
        };
        self.names_me.0.store(fp | code, Relaxed);
        answer
    }

    /// An entry whose body is already here (tests, and a console that computed the row
    /// itself): the row is derived from the action.
    pub fn with_body(action: Action, seen_at: Timestamp) -> Self {
        let mut e = Self::new(ActionRow::compute(&action), seen_at);
        e.body = Some(Box::new(action));
        e
    }

    /// Takes the fetched body when the digest this console computes from it is the one
    /// the row announced; otherwise refuses it (and says so), keeping nothing of it.
    pub fn set_body(&mut self, action: Action) -> Result<(), BodyMismatch> {
        let computed = action.digest();
        if action.id != self.raw.id || computed != self.raw.digest {
            let m = BodyMismatch {
                announced: self.raw.digest.clone(),
                computed,
            };
            self.fetch = BodyFetch::Refused(format!(
                "refused: the body the broker sent has digest {}, not the announced {}; \
                 it is not shown and cannot be signed",
                m.computed.prefix(12),
                m.announced.prefix(12)
            ));
            self.view.take();
            return Err(m);
        }
        // Votes may have moved on since the body was read; the row is newer.
        let mut action = action;
        action.status = self.raw.status;
        self.body = Some(Box::new(action));
        self.view.take();
        self.diff.take();
        Ok(())
    }

    /// True when the checked body is here (the action can be shown in full and signed).
    pub fn has_body(&self) -> bool {
        self.body.is_some()
    }

    /// Drops the body (and its diff) to keep memory to the action on screen.
    pub fn forget_body(&mut self) {
        if self.body.take().is_some() {
            self.fetch = BodyFetch::Missing;
        }
        self.view.take();
        self.diff.take();
    }

    /// The full display-safe view, built the first time a detail pane or dialog asks:
    /// the queue list needs only [`Entry::row`].
    pub fn view(&self) -> &SafeAction {
        self.view.get_or_init(|| {
            Box::new(match &self.body {
                Some(a) => {
                    let mut v = SafeAction::of(a, &self.raw.digest);
                    v.votes = self
                        .raw
                        .votes
                        .iter()
                        .map(|rv| SafeVote {
                            approver: SafeText::line(&rv.approver),
                            verdict: rv.verdict,
                            reason: SafeText::line(
                                a.votes
                                    .iter()
                                    .find(|v| v.decision_id == rv.decision_id)
                                    .map_or("", |v| v.reason.as_str()),
                            ),
                            at: rv.at,
                        })
                        .collect();
                    v.approvals = self.raw.approvals();
                    v
                }
                None => SafeAction::of_row(&self.raw, self.body_note()),
            })
        })
    }

    /// What the detail panes say while the body is not shown.
    fn body_note(&self) -> String {
        match &self.fetch {
            BodyFetch::Refused(why) => why.clone(),
            BodyFetch::Retry { attempt, why, .. } => {
                format!("could not load the full action ({why}); retrying (attempt {attempt})…")
            }
            BodyFetch::Missing | BodyFetch::Requested => {
                format!("loading the full action ({} bytes)…", self.raw.sizes.action)
            }
        }
    }

    /// Drops the full view; the next [`Entry::view`] builds it again. Called when the
    /// selection leaves this entry. (The body stays until [`Entry::forget_body`]: the
    /// console keeps the few most recently viewed.)
    pub fn forget_view(&mut self) {
        self.view.take();
        // Also the diff: a large one's memory goes back when the selection leaves (and a
        // job still running is cancelled).
        self.diff.take();
    }

    /// The change as the diff pane can show it now; `None` when the action carries
    /// none. The diff starts the first time a view asks (small ones are ready at once,
    /// large ones are computed off the event loop, [`DiffJob`]): a queue of 10,000
    /// actions shows one diff at a time.
    pub fn diff(&self) -> Option<DiffState<'_>> {
        let change = self.body.as_ref()?.change.as_ref()?;
        let job = self
            .diff
            .get_or_init(|| Some(Arc::new(DiffJob::start(change))))
            .as_deref()?;
        Some(job.state(change))
    }

    /// The parsed diff once it is ready (`None` while computing, past its budget, or
    /// when there is no change).
    pub fn diff_model(&self) -> Option<&DiffModel> {
        match self.diff()? {
            DiffState::Ready(m) => Some(m),
            _ => None,
        }
    }

    /// Waits (up to `limit`) for a diff computed off the event loop: for tests, which
    /// draw one frame and need the finished pane (the test kit only).
    #[cfg(any(test, feature = "testkit"))]
    pub fn wait_for_diff(&self, limit: std::time::Duration) -> bool {
        if self.body.as_ref().and_then(|a| a.change.as_ref()).is_none() {
            return true;
        }
        let _ = self.diff();
        self.diff
            .get()
            .and_then(|j| j.as_deref())
            .is_none_or(|j| j.wait(limit))
    }

    /// The same action with a newer row (votes); the body is kept when the digest is
    /// unchanged.
    pub fn updated(self, row: ActionRow) -> Self {
        if row.digest == self.raw.digest {
            Self {
                row: QueueRow::of(&row),
                raw: row,
                view: OnceLock::new(),
                ..self
            }
        } else {
            Self::new(row, self.seen_at)
        }
    }

    /// The digest the feed announced (what a body must match).
    pub fn digest(&self) -> &Digest {
        &self.raw.digest
    }

    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        now >= self.raw.expires_at
    }

    /// `kind system/resource`, one line, for notices and titles (as [`SafeAction::label`],
    /// without building the full view).
    pub fn label(&self) -> String {
        format!(
            "{} {}/{}",
            self.row.kind.plain(),
            SafeText::line(&self.raw.target.system).plain(),
            self.row.resource.plain()
        )
    }

    /// The summary as displayed, for desktop alerts.
    pub fn summary_plain(&self) -> String {
        SafeText::line(&self.raw.summary).plain()
    }

    /// True when the lower-cased `query` occurs in one of the searched fields as
    /// displayed. Fields the row lacks are sanitised just for the test, so searching
    /// 10,000 actions builds no full view.
    pub fn matches(&self, query: &str) -> bool {
        let r = &self.row;
        let a = &self.raw;
        let hit = |t: &SafeText| t.plain().to_lowercase().contains(query);
        [&r.kind, &r.resource, &r.environment, &r.requester_name]
            .into_iter()
            .any(hit)
            || [&a.summary, &a.target.system, &a.requester.id]
                .into_iter()
                .any(|s| hit(&SafeText::line(s)))
    }

    /// What a decision names: the action id and the digest this console computed from
    /// the body it displayed (never one received from the broker). `None` while the body
    /// is not here: nothing unseen can be signed.
    pub fn signing_basis(&self) -> Option<(ActionId, Digest)> {
        self.body.as_ref().map(|a| (a.id, a.digest()))
    }

    /// True when `typed` is the confirmation phrase for a critical approval: the policy
    /// rule's `confirm` phrase when set, else the resource name.
    pub fn confirms(&self, typed: &str) -> bool {
        let t = typed.trim();
        // As sent, or as displayed (hidden characters shown as markers can be typed as
        // they read). Never the environment: that would become muscle memory.
        let (phrase, shown) = match &self.raw.policy.confirm {
            Some(c) => (c.as_str(), SafeText::line(c).plain()),
            None => (self.raw.target.resource.as_str(), self.row.resource.plain()),
        };
        !t.is_empty() && (t == phrase || t == shown)
    }

    /// True when the broker already recorded this decision on the action.
    pub fn has_decision(&self, id: crate::protocol::DecisionId) -> bool {
        self.raw.votes.iter().any(|v| v.decision_id == id)
    }

    /// True when `subject` has already voted on it.
    pub fn voted_by(&self, subject: &str) -> bool {
        self.raw.voted_by(subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::fixtures::{action, now};
    use crate::protocol::RiskLevel;

    #[test]
    fn the_diff_is_parsed_on_first_view_then_kept() {
        let e = Entry::with_body(action(1, "k8s.scale", "api", "dev", RiskLevel::Low), now());
        assert!(e.diff.get().is_none(), "not parsed on arrival");
        let first = e.diff_model().expect("the fixture carries a diff") as *const DiffModel;
        assert!(
            e.diff_model()
                .is_some_and(|d| d.added == 2 && d.removed == 2)
        );
        assert_eq!(e.diff_model().map(|d| d as *const DiffModel), Some(first));

        let mut plain = action(2, "k8s.scale", "api", "dev", RiskLevel::Low);
        plain.change = None;
        assert!(Entry::with_body(plain, now()).diff().is_none());
    }

    #[test]
    fn who_the_action_names_is_answered_per_approver_and_kept() {
        let mut a = action(1, "db.export", "customers", "production", RiskLevel::High);
        a.requester.on_behalf_of = Some("Alice@Example.test".into());
        let e = Entry::with_body(a, now());
        let alice = PersonKey::of_identity("alice", Some("alice@example.test"));
        let bob = PersonKey::of_identity("bob", Some("bob@example.test"));
        let alike = PersonKey::of_identity("аlice", Some("аlice@example.test")); // Cyrillic а
        assert_eq!(e.names(&alice), Some(false));
        assert_eq!(
            e.names(&alice),
            Some(false),
            "answered again from the cache"
        );
        assert_eq!(e.names(&bob), None, "another approver is answered afresh");
        assert_eq!(e.names(&alike), Some(true));
        assert_eq!(e.clone().names(&alike), Some(true));
        assert_eq!(e.names(&alice), Some(false));
    }

    fn built(app: &crate::console::core::app::App) -> usize {
        app.queue
            .entries
            .values()
            .filter(|e| e.view.get().is_some())
            .count()
    }

    #[test]
    fn the_queue_builds_full_views_only_for_what_a_pane_shows() {
        use crate::console::fixtures::live_app;
        use crate::console::queue::order as queue;
        use crate::console::queue::state::SortKey;

        let levels = [RiskLevel::Low, RiskLevel::High, RiskLevel::Critical];
        let actions = (1..=200u8)
            .map(|n| {
                let env = if n % 2 == 0 { "production" } else { "dev" };
                action(
                    n,
                    "k8s.scale",
                    &format!("api-{n}"),
                    env,
                    levels[usize::from(n % 3)],
                )
            })
            .collect();
        let mut app = live_app(actions, (160, 48));
        assert_eq!(app.queue.order.len(), 200);
        assert_eq!(built(&app), 0, "a snapshot builds no full view");

        for sort in [SortKey::Expiry, SortKey::Age, SortKey::Risk] {
            app.queue.sort = sort;
            queue::rebuild(&mut app.queue);
        }
        app.queue.filter.hidden_risks.insert(RiskLevel::Low);
        app.queue.search.value = "API-1".into();
        queue::rebuild(&mut app.queue);
        assert!(!app.queue.order.is_empty() && app.queue.order.len() < 200);
        app.queue.search.value = "scale".into();
        queue::rebuild(&mut app.queue);
        assert_eq!(built(&app), 0, "sort, filter and search build no full view");
        assert!(!app.queue.environments().is_empty());

        crate::console::fixtures::render(&app);
        assert_eq!(
            built(&app),
            1,
            "a frame builds the selected action's view only"
        );
        let sel = app.queue.selected.and_then(|id| app.queue.entries.get(&id));
        assert!(sel.is_some_and(|e| e.view.get().is_some()));

        // Scrolling on keeps one view: the one the selection left is dropped.
        let first = app.queue.selected;
        for _ in 0..5 {
            queue::move_selection(&mut app.queue, 1);
            let _ = app.queue.selected_entry().map(Entry::view);
        }
        assert_ne!(app.queue.selected, first);
        assert_eq!(built(&app), 1, "only the selected action keeps its view");
        app.queue.search.value = "api-3".into();
        queue::rebuild(&mut app.queue);
        let _ = app.queue.selected_entry().map(Entry::view);
        assert_eq!(built(&app), 1);
    }

    #[test]
    fn the_row_and_lazy_view_agree_with_a_full_view() {
        let a = crate::console::fixtures::hostile_action(7);
        let e = Entry::with_body(a.clone(), now());
        let full = SafeAction::of(&a, &a.digest());
        assert_eq!(e.row.kind, full.kind);
        assert_eq!(e.row.resource, full.resource);
        assert_eq!(e.row.environment, full.environment);
        assert_eq!(e.row.requester_name, full.requester_name);
        assert_eq!(e.label(), full.label());
        assert_eq!(e.summary_plain(), full.summary.plain());
        assert!(e.view.get().is_none());
        assert_eq!(e.view(), &full);
        assert!(e.matches(&full.summary.plain().to_lowercase()));
        assert!(!e.matches("no such text anywhere"));
    }
}
