//! History on PostgreSQL: the same records, filters, order and cursors as the SQLite
//! store. Free text is a `tsvector` of the words SQLite's FTS5 would index (cut by
//! [`crate::broker::store::words`]), searched with phrase-and-prefix `tsquery`s under a
//! GIN index, so a search finds the same records on both.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use tokio_postgres::types::ToSql;

use super::{Param, Write, err, p};
use crate::broker::store::verified::VerifiedCache;
use crate::broker::store::words::{self, TextSearch};
use crate::broker::store::{HistoryRow, StoreError};
use crate::protocol::decision::decode_public_key;
use crate::protocol::{
    ActionId, Digest, HistoryCursor, HistoryPage, HistoryQuery, HistoryRecord, SignedDecision,
    Timestamp,
};

/// The statements that write one decided action into history.
pub(super) fn insert(row: &HistoryRow) -> Vec<Write> {
    let a = &row.action;
    let id = a.id.to_string();
    let approvers: Vec<&str> = a.votes.iter().map(|v| v.approver.as_str()).collect();
    let reasons: Vec<&str> = a.votes.iter().map(|v| v.reason.as_str()).collect();
    // The columns SQLite's FTS5 table holds, in its order.
    let text = [
        a.summary.clone(),
        a.kind.clone(),
        format!(
            "{} {} {}",
            a.target.system, a.target.resource, a.target.environment
        ),
        format!("{} {}", a.requester.id, a.requester.display_name),
        approvers.join(" "),
        format!("{} {}", reasons.join(" "), row.reason),
        a.command
            .as_ref()
            .map(|c| c.display_line())
            .unwrap_or_default(),
    ]
    .join(" ");
    let mut out = vec![Write {
        sql: "INSERT INTO history (action_id, decided_at, outcome, risk, kind, environment,
              requester_id, requester_name, executed, decided_by, reason, audit_hash, words)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::text::tsvector)
              ON CONFLICT (action_id) DO UPDATE SET decided_at = excluded.decided_at,
              outcome = excluded.outcome, risk = excluded.risk, kind = excluded.kind,
              environment = excluded.environment, requester_id = excluded.requester_id,
              requester_name = excluded.requester_name, executed = excluded.executed,
              decided_by = excluded.decided_by, reason = excluded.reason,
              audit_hash = excluded.audit_hash, words = excluded.words",
        params: vec![
            p(id.clone()),
            p(row.decided_at.unix_millis()),
            p(a.status.as_str().to_string()),
            p(a.risk.level.as_str().to_string()),
            p(a.kind.clone()),
            p(a.target.environment.clone()),
            p(a.requester.id.clone()),
            p(a.requester.display_name.clone()),
            p(a.execution.is_some()),
            p(crate::protocol::encode(&row.decided_by)),
            p(row.reason.clone()),
            p(row.audit_hash.as_str().to_string()),
            p(words::tsvector(&words::words(&text))),
        ],
    }];
    for v in &a.votes {
        out.push(Write {
            sql: "INSERT INTO history_voters (approver, decided_at, action_id)
                  VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            params: vec![
                p(v.approver.clone()),
                p(row.decided_at.unix_millis()),
                p(id.clone()),
            ],
        });
    }
    out
}

fn encode_cursor(decided_at: i64, id: &str) -> HistoryCursor {
    HistoryCursor(B64.encode(format!("{decided_at}.{id}")))
}

fn decode_cursor(c: &HistoryCursor) -> Result<(i64, String), StoreError> {
    let bad = || StoreError::InvalidQuery("cursor is not one this broker issued".into());
    let raw = B64.decode(&c.0).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = text.split_once('.').ok_or_else(bad)?;
    let at: i64 = at.parse().map_err(|_| bad())?;
    id.parse::<ActionId>().map_err(|_| bad())?;
    Ok((at, id.to_string()))
}

