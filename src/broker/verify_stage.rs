//! The verify stage: every signed decision's Ed25519 check, off the connection tasks, in
//! batches.
//!
//! Feeds hand each decision here (a bounded queue: a full stage slows the sender, never
//! drops). One thread takes whatever has queued up — at most [`MAX_BATCH`] — runs the cheap
//! checks one by one (identity, key, revocation, encodings), verifies the survivors' signatures
//! with one batch equation ([`crate::protocol::ed25519::verify_batch`], the same answer as
//! one by one), and passes each good vote straight to the writer with the approver's reply
//! channel. Only when a batch fails are its signatures checked one by one, so a bad
//! signature costs its sender a rejection and everyone else nothing. Acks still come from
//! the writer, after the commit.

use tokio::sync::{mpsc, oneshot};

use super::decide::{KeyFacts, Rejection, check_signer};
use super::writer::{Op, VoteAck};
use crate::auth::Principal;
use crate::protocol::ed25519::{self, Prepared};
use crate::protocol::{ErrorCode, SignedDecision, VerifyError};

/// Largest batch verified at once (past ~64 the per-signature gain is small).
pub const MAX_BATCH: usize = 64;
/// Decisions that may wait for the stage before senders are held back.
pub const QUEUE: usize = 4096;

/// One decision to verify, with where its answer goes.
pub struct Job {
    pub principal: Principal,
    pub signed: SignedDecision,
    pub key: Option<KeyFacts>,
    /// Answered by this stage on a rejection, else by the writer after the commit.
    pub reply: oneshot::Sender<Result<VoteAck, Rejection>>,
}

/// Starts the stage's thread; it ends when every sender is dropped.
pub fn start(writer: mpsc::Sender<Op>) -> std::io::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    std::thread::Builder::new()
        .name("signoff-verify".into())
        .spawn(move || run(rx, writer))?;
    Ok(tx)
}

fn run(mut rx: mpsc::Receiver<Job>, writer: mpsc::Sender<Op>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        for (job, verdict) in verify(std::mem::take(&mut jobs)) {
            match verdict {
                Ok(()) => forward(job, &writer),
                Err(rejection) => {
                    let _ = job.reply.send(Err(rejection));
                }
            }
        }
    }
}

/// The verdict on each job, in order: the cheap checks first, then one batch equation over
/// the signatures that are left, then (only if it fails) one equation each.
pub fn verify(jobs: Vec<Job>) -> Vec<(Job, Result<(), Rejection>)> {
    let mut out = Vec::with_capacity(jobs.len());
    let mut prepared: Vec<(usize, Prepared)> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let verdict = check_signer(&job.principal, &job.signed, job.key.as_ref())
            .and_then(|key| job.signed.prepare(&key.key).map_err(bad_signature));
        match verdict {
            Ok(p) => {
                prepared.push((out.len(), p));
                out.push((job, Ok(())));
            }
            Err(r) => out.push((job, Err(r))),
        }
    }
    let items: Vec<Prepared> = prepared.iter().map(|(_, p)| *p).collect();
    if !ed25519::verify_batch(&items) {
        for (i, p) in &prepared {
            if !ed25519::verify_one(p) {
                out[*i].1 = Err(bad_signature(VerifyError::BadSignature));
            }
        }
    }
    out
}

fn bad_signature(e: VerifyError) -> Rejection {
    let message = match e {
        VerifyError::MalformedSignature => "signature is not base64 of 64 bytes".to_string(),
        other => other.to_string(),
    };
    (ErrorCode::BadSignature, message)
}

