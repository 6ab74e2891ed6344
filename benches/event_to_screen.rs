//! Event to screen: an agent's `POST /v1/actions` until the new row is drawn in a
//! console frame. A real broker on 127.0.0.1 (SQLite, its own runtime), the real feed
//! client, the real `update`, and `Root` drawn to a 160x48 `TestBackend` exactly when
//! the runtime would draw; the clock stops once the frame holds the row's text.
//! Run with `cargo bench --bench event_to_screen` (`SAMPLES=N` to change the count).

mod support;

use std::time::Instant;

use ed25519_dalek::SigningKey;
use signoff::console::Msg;
use signoff::protocol::Timestamp;

use support::broker::{APPROVER_TOKEN, Agent, BenchBroker, request};
use support::console::Console;
use support::{Stats, env_count, header, machine};

/// Samples thrown away first (connection set-up, allocator and page-cache warm-up).
const WARM_UP: usize = 20;

fn main() {
    let n = env_count("SAMPLES", 1000);
    println!("{}", machine());
    let broker = BenchBroker::start();
    let rt = support::runtime("bench");
    let (mut screen, mut accepted) = rt.block_on(run(&broker.url, n));
    drop(rt);
    drop(broker);
    println!("{n} actions, one at a time, each sorted to the top row (soonest expiry)");
    println!();
    println!("{}", header("event to screen (160x48, real broker)"));
    println!(
        "{}",
        screen.row("POST /v1/actions → row drawn in a frame", "p99 < 50 ms")
    );
    println!(
        "{}",
        accepted.row("POST /v1/actions → 201 at the agent", "")
    );
}

async fn run(url: &str, n: usize) -> (Stats, Stats) {
    let agent = Agent::new(url);
    let key = SigningKey::from_bytes(&[7; 32]);
    let mut console = Console::connect(url, APPROVER_TOKEN, key, (160, 48)).await;
    let mut screen = Stats::new();
    let mut accepted = Stats::new();
    for i in 0..WARM_UP + n {
        // The 1 s tick, outside the measured window, so ages and countdowns move on.
        console.handle(Msg::Tick(Timestamp::now()));
        console.draw();
        let resource = format!("bench-{i:05}");
        let req = request(&resource, 80_000 - i as u64);
        let post = {
            let agent = agent.clone();
            tokio::spawn(async move { agent.submit(&req).await })
        };
        let t0 = Instant::now();
        let drawn = console.run_until(|c| c.shows(&resource)).await;
        let done = post.await.expect("the POST task finishes");
        if i >= WARM_UP {
            screen.push(drawn - t0);
            accepted.push(done.answered - t0);
        }
    }
    assert_eq!(
        console.app.queue.order.len(),
        WARM_UP + n,
        "every action is queued"
    );
    (screen, accepted)
}
