//! The `tributary` command line: argument parsing, configuration, exit codes.

mod bench;
mod codegen;
mod config;
mod demo;
mod graph;
mod progress;
mod status;
mod sync;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes, for scripts.
pub mod exit {
    /// Everything synced.
    pub const OK: u8 = 0;
    /// An unexpected error (database, I/O).
    pub const ERROR: u8 = 1;
    /// Bad arguments or configuration (clap also uses 2).
    pub const USAGE: u8 = 2;
    /// The sync ran but some entities failed or were skipped; running it again resumes.
    pub const INCOMPLETE: u8 = 3;
    /// Credentials are missing or do not decrypt.
    pub const CREDENTIALS: u8 = 4;
}

/// Tributary: sync church data from Planning Center into one canonical database.
#[derive(Debug, Parser)]
#[command(name = "tributary", version, about)]
pub struct Cli {
    /// Print machine-readable JSON instead of progress bars and tables.
    #[arg(long, global = true)]
    json: bool,
    /// A YAML configuration file (keys: database_url, org, adapter, base_url, app_id, secret,
    /// token_key, client_id, client_secret). Flags and environment variables override it.
    #[arg(long, global = true, env = "TRIBUTARY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a simulated Planning Center organisation on loopback and sync it into a database.
    Demo(demo::Args),
    /// Sync an organisation (resumes its unfinished run, if any).
    Sync(Box<sync::Args>),
    /// Show the latest run of an organisation and what the database holds.
    Status(status::Args),
    /// Print an adapter's sync order as a tree of levels.
    Graph(graph::Args),
    /// Measure records/s and peak memory syncing a simulated organisation.
    Bench(bench::Args),
    /// Generate an adapter (and optionally the canonical model) from specs, for review.
    Codegen(codegen::Args),
}

/// An error with the exit code it should produce.
#[derive(Debug)]
pub struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        let error: anyhow::Error = e.into();
        let code = match error.downcast_ref::<tributary_engine::EngineError>() {
            Some(tributary_engine::EngineError::Credentials(_)) => exit::CREDENTIALS,
            Some(tributary_engine::EngineError::Manifest { .. }) => exit::USAGE,
            _ => exit::ERROR,
        };
        Failure { code, error }
    }
}

impl Failure {
    /// A failure with an explicit exit code.
    pub fn new(code: u8, error: anyhow::Error) -> Self {
        Failure { code, error }
    }
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("TRIBUTARY_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    let config = config::Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Demo(args) => demo::run(args, cli.json).await,
        Command::Sync(args) => sync::run(*args, &config, cli.json).await,
        Command::Status(args) => status::run(args, &config, cli.json).await,
        Command::Graph(args) => graph::run(args, &config, cli.json),
        Command::Bench(args) => bench::run(args, cli.json).await,
        Command::Codegen(args) => codegen::run(args, cli.json),
    }
}
