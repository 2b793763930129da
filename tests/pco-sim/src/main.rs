//! `pco-sim`: serve a simulated Planning Center organisation on loopback.

use clap::Parser;
use pco_sim::{AuthConfig, FaultConfig, RateLimitConfig, Simulator, WebhookConfig};
use std::time::Duration;

/// jemalloc: rendering a page allocates thousands of small maps and strings, and glibc's
/// malloc spent a quarter of the simulator's CPU on them, on the cores the client under test
/// shares in benchmarks.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A faithful Planning Center Online simulator (JSON:API on 127.0.0.1).
///
/// Credentials accepted by default: Personal Access Token `sim-app-id:sim-secret` (HTTP Basic)
/// and OAuth client `sim-client-id` / `sim-client-secret` (`POST /oauth/token`, codes from
/// `GET /oauth/authorize?client_id=..&redirect_uri=..` or `POST /__admin/oauth/code`).
/// Admin API (no auth): `/__admin/counts`, `/__admin/stats`, `/__admin/records/{table}[/{id}]`,
/// `/__admin/churn`. See tests/pco-sim/README.md.
#[derive(Parser, Debug)]
#[command(name = "pco-sim", version)]
struct Cli {
    /// Loopback port to listen on (0 = pick a free port; the chosen URL is printed).
    #[arg(long, default_value_t = 0, env = "PCO_SIM_PORT")]
    port: u16,
    /// Spec directory to serve (`manifest.yaml` + `openapi/*.yaml`), read at start; default:
    /// the workspace's `specs/pco` as compiled in. Every list, nested list and single GET it
    /// declares is served.
    #[arg(long, value_name = "DIR")]
    spec: Option<std::path::PathBuf>,
    /// Number of people in the generated organisation.
    #[arg(long, default_value_t = 1000)]
    people: usize,
    /// Seed for the data, faults and churn (same seed, same organisation).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Personal Access Tokens accepted, as APP_ID:SECRET (repeatable).
    #[arg(
        long = "pat",
        value_name = "APP_ID:SECRET",
        default_value = "sim-app-id:sim-secret"
    )]
    pats: Vec<String>,
    /// OAuth clients accepted, as CLIENT_ID:CLIENT_SECRET (repeatable).
    #[arg(
        long = "oauth-client",
        value_name = "ID:SECRET",
        default_value = "sim-client-id:sim-client-secret"
    )]
    clients: Vec<String>,
    /// Lifetime of OAuth access tokens in seconds.
    #[arg(long, default_value_t = 7200)]
    token_ttl: u64,
    /// Requests allowed per rate-limit window per credential.
    #[arg(long, default_value_t = 100)]
    rate_limit: u32,
    /// Requests allowed per window for requests with offset above --deep-offset.
    #[arg(long, default_value_t = 75)]
    deep_rate_limit: u32,
    /// Offset above which --deep-rate-limit applies.
    #[arg(long, default_value_t = 30_000)]
    deep_offset: usize,
    /// Rate-limit window in seconds.
    #[arg(long, default_value_t = 20)]
    rate_period: u64,
    /// Disable rate limiting (headers are still sent); for benchmarks.
    #[arg(long)]
    no_rate_limit: bool,
    /// Random mutations applied per second in the background (0 = off).
    #[arg(long, default_value_t = 0.0)]
    churn: f64,
    /// Webhook delivery attempts per event (first try included).
    #[arg(long, default_value_t = 5)]
    webhook_attempts: u32,
    /// Delay before the first webhook retry in milliseconds (doubles each retry).
    #[arg(long, default_value_t = 1000)]
    webhook_backoff_ms: u64,
    /// Fraction of API requests answered with 500/502/503.
    #[arg(long, default_value_t = 0.0)]
    fault_5xx_rate: f64,
    /// Latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    fault_latency_ms: u64,
    /// Fraction of API requests that hang for --fault-hang-ms before answering.
    #[arg(long, default_value_t = 0.0)]
    fault_hang_rate: f64,
    /// How long a hung request hangs, in milliseconds.
    #[arg(long, default_value_t = 120_000)]
    fault_hang_ms: u64,
    /// Fraction of API requests whose connection is dropped after the headers.
    #[arg(long, default_value_t = 0.0)]
    fault_drop_rate: f64,
    /// Fraction of API responses cut in half (connection closed mid-body).
    #[arg(long, default_value_t = 0.0)]
    fault_truncate_rate: f64,
    /// Fraction of API responses served as malformed JSON with status 200.
    #[arg(long, default_value_t = 0.0)]
    fault_malformed_rate: f64,
    /// Start a 429 storm every N API requests (0 = never).
    #[arg(long, default_value_t = 0)]
    fault_429_storm_every: u64,
    /// Length of each 429 storm, in requests.
    #[arg(long, default_value_t = 10)]
    fault_429_storm_len: u64,
}

fn pairs(v: &[String], what: &str) -> Vec<(String, String)> {
    v.iter()
        .map(|p| match p.split_once(':') {
            Some((a, b)) => (a.to_string(), b.to_string()),
            None => {
                eprintln!("pco-sim: {what} must be ID:SECRET");
                std::process::exit(2);
            }
        })
        .collect()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "pco_sim=info".into()),
        )
        .init();
    let cli = Cli::parse();
    let mut rate = RateLimitConfig {
        limit: cli.rate_limit,
        deep_limit: cli.deep_rate_limit,
        deep_offset: cli.deep_offset,
        period: Duration::from_secs(cli.rate_period),
        enabled: true,
    };
    rate.enabled = !cli.no_rate_limit;
    let started = std::time::Instant::now();
    let mut builder = Simulator::builder();
    if let Some(dir) = &cli.spec {
        builder = builder.spec_dir(dir);
    }
    let sim = builder
        .people(cli.people)
        .seed(cli.seed)
        .port(cli.port)
        .rate_limit(rate)
        .auth(AuthConfig {
            pats: pairs(&cli.pats, "--pat"),
            clients: pairs(&cli.clients, "--oauth-client"),
            token_ttl: Duration::from_secs(cli.token_ttl),
        })
        .webhooks(WebhookConfig {
            max_attempts: cli.webhook_attempts,
            backoff: Duration::from_millis(cli.webhook_backoff_ms),
        })
        .faults(FaultConfig {
            error_rate: cli.fault_5xx_rate,
            latency: Duration::from_millis(cli.fault_latency_ms),
            hang_rate: cli.fault_hang_rate,
            hang_for: Duration::from_millis(cli.fault_hang_ms),
            drop_rate: cli.fault_drop_rate,
            truncate_rate: cli.fault_truncate_rate,
            malformed_rate: cli.fault_malformed_rate,
            storm_every: cli.fault_429_storm_every,
            storm_len: cli.fault_429_storm_len,
        })
        .churn(cli.churn)
        .start()
        .await
        .unwrap_or_else(|e| {
            eprintln!("pco-sim: {e}");
            std::process::exit(2);
        });
    let people = sim.org().count("Person");
    tracing::info!(
        people,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "organisation generated"
    );
    // The first stdout line is the base URL, for scripts.
    println!("{}", sim.base_url());
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
