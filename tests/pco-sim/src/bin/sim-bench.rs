//! Prints how many pages per second the simulator serves: 100 people per page with
//! `include=addresses,emails,phone_numbers`, rate limiting off, over loopback HTTP.
//!
//! Usage: `sim-bench [PEOPLE] [SECONDS] [CONCURRENCY]` (defaults 20000, 5, 4).

use pco_sim::Simulator;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let people = *args.first().unwrap_or(&20_000) as usize;
    let secs = *args.get(1).unwrap_or(&5);
    let conc = *args.get(2).unwrap_or(&4);
    let t0 = Instant::now();
    let sim = Simulator::builder()
        .people(people)
        .seed(1)
        .no_rate_limit()
        .start()
        .await
        .expect("start");
    println!(
        "generated {people} people in {:.2}s",
        t0.elapsed().as_secs_f64()
    );
    let client = reqwest::Client::new();
    let pages = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for w in 0..conc {
        let (client, pages, bytes, base) =
            (client.clone(), pages.clone(), bytes.clone(), sim.base_url());
        tasks.push(tokio::spawn(async move {
            let mut offset = (w as usize * 100) % people.max(1);
            while Instant::now() < deadline {
                let url = format!("{base}/people/v2/people?per_page=100&offset={offset}&include=addresses,emails,phone_numbers");
                let r = client.get(&url).basic_auth(pco_sim::DEFAULT_APP_ID, Some(pco_sim::DEFAULT_SECRET)).send().await.expect("request");
                assert!(r.status().is_success(), "status {}", r.status());
                let b = r.bytes().await.expect("body");
                bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                pages.fetch_add(1, Ordering::Relaxed);
                offset = (offset + 100 * conc as usize) % people.max(1);
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        t.await.expect("worker");
    }
    let el = start.elapsed().as_secs_f64();
    let p = pages.load(Ordering::Relaxed);
    println!(
        "served {p} pages in {el:.2}s: {:.0} pages/s ({:.0} people/s, {:.1} MB/s) with {conc} concurrent clients",
        p as f64 / el,
        p as f64 * 100.0 / el,
        bytes.load(Ordering::Relaxed) as f64 / el / 1e6
    );
    sim.shutdown().await;
}