fn forward(job: Job, writer: &mpsc::Sender<Op>) {
    let op = Op::Vote {
        principal: Box::new(job.principal),
        signed: Box::new(job.signed),
        reply: job.reply,
    };
    if let Err(mpsc::error::SendError(Op::Vote { reply, .. })) = writer.blocking_send(op) {
        let _ = reply.send(Err((
            ErrorCode::Internal,
            "the broker is not accepting decisions".to_string(),
        )));
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::auth::PrincipalKind;
    use crate::protocol::messages::Identity;
    use crate::protocol::{ActionId, Decision, DecisionId, KeyId, Timestamp, Verdict};

    fn approver(i: u8) -> (Principal, SigningKey, KeyFacts) {
        let sk = SigningKey::from_bytes(&[i; 32]);
        let p = principal(&format!("approver-{i}"));
        let facts = KeyFacts {
            subject: p.subject().to_string(),
            key: sk.verifying_key(),
            revoked: false,
        };
        (p, sk, facts)
    }

    fn principal(subject: &str) -> Principal {
        Principal {
            kind: PrincipalKind::Approver,
            identity: Identity {
                subject: subject.into(),
                email: None,
                name: None,
                groups: vec![],
            },
            expires_at: None,
            issuer: "static".into(),
        }
    }

    fn job(i: u8, tamper: bool) -> (Job, oneshot::Receiver<Result<VoteAck, Rejection>>) {
        let (p, sk, facts) = approver(i);
        let mut signed = Decision {
            decision_id: DecisionId::new(),
            action_id: ActionId::new(),
            action_digest: crate::protocol::Digest::of_bytes(b"action"),
            verdict: Verdict::Approve,
            reason: "checked".into(),
            approver: p.subject().to_string(),
            key_id: KeyId::of(&sk.verifying_key()),
            issued_at: Timestamp::now(),
        }
        .sign(&sk);
        if tamper {
            signed.decision.reason.push('!');
        }
        let (reply, rx) = oneshot::channel();
        let job = Job {
            principal: p,
            signed,
            key: Some(facts),
            reply,
        };
        (job, rx)
    }

    fn codes(jobs: Vec<Job>) -> Vec<Option<ErrorCode>> {
        verify(jobs)
            .into_iter()
            .map(|(_, v)| v.err().map(|(c, _)| c))
            .collect()
    }

    #[test]
    fn a_batch_of_good_signatures_passes_whole() {
        let jobs = (1..=40).map(|i| job(i, false).0).collect();
        assert_eq!(codes(jobs), vec![None; 40]);
    }

    #[test]
    fn one_bad_signature_is_refused_and_costs_the_others_nothing() {
        let jobs = (1..=40).map(|i| job(i, i == 17).0).collect();
        let got = codes(jobs);
        for (i, c) in got.iter().enumerate() {
            let want = (i == 16).then_some(ErrorCode::BadSignature);
            assert_eq!(*c, want, "job {}", i + 1);
        }
    }

    #[test]
    fn cheap_checks_come_first_and_keep_their_codes() {
        let (mut wrong_subject, _) = job(1, false);
        wrong_subject.principal = principal("someone-else");
        let (mut no_key, _) = job(2, false);
        no_key.key = None;
        let (mut revoked, _) = job(3, false);
        if let Some(k) = revoked.key.as_mut() {
            k.revoked = true;
        }
        let (mut garbled, _) = job(4, false);
        garbled.signed.signature = "not base64".into();
        let (good, _) = job(5, false);
        assert_eq!(
            codes(vec![wrong_subject, no_key, revoked, garbled, good]),
            vec![
                Some(ErrorCode::SubjectMismatch),
                Some(ErrorCode::UnknownKey),
                Some(ErrorCode::KeyRevoked),
                Some(ErrorCode::BadSignature),
                None,
            ]
        );
    }

    #[tokio::test]
    async fn the_stage_answers_rejections_and_forwards_good_votes_to_the_writer() {
        let (wtx, mut wrx) = mpsc::channel(16);
        let stage = start(wtx).unwrap();
        let (bad, bad_rx) = job(1, true);
        let (good, _good_rx) = job(2, false);
        stage.send(bad).await.unwrap();
        stage.send(good).await.unwrap();
        let refused = bad_rx.await.unwrap();
        assert_eq!(refused.err().map(|(c, _)| c), Some(ErrorCode::BadSignature));
        match wrx.recv().await {
            Some(Op::Vote { principal, .. }) => assert_eq!(principal.subject(), "approver-2"),
            _ => panic!("the good vote reaches the writer"),
        }
    }
}
