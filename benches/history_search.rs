//! Search-as-you-type over 100,000 history records: time per keystroke, p50 / p99 / max,
//! for signoff's incremental search, side by side with nucleo's matcher on the same
//! haystacks. Run with `cargo bench --bench history_search`.
//!
//! Each query is typed one character at a time, then deleted one character at a time
//! (backspace), as a person at the console would. signoff's numbers include everything a
//! keystroke costs the console: parsing the text, narrowing or popping the result stack.
//! nucleo is measured the way its matcher is used on its own: every keystroke scores
//! every haystack (fuzzy, case-insensitive), keeping the ones that match.

use std::time::{Duration, Instant};

use nucleo::pattern::{CaseMatching, Normalization, Pattern};
use nucleo::{Config, Matcher, Utf32String};

use signoff::history::{GenConfig, Generator, HistoryIndex, Search, SearchField};

const RECORDS: usize = 100_000;
const QUERIES: &[&str] = &[
    "terraform apply prod",
    "maria window",
    "\"drop column\"",
    "kubectl delete namespace",
    "INC-42",
    "customers s3",
    "zoë",
    "outside the change window",
];

struct Stats {
    samples: Vec<Duration>,
}

impl Stats {
    fn new() -> Self {
        Self {
            samples: Vec::new(),
        }
    }

    fn pct(&mut self, p: f64) -> Duration {
        self.samples.sort();
        let i = ((self.samples.len() as f64 - 1.0) * p).round() as usize;
        self.samples[i]
    }

    fn row(&mut self, name: &str) -> String {
        format!(
            "| {name:<44} | {:>6} | {:>8.2} | {:>8.2} | {:>8.2} |",
            self.samples.len(),
            ms(self.pct(0.50)),
            ms(self.pct(0.99)),
            ms(self.pct(1.0)),
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Every text the search box holds while typing `q` and then deleting it.
fn keystrokes(q: &str) -> Vec<String> {
    let chars: Vec<char> = q.chars().collect();
    let mut out: Vec<String> = (1..=chars.len())
        .map(|n| chars[..n].iter().collect())
        .collect();
    out.extend((0..chars.len()).rev().map(|n| chars[..n].iter().collect()));
    out
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let t = Instant::now();
    let generator = Generator::new(GenConfig {
        count: RECORDS,
        ..GenConfig::default()
    });
    let records = generator.records();
    let gen_time = t.elapsed();

    let t = Instant::now();
    let index = HistoryIndex::new(records);
    let index_time = t.elapsed();

    let t = Instant::now();
    let haystacks: Vec<Utf32String> = index
        .order()
        .iter()
        .map(|&s| {
            let r = index.record(s);
            let fields: Vec<String> = SearchField::ALL
                .iter()
                .map(|f| f.text(r).into_owned())
                .collect();
            Utf32String::from(fields.join(" \u{1f} "))
        })
        .collect();
    let nucleo_prep = t.elapsed();

    println!(
        "records: {RECORDS}, queries: {}, rounds: {rounds}",
        QUERIES.len()
    );
    println!(
        "generate: {:.0} ms, index (fold haystacks): {:.0} ms ({:.1} MB of haystack), nucleo Utf32 haystacks: {:.0} ms",
        ms(gen_time),
        ms(index_time),
        index.haystack_bytes() as f64 / 1e6,
        ms(nucleo_prep)
    );

    let mut ours = Stats::new();
    let mut ours_typing = Stats::new();
    let mut ours_cold = Stats::new();
    let mut matches = Vec::new();
    for round in 0..rounds {
        for q in QUERIES {
            let mut search = Search::new(&index, index.order().to_vec());
            let keys = keystrokes(q);
            for (i, text) in keys.iter().enumerate() {
                let t = Instant::now();
                let n = search.set_text(&index, text).len();
                let d = t.elapsed();
                ours.samples.push(d);
                if i < q.chars().count() {
                    ours_typing.samples.push(d);
                }
                if round == 0 && i + 1 == q.chars().count() {
                    matches.push((q.to_string(), n));
                }
            }
            // The whole query pasted at once: no earlier result to narrow.
            let mut fresh = Search::new(&index, index.order().to_vec());
            let t = Instant::now();
            std::hint::black_box(fresh.set_text(&index, q).len());
            ours_cold.samples.push(t.elapsed());
        }
    }

    let mut theirs = Stats::new();
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut nucleo_matches = Vec::new();
    for q in QUERIES {
        for (i, text) in keystrokes(q).iter().enumerate() {
            let t = Instant::now();
            let pattern = Pattern::parse(text, CaseMatching::Ignore, Normalization::Smart);
            let n = haystacks
                .iter()
                .filter(|h| pattern.score(h.slice(..), &mut matcher).is_some())
                .count();
            theirs.samples.push(t.elapsed());
            if i + 1 == q.chars().count() {
                nucleo_matches.push(n);
            }
        }
    }

    println!();
    println!(
        "| per keystroke over {RECORDS} records              | keys   | p50 ms   | p99 ms   | max ms   |"
    );
    println!(
        "|----------------------------------------------|--------|----------|----------|----------|"
    );
    println!("{}", ours.row("signoff incremental (type + backspace)"));
    println!("{}", ours_typing.row("signoff incremental (typing only)"));
    println!("{}", ours_cold.row("signoff whole query at once (paste)"));
    println!("{}", theirs.row("nucleo Matcher, rescan all (fuzzy)"));
    println!();
    println!("| query                          | signoff matches | nucleo matches (fuzzy) |");
    println!("|--------------------------------|-----------------|------------------------|");
    for ((q, n), m) in matches.iter().zip(&nucleo_matches) {
        println!("| {:<30} | {n:>15} | {m:>22} |", format!("`{q}`"));
    }
}
