//! Leases on entity runs: who may write an entity run's pages, until when, under which epoch.
//!
//! Claiming bumps the entity run's fencing `epoch`; every page transaction re-reads it under a
//! row lock ([`Store::commit_page`]) and refuses to commit if it moved. So even a worker that
//! stalled past its expiry and then woke up cannot write after another worker took over.
//!
//! A lease whose owner is a process on this host that no longer exists (killed) is taken over
//! at once instead of after its expiry, so a restarted sync resumes within seconds.

use std::sync::OnceLock;

use sqlx::Row;

use crate::error::StoreError;
use crate::store::{FENCE_SELECT, Store, now_ms, sql};

/// The right to write one entity run's pages, as long as `epoch` is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The entity run.
    pub entity_run_id: String,
    /// Its run.
    pub run_id: String,
    /// Its organisation.
    pub org_id: String,
    /// Its adapter.
    pub adapter: String,
    /// The lease owner (this worker).
    pub owner: String,
    /// The fencing epoch obtained when claiming.
    pub epoch: i64,
}

impl Fence {
    /// The error for a write refused under this fence.
    pub fn lost(&self) -> StoreError {
        StoreError::LeaseLost {
            entity_run: self.entity_run_id.clone(),
            epoch: self.epoch,
        }
    }

    /// Whether the entity run, as read (epoch, lease owner, state; None when it is gone),
    /// is still ours to write: else the [`Fence::lost`] error.
    pub fn check(&self, run: Option<(i64, Option<String>, String)>) -> Result<(), StoreError> {
        match run {
            Some((epoch, owner, state))
                if epoch == self.epoch
                    && owner.as_deref() == Some(self.owner.as_str())
                    && state == "running" =>
            {
                Ok(())
            }
            _ => Err(self.lost()),
        }
    }
}

/// An entity run as [`FENCE_SELECT`] reads it (epoch, lease owner, state), from a row of
/// either driver, for [`Fence::check`].
pub(crate) fn fenced_run<R>(row: &R) -> Result<(i64, Option<String>, String), sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

fn hostname() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "localhost".to_owned())
    })
}

/// A lease owner name unique to this process: `host:pid:nonce`.
pub fn new_owner() -> String {
    format!(
        "{}:{}:{:08x}",
        hostname(),
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Whether `owner` names a process of this host that has exited (or is a zombie).
fn owner_is_dead(owner: &str) -> bool {
    let mut parts = owner.split(':');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    if host != hostname() || !cfg!(target_os = "linux") {
        return false;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if pid == std::process::id() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name: `Z` is a zombie, `X` dead.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|s| s == "Z" || s == "X"),
        Err(_) => true,
    }
}

/// The outcome of a claim attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The lease is ours.
    Acquired(Fence),
    /// Another live worker holds it until the given time.
    Held {
        /// The holder.
        owner: String,
        /// Its expiry (ms since the epoch).
        expires_ms: i64,
    },
    /// The entity run is finished (`done` or `skipped`): nothing to claim.
    Finished(String),
}

/// Claims entity run `entity_run_id` of `org_id` for `owner` for `ttl_ms`.
///
/// PostgreSQL: the row is locked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never
/// wait on each other; SQLite: the immediate transaction holds the database's write lock.
pub async fn claim(
    store: &Store,
    org_id: &str,
    entity_run_id: &str,
    owner: &str,
    ttl_ms: i64,
) -> Result<Claim, StoreError> {
    let mut tx = store.begin_write().await?;
    let skip = match store.dialect() {
        crate::store::Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        crate::store::Dialect::Sqlite => "",
    };
    let q = format!(
        "SELECT state, lease_owner, lease_expires_ms, epoch, run_id, adapter FROM entity_runs \
         WHERE id = $1 AND org_id = $2{skip}"
    );
    let row = sqlx::query(sql(q))
        .bind(entity_run_id.to_owned())
        .bind(org_id.to_owned())
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        // Locked by a concurrent claimer (PostgreSQL) or gone: someone else has it.
        return Ok(Claim::Held {
            owner: "(locked)".into(),
            expires_ms: now_ms(),
        });
    };
    let state: String = row.try_get(0)?;
    let holder: Option<String> = row.try_get(1)?;
    let expires: Option<i64> = row.try_get(2)?;
    let epoch: i64 = row.try_get(3)?;
    let run_id: String = row.try_get(4)?;
    let adapter: String = row.try_get(5)?;
    if state == "done" || state == "skipped" {
        return Ok(Claim::Finished(state));
    }
    let now = now_ms();
    if let Some(holder) = holder {
        let live = expires.unwrap_or(0) > now && !owner_is_dead(&holder);
        if live && holder != owner {
            return Ok(Claim::Held {
                owner: holder,
                expires_ms: expires.unwrap_or(0),
            });
        }
    }
    let updated = sqlx::query(
        "UPDATE entity_runs SET lease_owner = $1, lease_expires_ms = $2, epoch = epoch + 1, \
         state = 'running', error = NULL, started_ms = COALESCE(started_ms, $3), updated_ms = $3 \
         WHERE id = $4 AND org_id = $5 AND epoch = $6",
    )
    .bind(owner.to_owned())
    .bind(now + ttl_ms)
    .bind(now)
    .bind(entity_run_id.to_owned())
    .bind(org_id.to_owned())
    .bind(epoch)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Corrupt(format!(
            "entity run {entity_run_id} changed during its claim"
        )));
    }
    tx.commit().await?;
    Ok(Claim::Acquired(Fence {
        entity_run_id: entity_run_id.to_owned(),
        run_id,
        org_id: org_id.to_owned(),
        adapter,
        owner: owner.to_owned(),
        epoch: epoch + 1,
    }))
}

/// Extends the lease; `false` when it was lost.
pub async fn renew(store: &Store, fence: &Fence, ttl_ms: i64) -> Result<bool, StoreError> {
    let now = now_ms();
    let r = sqlx::query(
        "UPDATE entity_runs SET lease_expires_ms = $1, updated_ms = $2 \
         WHERE id = $3 AND org_id = $4 AND epoch = $5 AND lease_owner = $6",
    )
    .bind(now + ttl_ms)
    .bind(now)
    .bind(fence.entity_run_id.clone())
    .bind(fence.org_id.clone())
    .bind(fence.epoch)
    .bind(fence.owner.clone())
    .execute(store.pool())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends the lease, setting the entity run's final `state` (`done`, `failed`) and error, and
/// only if the lease is still ours (a stale worker's verdict is ignored).
pub async fn release(
    store: &Store,
    fence: &Fence,
    state: &str,
    error: Option<&str>,
) -> Result<bool, StoreError> {
    let mut tx = store.begin_write().await?;
    let q = format!("{FENCE_SELECT}{}", store.dialect().for_update());
    let run = sqlx::query(sql(q))
        .bind(fence.entity_run_id.clone())
        .bind(fence.org_id.clone())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| fenced_run(&r))
        .transpose()?;
    if fence.check(run).is_err() {
        return Ok(false);
    }
    let now = now_ms();
    sqlx::query(
        "UPDATE entity_runs SET state = $1, error = $2, lease_owner = NULL, \
         lease_expires_ms = NULL, finished_ms = $3, updated_ms = $3 WHERE id = $4 AND org_id = $5",
    )
    .bind(state.to_owned())
    .bind(error.map(str::to_owned))
    .bind(now)
    .bind(fence.entity_run_id.clone())
    .bind(fence.org_id.clone())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}
