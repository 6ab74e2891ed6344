//! History in SQLite: rows written when an action is decided, and the filtered, keyset-paged
//! query over them. Every filter maps to an indexed column; free text goes through FTS5.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension as _, Transaction, params};

use super::sqlite::parse_action;
use super::verified::VerifiedCache;
use super::{HistoryRow, StoreError};
use crate::protocol::decision::decode_public_key;
use crate::protocol::{
    ActionId, Digest, HistoryCursor, HistoryPage, HistoryQuery, HistoryRecord, SignedDecision,
    Timestamp,
};

/// Writes one decided action into `history`, its approvers and the text index.
pub(super) fn insert(tx: &Transaction<'_>, row: &HistoryRow) -> Result<(), StoreError> {
    let a = &row.action;
    let id = a.id.to_string();
    tx.prepare_cached(
        "INSERT OR REPLACE INTO history (action_id, decided_at, outcome, risk, kind, environment,
         requester_id, requester_name, executed, decided_by, reason, audit_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        id,
        row.decided_at.unix_millis(),
        a.status.as_str(),
        a.risk.level.as_str(),
        a.kind,
        a.target.environment,
        a.requester.id,
        a.requester.display_name,
        a.execution.is_some(),
        crate::protocol::encode(&row.decided_by),
        row.reason,
        row.audit_hash.as_str(),
    ])?;
    let rid = tx.last_insert_rowid();
    for v in &a.votes {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO history_voters (approver, decided_at, action_id)
             VALUES (?1, ?2, ?3)",
        )?
        .execute(params![v.approver, row.decided_at.unix_millis(), id])?;
    }
    let approvers: Vec<&str> = a.votes.iter().map(|v| v.approver.as_str()).collect();
    let reasons: Vec<&str> = a.votes.iter().map(|v| v.reason.as_str()).collect();
    tx.prepare_cached("DELETE FROM history_fts WHERE rowid = ?1")?
        .execute(params![rid])?;
    tx.prepare_cached(
        "INSERT INTO history_fts (rowid, summary, kind, target, requester, approvers, reasons, command)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        rid,
        a.summary,
        a.kind,
        format!("{} {} {}", a.target.system, a.target.resource, a.target.environment),
        format!("{} {}", a.requester.id, a.requester.display_name),
        approvers.join(" "),
        format!("{} {}", reasons.join(" "), row.reason),
        a.command.as_ref().map(|c| c.display_line()).unwrap_or_default(),
    ])?;
    Ok(())
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

/// Free text as an FTS5 query: each word a quoted prefix term, all required.
pub(super) fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

fn list(col: &str, values: Vec<String>, sql: &mut Vec<String>, args: &mut Vec<Value>) {
    if values.is_empty() {
        return;
    }
    let marks = vec!["?"; values.len()].join(", ");
    // One value: its (col, decided_at) index yields rows already in order. Several: an
    // IN over that index would need a sort of every match, so the unary `+` steers the
    // planner to walk the time index newest-first and stop after one page.
    let plus = if values.len() > 1 { "+" } else { "" };
    sql.push(format!("{plus}h.{col} IN ({marks})"));
    args.extend(values.into_iter().map(Value::Text));
}

/// How a free-text filter is joined in: see [`query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextPlan {
    /// Few matches: read them from the FTS index, then sort them by time.
    FromIndex,
    /// Many matches: walk history newest first and keep the rows that match.
    ByTime,
}

