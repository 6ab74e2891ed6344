//! A generator of realistic, varied, deterministic decision history.
//!
//! Used by the search benchmark and the tests, and meant for `signoff dev seed` to fill a
//! broker store: [`Generator::record`] is random-access (record `i` depends only on the seed
//! and `i`), votes name real device keys, and [`Generator::signed_votes`] returns the
//! Ed25519-signed decisions behind a record's votes.

mod data;

use crate::protocol::person::{PersonKey, STATIC_ISSUER};
use ed25519_dalek::SigningKey;
use sha2::{Digest as _, Sha256};

use self::data::{KINDS, KindSpec};
use crate::protocol::{
    Action, ActionId, Command, ContextEntry, Decision, DecisionId, Digest, Execution,
    HistoryRecord, KeyId, Policy, Requester, Risk, RiskLevel, RiskTag, SignedDecision, Status,
    Target, Timestamp, Verdict, Vote,
};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct GenConfig {
    pub seed: u64,
    /// How many records the history spans; record 0 is the newest, `count - 1` the oldest.
    pub count: usize,
    /// When the newest decision happened.
    pub end: Timestamp,
    /// How far back the oldest decision lies.
    pub span_days: u32,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            seed: 0x5160_0ff0,
            count: 100_000,
            // 2026-11-20T00:00:00Z
            end: Timestamp::from_unix_millis(1_795_132_800_000),
            span_days: 90,
        }
    }
}

/// A small, fast, seedable PRNG (SplitMix64), so records are reproducible everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn weighted<'a, T>(&mut self, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
        let total: u64 = items.iter().map(|i| u64::from(weight(i))).sum();
        let mut roll = self.next() % total.max(1);
        for item in items {
            let w = u64::from(weight(item));
            if roll < w {
                return item;
            }
            roll -= w;
        }
        &items[items.len() - 1]
    }
}

/// One approver's device key.
pub struct ApproverKey {
    pub subject: &'static str,
    pub key: SigningKey,
    pub key_id: KeyId,
}

impl ApproverKey {
    /// The person behind the key, as a broker with static tokens identifies them.
    pub fn person(&self) -> PersonKey {
        PersonKey::authenticated(STATIC_ISSUER, self.subject, None)
    }
}

/// Generates history records; see the module documentation.
pub struct Generator {
    config: GenConfig,
    approvers: Vec<ApproverKey>,
}

impl Generator {
    pub fn new(config: GenConfig) -> Self {
        let approvers = data::PEOPLE
            .iter()
            .map(|&subject| {
                let mut h = Sha256::new();
                h.update(config.seed.to_le_bytes());
                h.update(subject.as_bytes());
                let key = SigningKey::from_bytes(&h.finalize().into());
                let key_id = KeyId::of(&key.verifying_key());
                ApproverKey {
                    subject,
                    key,
                    key_id,
                }
            })
            .collect();
        Self { config, approvers }
    }

    pub fn config(&self) -> &GenConfig {
        &self.config
    }

    /// The device keys the generated votes are signed with, one per approver.
    pub fn approver_keys(&self) -> &[ApproverKey] {
        &self.approvers
    }

    /// Records `0..count`, newest first.
    pub fn records(&self) -> Vec<HistoryRecord> {
        (0..self.config.count).map(|i| self.record(i)).collect()
    }

