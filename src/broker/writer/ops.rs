//! Staging of each operation: checks against the batch's view of state, then the
//! mutations, audit entries and events it produces.

use std::sync::Arc;

use super::{Batch, Created, IdempotencyKey, OpError, VoteAck, Writer};
use crate::auth::Principal;
use crate::broker::audit_payload;
use crate::broker::decide::{Rejection, SeenFacts, check_vote_with_digest};
use crate::broker::store::{AuditKind, HistoryRow, Mutation, StoreError};
use crate::protocol::api::{KeyInfo, ResultReport};
use crate::protocol::idempotency;
use crate::protocol::row::digest_and_sizes;
use crate::protocol::{
    Action, ActionId, ActionRow, ErrorCode, Execution, KeyId, ServerMsg, SignedDecision, Status,
    Timestamp, Verdict,
};

fn internal(e: StoreError) -> OpError {
    tracing::error!(error = %e, "store read failed");
    match e {
        StoreError::Unavailable(why) => OpError::Unavailable(super::unavailable_message(&why)),
        _ => OpError::Internal,
    }
}

impl Writer {
    /// The idempotency record of `agent`'s `key` as this batch leaves it: staged, else
    /// as the batch in flight left it, else stored. So two requests with the same key
    /// make one action even when the second arrives before the first is committed.
    fn idempotency_record(
        &self,
        b: &Batch,
        agent: &str,
        key: &str,
    ) -> Result<Option<idempotency::Record>, OpError> {
        let k = (agent.to_string(), key.to_string());
        if let Some(r) = b.idempotency.get(&k) {
            return Ok(Some(r.clone()));
        }
        if let Some(r) = self.committing.as_ref().and_then(|f| f.idempotency.get(&k)) {
            return Ok(Some(r.clone()));
        }
        self.store.idempotency(agent, key).map_err(internal)
    }

    /// A submission, with or without an `Idempotency-Key` (see
    /// [`crate::protocol::idempotency`]): a key seen before with the same body answers
    /// with the action it made; with another body it is refused; otherwise the action is
    /// created and the key recorded in the same batch.
    pub(super) fn create_keyed(
        &mut self,
        b: &mut Batch,
        action: Action,
        key: Option<IdempotencyKey>,
        callback: Option<&str>,
    ) -> Result<Created, OpError> {
        let Some(key) = key else {
            return self.create(b, action, callback).map(|action| Created {
                action,
                replayed: false,
            });
        };
        let known = self.idempotency_record(b, &key.agent, &key.key)?;
        match idempotency::decide(known.as_ref(), &key.body_hash, action.created_at) {
            idempotency::Outcome::Replay(id) => {
                let Some(a) = self.get(b, &id).map_err(internal)? else {
                    tracing::error!(action = %id, "an idempotency record names a missing action");
                    return Err(OpError::Internal);
                };
                Ok(Created {
                    action: a,
                    replayed: true,
                })
            }
            idempotency::Outcome::Conflict { action_id } => {
                Err(OpError::IdempotencyConflict(format!(
                    "this Idempotency-Key was used for another request (action {action_id}) \
                     in the last {} hours; use a new key for a new request",
                    idempotency::WINDOW_SECS / 3600
                )))
            }
            idempotency::Outcome::Create => {
                let a = self.create(b, action, callback)?;
                let record = idempotency::Record {
                    agent: key.agent,
                    key: key.key,
                    body_hash: key.body_hash,
                    action_id: a.id,
                    created_at: a.created_at,
                };
                b.muts.push(Mutation::Idempotency(record.clone()));
                b.idempotency
                    .insert((record.agent.clone(), record.key.clone()), record);
                Ok(Created {
                    action: a,
                    replayed: false,
                })
            }
        }
    }

