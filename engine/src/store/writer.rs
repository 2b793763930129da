//! SQLite's page writer: page transactions run on a connection of their own, on a thread of
//! their own, one call per page.
//!
//! Through `sqlx` a page was a few dozen statements, each built as text on the async side,
//! its thousands of arguments boxed and sent to the driver's thread, parsed afresh by SQLite
//! (a multi-row statement's text changes with the page) and answered back. Here the thread
//! receives the page itself and runs single-row statements prepared once per connection:
//! SQLite's cheapest way to write many rows, with nothing parsed per page and no value copied
//! on the way. The rules and the statements' text come from [`super::rules`], shared with the
//! `sqlx` path that PostgreSQL takes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tokio::sync::oneshot;

use super::rules::{
    FENCE_SELECT, FreshEntities, LINK_PER_RECORD, LinkValue, RUN_UPDATE, SIDE_RUN_UPDATE,
    all_columns, by_table, classify, dedupe, distinct_edges, edge_insert, hash_select, link_row,
    mark_upsert, quarantine_upsert, row_insert, row_upsert,
};
use super::{Bind, Dialect, PageCounts, PageWrite, PreparedRecord, Quarantined, SideCounts};
use crate::canonical::TableDef;
use crate::error::StoreError;
use crate::lease::Fence;

/// What a page commit returns.
type Outcome = Result<(PageCounts, SideCounts), StoreError>;

/// The page written, sent back with its outcome to be freed on the caller's thread: freeing
/// its records was 4 % of the writer thread's instructions, and that thread is the one a sync
/// waits for.
type Spent = PageWrite;

/// One page to commit, and where the outcome goes.
struct Job {
    fence: Fence,
    page: PageWrite,
    lease_ttl_ms: i64,
    now: i64,
    reply: oneshot::Sender<(Outcome, Spent)>,
}

/// The writer thread's handle: a queue of page jobs.
pub(crate) struct PageWriter {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for PageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageWriter").finish_non_exhaustive()
    }
}

impl rusqlite::ToSql for Bind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        // As sqlx stores them: booleans are integers 0/1, everything textual is text.
        Ok(ToSqlOutput::Borrowed(match self {
            Bind::Null(_) => ValueRef::Null,
            Bind::Text(s) => ValueRef::Text(s.as_bytes()),
            Bind::Int(i) => ValueRef::Integer(*i),
            Bind::Float(f) => ValueRef::Real(*f),
            Bind::Bool(b) => ValueRef::Integer(i64::from(*b)),
        }))
    }
}

impl PageWriter {
    /// Opens a connection to the database file at `path` (created and migrated already) and
    /// starts the thread that owns it.
    pub(crate) fn open(path: &Path, fresh: Arc<FreshEntities>) -> Result<PageWriter, StoreError> {
        let conn = connection(path)?;
        let (jobs, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let mut writer = Writer {
                    conn,
                    sql: Statements::new(),
                    fresh,
                };
                while let Ok(job) = rx.recv() {
                    let outcome = writer.commit(&job.fence, &job.page, job.lease_ttl_ms, job.now);
                    let _ = job.reply.send((outcome, job.page));
                }
            })
            .map_err(|e| StoreError::Writer(format!("starting SQLite's writer thread: {e}")))?;
        Ok(PageWriter {
            jobs: Mutex::new(Some(jobs)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Commits `page` under `fence` (see [`super::Store::commit_page`]). The caller holds the
    /// process's SQLite write slot.
    pub(crate) async fn commit(
        &self,
        fence: &Fence,
        page: PageWrite,
        lease_ttl_ms: i64,
        now: i64,
    ) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            fence: fence.clone(),
            page,
            lease_ttl_ms,
            now,
            reply,
        };
        let stopped = || StoreError::Writer("SQLite's writer thread has stopped".into());
        let sent = match &*self.jobs.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(stopped());
        }
        let (outcome, spent) = outcome.await.map_err(|_| stopped())?;
        drop(spent);
        outcome
    }

