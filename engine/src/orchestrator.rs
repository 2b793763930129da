//! The orchestrator: every entity of a manifest synced concurrently, each starting as soon as
//! the entities it depends on are done, each under its own lease.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{Semaphore, watch};
use tributary_core::{Client, Dependency, EndpointKind, Manifest};

use crate::error::{EngineError, StoreError};
use crate::lease::{self, Claim, Fence};
use crate::runs::{self, EntityRun, RunInfo};
use crate::store::{PageCounts, Store};
use crate::workflow::{EntityWorkflow, WorkflowConfig};

/// What a sync reports while it runs.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// The run started or resumed; entity runs carry their committed counts so far.
    Run {
        /// The run.
        run: RunInfo,
        /// Entity runs at the start.
        entities: Vec<EntityRun>,
    },
    /// An entity is waiting for its dependencies or for another worker's lease.
    Waiting {
        /// The entity.
        entity: &'static str,
        /// Why.
        reason: String,
    },
    /// An entity's lease was taken and its pages start.
    Started {
        /// The entity.
        entity: &'static str,
    },
    /// A page committed.
    Page {
        /// The entity.
        entity: &'static str,
        /// Records in the page.
        fetched: u64,
        /// What the page changed.
        counts: PageCounts,
        /// Records the list holds, when the API says.
        total: Option<u64>,
        /// Whether this page completed the entity.
        done: bool,
    },
    /// An entity ended (`done`, `failed` or `skipped`).
    Finished {
        /// The entity.
        entity: &'static str,
        /// Its final state.
        state: String,
        /// The error, if any.
        error: Option<String>,
    },
    /// The entities are over and the indexes this run deferred (it filled their tables from
    /// empty) are being built: the last step of a first sync.
    BuildingIndexes {
        /// The indexes.
        indexes: Vec<String>,
    },
    /// Those indexes are built (or their build failed: the sync's result says).
    IndexesBuilt {
        /// Milliseconds the builds took.
        elapsed_ms: u64,
    },
}

/// Settings of a sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The organisation.
    pub org: String,
    /// `full` (the only strategy so far).
    pub strategy: String,
    /// Entity workflows running at once.
    pub concurrency: usize,
    /// Workflow settings.
    pub workflow: WorkflowConfig,
    /// This worker's lease owner name.
    pub owner: String,
    /// Entities to sync (plus what they wait for); `None` syncs every mapped entity. A
    /// resumed run keeps the entity set it started with.
    pub entities: Option<Vec<String>>,
}

impl SyncOptions {
    /// Defaults for `org`: full strategy, 4 workflows, 30 s leases.
    pub fn new(org: impl Into<String>) -> Self {
        SyncOptions {
            org: org.into(),
            strategy: "full".into(),
            concurrency: 4,
            workflow: WorkflowConfig {
                per_page: None,
                lease_ttl_ms: 30_000,
                parent_concurrency: 4,
            },
            owner: lease::new_owner(),
            entities: None,
        }
    }
}

/// The result of a sync.
#[derive(Debug, Clone, Serialize)]
pub struct SyncSummary {
    /// The run.
    pub run: RunInfo,
    /// `done` or `failed`.
    pub state: String,
    /// Every entity run, with counts.
    pub entities: Vec<EntityRun>,
    /// Entities of the adapter that map onto no canonical table, so are never fetched.
    pub unmapped: Vec<&'static str>,
}

/// How an entity ended, as its dependents see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pending,
    Done,
    NotDone,
}

/// Checks that every mapping targets a canonical entity this build knows.
pub fn check_manifest(manifest: &Manifest) -> Result<(), EngineError> {
    for e in manifest.entities {
        if let Some(m) = e.canonical
            && crate::canonical::entity(m.target).is_none()
        {
            return Err(EngineError::Manifest {
                adapter: manifest.adapter.into(),
                reason: format!(
                    "entity `{}` maps onto `{}`, which specs/canonical.yaml does not define",
                    e.name, m.target
                ),
            });
        }
    }
    Ok(())
}

