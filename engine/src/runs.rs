//! The run history: one `sync_runs` row per sync of an organisation through an adapter, and one
//! `entity_runs` row per entity of it, holding state, checkpoint, lease and counts.

use serde::Serialize;
use sqlx::Row;
use tributary_core::Manifest;

use crate::error::StoreError;
use crate::store::{Dialect, Store, now_ms};

/// A run being executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    /// The run id.
    pub id: String,
    /// Whether an unfinished run was picked up rather than a new one started.
    pub resumed: bool,
}

/// One entity run as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityRun {
    /// Its id.
    pub id: String,
    /// The adapter entity.
    pub entity: String,
    /// Its sync level.
    pub level: i64,
    /// `pending`, `running`, `done`, `failed` or `skipped`.
    pub state: String,
    /// Nested lists: the parent in progress.
    pub cursor_parent: Option<String>,
    /// The next page's offset.
    pub next_offset: Option<i64>,
    /// Pages committed.
    pub pages: i64,
    /// Records received.
    pub fetched: i64,
    /// Records created.
    pub created: i64,
    /// Records updated.
    pub updated: i64,
    /// Records unchanged.
    pub unchanged: i64,
    /// Records quarantined.
    pub quarantined: i64,
    /// The fencing epoch.
    pub epoch: i64,
    /// The last error.
    pub error: Option<String>,
    /// Start and finish (ms since the Unix epoch).
    pub started_ms: Option<i64>,
    /// Finish time.
    pub finished_ms: Option<i64>,
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{:032x}", rand::random::<u128>())
}

/// Picks up the unfinished run of `org_id` through `manifest`, or starts a new one with an
/// entity run per entity of `entities` (in the manifest's sync order). Failed and skipped
/// entity runs of a resumed run become pending again and keep their checkpoints; a resumed run
/// keeps its own entity set.
pub async fn start_or_resume(
    store: &Store,
    org_id: &str,
    manifest: &Manifest,
    strategy: &str,
    entities: &[&str],
) -> Result<RunInfo, StoreError> {
    let mut tx = store.begin_write().await?;
    if store.dialect() == Dialect::Postgres {
        // Serialises run creation per org and adapter across processes (the row does not
        // exist yet, so there is nothing to lock FOR UPDATE).
        let key = format!("tributary-run:{org_id}:{}", manifest.adapter);
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(key)
            .execute(&mut *tx)
            .await?;
    }
    let existing = sqlx::query(
        "SELECT id FROM sync_runs WHERE org_id = $1 AND adapter = $2 AND state IN ('running', \
         'failed') ORDER BY created_ms DESC LIMIT 1",
    )
    .bind(org_id.to_owned())
    .bind(manifest.adapter)
    .fetch_optional(&mut *tx)
    .await?;
    let now = now_ms();
    let info = if let Some(row) = existing {
        let id: String = row.try_get(0)?;
        sqlx::query(
            "UPDATE entity_runs SET state = 'pending', updated_ms = $1 WHERE org_id = $2 \
             AND run_id = $3 AND state IN ('failed', 'skipped')",
        )
        .bind(now)
        .bind(org_id.to_owned())
        .bind(id.clone())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE sync_runs SET state = 'running', error = NULL WHERE id = $1 AND org_id = $2",
        )
        .bind(id.clone())
        .bind(org_id.to_owned())
        .execute(&mut *tx)
        .await?;
        RunInfo { id, resumed: true }
    } else {
        let id = new_id("run");
        sqlx::query(
            "INSERT INTO sync_runs (id, org_id, adapter, strategy, state, created_ms) \
             VALUES ($1, $2, $3, $4, 'running', $5)",
        )
        .bind(id.clone())
        .bind(org_id.to_owned())
        .bind(manifest.adapter)
        .bind(strategy.to_owned())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for (level, names) in manifest.sync_order.iter().enumerate() {
            for entity in names.iter().filter(|e| entities.contains(e)) {
                sqlx::query(
                    "INSERT INTO entity_runs (id, run_id, org_id, adapter, entity, level, state, \
                     updated_ms) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)",
                )
                .bind(new_id("erun"))
                .bind(id.clone())
                .bind(org_id.to_owned())
                .bind(manifest.adapter)
                .bind(*entity)
                .bind(level as i64)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        RunInfo { id, resumed: false }
    };
    tx.commit().await?;
    Ok(info)
}

/// The entity runs of a run, by level and entity.
pub async fn entity_runs(
    store: &Store,
    org_id: &str,
    run_id: &str,
) -> Result<Vec<EntityRun>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, entity, level, state, cursor_parent, next_offset, pages, fetched, created, \
         updated, unchanged, quarantined, epoch, error, started_ms, finished_ms FROM entity_runs \
         WHERE org_id = $1 AND run_id = $2 ORDER BY level, entity",
    )
    .bind(org_id.to_owned())
    .bind(run_id.to_owned())
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EntityRun {
                id: r.try_get(0)?,
                entity: r.try_get(1)?,
                level: r.try_get(2)?,
                state: r.try_get(3)?,
                cursor_parent: r.try_get(4)?,
                next_offset: r.try_get(5)?,
                pages: r.try_get(6)?,
                fetched: r.try_get(7)?,
                created: r.try_get(8)?,
                updated: r.try_get(9)?,
                unchanged: r.try_get(10)?,
                quarantined: r.try_get(11)?,
                epoch: r.try_get(12)?,
                error: r.try_get(13)?,
                started_ms: r.try_get(14)?,
                finished_ms: r.try_get(15)?,
            })
        })
        .collect()
}

/// Sets an entity run's state without a lease (used for `skipped`, which no worker holds).
pub async fn set_state(
    store: &Store,
    org_id: &str,
    entity_run_id: &str,
    state: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE entity_runs SET state = $1, error = $2, updated_ms = $3 WHERE id = $4 \
         AND org_id = $5 AND state <> 'done'",
    )
    .bind(state.to_owned())
    .bind(error.map(str::to_owned))
    .bind(now_ms())
    .bind(entity_run_id.to_owned())
    .bind(org_id.to_owned())
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Marks a run finished: `done` when every entity run is, else `failed` (resumable).
pub async fn finish(store: &Store, org_id: &str, run_id: &str) -> Result<String, StoreError> {
    let runs = entity_runs(store, org_id, run_id).await?;
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| r.state != "done")
        .map(|r| format!("{} {}", r.entity, r.state))
        .collect();
    let (state, error) = if failed.is_empty() {
        ("done", None)
    } else {
        ("failed", Some(failed.join(", ")))
    };
    sqlx::query(
        "UPDATE sync_runs SET state = $1, error = $2, finished_ms = $3 WHERE id = $4 AND org_id = $5",
    )
    .bind(state)
    .bind(error)
    .bind(now_ms())
    .bind(run_id.to_owned())
    .bind(org_id.to_owned())
    .execute(store.pool())
    .await?;
    Ok(state.to_owned())
}

/// The latest run of an organisation through an adapter: `(id, state, created_ms)`.
pub async fn latest(
    store: &Store,
    org_id: &str,
    adapter: &str,
) -> Result<Option<(String, String, i64)>, StoreError> {
    let row = sqlx::query(
        "SELECT id, state, created_ms FROM sync_runs WHERE org_id = $1 AND adapter = $2 \
         ORDER BY created_ms DESC LIMIT 1",
    )
    .bind(org_id.to_owned())
    .bind(adapter.to_owned())
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .transpose()
}