    /// Stops the thread after the jobs sent so far and closes its connection.
    pub(crate) async fn close(&self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// The writer's connection to the database file at `path`, set up as the pool's connections
/// are (see `Store::connect`; the soft heap limit is process-wide and set there).
fn connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA busy_timeout = 30000; PRAGMA temp_store = MEMORY; \
         PRAGMA wal_autocheckpoint = 8192;",
    )?;
    // Every statement a page runs stays prepared: one upsert per canonical table and about
    // ten others.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The thread's state: the connection (with its prepared statements) and their text.
struct Writer {
    conn: Connection,
    sql: Statements,
    /// The entities whose pages insert without looking (see [`FreshEntities`]).
    fresh: Arc<FreshEntities>,
}

/// The text of the writer's statements, built once: it is also the key of each statement in
/// the connection's cache of prepared statements.
struct Statements {
    fence: String,
    side_update: String,
    run_update: String,
    edge_insert: String,
    mark_upsert: String,
    quarantine_upsert: String,
    /// The statements of each canonical table, built when the table is first written.
    tables: HashMap<&'static str, TableStatements>,
}

/// The statements that write one canonical table.
struct TableStatements {
    /// Upserts a row (all columns: [`all_columns`]).
    upsert: String,
    /// Inserts a new row.
    insert: String,
    /// Reads a stored row's content hash by id.
    hash: String,
}

impl Statements {
    fn new() -> Statements {
        Statements {
            fence: numbered(FENCE_SELECT),
            side_update: numbered(SIDE_RUN_UPDATE),
            run_update: numbered(RUN_UPDATE),
            edge_insert: edge_insert(&one_row(6)),
            mark_upsert: mark_upsert(&one_row(4)),
            quarantine_upsert: numbered(&quarantine_upsert(Dialect::Sqlite)),
            tables: HashMap::new(),
        }
    }

    /// The statements of `table`.
    fn table(&mut self, table: &'static TableDef) -> &TableStatements {
        self.tables.entry(table.table).or_insert_with(|| {
            let values = one_row(all_columns(table).count());
            TableStatements {
                upsert: row_upsert(table, &values),
                insert: row_insert(table, &values),
                hash: numbered(&hash_select(table)),
            }
        })
    }
}

/// `$n` placeholders as SQLite's numbered `?n`, for the statements shared with `sqlx` (which
/// maps `$n` itself).
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

/// `VALUES (?, …)` with `n` parameters.
fn one_row(n: usize) -> String {
    format!("VALUES ({})", vec!["?"; n].join(", "))
}

impl Writer {
    /// Commits `page`. Entities whose last page found none of their records stored insert
    /// without looking ([`FreshEntities`]); should one be stored after all, the insert fails
    /// on its key, and the page is rolled back and written again, looking.
    fn commit(&mut self, fence: &Fence, page: &PageWrite, lease_ttl_ms: i64, now: i64) -> Outcome {
        match self.write(fence, page, lease_ttl_ms, now, true) {
            Err(StoreError::Sqlite(e)) if is_unique_violation(&e) => {
                self.write(fence, page, lease_ttl_ms, now, false)
            }
            other => other,
        }
    }

