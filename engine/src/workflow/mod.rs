//! One entity's sync under a lease: choose the endpoint ([`plan`]), stream pages in a stable
//! order from the checkpoint, prepare records (and the side-loaded children they include),
//! commit each page with its checkpoint.

mod batch;
mod inflight;
pub mod plan;
mod transform;

use futures::StreamExt;
use sqlx::Row;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;
use tributary_core::{Client, EndpointKind, EntityDef, Manifest, Query, RawPage};

use batch::{gather, merge};
use inflight::{InFlight, PG_PAGES_IN_FLIGHT, record_keys};
pub use plan::{SideLoad, Source};
pub use transform::{
    Context, canonical_id, canonical_id_bounds, coerce, normalize_instant, prepare, table_of,
};

use crate::error::EngineError;
use crate::lease::Fence;
use crate::orchestrator::Progress;
use crate::store::{Checkpoint, PageWrite, SideWrite, Store, sql};

/// Settings of an entity workflow.
#[derive(Debug, Clone)]
pub struct WorkflowConfig {
    /// Page size; `None` uses the manifest's maximum.
    pub per_page: Option<u32>,
    /// Lease lifetime, renewed by every page commit.
    pub lease_ttl_ms: i64,
    /// Nested lists: parents whose first page is fetched at once. A crash re-fetches at most
    /// this many pages.
    pub parent_concurrency: usize,
}

/// The entity workflow.
pub struct EntityWorkflow<'a> {
    /// The database.
    pub store: &'a Store,
    /// The adapter.
    pub manifest: &'static Manifest,
    /// The entity.
    pub entity: &'static EntityDef,
    /// The API client.
    pub client: &'a Client,
    /// Settings.
    pub config: &'a WorkflowConfig,
    /// Where progress goes.
    pub progress: Option<&'a UnboundedSender<Progress>>,
}

/// The stable order for paging: `id` if the API orders by it, else `created_at`, else the
/// API's default (which for JSON:API APIs such as PCO's is by id).
fn stable_order(entity: &EntityDef) -> Option<&'static str> {
    ["id", "created_at"]
        .into_iter()
        .find(|o| entity.order_by.contains(o))
}

fn fill(path: &str, parent_id: &str) -> String {
    // Nested paths have exactly one placeholder: the parent's id.
    match (path.find('{'), path.find('}')) {
        (Some(a), Some(b)) if a < b => format!("{}{}{}", &path[..a], parent_id, &path[b + 1..]),
        _ => path.to_owned(),
    }
}