    /// Record `i` (0 is the newest).
    pub fn record(&self, i: usize) -> HistoryRecord {
        let mut rng = Rng(self.config.seed ^ (i as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        rng.next();
        let spec = rng.weighted(KINDS, |k| k.weight);
        let environment = rng.weighted(data::ENVIRONMENTS, |e| e.1).0;
        let person = rng.pick_str(data::PEOPLE);
        let region = rng.pick_str(data::REGIONS);
        let vars = Vars {
            res: fill_simple(rng.pick_str(spec.resources), &mut rng, person)
                .replace("{region}", region),
            env: environment,
            person,
            ticket: format!("CHG-{}", 1000 + rng.below(9000)),
            inc: format!("INC-{}", 100 + rng.below(900)),
            ver: format!("{}.{}.{}", 1 + rng.below(4), rng.below(30), rng.below(12)),
            region,
        };
        let span_ms = i64::from(self.config.span_days) * 86_400_000;
        let step = span_ms / self.config.count.max(1) as i64;
        let jitter = rng.below(step.max(1) as usize) as i64;
        let decided_at =
            Timestamp::from_unix_millis(self.config.end.unix_millis() - step * i as i64 - jitter);
        let status = *rng.weighted(
            &[
                (Status::Approved, 68),
                (Status::Denied, 14),
                (Status::Expired, 10),
                (Status::Withdrawn, 8),
            ],
            |s| s.1,
        );
        let status = status.0;
        let ttl: i64 = if spec.risk >= RiskLevel::High {
            900
        } else {
            3600
        };
        let wait_ms = match status {
            Status::Expired => ttl * 1000,
            _ => 4_000 + (rng.below(1000) as i64).pow(2) * (ttl / 400),
        };
        let created_at = Timestamp::from_unix_millis(decided_at.unix_millis() - wait_ms);
        let mut action = self.action(spec, &vars, &mut rng, created_at, ttl);
        let (votes, decided_by, reason) =
            self.outcome(&action, status, &vars, &mut rng, decided_at);
        action.status = status;
        action.votes = votes;
        if status == Status::Approved && rng.chance(85) {
            let exit_code = *rng.weighted(&[(0, 92), (1, 5), (2, 2), (137, 1)], |e| e.1);
            action.execution = Some(Execution {
                exit_code: exit_code.0,
                reported_at: decided_at.plus_secs(2 + rng.below(300) as i64),
                detail: Some(vars.fill(rng.pick_str(data::EXEC_DETAILS), &mut rng)),
            });
        }
        let digest = action.digest();
        let audit_hash = Digest::of_bytes(format!("{digest}:{i}:{}", status.as_str()).as_bytes());
        let signatures_verified = vec![true; action.votes.len()];
        HistoryRecord {
            action,
            digest,
            decided_at,
            decided_by,
            reason,
            audit_hash,
            signatures_verified,
        }
    }

    fn action(
        &self,
        spec: &KindSpec,
        vars: &Vars,
        rng: &mut Rng,
        created_at: Timestamp,
        ttl: i64,
    ) -> Action {
        let req = rng.pick(data::REQUESTERS);
        let acts_for = req.kind != crate::protocol::RequesterKind::Human && rng.chance(70);
        let mut summary = vars.fill(rng.pick_str(spec.summaries), rng);
        let command_text = vars.fill(rng.pick_str(spec.commands), rng);
        let mut command = match command_text.strip_prefix("$ ") {
            Some(line) => Command::Argv {
                argv: line.split(' ').map(String::from).collect(),
            },
            None => Command::Text { text: command_text },
        };
        // A few requests try to hide what they do; their history must still show it.
        let hidden = rng.chance(1) && rng.chance(20);
        if hidden {
            summary.push_str(" \u{202e}txt.gol\u{202c}");
            if let Command::Text { text } = &mut command {
                text.push_str("\u{200b}; DROP TABLE audit_log;");
            }
        }
        let level = bump(spec.risk, vars.env.contains("production"), spec.destructive);
        let mut tags = Vec::new();
        if vars.env.contains("production") {
            tags.push(tag("production", "prod", "environment is production"));
        }
        if spec.destructive {
            tags.push(tag(
                "destructive",
                "destructive",
                "the command deletes or alters data",
            ));
        }
        if spec.pii {
            tags.push(tag("pii", "PII", "the target holds personal data"));
        }
        if hidden {
            tags.push(tag(
                "hidden-characters",
                "hidden chars",
                "bidi override in summary",
            ));
        }
        let score = 15 + 20 * level as u32 + rng.below(15) as u32;
        let mut action = Action::from_request(
            crate::protocol::ActionRequest {
                kind: spec.kind.into(),
                summary,
                requester: Requester {
                    kind: req.kind,
                    id: req.id.into(),
                    display_name: req.display_name.into(),
                    model: req.model.map(String::from),
                    on_behalf_of: acts_for.then(|| vars.person.to_string()),
                },
                target: Target {
                    system: spec.system.into(),
                    resource: vars.res.clone(),
                    environment: vars.env.into(),
                },
                justification: vars.fill(rng.pick_str(data::JUSTIFICATIONS), rng),
                context: vec![ContextEntry {
                    key: "ticket".into(),
                    value: vars.ticket.clone(),
                }],
                command: Some(command),
                change: None,
                ttl_secs: Some(ttl as u64),
            },
            Risk {
                level,
                score: score.min(100),
                tags,
            },
            Policy {
                approvals_required: if level >= RiskLevel::High { 2 } else { 1 },
                approver_groups: vec![
                    if spec.system == "postgres" || spec.system == "mysql" {
                        "dba"
                    } else {
                        "sre"
                    }
                    .into(),
                ],
                rule: Some(format!(
                    "{}-{}",
                    spec.kind,
                    if vars.env.contains("production") {
                        "prod"
                    } else {
                        "nonprod"
                    }
                )),
                confirm: None,
                distinct_groups: false,
            },
            created_at,
            created_at.plus_secs(ttl),
        );
        action.id = ActionId(ulid::Ulid::from_parts(
            created_at.unix_millis() as u64,
            u128::from(rng.next()),
        ));
        action
    }

    fn outcome(
        &self,
        action: &Action,
        status: Status,
        vars: &Vars,
        rng: &mut Rng,
        decided_at: Timestamp,
    ) -> (Vec<Vote>, Vec<String>, String) {
        let needed = action.policy.approvals_required as usize;
        let first = rng.below(self.approvers.len());
        let voter = |n: usize| &self.approvers[(first + n * 7) % self.approvers.len()];
        let vote =
            |who: &ApproverKey, verdict: Verdict, reason: String, at: Timestamp, rng: &mut Rng| {
                Vote {
                    decision_id: DecisionId(ulid::Ulid::from_parts(
                        at.unix_millis() as u64,
                        u128::from(rng.next()),
                    )),
                    approver: who.subject.into(),
                    verdict,
                    reason,
                    key_id: who.key_id.clone(),
                    at,
                    person: Some(who.person()),
                    group: None,
                }
            };
        let earlier = |k: i64| Timestamp::from_unix_millis(decided_at.unix_millis() - 1000 * k);
        match status {
            Status::Approved => {
                let votes: Vec<Vote> = (0..needed)
                    .map(|n| {
                        let reason = vars.fill(rng.pick_str(data::APPROVE_REASONS), rng);
                        vote(
                            voter(n),
                            Verdict::Approve,
                            reason,
                            earlier((needed - 1 - n) as i64 * 40),
                            rng,
                        )
                    })
                    .collect();
                let by = votes.iter().map(|v| v.approver.clone()).collect();
                let reason = votes.last().map(|v| v.reason.clone()).unwrap_or_default();
                (votes, by, reason)
            }
            Status::Denied => {
                let mut votes = Vec::new();
                if needed > 1 && rng.chance(40) {
                    let reason = vars.fill(rng.pick_str(data::APPROVE_REASONS), rng);
                    votes.push(vote(voter(1), Verdict::Approve, reason, earlier(60), rng));
                }
                let reason = vars.fill(rng.pick_str(data::DENY_REASONS), rng);
                votes.push(vote(
                    voter(0),
                    Verdict::Deny,
                    reason.clone(),
                    decided_at,
                    rng,
                ));
                (votes, vec![voter(0).subject.into()], reason)
            }
            Status::Expired => {
                let mut votes = Vec::new();
                if needed > 1 && rng.chance(50) {
                    let reason = vars.fill(rng.pick_str(data::APPROVE_REASONS), rng);
                    votes.push(vote(voter(0), Verdict::Approve, reason, earlier(300), rng));
                }
                (votes, vec!["system".into()], "expired".into())
            }
            _ => (
                Vec::new(),
                vec![action.requester.id.clone()],
                "withdrawn by the requester".into(),
            ),
        }
    }

    /// The signed decisions behind `record`'s votes, signed with [`Self::approver_keys`].
    pub fn signed_votes(&self, record: &HistoryRecord) -> Vec<SignedDecision> {
        record
            .action
            .votes
            .iter()
            .filter_map(|v| {
                let who = self.approvers.iter().find(|a| a.subject == v.approver)?;
                let decision = Decision {
                    decision_id: v.decision_id,
                    action_id: record.action.id,
                    action_digest: record.digest.clone(),
                    verdict: v.verdict,
                    reason: v.reason.clone(),
                    approver: v.approver.clone(),
                    key_id: who.key_id.clone(),
                    issued_at: v.at,
                };
                Some(decision.sign(&who.key))
            })
            .collect()
    }
}

fn tag(id: &str, label: &str, reason: &str) -> RiskTag {
    RiskTag {
        id: id.into(),
        label: label.into(),
        reason: reason.into(),
    }
}

fn bump(base: RiskLevel, production: bool, destructive: bool) -> RiskLevel {
    let mut i = base as usize;
    if !production {
        i = i.saturating_sub(1);
    } else if destructive {
        i += 1;
    }
    RiskLevel::ALL[i.min(3)]
}

struct Vars {
    res: String,
    env: &'static str,
    person: &'static str,
    ticket: String,
    inc: String,
    ver: String,
    region: &'static str,
}

impl Vars {
    fn fill(&self, template: &str, rng: &mut Rng) -> String {
        fill_simple(template, rng, self.person)
            .replace("{res}", &self.res)
            .replace("{env}", self.env)
            .replace("{ticket}", &self.ticket)
            .replace("{inc}", &self.inc)
            .replace("{ver}", &self.ver)
            .replace("{region}", self.region)
    }
}

fn fill_simple(template: &str, rng: &mut Rng, person: &str) -> String {
    let mut s = template.replace("{user}", person);
    while let Some(at) = s.find("{n}") {
        s.replace_range(at..at + 3, &(2 + rng.below(9998)).to_string());
    }
    s
}

#[cfg(test)]
mod tests;
