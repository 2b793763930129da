//! Errors of the engine library (the binary wraps them in `anyhow`).

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The driver reported an error.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// SQLite's page writer reported an error.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// SQLite's page writer could not run.
    #[error("database: {0}")]
    Writer(String),
    /// Migrations failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database holds a schema this build cannot use.
    #[error("database schema: {0}")]
    Schema(String),
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}` (use a file path, sqlite://… or postgres://…)")]
    Url(String),
    /// The worker's lease was taken over: its page was not committed.
    #[error("lease of entity run {entity_run} lost (fencing epoch {epoch} is stale)")]
    LeaseLost {
        /// The entity run.
        entity_run: String,
        /// The epoch the worker held.
        epoch: i64,
    },
    /// Stored data is not what the engine wrote.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

/// A sync failure.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The adapter's API failed (after the client's own retries).
    #[error("API: {0}")]
    Api(#[from] tributary_core::Error),
    /// The manifest and the canonical model disagree.
    #[error("manifest `{adapter}`: {reason}")]
    Manifest {
        /// The adapter.
        adapter: String,
        /// What is wrong.
        reason: String,
    },
    /// Credentials are missing or cannot be decrypted.
    #[error("credentials: {0}")]
    Credentials(String),
}

impl From<sqlx::Error> for EngineError {
    fn from(e: sqlx::Error) -> Self {
        EngineError::Store(StoreError::Sqlx(e))
    }
}
