//! `tributary sync`: one organisation through one adapter, resumable.

use anyhow::Context as _;
use tributary_core::{Auth, Client};
use tributary_engine::tokens::{self, Credential, DbTokenStore, TokenKey};
use tributary_engine::{EngineError, Store, SyncOptions, SyncSummary, orchestrator, registry};

use super::config::{Config, pick};
use super::{Failure, exit, progress};

/// Arguments of `tributary sync`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The organisation id the records belong to.
    #[arg(long, env = "TRIBUTARY_ORG")]
    org: Option<String>,
    /// The adapter (see `tributary graph`).
    #[arg(long, env = "TRIBUTARY_ADAPTER")]
    adapter: Option<String>,
    /// The strategy: only `full` so far.
    #[arg(long, default_value = "full", value_parser = ["full"])]
    strategy: String,
    /// Database: `postgres://…`, `sqlite://path` or a file path (default ./tributary.db).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// The API's base URL (default: the adapter's).
    #[arg(long, env = "TRIBUTARY_BASE_URL")]
    base_url: Option<String>,
    /// Personal Access Token application id (stored encrypted when a token key is set).
    #[arg(long, env = "PCO_APP_ID")]
    app_id: Option<String>,
    /// Personal Access Token secret.
    #[arg(long, env = "PCO_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Base64 32-byte key encrypting stored credentials.
    #[arg(long, env = "TRIBUTARY_TOKEN_KEY", hide_env_values = true)]
    token_key: Option<String>,
    /// OAuth client id (with --client-secret and, to connect, --refresh-token).
    #[arg(long, env = "PCO_CLIENT_ID")]
    client_id: Option<String>,
    /// OAuth client secret.
    #[arg(long, env = "PCO_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// An OAuth refresh token of the organisation: stored (encrypted, needs --token-key) when
    /// it has no OAuth credentials yet. Rotated tokens are saved back on every refresh, so
    /// later runs need only --token-key.
    #[arg(long, env = "PCO_REFRESH_TOKEN", hide_env_values = true)]
    refresh_token: Option<String>,
    /// Replace the stored OAuth tokens with --refresh-token (after reconnecting the
    /// organisation); without it a stored, possibly rotated, token wins.
    #[arg(long)]
    reconnect: bool,
    /// Page size (default: the API's maximum).
    #[arg(long)]
    per_page: Option<u32>,
    /// Entity workflows at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Sync only these entities (comma-separated, e.g. `person,email`) and what they depend
    /// on; default: every entity with a canonical mapping.
    #[arg(long, value_delimiter = ',')]
    entities: Option<Vec<String>>,
    /// Nested lists: parents fetched at once.
    #[arg(long, default_value_t = 4)]
    parent_concurrency: usize,
    /// Pages of a list fetched ahead while the previous one commits (1 = none). Each is a
    /// page a crash may fetch again.
    #[arg(long, default_value_t = PREFETCH)]
    prefetch: usize,
    /// Do not pace requests (for simulators and servers without rate limits).
    #[arg(long)]
    no_rate_limit: bool,
    /// Lease lifetime in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    lease_ttl_ms: i64,
}

/// Default pages fetched ahead per list: one page downloads while the previous one commits.
pub const PREFETCH: usize = 2;

/// Prints a run summary as a table.
pub fn print_summary(summary: &SyncSummary) {
    println!(
        "run {} {}{}",
        summary.run.id,
        summary.state,
        if summary.run.resumed {
            " (resumed)"
        } else {
            ""
        }
    );
    println!(
        "{:<20} {:<8} {:>7} {:>8} {:>8} {:>8} {:>9} {:>11}",
        "entity", "state", "pages", "fetched", "created", "updated", "unchanged", "quarantined"
    );
    for e in &summary.entities {
        println!(
            "{:<20} {:<8} {:>7} {:>8} {:>8} {:>8} {:>9} {:>11}",
            e.entity, e.state, e.pages, e.fetched, e.created, e.updated, e.unchanged, e.quarantined
        );
        if let Some(err) = &e.error {
            println!("  {err}");
        }
    }
    if !summary.unmapped.is_empty() {
        println!(
            "not synced (no canonical mapping in specs/canonical.yaml): {}",
            summary.unmapped.join(", ")
        );
    }
}

