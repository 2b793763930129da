//! `tributary demo`: a simulated organisation on loopback, synced into `./tributary.db`.

use anyhow::Context as _;
use tributary_core::Client;
use tributary_engine::tokens::{self, Credential, TokenKey};
use tributary_engine::{Store, SyncOptions, canonical, registry};

use super::sync::{sim_auth, sync_with_progress};
use super::{Failure, exit};

/// Arguments of `tributary demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// People in the simulated organisation.
    #[arg(long, default_value_t = 1000)]
    people: usize,
    /// Seed of the simulated data.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Apply Planning Center's rate limit (100 requests / 20 s) in the simulator and client.
    #[arg(long)]
    rate_limit: bool,
    /// Page size (default: the API's maximum).
    #[arg(long)]
    per_page: Option<u32>,
    /// The database to sync into.
    #[arg(long, default_value = "tributary.db")]
    database_url: String,
}

pub async fn run(args: Args, json: bool) -> Result<u8, Failure> {
    let manifest = registry::adapter("pco")
        .ok_or_else(|| anyhow::anyhow!("the pco adapter is not registered in this build"))?;
    let mut builder = pco_sim::Simulator::builder()
        .people(args.people)
        .seed(args.seed);
    if !args.rate_limit {
        builder = builder.no_rate_limit();
    }
    let sim = builder.start().await.context("starting the simulator")?;
    if !json {
        println!(
            "simulated organisation: {} people at {} (seed {})",
            args.people,
            sim.base_url(),
            args.seed
        );
    }
    let store = Store::connect(&args.database_url)
        .await
        .context("opening the database")?;
    let org = "demo";
    // Exercise the encrypted token store with a key that lives only as long as the demo.
    let key = TokenKey::generate();
    let credential = Credential::Basic {
        app_id: pco_sim::DEFAULT_APP_ID.into(),
        secret: pco_sim::DEFAULT_SECRET.into(),
    };
    tokens::put(&store, &key, org, manifest.adapter, &credential).await?;
    let auth = match tokens::get(&store, &key, org, manifest.adapter).await? {
        Some(c) => c.auth(),
        None => sim_auth(),
    };
    let mut client = Client::builder(&sim.base_url(), auth).prefetch(super::sync::PREFETCH);
    if !args.rate_limit {
        client = client.rate_limiter(std::sync::Arc::new(tributary_core::ratelimit::Unlimited));
    }
    let client = client.build()?;
    let started = std::time::Instant::now();
    let summary =
        sync_with_progress(&store, manifest, &client, &SyncOptions::new(org), json).await?;
    let secs = started.elapsed().as_secs_f64();
    if !json {
        let fetched: i64 = summary.entities.iter().map(|e| e.fetched).sum();
        println!(
            "\n{fetched} records in {secs:.1}s ({:.0} records/s) into {}",
            fetched as f64 / secs.max(0.001),
            args.database_url
        );
        for t in canonical::ENTITIES {
            let n = store.count(org, t.table).await?;
            if n > 0 {
                println!("  {:<24} {n}", t.table);
            }
        }
        println!(
            "try: tributary status --org {org} --database-url {}",
            args.database_url
        );
    }
    store.close().await;
    sim.shutdown().await;
    Ok(if summary.state == "done" {
        exit::OK
    } else {
        exit::INCOMPLETE
    })
}
