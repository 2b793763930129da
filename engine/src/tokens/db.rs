//! [`DbTokenStore`]: the client's [`TokenStore`] on the `tokens` table, shared by every
//! process syncing from the same database.
//!
//! # Single flight across processes
//!
//! PCO rotates refresh tokens and rejects a reused one (`invalid_grant`), so two workers must
//! never refresh the same organisation at once. A refresher takes a **lease** on the
//! organisation's row (`refresh_owner`, `refresh_expires_ms`) with a conditional `UPDATE`,
//! then the client re-reads the tokens (another process may have just rotated them), refreshes
//! only if they are still stale, saves, and releases. Waiters poll the row briefly.
//!
//! A lease rather than a transaction held across the HTTP call: on SQLite an open write
//! transaction blocks every page commit of every process for the length of the refresh. The
//! holder extends its lease while it refreshes (every third of the lease lifetime), so a slow
//! token endpoint does not let a second refresher in; a holder that dies frees the row when
//! its lease expires.
//!
//! Within one process, refreshers of a store queue on a local lock in front of the lease so
//! that they wait without polling the database.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use sqlx::{Connection as _, Executor as _, Row as _};
use tributary_core::{Auth, OAuth, RefreshGuard, TokenSet, TokenStore};

use super::{Credential, TokenKey, open, seal};
use crate::error::EngineError;
use crate::store::{Dialect, Store, now_ms};

/// Timing of the refresh lease.
#[derive(Debug, Clone, Copy)]
pub struct LeaseOptions {
    /// How long a lease lasts without being extended (the holder extends it every third).
    pub ttl: Duration,
    /// How often a waiter looks at the row again.
    pub poll: Duration,
    /// How long a refresher waits for another one before giving up with an error.
    pub max_wait: Duration,
}

impl Default for LeaseOptions {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(60),
            poll: Duration::from_millis(100),
            // Longer than a refresh can take with the client's retries (each attempt times
            // out after 30 s), so that waiting gives up only on a stuck holder.
            max_wait: Duration::from_secs(300),
        }
    }
}

/// OAuth tokens of one adapter's organisations, stored encrypted in the database.
///
/// Clones share the in-process refresh locks. Build one per database and adapter and share it
/// between the clients of a process; clients of other processes on the same database are
/// excluded from refreshing concurrently through the row lease (module docs).
#[derive(Clone)]
pub struct DbTokenStore {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    key: TokenKey,
    adapter: String,
    lease: LeaseOptions,
    /// One lock per organisation, taken before the lease.
    local: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl fmt::Debug for DbTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbTokenStore")
            .field("dialect", &self.inner.store.dialect())
            .field("adapter", &self.inner.adapter)
            .field("key_id", &self.inner.key.id())
            .field("lease", &self.inner.lease)
            .finish()
    }
}

fn store_err(e: impl Into<EngineError>) -> tributary_core::error::StoreError {
    Box::new(e.into())
}

impl DbTokenStore {
    /// The tokens of `adapter` in `store`, encrypted with `key`.
    pub fn new(store: Store, key: TokenKey, adapter: impl Into<String>) -> Self {
        Self::with_lease(store, key, adapter, LeaseOptions::default())
    }