    pub(super) fn create(
        &mut self,
        b: &mut Batch,
        action: Action,
        callback: Option<&str>,
    ) -> Result<Arc<Action>, OpError> {
        let (digest, sizes) = digest_and_sizes(&action);
        self.check_budget(b, &action.requester.id, sizes.action)?;
        let a = Arc::new(action);
        let payload = audit_payload::action_created(&a, &digest);
        let actor = a.requester.id.clone();
        self.audit(
            b,
            AuditKind::ActionCreated,
            Some(a.id),
            &actor,
            a.created_at,
            payload,
        );
        b.muts.push(Mutation::put_action(a.clone(), digest.clone()));
        if let Some(p) = &self.notify {
            b.muts.extend(p.created(&a, &digest, callback));
        }
        self.digests.insert(a.id, (digest.clone(), sizes));
        let row = ActionRow::of(&a, digest, sizes);
        self.event(
            b,
            |seq| ServerMsg::Pending {
                seq,
                row: row.clone(),
            },
            &a.policy.approver_groups,
        );
        *b.bytes_by.entry(a.requester.id.clone()).or_default() += sizes.action;
        b.bytes_total += sizes.action;
        b.touched.insert(a.id, a.clone());
        b.publish.upsert.push((a.clone(), row));
        b.created += 1;
        Ok(a)
    }

    pub(super) fn vote(
        &mut self,
        b: &mut Batch,
        principal: &Principal,
        signed: SignedDecision,
    ) -> Result<VoteAck, Rejection> {
        let failed = |e: StoreError| {
            tracing::error!(error = %e, "store read failed during a vote");
            match e {
                StoreError::Unavailable(why) => (
                    ErrorCode::StoreUnavailable,
                    super::unavailable_message(&why),
                ),
                _ => (
                    ErrorCode::Internal,
                    "the broker could not read its store".to_string(),
                ),
            }
        };
        let d = &signed.decision;
        if self.shared {
            // Another broker may have revoked the key since it was checked.
            match self.key(b, &d.key_id) {
                Some(k) if k.revoked_at.is_some() => {
                    return Err((ErrorCode::KeyRevoked, "the signing key is revoked".into()));
                }
                _ => {}
            }
        }
        let action = self.get(b, &d.action_id).map_err(failed)?;
        let seen = b.decisions.contains(&d.decision_id)
            || self
                .committing
                .as_ref()
                .is_some_and(|f| f.decisions.contains(&d.decision_id))
            || self.store.decision_seen(&d.decision_id).map_err(failed)?;
        let now = self.now();
        let facts = SeenFacts {
            decision_seen: seen,
        };
        let digest = action.as_deref().map(|a| self.digest(a));
        let outcome = check_vote_with_digest(
            principal,
            &signed,
            action.as_deref(),
            digest.as_ref(),
            now,
            facts,
        )?;
        let (Some(action), Some(digest)) = (action, digest) else {
            return Err((ErrorCode::UnknownAction, "no such action".into()));
        };
        let mut a = (*action).clone();
        a.votes.push(outcome.vote.clone());
        a.status = outcome.status;
        b.decisions.insert(d.decision_id);
        b.muts.push(Mutation::vote(signed.clone(), now));
        let payload = audit_payload::vote(&signed, a.status, &outcome.vote.person_key());
        let hash = self.audit(b, AuditKind::Vote, Some(a.id), &d.approver, now, payload);
        let status = a.status;
        if status == Status::Pending {
            let a = Arc::new(a);
            if let Some(p) = &self.notify {
                b.muts.extend(p.voted(&a, &digest, now));
            }
            b.muts.push(Mutation::put_action(a.clone(), digest));
            let row = self.row(&a);
            self.event(
                b,
                |seq| ServerMsg::Updated {
                    seq,
                    row: row.clone(),
                },
                &a.policy.approver_groups,
            );
            b.touched.insert(a.id, a.clone());
            b.publish.upsert.retain(|u| u.0.id != a.id);
            b.publish.upsert.push((a, row));
        } else {
            let (by, reason) = if status == Status::Denied {
                (vec![d.approver.clone()], d.reason.clone())
            } else {
                let by = a
                    .votes
                    .iter()
                    .filter(|v| v.verdict == Verdict::Approve)
                    .map(|v| v.approver.clone())
                    .collect();
                (by, d.reason.clone())
            };
            self.resolve(b, a, AuditKind::Outcome, &d.approver, by, reason, now);
        }
        Ok(VoteAck {
            status,
            audit_hash: hash,
            checkpoint: None,
        })
    }