    /// One attempt at [`Writer::commit`]; `guess` lets fresh entities skip the look-up.
    fn write(
        &mut self,
        fence: &Fence,
        page: &PageWrite,
        lease_ttl_ms: i64,
        now: i64,
        guess: bool,
    ) -> Outcome {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_fence(&tx, &self.sql, fence)?;
        let mut write = |entity: &str, records: &[PreparedRecord], quarantined: &[Quarantined]| {
            let w = Write {
                tx: &tx,
                fence,
                entity,
                now,
                fresh: &self.fresh,
                guess,
            };
            write_records(&w, &mut self.sql, records, quarantined)
        };
        let counts = write(&page.entity, &page.records, &page.quarantined)?;
        let mut side = Vec::with_capacity(page.side.len());
        for s in &page.side {
            let c = write(&s.entity, &s.records, &s.quarantined)?;
            side.push((s.entity.clone(), s.fetched as u64, c));
        }
        {
            let mut update = tx.prepare_cached(&self.sql.side_update)?;
            for (entity, fetched, c) in &side {
                update.execute(params![
                    *fetched as i64,
                    c.created as i64,
                    c.updated as i64,
                    c.unchanged as i64,
                    c.quarantined as i64,
                    now,
                    fence.run_id,
                    fence.org_id,
                    entity,
                ])?;
            }
        }
        let cp = &page.checkpoint;
        let changed = tx.prepare_cached(&self.sql.run_update)?.execute(params![
            cp.cursor_parent,
            cp.next_offset,
            page.fetched as i64,
            counts.created as i64,
            counts.updated as i64,
            counts.unchanged as i64,
            counts.quarantined as i64,
            if cp.done { "done" } else { "running" },
            cp.done.then_some(now),
            now + lease_ttl_ms,
            now,
            fence.entity_run_id,
            fence.org_id,
            fence.epoch,
            fence.owner,
            page.pages as i64,
        ])?;
        if changed != 1 {
            // Dropping the transaction rolls the page back.
            return Err(fence.lost());
        }
        tx.commit()?;
        Ok((counts, side))
    }
}

/// Refuses early when the fence no longer holds (the run update re-checks it).
fn check_fence(tx: &Transaction<'_>, sql: &Statements, fence: &Fence) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(&sql.fence)?;
    let row = stmt
        .query_row(params![fence.entity_run_id, fence.org_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .optional()?;
    fence.check(row)
}

/// What the writes of one entity's records in a page share.
struct Write<'a> {
    tx: &'a Transaction<'a>,
    fence: &'a Fence,
    entity: &'a str,
    now: i64,
    fresh: &'a FreshEntities,
    /// Whether the entity may skip the look-up when its last page found nothing stored.
    guess: bool,
}

/// One entity's records of a page: rows (with their link columns), edges, quarantine (as
/// `Store::write_page` does on PostgreSQL). Returns the counts.
fn write_records(
    w: &Write<'_>,
    sql: &mut Statements,
    page_records: &[PreparedRecord],
    quarantined: &[Quarantined],
) -> Result<PageCounts, StoreError> {
    let (tx, fence, entity, now) = (w.tx, w.fence, w.entity, w.now);
    let (records, mut counts) = dedupe(page_records);
    let tables = by_table(&records, |r| r.table);
    for (table, _) in &tables {
        sql.table(table);
    }
    let sql = &*sql;
    let statements = |t: &TableDef| &sql.tables[t.table];
    let new = w.guess && w.fresh.all_new_last_time(fence, entity);
    let sorted = if new {
        classify(records.iter().copied(), &mut counts, |_| {
            Ok::<_, StoreError>(None)
        })?
    } else {
        // The canonical id names the remote record (organisation, adapter, entity, id). The
        // look-up statement is taken from the connection's cache when the table changes: once
        // per write, an entity's records being of one table.
        let mut lookup: Option<(&TableDef, rusqlite::CachedStatement<'_>)> = None;
        let mut any_known = false;
        let sorted = classify(records.iter().copied(), &mut counts, |r| {
            let known = match &mut lookup {
                Some((t, known)) if std::ptr::eq(*t, r.table) => known,
                _ => {
                    let known = tx.prepare_cached(&statements(r.table).hash)?;
                    &mut lookup.insert((r.table, known)).1
                }
            };
            let same = known
                .query_row(params![r.canonical_id], |row| {
                    Ok(row.get_ref(0)?.as_str_or_null()? == Some(r.content_hash.as_str()))
                })
                .optional();
            any_known |= matches!(same, Ok(Some(_)));
            same
        })?;
        w.fresh.note(fence, entity, !any_known);
        sorted
    };
    for (table, changed) in by_table(&sorted.changed, |r| r.table) {
        let s = statements(table);
        write_rows(w, if new { &s.insert } else { &s.upsert }, &changed)?;
    }
    if !sorted.stale_edges.is_empty() {
        let mut delete = tx.prepare_cached(
            "DELETE FROM edges WHERE org_id = ?1 AND adapter = ?2 AND source_id = ?3",
        )?;
        for r in &sorted.stale_edges {
            delete.execute(params![fence.org_id, fence.adapter, r.canonical_id])?;
        }
    }
    // What every edge of the write shares is bound once: a binding outlives the step
    // (SQLite copies each text value it binds).
    let edges = distinct_edges(&sorted.changed);
    if !edges.is_empty() {
        let mut insert = tx.prepare_cached(&sql.edge_insert)?;
        // (organisation, adapter, source, relationship, target, seen)
        insert.raw_bind_parameter(1, &fence.org_id)?;
        insert.raw_bind_parameter(2, &fence.adapter)?;
        insert.raw_bind_parameter(6, now)?;
        for (source, rel, target) in edges {
            insert.raw_bind_parameter(3, source)?;
            insert.raw_bind_parameter(4, rel)?;
            insert.raw_bind_parameter(5, target)?;
            insert.raw_execute()?;
        }
    }
    if !sorted.unchanged.is_empty() {
        let mut mark = tx.prepare_cached(&sql.mark_upsert)?;
        // (canonical id, organisation, seen, run)
        mark.raw_bind_parameter(2, &fence.org_id)?;
        mark.raw_bind_parameter(3, now)?;
        mark.raw_bind_parameter(4, &fence.run_id)?;
        for r in &sorted.unchanged {
            mark.raw_bind_parameter(1, &r.canonical_id)?;
            mark.raw_execute()?;
        }
    }
    write_quarantine(tx, sql, fence, entity, &records, quarantined, now)?;
    counts.quarantined = quarantined.len() as u64;
    Ok(counts)
}

/// Whether `e` is SQLite's unique or primary key violation.
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

/// Writes `records` (of one table) with `sql`, an insert or upsert of every column: the
/// record's values, then its link columns ([`link_row`]). What all rows share (the link
/// columns outside [`LINK_PER_RECORD`]) is bound once: a binding outlives the step, and
/// SQLite copies each text value it binds.
fn write_rows(w: &Write<'_>, sql: &str, records: &[&PreparedRecord]) -> Result<(), StoreError> {
    let Some(first) = records.first() else {
        return Ok(());
    };
    let mut stmt = w.tx.prepare_cached(sql)?;
    let link = first.values.len() + 1;
    for (i, v) in link_row(first, w.fence, w.entity, w.now).iter().enumerate() {
        stmt.raw_bind_parameter(link + i, v)?;
    }
    for r in records {
        for (i, v) in r.values.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, v)?;
        }
        let row = link_row(r, w.fence, w.entity, w.now);
        for i in LINK_PER_RECORD {
            stmt.raw_bind_parameter(link + i, row[i])?;
        }
        stmt.raw_execute()?;
    }
    Ok(())
}

impl rusqlite::ToSql for LinkValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            LinkValue::Text(s) => ValueRef::Text(s.as_bytes()),
            LinkValue::Null => ValueRef::Null,
            LinkValue::Int(i) => ValueRef::Integer(i),
        }))
    }
}