impl EntityWorkflow<'_> {
    async fn checkpoint(&self, fence: &Fence) -> Result<Checkpoint, EngineError> {
        let row = sqlx::query(
            "SELECT cursor_parent, next_offset FROM entity_runs WHERE id = $1 AND org_id = $2",
        )
        .bind(fence.entity_run_id.clone())
        .bind(fence.org_id.clone())
        .fetch_one(self.store.pool())
        .await?;
        Ok(Checkpoint {
            cursor_parent: row.try_get(0)?,
            next_offset: row.try_get(1)?,
            done: false,
        })
    }

    fn query(&self) -> Query {
        let mut q = Query::new();
        let per_page = self
            .config
            .per_page
            .unwrap_or(self.manifest.paging.max_per_page)
            .min(self.manifest.paging.max_per_page);
        q.set(self.manifest.paging.per_page_param, per_page.to_string());
        if let Some(order) = stable_order(self.entity) {
            q.set("order", order);
        }
        // The manifest's `include:` serves two ends: side-loaded children (no requests of their
        // own) and relationship linkage, which JSON:API servers may send only for included
        // relationships and which owners and edges need.
        for relationship in self.entity.includes {
            q.append_list("include", relationship);
        }
        q
    }

    /// Runs the entity from its checkpoint to the end, committing page by page.
    pub async fn run(&self, fence: &Fence) -> Result<(), EngineError> {
        let source = plan::source(self.manifest, self.entity);
        let table = table_of(self.manifest, self.entity.name);
        let (table, parent) = match (source, table) {
            (Source::List, Some(t)) => (t, None),
            (Source::Nested { parent }, Some(t)) => (t, Some(parent)),
            // Side-loaded: the parent's pages committed the records and counted them.
            // Unmapped: nothing to store. Either way an empty final page records the end.
            _ => {
                let done = Checkpoint {
                    done: true,
                    ..Default::default()
                };
                self.commit(fence, self.empty(done), None).await?;
                return Ok(());
            }
        };
        let cx = Context {
            manifest: self.manifest,
            entity: self.entity,
            table,
            org: &fence.org_id,
        };
        let cp = self.checkpoint(fence).await?;
        let Some(parent) = parent else {
            let list = self
                .entity
                .endpoint(EndpointKind::List)
                .ok_or_else(|| self.no_endpoint())?;
            let offset = cp.next_offset.unwrap_or(0);
            self.pages(fence, &cx, list.path.to_owned(), None, offset, true)
                .await?;
            return Ok(());
        };
        let nested = self
            .entity
            .endpoint(EndpointKind::NestedList)
            .ok_or_else(|| self.no_endpoint())?;
        // Resuming inside a parent: finish it first, from its checkpoint.
        if let (Some(p), Some(o)) = (&cp.cursor_parent, cp.next_offset) {
            let path = fill(nested.path, p);
            self.pages(fence, &cx, path, Some(p.clone()), o, false)
                .await?;
        }
        // Parents in canonical id order, a chunk at a time: memory stays flat however many
        // there are.
        let mut after = cp.cursor_parent.clone();
        loop {
            let parents = self.parents(fence, parent, after.as_deref()).await?;
            let Some(last) = parents.last().cloned() else {
                break;
            };
            self.nested(fence, &cx, nested.path, parents).await?;
            after = Some(last);
        }
        let done = Checkpoint {
            cursor_parent: after,
            next_offset: None,
            done: true,
        };
        self.commit(fence, self.empty(done), None).await
    }

    /// Nested lists: the first page of several parents is fetched at once (most parents have
    /// one page), pages commit in parent order, several per transaction when they are ready
    /// together; a parent with more pages continues sequentially before the next one commits.
    async fn nested(
        &self,
        fence: &Fence,
        cx: &Context<'_>,
        path: &'static str,
        parents: Vec<String>,
    ) -> Result<(), EngineError> {
        let width = self.config.parent_concurrency.max(1);
        let base = self.query();
        let offset_param = self.manifest.paging.offset_param;
        let client = self.client;
        let mut firsts = futures::stream::iter(parents)
            .map(|parent_id| {
                let path = fill(path, &parent_id);
                let mut query = base.clone();
                query.set(offset_param, "0");
                async move {
                    let page = client.raw_page(&path, &query).await;
                    (parent_id, path, page)
                }
            })
            .buffered(width)
            .ready_chunks(width);
        while let Some(batch) = firsts.next().await {
            let mut write: Option<PageWrite> = None;
            for (parent_id, path, page) in batch {
                let page = page?;
                let next = page.document.meta.next.map(|n| n.offset as i64);
                let checkpoint = Checkpoint {
                    cursor_parent: Some(parent_id.clone()),
                    next_offset: next,
                    done: false,
                };
                let this = prepare_page(self.manifest, self.entity, cx, &page, checkpoint);
                write = Some(match write.take() {
                    Some(acc) => merge(acc, this),
                    None => this,
                });
                if let Some(next) = next {
                    // Commit what is ready, then the rest of this parent, page by page.
                    if let Some(w) = write.take() {
                        self.commit(fence, w, None).await?;
                    }
                    self.pages(fence, cx, path, Some(parent_id), next, false)
                        .await?;
                }
            }
            if let Some(w) = write {
                self.commit(fence, w, None).await?;
            }
        }
        Ok(())
    }

    fn no_endpoint(&self) -> EngineError {
        EngineError::Manifest {
            adapter: self.manifest.adapter.into(),
            reason: format!("entity `{}` has no list endpoint", self.entity.name),
        }
    }

    /// The next chunk of parent external ids after `after`, in canonical id order (the key
    /// of the parent's canonical table: the parent entity's ids are one range of it).
    async fn parents(
        &self,
        fence: &Fence,
        parent: &str,
        after: Option<&str>,
    ) -> Result<Vec<String>, EngineError> {
        // An entity without a canonical table has no links to walk.
        let Some(table) = table_of(self.manifest, parent) else {
            return Ok(Vec::new());
        };
        let adapter = self.manifest.adapter;
        let (low, high) = canonical_id_bounds(table.prefix, &fence.org_id, adapter, parent);
        let from = match after {
            Some(id) => canonical_id(table.prefix, &fence.org_id, adapter, parent, id),
            None => low,
        };
        let q = format!(
            "SELECT \"external_id\" FROM \"{}\" WHERE \"id\" > $1 AND \"id\" < $2 \
             AND \"external_id\" IS NOT NULL ORDER BY \"id\" LIMIT 1000",
            table.table
        );
        let rows = sqlx::query(sql(q))
            .bind(from)
            .bind(high)
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    async fn pages(
        &self,
        fence: &Fence,
        cx: &Context<'_>,
        path: String,
        parent: Option<String>,
        offset: i64,
        last: bool,
    ) -> Result<(), EngineError> {
        let mut query = self.query();
        query.set(self.manifest.paging.offset_param, offset.to_string());
        let mut stream = self.client.raw_pages(path, query);
        // Fetching and parsing run in one task, preparing in another, both ahead of the
        // commits: the stages overlap on the runtime's threads, the next pages are ready when
        // the database finishes the last ones, and those that queued meanwhile commit
        // together (see `batch`).
        let group = batch::group_pages(self.store.dialect());
        let (raw_tx, mut raw_rx) = tokio::sync::mpsc::channel(1);
        let fetcher = tokio::spawn(async move {
            while let Some(page) = stream.next().await {
                let failed = page.is_err();
                if raw_tx.send(page).await.is_err() || failed {
                    break;
                }
            }
        });
        let _fetcher = AbortOnDrop(fetcher);
        let (tx, mut rx) = tokio::sync::mpsc::channel(group);
        let (manifest, entity, table, org) =
            (self.manifest, self.entity, cx.table, cx.org.to_owned());
        let producer = tokio::spawn(async move {
            let cx = Context {
                manifest,
                entity,
                table,
                org: &org,
            };
            while let Some(page) = raw_rx.recv().await {
                let item = page.map(|page| {
                    let next = page.document.meta.next.map(|n| n.offset as i64);
                    let total = page.document.meta.total_count;
                    let checkpoint = Checkpoint {
                        cursor_parent: parent.clone(),
                        next_offset: next,
                        done: next.is_none() && last,
                    };
                    let total = if parent.is_none() { total } else { None };
                    (
                        prepare_page(manifest, entity, &cx, &page, checkpoint),
                        total,
                    )
                });
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        });
        let _producer = AbortOnDrop(producer);
        // On PostgreSQL a page's records are written while the pages before it commit, in up
        // to `PG_PAGES_IN_FLIGHT` transactions on as many connections: a page transaction is
        // one server process's serial work, and the other core waited. Commits stay in page
        // order (a page writes its checkpoint only after the previous page committed), and a
        // page that shares a record with one still in flight (a list that shifted while it was
        // paged) waits for them all first, so that no transaction can wait for another's rows.
        // SQLite has one writer.
        let overlap = self.store.dialect() == crate::store::Dialect::Postgres;
        let depth = if overlap { PG_PAGES_IN_FLIGHT } else { 1 };
        let mut pending = futures::stream::FuturesOrdered::new();
        // The page last sent to commit (when pages overlap): whether it committed.
        let mut previous: Option<oneshot::Receiver<bool>> = None;
        let mut in_flight = InFlight::new(depth);
        loop {
            tokio::select! {
                biased;
                Some(committed) = pending.next(), if !pending.is_empty() => committed?,
                item = rx.recv(), if pending.len() < depth => {
                    let Some(item) = item else { break };
                    let (mut write, mut total) = match item {
                        Ok(item) => item,
                        Err(e) => {
                            // The pages before the broken one still commit.
                            drain(&mut pending).await?;
                            return Err(e.into());
                        }
                    };
                    // The pages that queued while the database was busy commit with this one.
                    let broken;
                    (write, total, broken) = gather(&mut rx, write, total, group);
                    if let Some(e) = broken {
                        drain(&mut pending).await?;
                        self.commit(fence, write, total).await?;
                        return Err(e.into());
                    }
                    let keys = overlap.then(|| record_keys(&write));
                    let after = match (previous.take(), &keys) {
                        (Some(after), Some(keys)) if in_flight.admits(keys) => Some(after),
                        (Some(_), _) => {
                            drain(&mut pending).await?;
                            in_flight.clear();
                            None
                        }
                        (None, _) => None,
                    };
                    let (committed, next) = oneshot::channel();
                    pending.push_back(self.commit_after(fence, write, total, after, committed));
                    if let Some(keys) = keys {
                        previous = Some(next);
                        in_flight.push(keys);
                    }
                }
            }
        }
        drain(&mut pending).await
    }

    /// Commits `write` once the page before it has (`after` says whether it did); tells the
    /// next page through `committed`.
    async fn commit_after(
        &self,
        fence: &Fence,
        write: PageWrite,
        total: Option<u64>,
        after: Option<oneshot::Receiver<bool>>,
        committed: oneshot::Sender<bool>,
    ) -> Result<(), EngineError> {
        let result = async {
            let (fetched, done) = (write.fetched as u64, write.checkpoint.done);
            let ttl = self.config.lease_ttl_ms;
            let (counts, side) = match after {
                None => self.store.commit_page(fence, write, ttl).await?,
                Some(after) => {
                    let staged = self.store.stage_page(fence, write).await?;
                    if after.await != Ok(true) {
                        // The previous page failed, and its error is the one reported.
                        return Err(EngineError::from(fence.lost()));
                    }
                    self.store.finish_page(fence, staged, ttl).await?
                }
            };
            self.report(fetched, counts, side, total, done);
            Ok(())
        }
        .await;
        let _ = committed.send(result.is_ok());
        result
    }

    /// Commits `write` (no page in flight before it).
    async fn commit(
        &self,
        fence: &Fence,
        write: PageWrite,
        total: Option<u64>,
    ) -> Result<(), EngineError> {
        let (committed, _) = oneshot::channel();
        self.commit_after(fence, write, total, None, committed)
            .await
    }

    /// Sends a committed page's progress.
    fn report(
        &self,
        fetched: u64,
        counts: crate::store::PageCounts,
        side: crate::store::SideCounts,
        total: Option<u64>,
        done: bool,
    ) {
        if let Some(tx) = self.progress {
            let _ = tx.send(Progress::Page {
                entity: self.entity.name,
                fetched,
                counts,
                total,
                done,
            });
            for (entity, fetched, counts) in side {
                let Some(child) = self.manifest.entity(&entity) else {
                    continue;
                };
                let _ = tx.send(Progress::Page {
                    entity: child.name,
                    fetched,
                    counts,
                    total: None,
                    done: false,
                });
            }
        }
    }

    fn empty(&self, checkpoint: Checkpoint) -> PageWrite {
        PageWrite {
            entity: self.entity.name.to_owned(),
            records: Vec::new(),
            quarantined: Vec::new(),
            checkpoint,
            fetched: 0,
            pages: 0,
            side: Vec::new(),
        }
    }
}

/// Waits for the commits in flight, in order; the first error is returned.
async fn drain(
    pending: &mut futures::stream::FuturesOrdered<
        impl std::future::Future<Output = Result<(), EngineError>>,
    >,
) -> Result<(), EngineError> {
    while let Some(committed) = pending.next().await {
        committed?;
    }
    Ok(())
}

/// Prepares records, splitting those that map from those to quarantine.
fn prepare_all<'r>(
    cx: &Context<'_>,
    raws: impl Iterator<Item = &'r tributary_core::RawResource>,
) -> (
    Vec<crate::store::PreparedRecord>,
    Vec<crate::store::Quarantined>,
) {
    let mut records = Vec::new();
    let mut quarantined = Vec::new();
    for raw in raws {
        match prepare(cx, raw) {
            Ok(r) => records.push(r),
            Err(q) => {
                tracing::debug!(
                    entity = cx.entity.name,
                    id = %q.external_id,
                    reason = %q.reason,
                    "record quarantined"
                );
                quarantined.push(q);
            }
        }
    }
    (records, quarantined)
}

/// Prepares a page's records and those of the children it side-loads.
fn prepare_page(
    manifest: &'static Manifest,
    entity: &'static EntityDef,
    cx: &Context<'_>,
    page: &RawPage,
    checkpoint: Checkpoint,
) -> PageWrite {
    let (records, quarantined) = prepare_all(cx, page.document.data.iter());
    let side = plan::side_loads(manifest, entity)
        .into_iter()
        .filter_map(|s| {
            let table = table_of(manifest, s.child.name)?;
            let cx = Context {
                entity: s.child,
                table,
                ..*cx
            };
            let included = page
                .document
                .included
                .iter()
                .filter(|r| r.kind == s.child.json_type);
            let fetched = included.clone().count();
            let (records, quarantined) = prepare_all(&cx, included);
            Some(SideWrite {
                entity: s.child.name.to_owned(),
                records,
                quarantined,
                fetched,
            })
        })
        .collect();
    PageWrite {
        entity: entity.name.to_owned(),
        fetched: page.document.data.len(),
        pages: 1,
        records,
        quarantined,
        checkpoint,
        side,
    }
}

/// Aborts a spawned task when its owner goes away (an error, or a lost lease).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
