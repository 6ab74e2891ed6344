//! Approve to ack: the approver presses `a` (through the keymap), the confirm dialog
//! opens and is drawn, Enter signs the decision with the device key and sends it on the
//! real feed, until the broker's durable ack (written to the SQLite audit log first) is
//! applied by the real `update`. A real broker on 127.0.0.1 on its own runtime.
//! Run with `cargo bench --bench approve_to_ack` (`SAMPLES=N` to change the count).

mod support;

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ed25519_dalek::SigningKey;
use signoff::console::Msg;
use signoff::console::app::{Dialog, Level};
use signoff::protocol::Timestamp;

use support::broker::{APPROVER_TOKEN, Agent, BenchBroker, request};
use support::console::Console;
use support::{Stats, env_count, header, machine};

const WARM_UP: usize = 10;

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn main() {
    let n = env_count("SAMPLES", 500);
    println!("{}", machine());
    let broker = BenchBroker::start();
    let rt = support::runtime("bench");
    let (mut total, mut sent_to_ack) = rt.block_on(run(&broker.url, n));
    drop(rt);
    drop(broker);
    println!("{n} approvals, one pending action at a time, quorum 1, SQLite WAL audit log");
    println!();
    println!("{}", header("approve to ack (real broker)"));
    println!(
        "{}",
        total.row(
            "key `a` → dialog → Enter → durable ack in App",
            "p99 < 20 ms"
        )
    );
    println!(
        "{}",
        sent_to_ack.row("Enter (sign + send) → ack applied", "")
    );
}

async fn run(url: &str, n: usize) -> (Stats, Stats) {
    let agent = Agent::new(url);
    let device = SigningKey::from_bytes(&[8; 32]);
    let mut console = Console::connect(url, APPROVER_TOKEN, device, (160, 48)).await;
    let mut total = Stats::new();
    let mut sent_to_ack = Stats::new();
    for i in 0..WARM_UP + n {
        let resource = format!("approve-{i:05}");
        let created = agent.submit(&request(&resource, 3600)).await.created;
        console.handle(Msg::Tick(Timestamp::now()));
        console
            .run_until(|c| c.app.queue.selected == Some(created.id) && c.shows(&resource))
            .await;

        let t0 = Instant::now();
        console.handle(key(KeyCode::Char('a')));
        assert!(
            matches!(console.app.dialog, Some(Dialog::Decide(_))),
            "`a` opens the confirm dialog"
        );
        console.draw();
        console.handle(key(KeyCode::Enter));
        assert_eq!(
            console.app.queue.inflight.len(),
            1,
            "Enter sends the decision"
        );
        let t_sent = Instant::now();
        let acked = console.run_until(|c| c.app.queue.inflight.is_empty()).await;
        let notice = console.app.notices.back().expect("the ack leaves a notice");
        assert_eq!(notice.level, Level::Success, "{:?}", notice.text.plain());
        if i >= WARM_UP {
            total.push(acked - t0);
            sent_to_ack.push(acked - t_sent);
        }
    }
    (total, sent_to_ack)
}
