//! The history screen in the real `signoff` binary (a pty, parsed with `vt100`) against
//! the real broker on 127.0.0.1 with a SQLite store seeded with generated, signed history:
//! `H` loads the first page, `G` the next, `/` narrows, `e` exports what is shown.

mod console_support;
mod history_support;

use console_support::pty::{Pty, broker_auth, wait_key_registered};
use signoff::history::SearchField;
use signoff::protocol::HistoryRecord;

const COUNT: usize = 450;

#[test]
fn history_screen_in_the_real_binary_against_a_seeded_broker() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let records = history_support::seed(data.path(), COUNT);
    let settings = signoff::broker::Settings::new(
        broker_auth(),
        signoff::broker::policy::Engine::default(),
        data.path(),
    );
    let broker = rt.block_on(signoff::broker::spawn(settings)).unwrap();
    let url = broker.url();
    let mut pty = Pty::console(120, 36, &url, "bob-secret", 9);
    pty.wait_for("● live", 60);
    wait_key_registered(&rt, &url, "bob-secret", 9);

    pty.press("H");
    pty.wait_for("200 shown · 200 loaded · more on the broker", 60);
    // The newest record is selected and shown in full, signatures checked by the broker.
    let summary: String = records[0].action.summary.chars().take(40).collect();
    pty.wait_for(&summary, 10);
    pty.wait_for("signature verified", 10);
    pty.press("G");
    pty.wait_for("400 shown · 400 loaded · more on the broker", 60);
    pty.press("G");
    pty.wait_for(&format!("{COUNT} shown · {COUNT} loaded · all loaded"), 60);

    // Search narrows what is loaded, as you type.
    let word = "freeze";
    let want: Vec<&HistoryRecord> = records
        .iter()
        .filter(|r| {
            SearchField::ALL
                .iter()
                .any(|f| f.text(r).to_lowercase().contains(word))
        })
        .collect();
    assert!(!want.is_empty() && want.len() < COUNT);
    pty.press("/");
    pty.press(word);
    pty.press("\r");
    pty.wait_for(&format!("{} shown · {COUNT} loaded", want.len()), 30);

    // Export what is shown: JSON Lines in the console's working directory.
    pty.press("e");
    pty.wait_for("exported", 30);
    let files: Vec<_> = std::fs::read_dir(pty.dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].path()).unwrap();
    let got: Vec<HistoryRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a HistoryRecord per line"))
        .collect();
    let want: Vec<HistoryRecord> = want.into_iter().cloned().collect();
    assert_eq!(got, want);

    pty.press("H");
    pty.wait_for("Queue", 10);
    pty.press("q");
    pty.wait_exit(30);
    assert!(pty.restored());
    rt.block_on(broker.shutdown()).unwrap();
}
