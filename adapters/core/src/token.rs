//! OAuth token sets and the store that keeps them between runs.
//!
//! PCO rotates refresh tokens: each refresh burns the old one. A rotated token that is not
//! persisted is lost for good and the organisation must reconnect by hand, so the client saves
//! through a [`TokenStore`] before it uses the new access token.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use crate::error::StoreError;

/// An OAuth access token with the refresh token that renews it.
#[derive(Clone)]
pub struct TokenSet {
    /// The bearer token sent with API requests.
    pub access_token: SecretString,
    /// The (rotating) refresh token.
    pub refresh_token: SecretString,
    /// When the access token stops working.
    pub expires_at: DateTime<Utc>,
}

impl TokenSet {
    /// A token set from its parts.
    pub fn new(
        access_token: impl Into<String>,
        refresh_token: impl Into<String>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            access_token: SecretString::from(access_token.into()),
            refresh_token: SecretString::from(refresh_token.into()),
            expires_at,
        }
    }

    /// True when fewer than `margin` remain before the access token expires.
    pub fn expires_within(&self, margin: chrono::Duration) -> bool {
        self.expires_at - Utc::now() < margin
    }

    /// True when both sets hold the same refresh token (constant-time comparison is not needed:
    /// both values are ours).
    pub(crate) fn same_refresh(&self, other: &TokenSet) -> bool {
        self.refresh_token.expose_secret() == other.refresh_token.expose_secret()
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[REDACTED]")
            .field("refresh_token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where an organisation's tokens live between runs (in-memory here; the engine provides a
/// database-backed, encrypted one).
///
/// Methods return boxed futures so the trait stays object-safe (`Arc<dyn TokenStore>`).
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The current token set of `org`, if it has connected.
    fn load<'a>(&'a self, org: &'a str) -> BoxFuture<'a, Result<Option<TokenSet>, StoreError>>;

    /// Durably replaces the token set of `org`. Must not return before the write is durable.
    fn save<'a>(
        &'a self,
        org: &'a str,
        tokens: &'a TokenSet,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// A process-local [`TokenStore`] for tests and one-off tools.
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<String, TokenSet>>,
    saves: Mutex<u64>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding one organisation's tokens.
    pub fn with(org: &str, tokens: TokenSet) -> Self {
        let store = Self::new();
        store.put(org, tokens);
        store
    }

    /// Sets `org`'s tokens without counting a save.
    pub fn put(&self, org: &str, tokens: TokenSet) {
        self.lock().insert(org.to_owned(), tokens);
    }

    /// The tokens of `org`, synchronously.
    pub fn get(&self, org: &str) -> Option<TokenSet> {
        self.lock().get(org).cloned()
    }

    /// How many times [`TokenStore::save`] was called.
    pub fn saves(&self) -> u64 {
        *self.saves.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TokenSet>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let orgs: Vec<String> = self.lock().keys().cloned().collect();
        f.debug_struct("MemoryTokenStore")
            .field("orgs", &orgs)
            .finish()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load<'a>(&'a self, org: &'a str) -> BoxFuture<'a, Result<Option<TokenSet>, StoreError>> {
        Box::pin(async move { Ok(self.get(org)) })
    }

    fn save<'a>(
        &'a self,
        org: &'a str,
        tokens: &'a TokenSet,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.put(org, tokens.clone());
            *self.saves.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            Ok(())
        })
    }
}
