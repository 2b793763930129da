//! The page transaction: one page's records, external links, edges, quarantine entries and the
//! entity run's checkpoint and counts commit together, or not at all, and only while the
//! worker's fencing epoch is current.
//!
//! PostgreSQL's pages are written here, through `sqlx`, with one array parameter per column
//! ([`super::bulk`]); SQLite's go to the writer thread ([`super::writer`]). Both follow the
//! rules and use the statement text of [`super::rules`].

use std::collections::HashMap;

use sqlx::Row;

use super::bulk::{self, Batch, Column};
use super::rules::{
    EDGE_ON_CONFLICT, FENCE_SELECT, LINK_ON_CONFLICT, RUN_UPDATE, SIDE_RUN_UPDATE, classify,
    dedupe, distinct_edges, edge_insert_new, link_insert, quarantine_upsert, row_upsert,
};
use super::{Bind, Store, WriteTx, arguments, now_ms, sql};
use crate::canonical::{COMMON_COLUMNS, ColumnType, TableDef};
use crate::error::StoreError;
use crate::lease::Fence;

/// One record ready to store: every column value of its canonical table, in table order.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedRecord {
    /// The remote id.
    pub external_id: String,
    /// The canonical id (deterministic: see [`crate::workflow::canonical_id`]).
    pub canonical_id: String,
    /// The canonical table.
    pub table: &'static TableDef,
    /// Values of [`COMMON_COLUMNS`] followed by the table's fields.
    pub values: Vec<Bind>,
    /// `(relationship, target canonical id)` edges from this record.
    pub edges: Vec<(String, String)>,
    /// Hash of everything stored for the record, to tell updated from unchanged.
    pub content_hash: String,
    /// The remote modification time, verbatim.
    pub remote_updated_at: Option<String>,
}

/// A record that failed validation or mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    /// The remote id (or a placeholder when the record had none).
    pub external_id: String,
    /// The raw record as JSON.
    pub raw: String,
    /// Why it was refused, for humans.
    pub reason: String,
}

/// Where an entity run stands after a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// For nested lists: the parent being (or last) synced.
    pub cursor_parent: Option<String>,
    /// The offset of the next page; `None` when the list (of this parent) is exhausted.
    pub next_offset: Option<i64>,
    /// Whether the entity run is complete with this page.
    pub done: bool,
}

/// Everything one page transaction writes.
#[derive(Debug, Clone)]
pub struct PageWrite {
    /// The adapter's entity name, e.g. `Person`.
    pub entity: String,
    /// Records that mapped.
    pub records: Vec<PreparedRecord>,
    /// Records that did not.
    pub quarantined: Vec<Quarantined>,
    /// The checkpoint after this page.
    pub checkpoint: Checkpoint,
    /// Records received in the page.
    pub fetched: usize,
    /// API pages the write holds (several parents' pages may commit together; 0 for the
    /// empty write that only moves the checkpoint).
    pub pages: usize,
    /// Records of other entities that came with the page (side-loaded with `include=`).
    pub side: Vec<SideWrite>,
}

/// The records of one side-loaded entity in a page; they commit with the page and count
/// towards that entity's run.
#[derive(Debug, Clone)]
pub struct SideWrite {
    /// The side-loaded entity's name, e.g. `Email`.
    pub entity: String,
    /// Records that mapped.
    pub records: Vec<PreparedRecord>,
    /// Records that did not.
    pub quarantined: Vec<Quarantined>,
    /// Records received.
    pub fetched: usize,
}

/// What a page changed, per side-loaded entity.
pub type SideCounts = Vec<(String, u64, PageCounts)>;

/// What a page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PageCounts {
    /// New records.
    pub created: u64,
    /// Records whose content changed.
    pub updated: u64,
    /// Records seen again unchanged.
    pub unchanged: u64,
    /// Records quarantined.
    pub quarantined: u64,
}