fn write_quarantine(
    tx: &Transaction<'_>,
    sql: &Statements,
    fence: &Fence,
    entity: &str,
    good: &[&PreparedRecord],
    bad: &[Quarantined],
    now: i64,
) -> Result<(), StoreError> {
    // A record that maps now leaves quarantine; most pages have nothing quarantined.
    if !good.is_empty() {
        let any = tx
            .prepare_cached(
                "SELECT 1 FROM quarantine WHERE org_id = ?1 AND adapter = ?2 AND entity = ?3 \
                 LIMIT 1",
            )?
            .exists(params![fence.org_id, fence.adapter, entity])?;
        if any {
            let mut delete = tx.prepare_cached(
                "DELETE FROM quarantine WHERE org_id = ?1 AND adapter = ?2 AND entity = ?3 \
                 AND external_id = ?4",
            )?;
            for r in good {
                delete.execute(params![fence.org_id, fence.adapter, entity, r.external_id])?;
            }
        }
    }
    if !bad.is_empty() {
        let mut insert = tx.prepare_cached(&sql.quarantine_upsert)?;
        for q in bad {
            insert.execute(params![
                fence.org_id,
                fence.adapter,
                entity,
                q.external_id,
                q.raw,
                q.reason,
                fence.run_id,
                now,
            ])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::ColumnType;

    #[test]
    fn the_writer_connection_is_durable_and_waits_for_other_writers() {
        let dir = tempfile::tempdir().unwrap();
        let conn = connection(&dir.path().join("w.db")).unwrap();
        let pragma = |name: &str| -> String {
            let v: rusqlite::types::Value = conn
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap();
            match v {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            }
        };
        assert_eq!(pragma("journal_mode"), "wal");
        assert_eq!(pragma("synchronous"), "1", "NORMAL");
        assert_eq!(pragma("busy_timeout"), "30000");
        assert_eq!(pragma("temp_store"), "2", "MEMORY");
        assert_eq!(pragma("wal_autocheckpoint"), "8192");
    }

    /// Values reach SQLite with the storage classes sqlx gives them (booleans as integers),
    /// so rows read back alike whichever path wrote them.
    #[test]
    fn binds_keep_their_storage_class() {
        let conn = Connection::open_in_memory().unwrap();
        let cases = [
            (Bind::Null(ColumnType::Boolean), "null"),
            (Bind::Text("héllo".into()), "text"),
            (Bind::Int(-3), "integer"),
            (Bind::Float(0.5), "real"),
            (Bind::Bool(true), "integer"),
        ];
        for (bind, class) in cases {
            let (got, text): (String, Option<String>) = conn
                .query_row("SELECT typeof(?1), CAST(?1 AS TEXT)", [&bind], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap();
            assert_eq!(got, class, "{bind:?}");
            let expected = match &bind {
                Bind::Null(_) => None,
                Bind::Text(s) => Some(s.clone()),
                Bind::Int(i) => Some(i.to_string()),
                Bind::Float(f) => Some(f.to_string()),
                Bind::Bool(b) => Some(i64::from(*b).to_string()),
            };
            assert_eq!(text, expected, "{bind:?}");
        }
    }
}
