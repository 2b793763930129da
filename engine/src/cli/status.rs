//! `tributary status`: the latest run of an organisation and what the database holds.

use anyhow::Context as _;
use serde_json::json;
use tributary_engine::{Store, canonical, runs};

use super::config::{Config, pick};
use super::{Failure, exit};

/// Arguments of `tributary status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The organisation.
    #[arg(long, env = "TRIBUTARY_ORG")]
    org: Option<String>,
    /// The adapter.
    #[arg(long, env = "TRIBUTARY_ADAPTER")]
    adapter: Option<String>,
    /// Database URL or SQLite path (default ./tributary.db).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

pub async fn run(args: Args, config: &Config, json: bool) -> Result<u8, Failure> {
    let org = pick(args.org, &config.org, "--org")?;
    let adapter = args
        .adapter
        .or_else(|| config.adapter.clone())
        .unwrap_or_else(|| "pco".into());
    let url = args
        .database_url
        .or_else(|| config.database_url.clone())
        .unwrap_or_else(|| "tributary.db".into());
    let store = Store::connect(&url).await.context("opening the database")?;
    let latest = runs::latest(&store, &org, &adapter).await?;
    let entities = match &latest {
        Some((id, _, _)) => runs::entity_runs(&store, &org, id).await?,
        None => Vec::new(),
    };
    let mut tables = serde_json::Map::new();
    for t in canonical::ENTITIES {
        tables.insert(t.table.into(), json!(store.count(&org, t.table).await?));
    }
    let quarantined = store.quarantine(&org).await?.len();
    if json {
        let out = json!({
            "org": org, "adapter": adapter,
            "run": latest.as_ref().map(|(id, state, created)| json!({"id": id, "state": state, "created_ms": created})),
            "entities": entities, "tables": tables, "quarantined": quarantined,
        });
        println!("{out}");
    } else {
        match &latest {
            Some((id, state, _)) => {
                println!("org {org} · adapter {adapter} · latest run {id}: {state}")
            }
            None => println!("org {org} · adapter {adapter} · no runs yet"),
        }
        for e in &entities {
            println!(
                "  {:<20} {:<8} pages {:>5}  fetched {:>7}  created {:>7}  updated {:>6}  unchanged {:>7}  quarantined {:>4}",
                e.entity,
                e.state,
                e.pages,
                e.fetched,
                e.created,
                e.updated,
                e.unchanged,
                e.quarantined
            );
        }
        println!("rows:");
        for (t, n) in &tables {
            if n.as_i64() != Some(0) {
                println!("  {t:<26} {n}");
            }
        }
        println!("quarantined records: {quarantined}");
    }
    store.close().await;
    Ok(match latest {
        Some((_, state, _)) if state == "done" => exit::OK,
        Some(_) => exit::INCOMPLETE,
        None => exit::OK,
    })
}