/// The SQL and its arguments for a query, with the row limit last.
pub(super) fn build(q: &HistoryQuery) -> Result<(String, Vec<Param>), StoreError> {
    let mut w: Vec<String> = Vec::new();
    let mut args: Vec<Param> = Vec::new();
    let arg = |args: &mut Vec<Param>, v: Param| {
        args.push(v);
        format!("${}", args.len())
    };
    // `t`: the table whose (decided_at, action_id) order is the page order.
    let (from, t) = match &q.approver {
        Some(a) => {
            let n = arg(&mut args, p(a.clone()));
            w.push(format!("v.approver = {n}"));
            (
                "history_voters v JOIN history h ON h.action_id = v.action_id",
                "v",
            )
        }
        None => ("history h", "h"),
    };
    let list = |col: &str, values: Vec<String>, w: &mut Vec<String>, args: &mut Vec<Param>| {
        if !values.is_empty() {
            let n = arg(args, p(values));
            w.push(format!("h.{col} = ANY({n})"));
        }
    };
    list(
        "outcome",
        q.outcome.iter().map(|s| s.as_str().to_string()).collect(),
        &mut w,
        &mut args,
    );
    list(
        "risk",
        q.risk.iter().map(|r| r.as_str().to_string()).collect(),
        &mut w,
        &mut args,
    );
    list("kind", q.kind.clone(), &mut w, &mut args);
    list("environment", q.environment.clone(), &mut w, &mut args);
    if let Some(r) = &q.requester {
        let n = arg(&mut args, p(r.clone()));
        w.push(format!("(h.requester_id = {n} OR h.requester_name = {n})"));
    }
    if let Some(e) = q.executed {
        let n = arg(&mut args, p(e));
        w.push(format!("h.executed = {n}"));
    }
    if let Some(s) = q.since {
        let n = arg(&mut args, p(s.unix_millis()));
        w.push(format!("{t}.decided_at >= {n}"));
    }
    if let Some(u) = q.until {
        let n = arg(&mut args, p(u.unix_millis()));
        w.push(format!("{t}.decided_at < {n}"));
    }
    match q.text.as_deref().map(words::search) {
        None | Some(TextSearch::Any) => {}
        Some(TextSearch::Nothing) => w.push("FALSE".into()),
        Some(TextSearch::Phrases(ph)) => {
            let n = arg(&mut args, p(words::tsquery(&ph)));
            w.push(format!("h.words @@ {n}::text::tsquery"));
        }
    }
    if let Some(c) = &q.cursor {
        let (at, id) = decode_cursor(c)?;
        let a = arg(&mut args, p(at));
        let b = arg(&mut args, p(id));
        w.push(format!("({t}.decided_at, {t}.action_id) < ({a}, {b})"));
    }
    let filter = if w.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", w.join(" AND "))
    };
    let limit = arg(&mut args, p(i64::from(q.page_size()) + 1));
    let sql = format!(
        "SELECT h.action_id, h.decided_at, h.decided_by, h.reason, h.audit_hash, a.body, a.digest
         FROM {from} JOIN actions a ON a.id = h.action_id
         {filter}
         ORDER BY {t}.decided_at DESC, {t}.action_id DESC
         LIMIT {limit}"
    );
    Ok((sql, args))
}

/// One page, newest first, with a cursor when more follow.
pub(super) async fn query(
    c: &deadpool_postgres::Object,
    q: &HistoryQuery,
    verified: &VerifiedCache,
) -> Result<HistoryPage, StoreError> {
    let (sql, args) = build(q)?;
    let refs: Vec<&(dyn ToSql + Sync)> = args
        .iter()
        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let st = c.prepare_cached(&sql).await.map_err(err)?;
    let rows = c.query(&st, &refs).await.map_err(err)?;
    let size = q.page_size() as usize;
    let more = rows.len() > size;
    let mut parsed = Vec::with_capacity(size);
    for r in rows.iter().take(size) {
        let id: String = r.get(0);
        let corrupt = |what: &str| StoreError::Corrupt(format!("history row {id}: {what}"));
        let action = crate::broker::store::sqlite::parse_action(r.get(5))?;
        let record = HistoryRecord {
            digest: Digest::try_from(r.get::<_, String>(6)).map_err(|_| corrupt("digest"))?,
            decided_at: Timestamp::from_unix_millis(r.get(1)),
            decided_by: serde_json::from_str(r.get(2)).map_err(|_| corrupt("decided_by"))?,
            reason: r.get(3),
            audit_hash: Digest::try_from(r.get::<_, String>(4))
                .map_err(|_| corrupt("audit_hash"))?,
            signatures_verified: Vec::new(),
            action,
        };
        parsed.push(record);
    }
    // Every vote on the page, with the key it names, in one query.
    let ids: Vec<String> = parsed
        .iter()
        .flat_map(|r| r.action.votes.iter().map(|v| v.decision_id.to_string()))
        .collect();
    let mut signed: HashMap<String, (String, Option<String>)> = HashMap::new();
    if !ids.is_empty() {
        let st = c
            .prepare_cached(
                "SELECT v.decision_id, v.signed, k.public_key FROM votes v
                 LEFT JOIN keys k ON k.key_id = v.key_id
                 WHERE v.decision_id = ANY($1)",
            )
            .await
            .map_err(err)?;
        for r in c.query(&st, &[&ids]).await.map_err(err)? {
            signed.insert(r.get(0), (r.get(1), r.get(2)));
        }
    }
    for rec in &mut parsed {
        rec.signatures_verified = rec
            .action
            .votes
            .iter()
            .map(|v| match signed.get(&v.decision_id.to_string()) {
                Some((s, Some(pk))) => verified.check(s, pk, || {
                    let Ok(d) = serde_json::from_str::<SignedDecision>(s) else {
                        return false;
                    };
                    decode_public_key(pk).is_ok_and(|k| d.verify(&k).is_ok())
                }),
                _ => false,
            })
            .collect();
    }
    let next_cursor = match (more, parsed.last()) {
        (true, Some(last)) => Some(encode_cursor(
            last.decided_at.unix_millis(),
            &last.action.id.to_string(),
        )),
        _ => None,
    };
    Ok(HistoryPage {
        records: parsed,
        next_cursor,
    })
}
