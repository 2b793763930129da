//! Configuration from a YAML file; flags and environment variables (through clap) win over it.

use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;

/// Settings a file may provide. Secrets here are read but never printed.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Database URL or SQLite path.
    pub database_url: Option<String>,
    /// Organisation id.
    pub org: Option<String>,
    /// Adapter name.
    pub adapter: Option<String>,
    /// API base URL override.
    pub base_url: Option<String>,
    /// Personal Access Token application id.
    pub app_id: Option<String>,
    /// Personal Access Token secret.
    pub secret: Option<String>,
    /// Base64 key encrypting stored credentials.
    pub token_key: Option<String>,
    /// OAuth client id.
    pub client_id: Option<String>,
    /// OAuth client secret.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url)
            .field("org", &self.org)
            .field("adapter", &self.adapter)
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .field("token_key", &self.token_key.as_ref().map(|_| "[REDACTED]"))
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

impl Config {
    /// Reads `path`, or returns an empty configuration.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading configuration {}", path.display()))?;
        serde_norway::from_str(&text)
            .with_context(|| format!("parsing configuration {}", path.display()))
    }
}

/// The first value present, or an error naming the flag and variable.
pub fn pick(flag: Option<String>, file: &Option<String>, what: &str) -> anyhow::Result<String> {
    flag.or_else(|| file.clone())
        .with_context(|| format!("{what} is required (flag, environment or --config file)"))
}
