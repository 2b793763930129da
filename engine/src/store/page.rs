//! The page transaction: one page's records (rows with their link columns), edges, quarantine
//! entries and the entity run's checkpoint and counts commit together, or not at all, and
//! only while the worker's fencing epoch is current.
//!
//! PostgreSQL's pages are written here, on connections of the `sqlx` PostgreSQL driver: new
//! records stream in with `COPY` ([`super::copy`]), records stored before are upserted with
//! one array parameter per column ([`super::bulk`]). SQLite's go to the writer thread
//! ([`super::writer`]). Both follow the rules and use the statement text of
//! [`super::rules`].

use std::borrow::Cow;
use std::collections::HashMap;

use sqlx::Row;

use super::bulk::{self, Batch, Column};
use super::copy::CopyIn;
use super::rules::{
    EDGE_COLUMNS, FENCE_SELECT, LinkValue, RUN_UPDATE, SIDE_RUN_UPDATE, all_columns, by_table,
    classify, copied_columns, dedupe, distinct_edges, edge_insert, link_row, mark_upsert,
    quarantine_upsert, row_upsert,
};
use super::{Bind, PageTx, Store, arguments, now_ms, sql};
use crate::canonical::{ColumnType, TableDef};
use crate::error::StoreError;
use crate::lease::{Fence, fenced_run};

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
    tx: PageTx,
    now: i64,
    counts: PageCounts,
    side: SideCounts,
    checkpoint: Checkpoint,
    fetched: usize,
    pages: usize,
    writes: Vec<(&'static str, usize)>,
    /// Whether the page looked its records up (else the analyses it makes due can wait: see
    /// [`super::stats`]).
    looked: bool,
}

/// Whether `e` is PostgreSQL's unique violation (SQLSTATE 23505).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "23505")
}

