//! `tributary bench`: end-to-end records/s and peak RSS for a simulated organisation.
//!
//! The simulator runs in the same process, so peak RSS includes its in-memory organisation.

use anyhow::Context as _;
use serde_json::json;
use tributary_core::Client;
use tributary_engine::{Store, SyncOptions, orchestrator, registry};

use super::sync::sim_auth;
use super::{Failure, exit};

/// Arguments of `tributary bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// People in the simulated organisation.
    #[arg(long, default_value_t = 2000)]
    people: usize,
    /// Databases to measure: SQLite paths or PostgreSQL URLs (default: a temporary SQLite file).
    #[arg(long = "database-url")]
    database_urls: Vec<String>,
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub async fn run(args: Args, json: bool) -> Result<u8, Failure> {
    let manifest = registry::adapter("pco")
        .ok_or_else(|| anyhow::anyhow!("the pco adapter is not registered in this build"))?;
    let sim = pco_sim::Simulator::builder()
        .people(args.people)
        .seed(1)
        .no_rate_limit()
        .start()
        .await
        .context("starting the simulator")?;
    let tmp = tempfile_dir()?;
    let urls = if args.database_urls.is_empty() {
        vec![tmp.join("bench.db").display().to_string()]
    } else {
        args.database_urls
    };
    let client = Client::builder(&sim.base_url(), sim_auth())
        .prefetch(super::sync::PREFETCH)
        .rate_limiter(std::sync::Arc::new(tributary_core::ratelimit::Unlimited))
        .build()?;
    for (i, url) in urls.iter().enumerate() {
        let store = Store::connect(url).await.context("opening the database")?;
        let org = format!("bench{i}_{}", rand::random::<u32>());
        let started = std::time::Instant::now();
        let summary =
            orchestrator::sync(&store, manifest, &client, &SyncOptions::new(&org), None).await?;
        let secs = started.elapsed().as_secs_f64();
        let records: i64 = summary.entities.iter().map(|e| e.fetched).sum();
        let rate = records as f64 / secs.max(0.001);
        let rss = peak_rss_kib().unwrap_or(0);
        let db = format!("{:?}", store.dialect()).to_lowercase();
        if json {
            println!(
                "{}",
                json!({"database": db, "people": args.people, "records": records,
                "seconds": secs, "records_per_s": rate, "peak_rss_kib": rss, "state": summary.state})
            );
        } else {
            println!(
                "{db:<9} {} people · {records} records in {secs:.2}s · {rate:.0} records/s · peak RSS {} MiB",
                args.people,
                rss / 1024
            );
        }
        store.close().await;
    }
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(exit::OK)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("tributary-bench-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