    /// As [`DbTokenStore::new`], with non-default lease timing.
    pub fn with_lease(
        store: Store,
        key: TokenKey,
        adapter: impl Into<String>,
        lease: LeaseOptions,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                key,
                adapter: adapter.into(),
                lease,
                local: Default::default(),
            }),
        }
    }

    /// The adapter whose rows this store reads and writes.
    pub fn adapter(&self) -> &str {
        &self.inner.adapter
    }

    /// The client authentication of `credential` for `org`: OAuth credentials refresh through
    /// this store (rotations are saved back, refreshes single-flight across processes); the
    /// other kinds authenticate as [`Credential::auth`] does.
    pub fn auth(&self, org: &str, credential: &Credential) -> Auth {
        match credential {
            Credential::OAuth {
                client_id,
                client_secret,
                ..
            } => Auth::OAuth(OAuth::new(
                org,
                client_id.clone(),
                client_secret.clone(),
                Arc::new(self.clone()),
            )),
            other => other.auth(),
        }
    }

    /// The OAuth tokens of `org`, if its stored credential is OAuth.
    pub async fn tokens(&self, org: &str) -> Result<Option<TokenSet>, EngineError> {
        let i = &self.inner;
        match super::get(&i.store, &i.key, org, &i.adapter).await? {
            None => Ok(None),
            Some(c) => c.token_set().map(Some).ok_or_else(|| {
                EngineError::Credentials(format!(
                    "stored credentials of {org}/{} are not OAuth",
                    i.adapter
                ))
            }),
        }
    }

    /// Replaces the tokens inside `org`'s stored OAuth credential, durably (on SQLite with
    /// `synchronous = FULL` for this one transaction: a rotated refresh token lost to a power
    /// cut would force the organisation to reconnect).
    pub async fn save_tokens(&self, org: &str, tokens: &TokenSet) -> Result<(), EngineError> {
        use secrecy::ExposeSecret as _;
        let i = &self.inner;
        let sqlite = i.store.dialect() == Dialect::Sqlite;
        let mut conn = i.store.pool().acquire().await?;
        if sqlite {
            conn.execute("PRAGMA synchronous = FULL").await?;
        }
        let result = async {
            let mut tx = if sqlite {
                // Take the write lock up front: the read below must not upgrade later.
                conn.begin_with("BEGIN IMMEDIATE").await?
            } else {
                conn.begin().await?
            };
            let select = format!(
                "SELECT key_id, nonce, ciphertext FROM tokens WHERE org_id = $1 AND adapter = $2{}",
                i.store.dialect().for_update()
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(select))
                .bind(org.to_owned())
                .bind(i.adapter.clone())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| {
                    EngineError::Credentials(format!(
                        "no OAuth credentials stored for {org}/{}; connect the organisation first",
                        i.adapter
                    ))
                })?;
            let (key_id, nonce, ciphertext): (String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let mut credential = open(&i.key, org, &i.adapter, &key_id, &nonce, &ciphertext)?;
            let Credential::OAuth {
                access_token,
                refresh_token,
                expires_at,
                ..
            } = &mut credential
            else {
                return Err(EngineError::Credentials(format!(
                    "stored credentials of {org}/{} are not OAuth",
                    i.adapter
                )));
            };
            *access_token = tokens.access_token.expose_secret().to_owned();
            *refresh_token = tokens.refresh_token.expose_secret().to_owned();
            *expires_at = tokens.expires_at;
            let sealed = seal(&i.key, org, &i.adapter, &credential)?;
            sqlx::query(
                "UPDATE tokens SET key_id = $1, nonce = $2, ciphertext = $3, updated_ms = $4 \
                 WHERE org_id = $5 AND adapter = $6",
            )
            .bind(i.key.id())
            .bind(sealed.nonce)
            .bind(sealed.ciphertext)
            .bind(now_ms())
            .bind(org.to_owned())
            .bind(i.adapter.clone())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<(), EngineError>(())
        }
        .await;
        if sqlite && conn.execute("PRAGMA synchronous = NORMAL").await.is_err() {
            // Never hand a connection with the slow setting back to page writers.
            conn.close_on_drop();
        }
        result
    }

    /// The in-process refresh lock of `org`.
    fn local_lock(&self, org: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.inner.local.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(org.to_owned()).or_default().clone()
    }

    /// Waits for and takes the refresh lease of `org`'s row. Returns `None` when the row does
    /// not exist (there is nothing to refresh; loading reports it).
    async fn take_lease(&self, org: &str, owner: &str) -> Result<Option<()>, EngineError> {
        let i = &self.inner;
        let started = Instant::now();
        let mut waited = false;
        loop {
            let now = now_ms();
            let mut tx = i.store.begin_write().await?;
            let taken = sqlx::query(
                "UPDATE tokens SET refresh_owner = $1, refresh_expires_ms = $2 \
                 WHERE org_id = $3 AND adapter = $4 \
                 AND (refresh_expires_ms IS NULL OR refresh_expires_ms <= $5)",
            )
            .bind(owner.to_owned())
            .bind(now + ms(i.lease.ttl))
            .bind(org.to_owned())
            .bind(i.adapter.clone())
            .bind(now)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
            let exists = taken == 1
                || sqlx::query("SELECT 1 FROM tokens WHERE org_id = $1 AND adapter = $2")
                    .bind(org.to_owned())
                    .bind(i.adapter.clone())
                    .fetch_optional(&mut *tx.tx)
                    .await?
                    .is_some();
            tx.commit().await?;
            if taken == 1 {
                if waited {
                    tracing::debug!(org, adapter = %i.adapter, waited_ms = started.elapsed().as_millis() as u64, "token refresh lease taken after waiting");
                }
                return Ok(Some(()));
            }
            if !exists {
                return Ok(None);
            }
            if started.elapsed() >= i.lease.max_wait {
                return Err(EngineError::Credentials(format!(
                    "another process has been refreshing the tokens of {org}/{} for over {} s",
                    i.adapter,
                    i.lease.max_wait.as_secs()
                )));
            }
            if !waited {
                tracing::debug!(org, adapter = %i.adapter, "another process is refreshing the tokens; waiting");
                waited = true;
            }
            // Jitter keeps several waiters from polling in lockstep.
            let jitter = rand::random_range(0..=i.lease.poll.as_millis() as u64 / 2);
            tokio::time::sleep(i.lease.poll + Duration::from_millis(jitter)).await;
        }
    }

    /// The owner's lease of `org`: extended every third of its lifetime until aborted.
    fn spawn_heartbeat(&self, org: &str, owner: &str) -> tokio::task::JoinHandle<()> {
        let (this, org, owner) = (self.clone(), org.to_owned(), owner.to_owned());
        tokio::spawn(async move {
            let ttl = this.inner.lease.ttl;
            loop {
                tokio::time::sleep(ttl / 3).await;
                match this.extend_lease(&org, &owner).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(org, adapter = %this.inner.adapter, "token refresh lease lost (expired and taken over)");
                        return;
                    }
                    // The store is shutting down: the lease expires on its own.
                    Err(EngineError::Store(crate::error::StoreError::Sqlx(
                        sqlx::Error::PoolClosed,
                    ))) => return,
                    // Transient: the lease still has two thirds of its life to try again.
                    Err(e) => {
                        tracing::warn!(org, adapter = %this.inner.adapter, error = %e, "extending the token refresh lease failed")
                    }
                }
            }
        })
    }

    async fn extend_lease(&self, org: &str, owner: &str) -> Result<bool, EngineError> {
        let i = &self.inner;
        let mut tx = i.store.begin_write().await?;
        let n = sqlx::query(
            "UPDATE tokens SET refresh_expires_ms = $1 \
             WHERE org_id = $2 AND adapter = $3 AND refresh_owner = $4",
        )
        .bind(now_ms() + ms(i.lease.ttl))
        .bind(org.to_owned())
        .bind(i.adapter.clone())
        .bind(owner.to_owned())
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn release_lease(&self, org: &str, owner: &str) -> Result<(), EngineError> {
        let i = &self.inner;
        let mut tx = i.store.begin_write().await?;
        sqlx::query(
            "UPDATE tokens SET refresh_owner = NULL, refresh_expires_ms = NULL \
             WHERE org_id = $1 AND adapter = $2 AND refresh_owner = $3",
        )
        .bind(org.to_owned())
        .bind(i.adapter.clone())
        .bind(owner.to_owned())
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The refresh lock of `org`: the in-process lock, then the row lease.
    async fn lock(&self, org: &str) -> Result<RefreshGuard, EngineError> {
        let local = self.local_lock(org).lock_owned().await;
        let owner = hex::encode(rand::random::<[u8; 16]>());
        if self.take_lease(org, &owner).await?.is_none() {
            return Ok(RefreshGuard::hold(local));
        }
        let heartbeat = AbortOnDrop(self.spawn_heartbeat(org, &owner));
        let abort = heartbeat.0.abort_handle();
        let (this, org) = (self.clone(), org.to_owned());
        let release = Box::pin(async move {
            abort.abort();
            if let Err(e) = this.release_lease(&org, &owner).await {
                // The lease expires on its own; until then other refreshers wait.
                tracing::warn!(org, adapter = %this.inner.adapter, error = %e, "releasing the token refresh lease failed");
            }
        });
        // The local lock is dropped after the release has run (see RefreshGuard).
        Ok(RefreshGuard::with_release((local, heartbeat), release))
    }
}

/// Aborts a task when dropped (a guard dropped without its release must not keep extending).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl TokenStore for DbTokenStore {
    fn load<'a>(
        &'a self,
        org: &'a str,
    ) -> BoxFuture<'a, Result<Option<TokenSet>, tributary_core::error::StoreError>> {
        Box::pin(async move { self.tokens(org).await.map_err(store_err) })
    }

    fn save<'a>(
        &'a self,
        org: &'a str,
        tokens: &'a TokenSet,
    ) -> BoxFuture<'a, Result<(), tributary_core::error::StoreError>> {
        Box::pin(async move { self.save_tokens(org, tokens).await.map_err(store_err) })
    }

    fn lock_refresh<'a>(
        &'a self,
        org: &'a str,
    ) -> BoxFuture<'a, Result<RefreshGuard, tributary_core::error::StoreError>> {
        Box::pin(async move { self.lock(org).await.map_err(store_err) })
    }
}