/// The SQL and arguments for a query (without the row limit), for the query and its plan.
///
/// An approver filter drives from `history_voters`, whose `(approver, decided_at)` order is
/// the page order, so a busy approver costs one page of rows, not a sort of all theirs.
pub(super) fn build(q: &HistoryQuery, text: TextPlan) -> Result<(String, Vec<Value>), StoreError> {
    let mut w: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    // `t`: the table whose (decided_at, action_id) index gives the page order.
    let (from, t) = match &q.approver {
        Some(a) => {
            w.push("v.approver = ?".into());
            args.push(Value::Text(a.clone()));
            (
                "history_voters v CROSS JOIN history h ON h.action_id = v.action_id",
                "v",
            )
        }
        None => ("history h", "h"),
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
        w.push("(h.requester_id = ? OR h.requester_name = ?)".into());
        args.push(Value::Text(r.clone()));
        args.push(Value::Text(r.clone()));
    }
    if let Some(e) = q.executed {
        w.push("h.executed = ?".into());
        args.push(Value::Integer(i64::from(e)));
    }
    if let Some(s) = q.since {
        w.push(format!("{t}.decided_at >= ?"));
        args.push(Value::Integer(s.unix_millis()));
    }
    if let Some(u) = q.until {
        w.push(format!("{t}.decided_at < ?"));
        args.push(Value::Integer(u.unix_millis()));
    }
    if let Some(m) = q.text.as_deref().and_then(fts_query) {
        // `+` keeps the planner from driving from the text index when walking by time.
        let plus = if text == TextPlan::ByTime { "+" } else { "" };
        w.push(format!(
            "{plus}h.rid IN (SELECT rowid FROM history_fts WHERE history_fts MATCH ?)"
        ));
        args.push(Value::Text(m));
    }
    if let Some(c) = &q.cursor {
        let (at, id) = decode_cursor(c)?;
        w.push(format!("({t}.decided_at, {t}.action_id) < (?, ?)"));
        args.push(Value::Integer(at));
        args.push(Value::Text(id));
    }
    let filter = if w.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", w.join(" AND "))
    };
    let sql = format!(
        "SELECT h.action_id, h.decided_at, h.decided_by, h.reason, h.audit_hash, a.body, a.digest
         FROM {from} CROSS JOIN actions a ON a.id = h.action_id
         {filter}
         ORDER BY {t}.decided_at DESC, {t}.action_id DESC"
    );
    Ok((sql, args))
}

/// Above this many text matches, walking history by time finds a page sooner than
/// sorting every match.
const TEXT_SORT_LIMIT: i64 = 5_000;

/// Picks the [`TextPlan`] from a bounded count of the text's matches.
fn text_plan(c: &Connection, q: &HistoryQuery) -> Result<TextPlan, StoreError> {
    let Some(m) = q.text.as_deref().and_then(fts_query) else {
        return Ok(TextPlan::FromIndex);
    };
    let n: i64 = c
        .prepare_cached(
            "SELECT count(*) FROM
             (SELECT rowid FROM history_fts WHERE history_fts MATCH ?1 LIMIT ?2)",
        )?
        .query_row(params![m, TEXT_SORT_LIMIT + 1], |r| r.get(0))
        .map_err(map_fts_error)?;
    Ok(if n > TEXT_SORT_LIMIT {
        TextPlan::ByTime
    } else {
        TextPlan::FromIndex
    })
}

/// Runs a query: one page, newest first, with a cursor when more follow.
pub(super) fn query(
    c: &Connection,
    q: &HistoryQuery,
    verified: &VerifiedCache,
) -> Result<HistoryPage, StoreError> {
    let (sql, mut args) = build(q, text_plan(c, q)?)?;
    let size = q.page_size();
    args.push(Value::Integer(i64::from(size) + 1));
    let sql = format!("{sql} LIMIT ?");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .map_err(map_fts_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_fts_error)?;
    let mut records = Vec::new();
    let mut next_cursor = None;
    for (i, (id, at, by, reason, hash, body, digest)) in rows.into_iter().enumerate() {
        if i as u32 == size {
            if let Some(last) = records.last() {
                let last: &HistoryRecord = last;
                next_cursor = Some(encode_cursor(
                    last.decided_at.unix_millis(),
                    &last.action.id.to_string(),
                ));
            }
            break;
        }
        let action = parse_action(&body)?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("history row {id}: {what}"));
        let signatures_verified = action
            .votes
            .iter()
            .map(|v| vote_verifies(c, &v.decision_id.to_string(), verified))
            .collect::<Result<Vec<_>, _>>()?;
        records.push(HistoryRecord {
            action,
            digest: Digest::try_from(digest).map_err(|_| corrupt("digest"))?,
            decided_at: Timestamp::from_unix_millis(at),
            decided_by: serde_json::from_str(&by).map_err(|_| corrupt("decided_by"))?,
            reason,
            audit_hash: Digest::try_from(hash).map_err(|_| corrupt("audit_hash"))?,
            signatures_verified,
        });
    }
    Ok(HistoryPage {
        records,
        next_cursor,
    })
}

