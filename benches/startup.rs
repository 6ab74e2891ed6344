//! Start-up and memory: the release `signoff` binary in a pty with `--token` and
//! `--key-file` (a cached session: no sign-in) against an in-process broker holding
//! 10,000 pending actions. Measures spawn → first frame showing the queue title, spawn →
//! the frame showing all 10,000 actions, and VmRSS / VmHWM once they are loaded.
//! Run with `cargo bench --bench startup` (`RUNS=N`, `ACTIONS=N`).

mod support;

use std::time::Duration;

use support::broker::{APPROVER_TOKEN, Agent, BenchBroker};
use support::pty::{Pty, anon_kb, key_file, memory_kb};
use support::{Stats, env_count, header, machine};

const SIZE: (u16, u16) = (160, 48);

fn main() {
    let runs = env_count("RUNS", 20);
    let actions = env_count("ACTIONS", 10_000);
    println!("{}", machine());
    let broker = BenchBroker::start();
    let rt = support::runtime("bench");
    let t = std::time::Instant::now();
    rt.block_on(Agent::new(&broker.url).fill("start", actions, 32));
    println!(
        "broker filled with {actions} pending actions in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    drop(rt);

    let dir = tempfile::tempdir().expect("temp dir");
    let key = key_file(dir.path(), 9);
    let args = [
        "console".to_string(),
        "--broker".into(),
        broker.url.clone(),
        "--token".into(),
        APPROVER_TOKEN.into(),
        "--key-file".into(),
        key.display().to_string(),
    ];
    let loaded_text = format!("{actions} pending");
    let mut first = Stats::new();
    let mut loaded = Stats::new();
    let (mut rss, mut hwm, mut anon) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let pty = Pty::spawn(dir.path(), SIZE, &args, &[" Queue ", &loaded_text]);
        first.push(pty.wait_seen(0, Duration::from_secs(60)));
        loaded.push(pty.wait_seen(1, Duration::from_secs(60)));
        // Let the first redraws after the snapshot settle, then read the counters.
        std::thread::sleep(Duration::from_millis(500));
        if let Some((r, h)) = pty.pid().and_then(memory_kb) {
            rss.push(r);
            hwm.push(h);
        }
        if let Some(a) = pty.pid().and_then(anon_kb) {
            anon.push(a);
        }
        pty.quit(Duration::from_secs(10));
    }
    drop(broker);
    println!("{runs} runs at {}x{}, release binary", SIZE.0, SIZE.1);
    println!();
    println!("{}", header("start-up (real binary in a pty)"));
    println!(
        "{}",
        first.row("spawn → first frame with the queue title", "< 30 ms")
    );
    println!(
        "{}",
        loaded.row(&format!("spawn → frame with {actions} actions"), "")
    );
    println!();
    // Decimal megabytes (the goal's unit); MiB in brackets.
    let mb = |kb: u64| kb as f64 * 1024.0 / 1e6;
    let mib = |kb: u64| kb as f64 / 1024.0;
    rss.sort_unstable();
    hwm.sort_unstable();
    anon.sort_unstable();
    if let (Some(r), Some(h), Some(a)) =
        (rss.get(rss.len() / 2), hwm.last(), anon.get(anon.len() / 2))
    {
        println!(
            "| resident memory, {actions} actions loaded | VmRSS p50 {:.1} MB ({:.1} MiB), of which RssAnon {:.1} MB | VmHWM max {:.1} MB | goal < 50 MB |",
            mb(*r),
            mib(*r),
            mb(*a),
            mb(*h)
        );
    }
}