/// A page whose records are written in an open transaction that has not touched the entity
/// runs yet: see [`Store::stage_page`].
pub(crate) struct StagedPage {
    tx: WriteTx,
    now: i64,
    counts: PageCounts,
    side: SideCounts,
    checkpoint: Checkpoint,
    fetched: usize,
    pages: usize,
    writes: [(&'static str, usize); 2],
}

/// No conflict clause, for rows known to be new: no arbiter check (see
/// [`Store::insert_fresh`]).
const NEW: &str = "";

/// Whether `e` is PostgreSQL's unique violation (SQLSTATE 23505).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "23505")
}

/// Rows a page writes to the tables the engine's own queries read by key (`external_links`,
/// `edges`; upper bounds: unchanged records are not rewritten). See [`super::stats`].
fn written_rows(page: &PageWrite) -> [(&'static str, usize); 2] {
    let lists = std::iter::once(&page.records).chain(page.side.iter().map(|s| &s.records));
    let (mut links, mut edges) = (0, 0);
    for records in lists {
        links += records.len();
        edges += records.iter().map(|r| r.edges.len()).sum::<usize>();
    }
    [("external_links", links), ("edges", edges)]
}

impl Store {
    /// A bulk statement (see [`super::bulk`]) with its arguments: `head` (the scalar
    /// parameters before the batch's) then `batch`. Its text is fixed per table, so the
    /// prepared statement is kept.
    fn bulk<'q>(
        &self,
        q: String,
        head: Vec<Bind>,
        batch: Batch,
    ) -> Result<sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>, StoreError> {
        let count = head.len() + batch.binds.len();
        let args = arguments(head.into_iter().chain(batch.binds), count)?;
        Ok(sqlx::query_with(sql(q), args))
    }

    /// Commits one page under `fence`. Refuses with [`StoreError::LeaseLost`] when another
    /// worker has claimed the entity run since, so a stale worker can never write. On SQLite
    /// the page goes to the writer thread ([`super::writer`]) in this process's write slot;
    /// on PostgreSQL it is written here, through `sqlx`.
    pub async fn commit_page(
        &self,
        fence: &Fence,
        page: PageWrite,
        lease_ttl_ms: i64,
    ) -> Result<(PageCounts, SideCounts), StoreError> {
        if let Some(pages) = &self.pages {
            let _slot = self.writer.clone().lock_owned().await;
            return pages.commit(fence, page, lease_ttl_ms, now_ms()).await;
        }
        let staged = self.stage_page(fence, page).await?;
        self.finish_page(fence, staged, lease_ttl_ms).await
    }

    /// The first half of [`Store::commit_page`] on PostgreSQL: opens the page transaction and
    /// writes the records, without touching the entity runs, so that the next page's records
    /// can be written while this one waits to commit ([`Store::finish_page`]).
    pub(crate) async fn stage_page(
        &self,
        fence: &Fence,
        page: PageWrite,
    ) -> Result<StagedPage, StoreError> {
        if self.pages.is_some() {
            return Err(StoreError::Writer(
                "a SQLite page commits whole, on the writer thread (Store::commit_page)".into(),
            ));
        }
        let writes = written_rows(&page);
        let mut tx = self.begin_page_write().await?;
        // An early way out only, without a row lock (which would make the next page's
        // transaction wait here): the checkpoint update re-checks the fence under its lock.
        self.check_fence_with(&mut tx, fence, false).await?;
        let now = now_ms();
        let counts = self
            .write_records(
                &mut tx,
                fence,
                &page.entity,
                page.records,
                &page.quarantined,
                now,
            )
            .await?;
        let mut side = Vec::with_capacity(page.side.len());
        for s in page.side {
            let c = self
                .write_records(&mut tx, fence, &s.entity, s.records, &s.quarantined, now)
                .await?;
            side.push((s.entity, s.fetched as u64, c));
        }
        Ok(StagedPage {
            tx,
            now,
            counts,
            side,
            checkpoint: page.checkpoint,
            fetched: page.fetched,
            pages: page.pages,
            writes,
        })
    }

    /// The second half of [`Store::commit_page`]: counts, checkpoint, commit. Refuses with
    /// [`StoreError::LeaseLost`] (and rolls everything back) when the lease is no longer ours.
    pub(crate) async fn finish_page(
        &self,
        fence: &Fence,
        staged: StagedPage,
        lease_ttl_ms: i64,
    ) -> Result<(PageCounts, SideCounts), StoreError> {
        let StagedPage {
            mut tx,
            now,
            counts,
            side,
            checkpoint: cp,
            fetched,
            pages,
            writes,
        } = staged;
        for (entity, side_fetched, c) in &side {
            // The side-loaded entity's run waits (pending) for this one; its counts grow here,
            // in the same transaction as its records.
            sqlx::query(SIDE_RUN_UPDATE)
                .bind(*side_fetched as i64)
                .bind(c.created as i64)
                .bind(c.updated as i64)
                .bind(c.unchanged as i64)
                .bind(c.quarantined as i64)
                .bind(now)
                .bind(fence.run_id.clone())
                .bind(fence.org_id.clone())
                .bind(entity.clone())
                .execute(&mut *tx)
                .await?;
        }
        let done = cp.done;
        let result = sqlx::query(RUN_UPDATE)
            .bind(cp.cursor_parent.clone())
            .bind(cp.next_offset)
            .bind(fetched as i64)
            .bind(counts.created as i64)
            .bind(counts.updated as i64)
            .bind(counts.unchanged as i64)
            .bind(counts.quarantined as i64)
            .bind(if done { "done" } else { "running" })
            .bind(done.then_some(now))
            .bind(now + lease_ttl_ms)
            .bind(now)
            .bind(fence.entity_run_id.clone())
            .bind(fence.org_id.clone())
            .bind(fence.epoch)
            .bind(fence.owner.clone())
            .bind(pages as i64)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() != 1 {
            return Err(fence.lost());
        }
        tx.commit().await?;
        self.note_writes(&writes);
        Ok((counts, side))
    }

    /// Writes one entity's records of a page: rows, edges, external links, quarantine.
    async fn write_records(
        &self,
        tx: &mut WriteTx,
        fence: &Fence,
        entity: &str,
        page_records: Vec<PreparedRecord>,
        quarantined: &[Quarantined],
        now: i64,
    ) -> Result<PageCounts, StoreError> {
        let (records, mut counts) = dedupe(page_records);
        let known = self.known_hashes(tx, &records).await?;
        let (changed, stale_edges) = classify(&records, &mut counts, |r| {
            Ok::<_, StoreError>(known.get(&r.external_id).map(|h| *h == r.content_hash))
        })?;
        self.upsert_rows(tx, &changed).await?;
        self.delete_edges(tx, fence, &stale_edges).await?;
        let (fresh, seen): (Vec<&PreparedRecord>, Vec<&PreparedRecord>) = records
            .iter()
            .partition(|r| !known.contains_key(&r.external_id));
        self.insert_fresh(tx, fence, entity, &fresh, now).await?;
        self.insert_edges(tx, fence, &stale_edges, now, EDGE_ON_CONFLICT)
            .await?;
        self.write_links(tx, fence, entity, &seen, now, LINK_ON_CONFLICT)
            .await?;
        self.write_quarantine(tx, fence, entity, &records, quarantined, now)
            .await?;
        counts.quarantined = quarantined.len() as u64;
        Ok(counts)
    }

    /// Links and edges of the records the page found no link for. Inserted without
    /// `ON CONFLICT`, whose arbiter check cost about a third of the link statement's server
    /// time (measured with the four-column key links had before migration 4); under a
    /// savepoint, because another writer of the same records (a side-loaded entity is also
    /// listed on its own) may have stored them since the page looked: then the page rolls
    /// back to it and writes them as it writes known records.
    async fn insert_fresh(
        &self,
        tx: &mut WriteTx,
        fence: &Fence,
        entity: &str,
        fresh: &[&PreparedRecord],
        now: i64,
    ) -> Result<(), StoreError> {
        if fresh.is_empty() {
            return Ok(());
        }
        sqlx::raw_sql("SAVEPOINT fresh").execute(&mut **tx).await?;
        let plain = async {
            self.write_links(tx, fence, entity, fresh, now, NEW).await?;
            self.insert_edges(tx, fence, fresh, now, NEW).await
        }
        .await;
        match plain {
            Ok(()) => {
                sqlx::raw_sql("RELEASE SAVEPOINT fresh")
                    .execute(&mut **tx)
                    .await?;
            }
            Err(StoreError::Sqlx(e)) if is_unique_violation(&e) => {
                tracing::debug!(entity, "records stored meanwhile by another writer");
                sqlx::raw_sql("ROLLBACK TO SAVEPOINT fresh")
                    .execute(&mut **tx)
                    .await?;
                self.write_links(tx, fence, entity, fresh, now, LINK_ON_CONFLICT)
                    .await?;
                self.insert_edges(tx, fence, fresh, now, EDGE_ON_CONFLICT)
                    .await?;
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Reads the entity run's epoch under a row lock and compares it with the fence's.
    pub(crate) async fn check_fence(
        &self,
        tx: &mut WriteTx,
        fence: &Fence,
    ) -> Result<(), StoreError> {
        self.check_fence_with(tx, fence, true).await
    }

    /// [`Store::check_fence`], with or without the row lock.
    async fn check_fence_with(
        &self,
        tx: &mut WriteTx,
        fence: &Fence,
        lock: bool,
    ) -> Result<(), StoreError> {
        let q = format!(
            "{FENCE_SELECT}{}",
            if lock { self.dialect.for_update() } else { "" }
        );
        let row = sqlx::query(sql(q))
            .bind(fence.entity_run_id.clone())
            .bind(fence.org_id.clone())
            .fetch_optional(&mut **tx)
            .await?;
        let Some(row) = row else {
            return Err(fence.lost());
        };
        let epoch: i64 = row.try_get(0)?;
        let owner: Option<String> = row.try_get(1)?;
        let state: String = row.try_get(2)?;
        if epoch != fence.epoch || owner.as_deref() != Some(&fence.owner) || state != "running" {
            return Err(fence.lost());
        }
        Ok(())
    }

    async fn known_hashes(
        &self,
        tx: &mut WriteTx,
        records: &[PreparedRecord],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut known = HashMap::new();
        // The canonical id names the remote record (organisation, adapter, entity, id).
        let ids: Vec<&str> = records.iter().map(|r| r.canonical_id.as_str()).collect();
        if let Some(batch) = bulk::any_text(1, &ids) {
            let q = format!(
                "SELECT external_id, content_hash FROM external_links WHERE canonical_id{}",
                batch.sql
            );
            for row in self
                .bulk(q, Vec::new(), batch)?
                .fetch_all(&mut **tx)
                .await?
            {
                known.insert(row.try_get(0)?, row.try_get(1)?);
            }
        }
        Ok(known)
    }

    async fn upsert_rows(
        &self,
        tx: &mut WriteTx,
        records: &[&PreparedRecord],
    ) -> Result<(), StoreError> {
        let Some(first) = records.first() else {
            return Ok(());
        };
        let table = first.table;
        let types: Vec<ColumnType> = COMMON_COLUMNS
            .iter()
            .chain(table.fields)
            .map(|c| c.ty)
            .collect();
        let rows = records.iter().map(|r| r.values.iter());
        if let Some(batch) = bulk::unnest(&types, rows) {
            let q = row_upsert(table, &batch.sql);
            self.bulk(q, Vec::new(), batch)?.execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn delete_edges(
        &self,
        tx: &mut WriteTx,
        fence: &Fence,
        records: &[&PreparedRecord],
    ) -> Result<(), StoreError> {
        let ids: Vec<&str> = records.iter().map(|r| r.canonical_id.as_str()).collect();
        let p = |n| format!("${n}");
        if let Some(batch) = bulk::any_text(3, &ids) {
            let q = format!(
                "DELETE FROM edges WHERE org_id = {} AND adapter = {} AND source_id{}",
                p(1),
                p(2),
                batch.sql
            );
            let head = vec![
                Bind::Text(fence.org_id.clone()),
                Bind::Text(fence.adapter.clone()),
            ];
            self.bulk(q, head, batch)?.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Inserts the edges of `records`; `conflict` says what happens to one stored already
    /// ([`EDGE_ON_CONFLICT`] or [`NEW`]).
    async fn insert_edges(
        &self,
        tx: &mut WriteTx,
        fence: &Fence,
        records: &[&PreparedRecord],
        now: i64,
        conflict: &str,
    ) -> Result<(), StoreError> {
        let edges = distinct_edges(records);
        let text = |v: &str| Column::Same(ColumnType::Text, Bind::Text(v.to_owned()));
        let columns = [
            text(&fence.org_id),
            text(&fence.adapter),
            Column::Each(ColumnType::Text),
            Column::Each(ColumnType::Text),
            Column::Each(ColumnType::Text),
            Column::Same(ColumnType::Integer, Bind::Int(now)),
        ];
        let rows = edges.iter().map(|(s, rel, t)| {
            [
                Bind::Text((*s).to_owned()),
                Bind::Text((*rel).to_owned()),
                Bind::Text((*t).to_owned()),
            ]
        });
        if let Some(batch) = bulk::unnest_shared(&columns, rows) {
            let q = format!("{}{conflict}", edge_insert_new(&batch.sql));
            self.bulk(q, Vec::new(), batch)?.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Inserts the links of `records`; `conflict` says what happens to one stored already
    /// ([`LINK_ON_CONFLICT`] or [`NEW`]).
    async fn write_links(
        &self,
        tx: &mut WriteTx,
        fence: &Fence,
        entity: &str,
        records: &[&PreparedRecord],
        now: i64,
        conflict: &str,
    ) -> Result<(), StoreError> {
        let Some(first) = records.first() else {
            return Ok(());
        };
        let text = |v: &str| Column::Same(ColumnType::Text, Bind::Text(v.to_owned()));
        let each = || Column::Each(ColumnType::Text);
        // An entity's records all map to one canonical table, as far as the store knows only
        // by looking.
        let one_table = records.iter().all(|r| r.table.entity == first.table.entity);
        let columns = [
            text(&fence.org_id),
            text(&fence.adapter),
            text(entity),
            each(),
            each(),
            if one_table {
                text(first.table.entity)
            } else {
                each()
            },
            each(),
            each(),
            Column::Same(ColumnType::Integer, Bind::Int(now)),
            Column::Same(ColumnType::Integer, Bind::Int(now)),
            text(&fence.run_id),
        ];
        let rows = records.iter().map(|r| {
            let mut row = Vec::with_capacity(5);
            row.push(Bind::Text(r.external_id.clone()));
            row.push(Bind::Text(r.canonical_id.clone()));
            if !one_table {
                row.push(Bind::Text(r.table.entity.to_owned()));
            }
            row.push(Bind::Text(r.content_hash.clone()));
            row.push(
                r.remote_updated_at
                    .clone()
                    .map_or(Bind::Null(ColumnType::Text), Bind::Text),
            );
            row
        });
        if let Some(batch) = bulk::unnest_shared(&columns, rows) {
            let q = format!("{}{conflict}", link_insert(&batch.sql));
            self.bulk(q, Vec::new(), batch)?.execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn write_quarantine(
        &self,
        tx: &mut WriteTx,
        fence: &Fence,
        entity: &str,
        good: &[PreparedRecord],
        bad: &[Quarantined],
        now: i64,
    ) -> Result<(), StoreError> {
        // A record that maps now leaves quarantine. Most pages have nothing quarantined for
        // the entity: one indexed probe then replaces a delete per chunk of ids (on
        // PostgreSQL each is parsed and planned afresh, its text varying with the page).
        let any: Option<i64> =
            match good {
                [] => None,
                _ => sqlx::query_scalar(
                    "SELECT 1 FROM quarantine WHERE org_id = $1 AND adapter = $2 AND entity = $3 \
                 LIMIT 1",
                )
                .bind(fence.org_id.clone())
                .bind(fence.adapter.clone())
                .bind(entity.to_owned())
                .fetch_optional(&mut **tx)
                .await?,
            };
        let good = if any.is_some() { good } else { &[] };
        let ids: Vec<&str> = good.iter().map(|r| r.external_id.as_str()).collect();
        let p = |n| format!("${n}");
        if let Some(batch) = bulk::any_text(4, &ids) {
            let q = format!(
                "DELETE FROM quarantine WHERE org_id = {} AND adapter = {} AND entity = {} \
                 AND external_id{}",
                p(1),
                p(2),
                p(3),
                batch.sql
            );
            let head = vec![
                Bind::Text(fence.org_id.clone()),
                Bind::Text(fence.adapter.clone()),
                Bind::Text(entity.to_owned()),
            ];
            self.bulk(q, head, batch)?.execute(&mut **tx).await?;
        }
        for q in bad {
            let stmt = quarantine_upsert(self.dialect);
            sqlx::query(sql(stmt))
                .bind(fence.org_id.clone())
                .bind(fence.adapter.clone())
                .bind(entity.to_owned())
                .bind(q.external_id.clone())
                .bind(q.raw.clone())
                .bind(q.reason.clone())
                .bind(fence.run_id.clone())
                .bind(now)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
