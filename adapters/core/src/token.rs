//! OAuth token sets and the store that keeps them between runs.
//!
//! PCO rotates refresh tokens: each refresh burns the old one. A rotated token that is not
//! persisted is lost for good and the organisation must reconnect by hand, so the client saves
//! through a [`TokenStore`] before it uses the new access token.
//!
//! For the same reason two refreshers must never send the same refresh token: the second one
//! gets `invalid_grant` (reuse detection may even revoke the grant). The client therefore
//! refreshes under [`TokenStore::lock_refresh`], re-reading the store once it holds the lock.
//! The default lock covers one process; a store shared between processes (the engine's
//! database) overrides it with a lock those processes share.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, Weak};

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

/// Held while one refresher (a task, or a process) refreshes an organisation's tokens.
///
/// Call [`RefreshGuard::release`] when done. A guard dropped without it (a cancelled refresh)
/// still releases: synchronous parts on drop, an asynchronous release spawned on the current
/// Tokio runtime (without one, a lease simply expires).
#[must_use = "the refresh lock is released when the guard is dropped"]
pub struct RefreshGuard {
    release: Option<BoxFuture<'static, ()>>,
    _held: Option<Box<dyn Any + Send>>,
}

impl RefreshGuard {
    /// A guard that holds `held` (e.g. a mutex guard) and releases by dropping it.
    pub fn hold(held: impl Any + Send) -> Self {
        Self {
            release: None,
            _held: Some(Box::new(held)),
        }
    }

    /// A guard released by running `release` (e.g. clearing a lease row in a database).
    /// `held` is dropped after `release` has run.
    pub fn with_release(held: impl Any + Send, release: BoxFuture<'static, ()>) -> Self {
        Self {
            release: Some(release),
            _held: Some(Box::new(held)),
        }
    }

    /// Releases the lock, waiting for an asynchronous release to finish.
    pub async fn release(mut self) {
        if let Some(release) = self.release.take() {
            release.await;
        }
    }
}

impl Drop for RefreshGuard {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    // `_held` is dropped now rather than after the spawned release: the
                    // in-process part of the lock may be re-taken a moment before the shared
                    // part is free, which only makes the next holder wait briefly.
                    handle.spawn(release);
                }
                Err(_) => tracing::debug!("refresh lock dropped outside a runtime; it expires"),
            }
        }
    }
}

impl fmt::Debug for RefreshGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshGuard")
            .field("pending_release", &self.release.is_some())
            .finish()
    }
}

/// The process-wide refresh lock of `org` (the default of [`TokenStore::lock_refresh`]).
fn process_lock(org: &str) -> Arc<tokio::sync::Mutex<()>> {
    type Locks = HashMap<String, Weak<tokio::sync::Mutex<()>>>;
    static LOCKS: OnceLock<Mutex<Locks>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(lock) = locks.get(org).and_then(Weak::upgrade) {
        return lock;
    }
    locks.retain(|_, w| w.strong_count() > 0);
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    locks.insert(org.to_owned(), Arc::downgrade(&lock));
    lock
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

    /// Waits until this caller is the only refresher of `org`'s tokens, among every user of
    /// this store, until the guard is released.
    ///
    /// The client takes it before each refresh, then re-[`load`](Self::load)s: if another
    /// holder rotated the tokens meanwhile it adopts them instead of refreshing again.
    ///
    /// The default is a lock per `org` shared by the whole process, which suffices for a store
    /// no other process writes. A store shared between processes must override it with a lock
    /// they all see (and should keep an in-process one in front, so that tasks of one process
    /// queue locally instead of polling the shared lock).
    fn lock_refresh<'a>(&'a self, org: &'a str) -> BoxFuture<'a, Result<RefreshGuard, StoreError>> {
        Box::pin(async move { Ok(RefreshGuard::hold(process_lock(org).lock_owned().await)) })
    }
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
