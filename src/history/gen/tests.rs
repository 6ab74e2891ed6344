use std::collections::HashSet;

use super::*;

fn small() -> Generator {
    Generator::new(GenConfig {
        count: 3000,
        ..GenConfig::default()
    })
}

#[test]
fn deterministic_and_random_access() {
    let g = small();
    let a = g.record(1234);
    let b = Generator::new(*g.config()).record(1234);
    assert_eq!(a, b);
    assert_ne!(g.record(1).action.id, g.record(2).action.id);
}

#[test]
fn varied_and_consistent() {
    let g = small();
    let rs = g.records();
    let kinds: HashSet<_> = rs.iter().map(|r| r.action.kind.as_str()).collect();
    let envs: HashSet<_> = rs
        .iter()
        .map(|r| r.action.target.environment.as_str())
        .collect();
    let requesters: HashSet<_> = rs.iter().map(|r| r.action.requester.id.as_str()).collect();
    let statuses: HashSet<_> = rs.iter().map(|r| r.action.status).collect();
    let levels: HashSet<_> = rs.iter().map(|r| r.action.risk.level).collect();
    assert!(kinds.len() >= 12, "{kinds:?}");
    assert_eq!(envs.len(), data::ENVIRONMENTS.len());
    assert!(requesters.len() >= 10);
    assert_eq!(statuses.len(), 4, "every final status, never pending");
    assert!(!statuses.contains(&Status::Pending));
    assert_eq!(levels.len(), 4);
    assert!(rs.iter().any(|r| {
        r.action
            .execution
            .as_ref()
            .is_some_and(|e| e.exit_code != 0)
    }));
    assert!(rs.iter().any(|r| {
        r.action
            .risk
            .tags
            .iter()
            .any(|t| t.id == "hidden-characters")
    }));
    assert!(rs.iter().all(|r| !r.summary_has_placeholder()));
    for r in &rs {
        assert_eq!(r.digest, r.action.digest());
        assert!(r.action.created_at <= r.decided_at);
        assert!(!r.decided_by.is_empty());
        assert_eq!(r.signatures_verified.len(), r.action.votes.len());
        if r.action.status == Status::Approved {
            assert_eq!(r.action.approvals(), r.action.policy.approvals_required);
        }
    }
    let times: Vec<_> = rs.iter().map(|r| r.decided_at).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "record 0 is the newest"
    );
}

#[test]
fn signed_votes_verify_with_the_named_keys() {
    let g = small();
    let r = (0..100)
        .map(|i| g.record(i))
        .find(|r| r.action.votes.len() >= 2)
        .unwrap();
    let signed = g.signed_votes(&r);
    assert_eq!(signed.len(), r.action.votes.len());
    for s in &signed {
        let key = g
            .approver_keys()
            .iter()
            .find(|k| k.key_id == s.decision.key_id)
            .unwrap();
        s.verify(&key.key.verifying_key()).unwrap();
        assert_eq!(s.decision.action_digest, r.digest);
    }
}

trait Placeholder {
    fn summary_has_placeholder(&self) -> bool;
}

impl Placeholder for HistoryRecord {
    fn summary_has_placeholder(&self) -> bool {
        let a = &self.action;
        let cmd = a
            .command
            .as_ref()
            .map(Command::display_line)
            .unwrap_or_default();
        [
            a.summary.as_str(),
            a.target.resource.as_str(),
            &cmd,
            &self.reason,
        ]
        .iter()
        .any(|s| s.contains('{'))
    }
}
