//! The readable table `signoff history` prints: one display-safe line per decision,
//! columns sized to their content within caps, the reason column shrunk to fit a
//! terminal width when one is known.

use crate::protocol::{HistoryRecord, Status};

use super::display::{display_safe, truncate, width};
use super::fields::SearchField;

const HEADERS: [&str; 11] = [
    "DECIDED (UTC)",
    "OUTCOME",
    "RISK",
    "KIND",
    "TARGET",
    "ENV",
    "REQUESTER",
    "DECIDED BY",
    "WAITED",
    "REASON",
    "ID",
];
/// Widest each column may grow, in terminal columns.
const CAPS: [usize; 11] = [19, 12, 8, 20, 30, 14, 26, 30, 7, 48, 26];
const REASON: usize = 9;
const MIN_REASON: usize = 12;

/// The outcome as history shows it: the status, or `executed N` with the exit code.
pub fn outcome_label(record: &HistoryRecord) -> String {
    match (&record.action.status, &record.action.execution) {
        (Status::Approved, Some(e)) => format!("executed {}", e.exit_code),
        (s, _) => s.as_str().to_string(),
    }
}

/// A duration in milliseconds as `45s`, `12m05s`, `3h20m`, `2d04h`.
pub fn human_duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

fn cells(r: &HistoryRecord) -> [String; 11] {
    let a = &r.action;
    let decided = r.decided_at.to_string();
    [
        decided.get(..19).unwrap_or(&decided).replace('T', " "),
        outcome_label(r),
        a.risk.level.as_str().to_string(),
        display_safe(&a.kind),
        display_safe(&SearchField::Target.text(r)),
        display_safe(&a.target.environment),
        display_safe(&a.requester.id),
        display_safe(&r.decided_by.join(", ")),
        human_duration(a.created_at.millis_until(r.decided_at)),
        display_safe(&r.reason),
        a.id.to_string(),
    ]
}

/// Renders `records` as a table with a header line. `max_width` (a terminal's width)
/// shrinks the reason column so lines fit; `None` keeps the caps.
pub fn render_table(records: &[HistoryRecord], max_width: Option<usize>) -> String {
    let rows: Vec<[String; 11]> = records.iter().map(cells).collect();
    let mut widths: [usize; 11] = std::array::from_fn(|i| width(HEADERS[i]));
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell).min(CAPS[i]));
        }
    }
    if let Some(max) = max_width {
        let others: usize = widths
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != REASON)
            .map(|(_, w)| w + 2)
            .sum();
        widths[REASON] = widths[REASON]
            .min(max.saturating_sub(others))
            .max(MIN_REASON);
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let cell = truncate(cell, widths[i]);
            text.push_str(&cell);
            if i + 1 < cells.len() {
                text.push_str(&" ".repeat(widths[i] - width(&cell) + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&HEADERS.map(String::from));
    for row in &rows {
        line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::r#gen::{GenConfig, Generator};

    fn records() -> Vec<HistoryRecord> {
        let g = Generator::new(GenConfig {
            count: 3000,
            ..GenConfig::default()
        });
        g.records()
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(45_000), "45s");
        assert_eq!(human_duration(725_000), "12m05s");
        assert_eq!(human_duration(12_000_000), "3h20m");
        assert_eq!(human_duration(187_200_000), "2d04h");
        assert_eq!(human_duration(-5), "0s");
    }

    #[test]
    fn columns_line_up_and_hidden_characters_show() {
        let rs = records();
        let hidden = rs
            .iter()
            .find(|r| r.action.summary.contains('\u{202e}') || r.reason.contains('\u{202e}'))
            .cloned();
        let mut sample: Vec<HistoryRecord> = rs[..8].to_vec();
        let mut evil = sample[0].clone();
        evil.reason = "fine\u{1b}[2J\u{202e}gnp.exe\nsecond line".into();
        evil.action.kind = "db.\u{200b}export".into();
        sample.push(evil);
        sample.extend(hidden);
        let table = render_table(&sample, None);
        assert!(!table.contains('\u{1b}') && !table.contains('\u{202e}'));
        assert!(
            table.contains("fine⟨ESC⟩[2J⟨U+202E⟩gnp.exe⟨LF⟩second line"),
            "{table}"
        );
        assert!(table.contains("db.⟨U+200B⟩export"));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), sample.len() + 1);
        let id_col = lines[0].rfind("ID").unwrap();
        let header_cols = width(&lines[0][..id_col]);
        for (line, r) in lines[1..].iter().zip(&sample) {
            let id = r.action.id.to_string();
            let at = line.find(&id).unwrap();
            assert_eq!(width(&line[..at]), header_cols, "{line}");
        }
    }

    #[test]
    fn fits_a_terminal_width_by_shrinking_the_reason() {
        let rs = records();
        let table = render_table(&rs[..20], Some(220));
        for line in table.lines() {
            assert!(width(line) <= 220, "{} > 220: {line}", width(line));
        }
        assert!(table.contains('…'));
    }

    #[test]
    fn outcome_labels() {
        let rs = records();
        let labels: std::collections::HashSet<String> = rs.iter().map(outcome_label).collect();
        for want in [
            "approved",
            "denied",
            "expired",
            "withdrawn",
            "executed 0",
            "executed 1",
        ] {
            assert!(labels.contains(want), "{want} missing from {labels:?}");
        }
        let header = render_table(&[], None);
        assert!(header.starts_with("DECIDED (UTC)  OUTCOME"));
    }
}
