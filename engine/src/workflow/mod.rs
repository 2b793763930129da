//! One entity's sync under a lease: choose the endpoint, stream pages in a stable order from
//! the checkpoint, prepare records, commit each page with its checkpoint.

mod transform;

use futures::StreamExt;
use sqlx::Row;
use tokio::sync::mpsc::UnboundedSender;
use tributary_core::{Client, EndpointKind, EntityDef, Manifest, Query};

pub use transform::{Context, canonical_id, coerce, normalize_instant, prepare, table_of};

use crate::error::EngineError;
use crate::lease::Fence;
use crate::orchestrator::Progress;
use crate::store::{Checkpoint, PageWrite, Store, sql};

/// Settings of an entity workflow.
#[derive(Debug, Clone)]
pub struct WorkflowConfig {
    /// Page size; `None` uses the manifest's maximum.
    pub per_page: Option<u32>,
    /// Lease lifetime, renewed by every page commit.
    pub lease_ttl_ms: i64,
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
        // JSON:API servers may send relationship linkage only for included relationships;
        // owners and edges need it, so ask for those the API lets us include.
        let mapping = self.entity.canonical;
        let wanted = mapping
            .iter()
            .flat_map(|m| m.owner.iter().chain(m.edges))
            .map(|e| e.relationship);
        for relationship in wanted {
            if self.entity.includes.contains(&relationship) {
                q.append_list("include", relationship);
            }
        }
        q
    }

    /// Runs the entity from its checkpoint to the end, committing page by page.
    pub async fn run(&self, fence: &Fence) -> Result<(), EngineError> {
        let Some(table) = table_of(self.manifest, self.entity.name) else {
            // Nothing to store: finish with an empty page so the state says so.
            let done = Checkpoint {
                done: true,
                ..Default::default()
            };
            self.commit(fence, self.empty(done), None).await?;
            return Ok(());
        };
        let cx = Context {
            manifest: self.manifest,
            entity: self.entity,
            table,
            org: &fence.org_id,
        };
        let cp = self.checkpoint(fence).await?;
        if let Some(list) = self.entity.endpoint(EndpointKind::List) {
            let offset = cp.next_offset.unwrap_or(0);
            self.pages(fence, &cx, list.path.to_owned(), None, offset, true)
                .await?;
            return Ok(());
        }
        let Some(nested) = self.entity.endpoint(EndpointKind::NestedList) else {
            return Err(EngineError::Manifest {
                adapter: self.manifest.adapter.into(),
                reason: format!("entity `{}` has no list endpoint", self.entity.name),
            });
        };
        let parent = nested.parent.unwrap_or_default();
        let mut parents = self
            .parents(fence, parent, cp.cursor_parent.as_deref())
            .await?;
        // Resuming inside a parent: finish it first, from its checkpoint.
        if let (Some(p), Some(o)) = (&cp.cursor_parent, cp.next_offset) {
            parents.insert(0, (p.clone(), o));
        }
        if parents.is_empty() {
            let done = Checkpoint { done: true, ..cp };
            self.commit(fence, self.empty(done), None).await?;
        }
        let n = parents.len();
        for (i, (parent_id, offset)) in parents.into_iter().enumerate() {
            let path = fill(nested.path, &parent_id);
            self.pages(fence, &cx, path, Some(parent_id), offset, i + 1 == n)
                .await?;
        }
        Ok(())
    }

    /// Parent external ids after `after`, in a stable order, each starting at offset 0.
    async fn parents(
        &self,
        fence: &Fence,
        parent: &str,
        after: Option<&str>,
    ) -> Result<Vec<(String, i64)>, EngineError> {
        let q = "SELECT external_id FROM external_links WHERE org_id = $1 AND adapter = $2 \
                 AND entity = $3 AND external_id > $4 ORDER BY external_id";
        let rows = sqlx::query(sql(q.to_owned()))
            .bind(fence.org_id.clone())
            .bind(fence.adapter.clone())
            .bind(parent.to_owned())
            .bind(after.unwrap_or("").to_owned())
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, 0)))
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
        while let Some(page) = stream.next().await {
            let page = page?;

            let next = page.document.meta.next.map(|n| n.offset as i64);
            let total = page.document.meta.total_count;
            let checkpoint = Checkpoint {
                cursor_parent: parent.clone(),
                next_offset: next,
                done: next.is_none() && last,
            };
            let mut records = Vec::with_capacity(page.document.data.len());
            let mut quarantined = Vec::new();
            for raw in &page.document.data {
                match prepare(cx, raw) {
                    Ok(r) => records.push(r),
                    Err(q) => {
                        tracing::debug!(
                            entity = self.entity.name,
                            id = %q.external_id,
                            reason = %q.reason,
                            "record quarantined"
                        );
                        quarantined.push(q);
                    }
                }
            }
            let write = PageWrite {
                entity: self.entity.name.to_owned(),
                fetched: page.document.data.len(),
                records,
                quarantined,
                checkpoint,
            };
            self.commit(fence, write, if parent.is_none() { total } else { None })
                .await?;
        }
        Ok(())
    }

    async fn commit(
        &self,
        fence: &Fence,
        write: PageWrite,
        total: Option<u64>,
    ) -> Result<(), EngineError> {
        let fetched = write.fetched as u64;
        let done = write.checkpoint.done;
        let counts = self
            .store
            .commit_page(fence, write, self.config.lease_ttl_ms)
            .await?;

        if let Some(tx) = self.progress {
            let _ = tx.send(Progress::Page {
                entity: self.entity.name,
                fetched,
                counts,
                total,
                done,
            });
        }
        Ok(())
    }

    fn empty(&self, checkpoint: Checkpoint) -> PageWrite {
        PageWrite {
            entity: self.entity.name.to_owned(),
            records: Vec::new(),
            quarantined: Vec::new(),
            checkpoint,
            fetched: 0,
        }
    }
}
