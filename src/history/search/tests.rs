use super::*;
use crate::history::fold::fold;
use crate::history::r#gen::{GenConfig, Generator};
use crate::protocol::HistoryRecord;

fn index(n: usize) -> HistoryIndex {
    let g = Generator::new(GenConfig {
        count: n,
        ..GenConfig::default()
    });
    HistoryIndex::new(g.records())
}

/// The reference: fold every field and check every term, no index, no stack.
fn brute(index: &HistoryIndex, base: &[u32], text: &str) -> Vec<u32> {
    let terms = Terms::parse(text);
    base.iter()
        .copied()
        .filter(|&s| {
            let r: &HistoryRecord = index.record(s);
            terms.as_slice().iter().all(|t| {
                SearchField::ALL
                    .iter()
                    .any(|f| fold(&f.text(r)).contains(t.as_str()))
            })
        })
        .collect()
}

#[test]
fn typing_and_backspacing_match_a_full_rescan() {
    let index = index(3000);
    let base = index.order().to_vec();
    let mut search = Search::new(&index, base.clone());
    let script = [
        "t",
        "te",
        "ter",
        "terr",
        "terraform",
        "terraform ",
        "terraform p",
        "terraform pr",
        "terraform prod",
        "terraform pro",
        "terraform p",
        "terraform",
        "terraform maria",
        "\"drop",
        "\"drop t",
        "\"drop table\"",
        "",
        "maria denied",
        "MARIA",
        "ü",
        "zoë",
        "kubectl delete namespace",
        "kubectl delete",
        "zzzz",
        "zzz",
        "z",
        "",
    ];
    for text in script {
        let got = search.set_text(&index, text).to_vec();
        assert_eq!(got, brute(&index, &base, text), "after typing {text:?}");
    }
}

#[test]
fn narrowing_searches_only_the_previous_result() {
    let index = index(2000);
    let mut search = Search::new(&index, index.order().to_vec());
    let n1 = search.set_text(&index, "prod").len();
    let n2 = search.set_text(&index, "production").len();
    assert!(n2 <= n1 && n2 > 0);
    assert_eq!(search.levels.len(), 2, "one level per narrowing keystroke");
    search.set_text(&index, "prod");
    assert_eq!(
        search.levels.len(),
        1,
        "backspace pops back to the earlier result"
    );
    search.set_text(&index, "staging");
    assert_eq!(search.levels.len(), 1, "an unrelated text starts over");
}

#[test]
fn search_respects_the_base_set_and_its_order() {
    let index = index(1000);
    let base: Vec<u32> = index
        .order()
        .iter()
        .copied()
        .filter(|s| s % 3 == 0)
        .collect();
    let mut search = Search::new(&index, base.clone());
    let got = search.set_text(&index, "e").to_vec();
    assert!(got.iter().all(|s| base.contains(s)));
    let positions: Vec<usize> = got
        .iter()
        .map(|s| base.iter().position(|b| b == s).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(search.set_text(&index, "").len(), base.len());
}

#[test]
fn a_changed_index_restarts_the_stack() {
    let g = Generator::new(GenConfig {
        count: 200,
        ..GenConfig::default()
    });
    let mut index = HistoryIndex::new(g.records());
    let mut search = Search::new(&index, index.order().to_vec());
    assert_eq!(search.set_text(&index, "needle-xyz").len(), 0);
    let mut r = g.record(5);
    r.reason = "found the Needle-XYZ here".into();
    index.upsert([r]);
    assert_eq!(search.set_text(&index, "needle-xyz").len(), 1);
}

#[test]
fn highlight_ranges_land_on_the_shown_characters() {
    let terms = Terms::parse("drop ma");
    let text = "DROP TABLE; Mañana \u{212a}";
    let ranges = match_ranges(text, &terms);
    assert_eq!(ranges, vec![0..4, 12..14]);
    assert_eq!(&text[12..14], "Ma");
    // Terms that overlap merge into one range.
    let ranges = match_ranges("abcdef", &Terms::parse("abc cde"));
    assert_eq!(ranges, vec![0..5]);
    // A folded character that changes length maps back to the whole original character.
    let ranges = match_ranges("x\u{212a}y", &Terms::parse("ky"));
    assert_eq!(ranges, vec![1..5]);
    assert!(match_ranges("abc", &Terms::default()).is_empty());
}

#[test]
fn highlights_name_each_matching_field() {
    let index = index(500);
    let mut search = Search::new(&index, index.order().to_vec());
    let hits = search.set_text(&index, "terraform").to_vec();
    let fields = search.highlights(&index, hits[0]);
    assert!(fields.iter().any(|f| f.field == SearchField::Kind));
    for f in &fields {
        for r in &f.ranges {
            assert_eq!(fold(&f.text[r.clone()]), "terraform");
        }
    }
}