/// Rows a page writes to the tables the engine's own queries read by key (the canonical
/// tables, `edges`; upper bounds: unchanged records are not rewritten). See [`super::stats`].
fn written_rows(page: &PageWrite) -> Vec<(&'static str, usize)> {
    let lists = std::iter::once(&page.records).chain(page.side.iter().map(|s| &s.records));
    let mut writes: Vec<(&'static str, usize)> = vec![("edges", 0)];
    for r in lists.flatten() {
        writes[0].1 += r.edges.len();
        match writes.iter_mut().find(|(t, _)| *t == r.table.table) {
            Some((_, n)) => *n += 1,
            None => writes.push((r.table.table, 1)),
        }
    }
    writes
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
    ) -> Result<sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>, StoreError>
    {
        let count = head.len() + batch.binds.len();
        let args = arguments(head.into_iter().chain(batch.binds), count)?;
        Ok(sqlx::query_with(sql(q), args))
    }

    /// Commits one page under `fence`. Refuses with [`StoreError::LeaseLost`] when another
    /// worker has claimed the entity run since, so a stale worker can never write. On SQLite
    /// the page goes to the writer thread (the `writer` module) in this process's write slot;
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
    ///
    /// New records are copied in ([`super::copy`]). A record the page took for new may be
    /// stored after all: another writer of the same records (a side-loaded entity is also
    /// listed on its own) stored it since the page looked, or the page did not look (see
    /// [`FreshEntities`](super::rules::FreshEntities)) and the list shifted. Then the copy
    /// fails with a unique violation, and the page is rolled back and written again,
    /// looking, and upserting what is stored (rare, and cheaper than a savepoint's round
    /// trips on every page).
    pub(crate) async fn stage_page(
        &self,
        fence: &Fence,
        page: PageWrite,
    ) -> Result<StagedPage, StoreError> {
        let writes = written_rows(&page);
        let mut copy = self.copies();
        loop {
            let mut tx = self.begin_page_write().await?;
            // An early way out only, without a row lock (which would make the next page's
            // transaction wait here): the checkpoint update re-checks the fence under its
            // lock.
            let row = sqlx::query(FENCE_SELECT)
                .bind(fence.entity_run_id.clone())
                .bind(fence.org_id.clone())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| fenced_run(&r))
                .transpose()?;
            fence.check(row)?;
            let now = now_ms();
            match self.write_page(&mut tx, fence, &page, now, copy).await {
                Ok((counts, side, looked)) => {
                    return Ok(StagedPage {
                        tx,
                        now,
                        counts,
                        side,
                        checkpoint: page.checkpoint,
                        fetched: page.fetched,
                        pages: page.pages,
                        writes,
                        looked,
                    });
                }
                Err(StoreError::Sqlx(e)) if copy && is_unique_violation(&e) => {
                    tracing::debug!(
                        entity = page.entity,
                        "a record taken for new is stored: the page is written again"
                    );
                    tx.rollback().await?;
                    copy = false;
                }
                Err(e) => return Err(e),
            }
        }
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
            looked,
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
        self.note_writes(&writes, looked);
        Ok((counts, side))
    }

    /// Writes a page's records, of its entity and those side-loaded with it: rows, edges,
    /// link columns, quarantine. With `copy`, new records are copied in at the end, all
    /// entities' together; else they are upserted as records stored before are. Also says
    /// whether any of its entities' records were looked up.
    async fn write_page(
        &self,
        tx: &mut PageTx,
        fence: &Fence,
        page: &PageWrite,
        now: i64,
        copy: bool,
    ) -> Result<(PageCounts, SideCounts, bool), StoreError> {
        let lists = std::iter::once((&page.entity, &page.records, &page.quarantined)).chain(
            page.side
                .iter()
                .map(|s| (&s.entity, &s.records, &s.quarantined)),
        );
        let lists: Vec<(&str, Vec<&PreparedRecord>, &[Quarantined], PageCounts)> = lists
            .map(|(entity, records, quarantined)| {
                let (records, counts) = dedupe(records);
                (entity.as_str(), records, quarantined.as_slice(), counts)
            })
            .collect();
        // An entity whose last page found none of its records stored (a first sync) copies
        // without looking: should one be stored after all, the copy fails on its key and the
        // page is written again, looking.
        let look: Vec<bool> = lists
            .iter()
            .map(|l| !(copy && self.fresh.all_new_last_time(fence, l.0)))
            .collect();
        let looked: Vec<&PreparedRecord> = lists
            .iter()
            .zip(&look)
            .filter(|(_, look)| **look)
            .flat_map(|(l, _)| l.1.iter().copied())
            .collect();
        let known = self.known_hashes(tx, looked).await?;
        for (l, _) in lists.iter().zip(&look).filter(|(_, look)| **look) {
            let all_new = l.1.iter().all(|r| !known.contains_key(&r.canonical_id));
            self.fresh.note(fence, l.0, all_new);
        }
        let mut fresh: Vec<(&str, &PreparedRecord)> = Vec::new();
        let mut all_counts = Vec::with_capacity(lists.len());
        for (entity, records, quarantined, mut counts) in lists.iter().cloned() {
            // Records stored before whose content changed (`stale_edges`) get their rows
            // upserted and their edges replaced; new ones are copied in at the end or, without
            // `copy`, written with them (`changed` holds both); unchanged ones are marked seen.
            let sorted = classify(records.iter().copied(), &mut counts, |r| {
                Ok::<_, StoreError>(known.get(&r.canonical_id).map(|h| *h == r.content_hash))
            })?;
            let written = if copy {
                let new = sorted
                    .changed
                    .iter()
                    .filter(|r| !known.contains_key(&r.canonical_id));
                fresh.extend(new.map(|r| (entity, *r)));
                &sorted.stale_edges
            } else {
                &sorted.changed
            };
            self.upsert_rows(tx, fence, entity, written, now).await?;
            self.delete_edges(tx, fence, &sorted.stale_edges).await?;
            self.insert_edges(tx, fence, written, now).await?;
            self.mark_seen(tx, fence, &sorted.unchanged, now).await?;
            counts.quarantined = quarantined.len() as u64;
            all_counts.push(counts);
        }
        copy_fresh(tx, fence, &fresh, now).await?;
        self.write_quarantine(tx, fence, &lists, now).await?;
        let mut all_counts = all_counts.into_iter();
        let counts = all_counts.next().unwrap_or_default();
        let side = page
            .side
            .iter()
            .zip(all_counts)
            .map(|(s, c)| (s.entity.clone(), s.fetched as u64, c))
            .collect();
        Ok((counts, side, look.contains(&true)))
    }

    /// The content hashes of the records stored already among `records`, by canonical id
    /// (which names the remote record: organisation, adapter, entity, id); one look-up a
    /// page, by each canonical table's key.
    async fn known_hashes(
        &self,
        tx: &mut PageTx,
        records: Vec<&PreparedRecord>,
    ) -> Result<HashMap<String, String>, StoreError> {
        if records.is_empty() {
            return Ok(HashMap::new());
        }
        let tables = by_table(&records, |r| r.table);
        let q = tables
            .iter()
            .enumerate()
            .map(|(i, (t, _))| {
                format!(
                    "SELECT \"id\", \"content_hash\" FROM \"{}\" WHERE \"id\" = ANY(${})",
                    t.table,
                    i + 1
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let mut query = sqlx::query(sql(q));
        for (_, records) in &tables {
            // A binary array parameter: the server reads no array text.
            let ids: Vec<&str> = records.iter().map(|r| r.canonical_id.as_str()).collect();
            query = query.bind(ids);
        }
        let rows = query.fetch_all(&mut **tx).await?;
        let mut known = HashMap::with_capacity(rows.len());
        for row in rows {
            let hash: Option<String> = row.try_get(1)?;
            // A row that did not come through an adapter has no hash: it is rewritten.
            known.insert(row.try_get(0)?, hash.unwrap_or_default());
        }
        Ok(known)
    }

    async fn upsert_rows(
        &self,
        tx: &mut PageTx,
        fence: &Fence,
        entity: &str,
        records: &[&PreparedRecord],
        now: i64,
    ) -> Result<(), StoreError> {
        for (table, records) in by_table(records, |r| r.table) {
            let types: Vec<ColumnType> = all_columns(table).map(|c| c.ty).collect();
            let rows = records.iter().map(|r| {
                let links = link_row(r, fence, entity, now).into_iter();
                r.values
                    .iter()
                    .map(Cow::Borrowed)
                    .chain(links.map(|v| Cow::Owned(v.to_bind())))
            });
            let batch = bulk::unnest(&types, rows);
            self.write_batch(tx, batch, |rows| row_upsert(table, rows))
                .await?;
        }
        Ok(())
    }

    /// Runs the statement `statement` makes of `batch`'s rows, if there are any.
    async fn write_batch(
        &self,
        tx: &mut PageTx,
        batch: Option<Batch>,
        statement: impl FnOnce(&str) -> String,
    ) -> Result<(), StoreError> {
        if let Some(batch) = batch {
            let q = statement(&batch.sql);
            self.bulk(q, Vec::new(), batch)?.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Marks `records` (stored already, unchanged) as seen now by this run.
    async fn mark_seen(
        &self,
        tx: &mut PageTx,
        fence: &Fence,
        records: &[&PreparedRecord],
        now: i64,
    ) -> Result<(), StoreError> {
        let columns = [
            Column::Each(ColumnType::Text),
            Column::Same(ColumnType::Text, Bind::Text(fence.org_id.clone())),
            Column::Same(ColumnType::Integer, Bind::Int(now)),
            Column::Same(ColumnType::Text, Bind::Text(fence.run_id.clone())),
        ];
        let rows = records.iter().map(|r| [Bind::Text(r.canonical_id.clone())]);
        let batch = bulk::unnest_shared(&columns, rows);
        self.write_batch(tx, batch, mark_upsert).await
    }

    async fn delete_edges(
        &self,
        tx: &mut PageTx,
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

    /// Inserts the edges of `records`, each once; an edge stored already stays.
    async fn insert_edges(
        &self,
        tx: &mut PageTx,
        fence: &Fence,
        records: &[&PreparedRecord],
        now: i64,
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
        let batch = bulk::unnest_shared(&columns, rows);
        self.write_batch(tx, batch, edge_insert).await
    }

    /// Quarantine: records that map now leave it, those that did not enter it (or stay, with
    /// the new reason). `lists` are the page's entities: name, records, refused records.
    async fn write_quarantine(
        &self,
        tx: &mut PageTx,
        fence: &Fence,
        lists: &[(&str, Vec<&PreparedRecord>, &[Quarantined], PageCounts)],
        now: i64,
    ) -> Result<(), StoreError> {
        // Most pages have nothing quarantined for their entities: one indexed probe of all
        // of them tells, instead of a delete per entity.
        let entities: Vec<&str> = lists
            .iter()
            .filter(|l| !l.1.is_empty())
            .map(|l| l.0)
            .collect();
        let held: Vec<String> = if entities.is_empty() {
            Vec::new()
        } else {
            sqlx::query_scalar(
                "SELECT e FROM UNNEST(CAST($3 AS TEXT[])) AS e WHERE EXISTS (SELECT 1 FROM \
                 quarantine q WHERE q.org_id = $1 AND q.adapter = $2 AND q.entity = e)",
            )
            .bind(fence.org_id.clone())
            .bind(fence.adapter.clone())
            .bind(entities)
            .fetch_all(&mut **tx)
            .await?
        };
        for (entity, good, bad, _) in lists {
            if held.iter().any(|h| h == entity) {
                let ids: Vec<&str> = good.iter().map(|r| r.external_id.as_str()).collect();
                sqlx::query(
                    "DELETE FROM quarantine WHERE org_id = $1 AND adapter = $2 AND entity = $3 \
                     AND external_id = ANY($4)",
                )
                .bind(fence.org_id.clone())
                .bind(fence.adapter.clone())
                .bind(*entity)
                .bind(ids)
                .execute(&mut **tx)
                .await?;
            }
            for q in *bad {
                sqlx::query(sql(quarantine_upsert(self.dialect)))
                    .bind(fence.org_id.clone())
                    .bind(fence.adapter.clone())
                    .bind(*entity)
                    .bind(q.external_id.clone())
                    .bind(q.raw.clone())
                    .bind(q.reason.clone())
                    .bind(fence.run_id.clone())
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }
}

/// Copies the rows (with their link columns) and edges of new records ([`CopyIn`]): one
/// statement per canonical table (without the columns every row leaves at their default:
/// [`copied_columns`]), one for all edges. `fresh` pairs each record with its
/// entity. Errors are the server's, for the caller to tell a unique violation from the rest.
async fn copy_fresh(
    tx: &mut PageTx,
    fence: &Fence,
    fresh: &[(&str, &PreparedRecord)],
    now: i64,
) -> Result<(), sqlx::Error> {
    for (table, records) in by_table(fresh, |(_, r)| r.table) {
        let only: Vec<&PreparedRecord> = records.iter().map(|(_, r)| *r).collect();
        let sent = copied_columns(table, &only);
        let columns = all_columns(table).zip(&sent).filter(|(_, s)| **s);
        let mut rows = CopyIn::new(table.table, columns.map(|(c, _)| c.name));
        rows.expect_rows(records.len());
        for (entity, r) in records {
            for ((v, c), _) in r
                .values
                .iter()
                .zip(all_columns(table))
                .zip(&sent)
                .filter(|(_, s)| **s)
            {
                rows.bind(v, c.ty);
            }
            for v in link_row(r, fence, entity, now) {
                match v {
                    LinkValue::Text(s) => rows.text(s),
                    LinkValue::Null => rows.null(),
                    LinkValue::Int(i) => rows.int(i),
                };
            }
            rows.end_row();
        }
        rows.send(tx).await?;
    }
    let records: Vec<&PreparedRecord> = fresh.iter().map(|(_, r)| *r).collect();
    let mut edges = CopyIn::new("edges", EDGE_COLUMNS);
    let distinct = distinct_edges(&records);
    edges.expect_rows(distinct.len());
    for (source, relationship, target) in distinct {
        edges
            .text(&fence.org_id)
            .text(&fence.adapter)
            .text(source)
            .text(relationship)
            .text(target)
            .int(now)
            .end_row();
    }
    edges.send(tx).await
}