/// What entity `name` waits for: hard dependencies, soft ones synced at an earlier level (so
/// they never block), and the parent of a nested list.
fn waits_for(manifest: &Manifest, name: &str) -> Vec<&'static str> {
    let Some(e) = manifest.entity(name) else {
        return Vec::new();
    };
    let level = manifest.level_of(name).unwrap_or(0);
    let mut deps: Vec<&'static str> = e.dependencies(Dependency::Hard).collect();
    deps.extend(
        e.dependencies(Dependency::Soft)
            .filter(|d| manifest.level_of(d).is_some_and(|l| l < level)),
    );
    if e.endpoint(EndpointKind::List).is_none()
        && let Some(parent) = e.endpoint(EndpointKind::NestedList).and_then(|n| n.parent)
    {
        deps.push(parent);
    }
    deps.retain(|d| *d != name && manifest.entity(d).is_some());
    deps.sort_unstable();
    deps.dedup();
    deps
}

/// Syncs organisation `options.org` through `manifest`, resuming its unfinished run if any.
pub async fn sync(
    store: &Store,
    manifest: &'static Manifest,
    client: &Client,
    options: &SyncOptions,
    progress: Option<UnboundedSender<Progress>>,
) -> Result<SyncSummary, EngineError> {
    check_manifest(manifest)?;
    let plan = crate::workflow::plan::closure(manifest, options.entities.as_deref()).map_err(
        |reason| EngineError::Manifest {
            adapter: manifest.adapter.into(),
            reason,
        },
    )?;
    let run =
        runs::start_or_resume(store, &options.org, manifest, &options.strategy, &plan).await?;
    if run.resumed && options.entities.is_some() {
        tracing::warn!(
            run = %run.id,
            "resuming an unfinished run: it keeps the entities it started with; \
             the entity selection applies to the next new run"
        );
    }
    let entity_runs = runs::entity_runs(store, &options.org, &run.id).await?;
    // Tables this run fills from empty take their secondary indexes at the end, sorted once
    // (see the store's `indexes`); the entities' tables and the edges between them.
    let mut tables: Vec<&str> = entity_runs
        .iter()
        .filter_map(|er| crate::workflow::table_of(manifest, &er.entity))
        .map(|t| t.table)
        .collect();
    tables.push("edges");
    tables.sort_unstable();
    tables.dedup();
    let deferred = store.defer_indexes(&tables).await?;
    if let Some(tx) = &progress {
        let _ = tx.send(Progress::Run {
            run: run.clone(),
            entities: entity_runs.clone(),
        });
    }
    let mut senders = HashMap::new();
    let mut receivers = HashMap::new();
    for er in &entity_runs {
        let (tx, rx) = watch::channel(Outcome::Pending);
        senders.insert(er.entity.clone(), tx);
        receivers.insert(er.entity.clone(), rx);
    }
    let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let tasks = entity_runs.iter().filter_map(|er| {
        let entity = manifest.entity(&er.entity)?;
        let deps: Vec<(&'static str, watch::Receiver<Outcome>)> = waits_for(manifest, entity.name)
            .into_iter()
            .filter_map(|d| Some((d, receivers.get(d)?.clone())))
            .collect();
        let done_tx = senders.remove(&er.entity)?;
        let (permits, progress) = (permits.clone(), progress.clone());
        Some(async move {
            let outcome = run_entity(
                store,
                manifest,
                entity,
                client,
                options,
                er,
                deps,
                permits,
                progress.as_ref(),
            )
            .await;
            let _ = done_tx.send(match outcome {
                Ok(true) => Outcome::Done,
                _ => Outcome::NotDone,
            });
            outcome
        })
    });
    let results = join_all(tasks).await;
    store.settle().await;
    // Built whatever became of the entities: the rows in are worth their indexes.
    let started = std::time::Instant::now();
    let report = |p: Progress| {
        if let Some(tx) = &progress {
            let _ = tx.send(p);
        }
    };
    let building = !deferred.is_empty();
    if building {
        report(Progress::BuildingIndexes { indexes: deferred });
    }
    let built = store.build_missing_indexes().await;
    if building {
        report(Progress::IndexesBuilt {
            elapsed_ms: started.elapsed().as_millis() as u64,
        });
    }
    // A database failure is fatal to the whole sync; other failures are per entity.
    for r in results {
        if let Err(EngineError::Store(e)) = r {
            return Err(EngineError::Store(e));
        }
    }
    built?;
    let state = runs::finish(store, &options.org, &run.id).await?;
    let entities = runs::entity_runs(store, &options.org, &run.id).await?;
    let unmapped = manifest
        .entities
        .iter()
        .filter(|e| crate::workflow::plan::source(manifest, e) == crate::workflow::Source::Unmapped)
        .map(|e| e.name)
        .collect();
    Ok(SyncSummary {
        run,
        state,
        entities,
        unmapped,
    })
}

#[allow(clippy::too_many_arguments)]
async fn run_entity(
    store: &Store,
    manifest: &'static Manifest,
    entity: &'static tributary_core::EntityDef,
    client: &Client,
    options: &SyncOptions,
    er: &EntityRun,
    deps: Vec<(&'static str, watch::Receiver<Outcome>)>,
    permits: Arc<Semaphore>,
    progress: Option<&UnboundedSender<Progress>>,
) -> Result<bool, EngineError> {
    let send = |p: Progress| {
        if let Some(tx) = progress {
            let _ = tx.send(p);
        }
    };
    if er.state == "done" {
        send(Progress::Finished {
            entity: entity.name,
            state: "done".into(),
            error: None,
        });
        return Ok(true);
    }
    for (dep, mut rx) in deps {
        if *rx.borrow() == Outcome::Pending {
            send(Progress::Waiting {
                entity: entity.name,
                reason: format!("waiting for {dep}"),
            });
        }
        let outcome = *rx.wait_for(|o| *o != Outcome::Pending).await.map_err(|_| {
            EngineError::Store(StoreError::Corrupt("dependency task vanished".into()))
        })?;
        if outcome != Outcome::Done {
            let error = format!("dependency {dep} did not complete");
            runs::set_state(store, &options.org, &er.id, "skipped", Some(&error)).await?;
            send(Progress::Finished {
                entity: entity.name,
                state: "skipped".into(),
                error: Some(error),
            });
            return Ok(false);
        }
    }
    let _permit = permits
        .acquire()
        .await
        .map_err(|_| EngineError::Store(StoreError::Corrupt("worker pool closed".into())))?;
    let ttl = options.workflow.lease_ttl_ms;
    let fence = loop {
        match lease::claim(store, &options.org, &er.id, &options.owner, ttl).await? {
            Claim::Acquired(f) => break f,
            Claim::Finished(state) => {
                send(Progress::Finished {
                    entity: entity.name,
                    state: state.clone(),
                    error: None,
                });
                return Ok(state == "done");
            }
            Claim::Held { owner, .. } => {
                send(Progress::Waiting {
                    entity: entity.name,
                    reason: format!("leased by {owner}"),
                });
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    send(Progress::Started {
        entity: entity.name,
    });
    let workflow = EntityWorkflow {
        store,
        manifest,
        entity,
        client,
        config: &options.workflow,
        progress,
    };
    let result = tokio::select! {
        r = workflow.run(&fence) => r,
        r = heartbeat(store, &fence, ttl) => r,
    };
    match result {
        Ok(()) => {
            send(Progress::Finished {
                entity: entity.name,
                state: "done".into(),
                error: None,
            });
            Ok(true)
        }
        Err(EngineError::Store(StoreError::LeaseLost { .. })) => {
            // Another worker owns the entity run now; it reports the outcome.
            tracing::warn!(entity = entity.name, "lease lost; stopping this worker");
            send(Progress::Finished {
                entity: entity.name,
                state: "lease-lost".into(),
                error: None,
            });
            Ok(false)
        }
        Err(e @ EngineError::Store(_)) => Err(e),
        Err(e) => {
            let error = e.to_string();
            tracing::error!(entity = entity.name, %error, "entity failed");
            lease::release(store, &fence, "failed", Some(&error)).await?;
            send(Progress::Finished {
                entity: entity.name,
                state: "failed".into(),
                error: Some(error),
            });
            Ok(false)
        }
    }
}

/// Renews the lease every third of its lifetime; returns (an error) only when it is lost.
async fn heartbeat(store: &Store, fence: &Fence, ttl_ms: i64) -> Result<(), EngineError> {
    let every = Duration::from_millis((ttl_ms / 3).max(50) as u64);
    loop {
        tokio::time::sleep(every).await;
        if !lease::renew(store, fence, ttl_ms).await? {
            return Err(EngineError::Store(fence.lost()));
        }
    }
}