    /// Final status: audit entry, stored action, history row, `resolved` event, wake-ups.
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &mut self,
        b: &mut Batch,
        a: Action,
        kind: AuditKind,
        actor: &str,
        decided_by: Vec<String>,
        reason: String,
        now: Timestamp,
    ) -> Arc<Action> {
        let payload = audit_payload::outcome(a.status, &decided_by, &reason, a.approvals());
        let hash = self.audit(b, kind, Some(a.id), actor, now, payload);
        // A decided action takes no more votes: its cached digest is needed no longer.
        let (digest, sizes) = self
            .digests
            .remove(&a.id)
            .unwrap_or_else(|| digest_and_sizes(&a));
        let row = ActionRow::of(&a, digest.clone(), sizes);
        let a = Arc::new(a);
        if let Some(p) = &self.notify {
            b.muts
                .extend(p.resolved(&a, &digest, &decided_by, &reason, now));
        }
        b.muts.push(Mutation::put_action(a.clone(), digest));
        b.muts.push(Mutation::History(HistoryRow {
            action: a.clone(),
            decided_at: now,
            decided_by: decided_by.clone(),
            reason: reason.clone(),
            audit_hash: hash,
        }));
        self.event(
            b,
            |seq| ServerMsg::Resolved {
                seq,
                row,
                decided_by,
                reason,
            },
            &a.policy.approver_groups,
        );
        b.touched.insert(a.id, a.clone());
        b.publish.upsert.retain(|u| u.0.id != a.id);
        b.publish.remove.push((a.id, a.status));
        b.outcomes.push(a.status);
        a
    }

    /// The action when `by` may act on it as its requester; `NotFound` hides the rest.
    fn owned(&self, b: &Batch, id: ActionId, by: &str) -> Result<Arc<Action>, OpError> {
        match self.get(b, &id).map_err(internal)? {
            Some(a) if a.requester.id == by => Ok(a),
            _ => Err(OpError::NotFound(format!("no action {id}"))),
        }
    }

    pub(super) fn withdraw(
        &mut self,
        b: &mut Batch,
        id: ActionId,
        by: &str,
    ) -> Result<Arc<Action>, OpError> {
        let a = self.owned(b, id, by)?;
        if a.status != Status::Pending {
            return Err(OpError::Conflict(format!("action is already {}", a.status)));
        }
        let mut a = (*a).clone();
        a.status = Status::Withdrawn;
        let now = self.now();
        let reason = "withdrawn by the requester".to_string();
        Ok(self.resolve(
            b,
            a,
            AuditKind::Withdrawal,
            by,
            vec![by.to_string()],
            reason,
            now,
        ))
    }

    pub(super) fn report(
        &mut self,
        b: &mut Batch,
        id: ActionId,
        by: &str,
        report: ResultReport,
    ) -> Result<Arc<Action>, OpError> {
        let a = self.owned(b, id, by)?;
        if a.status != Status::Approved {
            return Err(OpError::Conflict(format!(
                "only an approved action can report a result; this one is {}",
                a.status
            )));
        }
        if a.execution.is_some() {
            return Err(OpError::Conflict("a result was already reported".into()));
        }
        let now = self.now();
        let mut a = (*a).clone();
        let execution = Execution {
            exit_code: report.exit_code,
            reported_at: now,
            detail: report.detail,
        };
        a.execution = Some(execution.clone());
        let (digest, sizes) = digest_and_sizes(&a);
        let payload = audit_payload::execution(&execution, &digest);
        self.audit(b, AuditKind::Execution, Some(a.id), by, now, payload);
        let row = ActionRow::of(&a, digest.clone(), sizes);
        self.event(
            b,
            |seq| ServerMsg::Executed { seq, row },
            &a.policy.approver_groups,
        );
        let a = Arc::new(a);
        b.muts.push(Mutation::put_action(a.clone(), digest));
        b.muts.push(Mutation::MarkExecuted(a.id));
        b.touched.insert(a.id, a.clone());
        Ok(a)
    }

    /// "bob is looking": recorded on the pending action (not its digest, not the audit
    /// log: it decides nothing), announced as `updated`, and shown by the sinks that
    /// edit their message.
    pub(super) fn claim(
        &mut self,
        b: &mut Batch,
        id: ActionId,
        by: String,
    ) -> Result<Arc<Action>, OpError> {
        /// Names kept per action; later claims are not recorded.
        const MAX_LOOKING: usize = 8;
        let Some(a) = self.get(b, &id).map_err(internal)? else {
            return Err(OpError::NotFound(format!("no action {id}")));
        };
        if a.status != Status::Pending {
            return Err(OpError::Conflict(format!("action is already {}", a.status)));
        }
        if a.looking.contains(&by) || a.looking.len() >= MAX_LOOKING {
            return Ok(a);
        }
        let mut a = (*a).clone();
        a.looking.push(by);
        let a = Arc::new(a);
        let (digest, _) = self.digest_and_sizes(&a);
        let now = self.now();
        if let Some(p) = &self.notify {
            b.muts.extend(p.claimed(&a, &digest, now));
        }
        b.muts.push(Mutation::put_action(a.clone(), digest));
        let row = self.row(&a);
        self.event(
            b,
            |seq| ServerMsg::Updated {
                seq,
                row: row.clone(),
            },
            &a.policy.approver_groups,
        );
        b.touched.insert(a.id, a.clone());
        b.publish.upsert.retain(|u| u.0.id != a.id);
        b.publish.upsert.push((a.clone(), row));
        Ok(a)
    }

    pub(super) fn expire(&mut self, b: &mut Batch, id: ActionId) -> Result<(), StoreError> {
        let now = self.now();
        let Some(a) = self.get(b, &id)? else {
            return Ok(());
        };
        if a.status != Status::Pending || !a.is_expired_at(now) {
            return Ok(());
        }
        let mut a = (*a).clone();
        a.status = Status::Expired;
        let reason = format!("no decision before {}", a.expires_at);
        self.resolve(
            b,
            a,
            AuditKind::Outcome,
            "system",
            vec!["system".into()],
            reason,
            now,
        );
        Ok(())
    }

    fn key(&self, b: &Batch, id: &KeyId) -> Option<KeyInfo> {
        b.keys
            .get(id)
            .or_else(|| self.committing.as_ref().and_then(|f| f.keys.get(id)))
            .cloned()
            .or_else(|| self.keys.get(id))
    }

    pub(super) fn register_key(
        &mut self,
        b: &mut Batch,
        subject: String,
        public_key: String,
        key_id: KeyId,
        label: String,
    ) -> Result<(KeyInfo, bool), OpError> {
        if let Some(k) = self.key(b, &key_id) {
            if k.subject != subject {
                return Err(OpError::Conflict(
                    "this key is registered to someone else".into(),
                ));
            }
            if k.revoked_at.is_some() {
                return Err(OpError::Conflict(
                    "this key was revoked; create a new key to register".into(),
                ));
            }
            return Ok((k, false));
        }
        let info = KeyInfo {
            key_id: key_id.clone(),
            subject,
            public_key,
            label,
            created_at: self.now(),
            revoked_at: None,
        };
        let payload = audit_payload::key_registered(&info);
        let subject = info.subject.clone();
        self.audit(
            b,
            AuditKind::KeyRegistered,
            None,
            &subject,
            info.created_at,
            payload,
        );
        b.muts.push(Mutation::PutKey(info.clone()));
        b.keys.insert(key_id, info.clone());
        Ok((info, true))
    }

    pub(super) fn revoke_key(
        &mut self,
        b: &mut Batch,
        subject: &str,
        key_id: &KeyId,
    ) -> Result<KeyInfo, OpError> {
        let Some(mut k) = self.key(b, key_id).filter(|k| k.subject == subject) else {
            return Err(OpError::NotFound(format!("you have no key {key_id}")));
        };
        if k.revoked_at.is_some() {
            return Ok(k);
        }
        let now = self.now();
        k.revoked_at = Some(now);
        let payload = audit_payload::key_revoked(&k);
        self.audit(b, AuditKind::KeyRevoked, None, subject, now, payload);
        b.muts.push(Mutation::PutKey(k.clone()));
        b.keys.insert(key_id.clone(), k.clone());
        Ok(k)
    }
}