pub async fn run(args: Args, config: &Config, json: bool) -> Result<u8, Failure> {
    let org = pick(args.org, &config.org, "--org")?;
    let adapter_name = args
        .adapter
        .or_else(|| config.adapter.clone())
        .unwrap_or_else(|| "pco".into());
    let manifest = registry::adapter(&adapter_name).ok_or_else(|| {
        Failure::new(
            exit::USAGE,
            anyhow::anyhow!("unknown adapter `{adapter_name}`"),
        )
    })?;
    let url = args
        .database_url
        .or_else(|| config.database_url.clone())
        .unwrap_or_else(|| "tributary.db".into());
    let store = Store::connect(&url)
        .await
        .with_context(|| "opening the database")?;
    let key = match args.token_key.or_else(|| config.token_key.clone()) {
        Some(k) => Some(TokenKey::from_base64(&k)?),
        None => None,
    };
    let app_id = args.app_id.or_else(|| config.app_id.clone());
    let secret = args.secret.or_else(|| config.secret.clone());
    let client_id = args.client_id.or_else(|| config.client_id.clone());
    let client_secret = args.client_secret.or_else(|| config.client_secret.clone());
    let credential = match (app_id, secret) {
        (Some(app_id), Some(secret)) => {
            let c = Credential::Basic { app_id, secret };
            if let Some(key) = &key {
                tokens::put(&store, key, &org, manifest.adapter, &c).await?;
            }
            Some(c)
        }
        _ => {
            let stored = match &key {
                Some(key) => tokens::get(&store, key, &org, manifest.adapter).await?,
                None => None,
            };
            match (client_id, client_secret, args.refresh_token) {
                (Some(id), Some(client_secret), Some(refresh)) => {
                    // Rotation burns the given token at the first refresh: without storing
                    // the rotated one the next run could not authenticate.
                    let key = key.as_ref().ok_or_else(|| {
                        EngineError::Credentials(
                            "OAuth needs --token-key: rotated refresh tokens must be stored".into(),
                        )
                    })?;
                    let given = Credential::oauth(id, client_secret, refresh);
                    let adapter = manifest.adapter;
                    match stored {
                        Some(Credential::OAuth { .. }) if !args.reconnect => {
                            tracing::warn!(
                                org,
                                "stored OAuth tokens are used; --refresh-token is ignored \
                                 (it may be burned already; pass --reconnect to replace them)"
                            );
                        }
                        // Conditional, so that of several processes started with the same
                        // token only one stores it (a later write could overwrite a token
                        // another process has already rotated).
                        None if !args.reconnect => {
                            tokens::put_if_absent(&store, key, &org, adapter, &given).await?;
                        }
                        _ => tokens::put(&store, key, &org, adapter, &given).await?,
                    }
                    tokens::get(&store, key, &org, adapter).await?
                }
                _ => stored,
            }
        }
    };
    let auth = match (credential, &key) {
        (Some(c @ Credential::OAuth { .. }), Some(key)) => {
            DbTokenStore::new(store.clone(), key.clone(), manifest.adapter).auth(&org, &c)
        }
        (Some(c), _) => c.auth(),
        (None, _) => {
            return Err(EngineError::Credentials(
                "none given (--app-id/--secret, --client-id/--client-secret/--refresh-token, \
                 or stored ones with --token-key)"
                    .into(),
            )
            .into());
        }
    };
    let base = args
        .base_url
        .or_else(|| config.base_url.clone())
        .unwrap_or_else(|| manifest.base_url.to_owned());
    let mut builder = Client::builder(&base, auth).prefetch(args.prefetch);
    if args.no_rate_limit {
        builder = builder.rate_limiter(std::sync::Arc::new(tributary_core::ratelimit::Unlimited));
    }
    let client = builder.build()?;
    let mut options = SyncOptions::new(org);
    options.strategy = args.strategy;
    options.concurrency = args.concurrency;
    options.workflow.per_page = args.per_page;
    options.workflow.lease_ttl_ms = args.lease_ttl_ms;
    options.workflow.parent_concurrency = args.parent_concurrency;
    options.entities = args.entities;
    let summary = sync_with_progress(&store, manifest, &client, &options, json).await?;
    store.close().await;
    Ok(if summary.state == "done" {
        exit::OK
    } else {
        exit::INCOMPLETE
    })
}

/// Runs a sync while rendering its progress, then prints the summary.
pub async fn sync_with_progress(
    store: &Store,
    manifest: &'static tributary_core::Manifest,
    client: &Client,
    options: &SyncOptions,
    json: bool,
) -> anyhow::Result<SyncSummary> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let renderer = tokio::spawn(progress::render(rx, json));
    let result = orchestrator::sync(store, manifest, client, options, Some(tx)).await;
    let _ = renderer.await;
    let summary = result?;
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print_summary(&summary);
    }
    Ok(summary)
}

/// Client authentication for the simulator's default token (demo and bench).
pub fn sim_auth() -> Auth {
    Credential::Basic {
        app_id: pco_sim::DEFAULT_APP_ID.into(),
        secret: pco_sim::DEFAULT_SECRET.into(),
    }
    .auth()
}