fn map_fts_error(e: rusqlite::Error) -> StoreError {
    let msg = e.to_string();
    if msg.contains("fts5") {
        StoreError::InvalidQuery(format!("text search: {msg}"))
    } else {
        StoreError::Db(e)
    }
}

/// True when the stored signed decision verifies against the key it names.
fn vote_verifies(
    c: &Connection,
    decision_id: &str,
    verified: &VerifiedCache,
) -> Result<bool, StoreError> {
    let row: Option<(String, Option<String>)> = c
        .prepare_cached(
            "SELECT v.signed, k.public_key FROM votes v
             LEFT JOIN keys k ON k.key_id = json_extract(v.signed, '$.decision.key_id')
             WHERE v.decision_id = ?1",
        )?
        .query_row(params![decision_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((signed, Some(pk))) = row else {
        return Ok(false);
    };
    Ok(verified.check(&signed, &pk, || {
        let Ok(signed) = serde_json::from_str::<SignedDecision>(&signed) else {
            return false;
        };
        decode_public_key(&pk).is_ok_and(|k| signed.verify(&k).is_ok())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let id = ActionId::new().to_string();
        let c = encode_cursor(1234, &id);
        assert_eq!(decode_cursor(&c).unwrap(), (1234, id));
        assert!(decode_cursor(&HistoryCursor("nope!".into())).is_err());
    }

    fn plan(q: &HistoryQuery) -> String {
        plan_with(q, TextPlan::FromIndex)
    }

    fn plan_with(q: &HistoryQuery, text: TextPlan) -> String {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::SqliteStore::open(dir.path()).unwrap();
        let (sql, mut args) = build(q, text).unwrap();
        args.push(Value::Integer(101));
        store
            .read(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql} LIMIT ?"))?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows.join("\n"))
            })
            .unwrap()
    }

    /// Every filter is answered from an index: no full scan of `history`, no sort step.
    #[test]
    fn query_plans_are_index_driven() {
        use crate::protocol::{RiskLevel, Status};
        let cursor = Some(encode_cursor(1, &ActionId::new().to_string()));
        let queries = [
            HistoryQuery::default(),
            HistoryQuery {
                cursor: cursor.clone(),
                ..Default::default()
            },
            HistoryQuery {
                outcome: vec![Status::Denied],
                ..Default::default()
            },
            HistoryQuery {
                risk: vec![RiskLevel::High, RiskLevel::Critical],
                ..Default::default()
            },
            HistoryQuery {
                environment: vec!["production".into()],
                cursor,
                ..Default::default()
            },
            HistoryQuery {
                approver: Some("bob".into()),
                ..Default::default()
            },
            HistoryQuery {
                text: Some("customers".into()),
                ..Default::default()
            },
        ];
        for q in &queries {
            let p = plan(q);
            let scans_history = |l: &&str| {
                let mut w = l.split_whitespace();
                w.next() == Some("SCAN") && w.next() == Some("h")
            };
            for line in p.lines().filter(scans_history) {
                assert!(line.contains("USING INDEX"), "{q:?}\n{p}");
            }
            // A text filter with few matches drives from the text index and sorts only
            // those; every other filter (approver too) reads rows already in time order.
            if q.text.is_none() {
                assert!(!p.contains("USE TEMP B-TREE FOR ORDER BY"), "{q:?}\n{p}");
            }
        }
        // With many matches, text walks history by time: no sort either.
        let q = HistoryQuery {
            text: Some("customers".into()),
            ..Default::default()
        };
        let p = plan_with(&q, TextPlan::ByTime);
        assert!(!p.contains("USE TEMP B-TREE FOR ORDER BY"), "{p}");
        assert!(p.contains("history_time"), "{p}");
        let q = HistoryQuery {
            approver: Some("bob".into()),
            ..Default::default()
        };
        assert!(
            plan(&q).contains("SEARCH v USING PRIMARY KEY (approver=?)"),
            "{}",
            plan(&q)
        );
    }

    #[test]
    fn free_text_becomes_quoted_prefix_terms() {
        assert_eq!(fts_query("drop  \"x"), Some("\"drop\"* \"\"\"x\"*".into()));
        assert_eq!(fts_query("   "), None);
    }
}
