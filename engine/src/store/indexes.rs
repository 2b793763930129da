//! Secondary indexes built once a first load is in, not row by row.
//!
//! The canonical tables' `(org_id, updated_at)` indexes and the edges' `target_id` index
//! take their keys in no particular order (see [`secondary`]): a first sync inserted each row at a random place
//! in each, which on SQLite meant reading and rewriting a random index page per row once the
//! indexes outgrew the page cache, and on PostgreSQL about a third of the server's work.
//! Sorting the keys once at the end is much cheaper. Measured (4 entities, one run each
//! pair): SQLite at 200,000 people 9.3–9.5 s with the indexes, 6.6–7.7 s without plus
//! 1.0–1.1 s to build them; PostgreSQL at 50,000 people 3.0–3.1 s against 2.8–2.9 s
//! including the builds.
//!
//! So a sync drops the secondary indexes of the tables it will fill *while they hold no row*
//! ([`Store::defer_indexes`]) and builds them when it ends ([`Store::build_missing_indexes`]).
//! They are plain (not unique) indexes: no query's answer depends on them, and the page
//! transactions never read through them. A process that dies mid-sync leaves them missing
//! until the next [`Store::connect`] after its leases expire, which builds whatever the
//! spec's schema has and the database lacks. Migrations that drop or change one of these indexes must say `IF EXISTS`.

use futures::StreamExt;
use sqlx::Executor;

use super::{Dialect, Store, sql};
use crate::error::StoreError;

/// The first key of the PostgreSQL advisory locks that serialise builds of one index
/// (the second is a hash of its name): an arbitrary constant, "TRIB".
const LOCK_CLASS: i32 = 0x5452_4942;

/// One secondary index of a table a sync fills, as the spec's schema declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Secondary {
    /// The index name.
    pub name: String,
    /// The table it indexes.
    pub table: String,
    /// Its `CREATE INDEX IF NOT EXISTS` statement.
    pub create: String,
}

/// The secondary indexes of the canonical entity tables and `edges` in `schema` (the spec's
/// generated schema: its `CREATE INDEX "name" ON "table" …` statements) that a first load
/// builds at its end: those whose keys arrive in no order, and on PostgreSQL the owner
/// indexes too (`with_owner`).
///
/// Owned records arrive grouped by owner, in the owners' order (side-loaded with them or
/// listed under each), so owner keys append. SQLite does that cheaply, and building them at
/// the end cost more than it saved (500,000 people: 20.7 s deferring them too, 19.4 s keeping
/// them). PostgreSQL pays for every index entry as it comes, appended or not (a WAL record
/// each): copying a sync's 44,911 emails from a file (medians of 5) took 410 ms with the primary
/// key and the owner index, 302 ms with the key alone, and the owner index then built in
/// 45 ms. A 50,000-person sync deferring them, 14 interleaved pairs: 2–5 % less wall time.
pub(crate) fn secondary(schema: &str, with_owner: bool) -> Vec<Secondary> {
    let filled = |table: &str| {
        table == "edges" || crate::canonical::ENTITIES.iter().any(|t| t.table == table)
    };
    schema
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("CREATE INDEX \"")?;
            let (name, rest) = rest.split_once('"')?;
            let table = rest.strip_prefix(" ON \"")?.split_once('"')?.0;
            let in_order = name.ends_with("_owner_idx") && !with_owner;
            (filled(table) && !in_order).then(|| Secondary {
                name: name.to_owned(),
                table: table.to_owned(),
                create: line.trim().trim_end_matches(';').replacen(
                    "CREATE INDEX",
                    "CREATE INDEX IF NOT EXISTS",
                    1,
                ),
            })
        })
        .collect()
}

/// Whether `table` holds a row (at most one counted: `EXISTS` is a boolean on PostgreSQL, an
/// integer on SQLite).
async fn holds_rows<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    table: &str,
) -> Result<bool, sqlx::Error> {
    let rows: i64 = sqlx::query_scalar(sql(format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM \"{table}\" LIMIT 1) AS t"
    )))
    .fetch_one(db)
    .await?;
    Ok(rows > 0)
}

impl Store {
    /// Builds the missing secondary indexes ([`Store::build_missing_indexes`]) unless a sync
    /// holds a live lease: a first load under way builds them itself when it ends, and a
    /// process that only opened the store (`status`, the dashboard, a sync of another
    /// organisation) would otherwise build them in the middle of that load, which then
    /// maintains them row by row. Once no lease is live, whoever opens the store next repairs
    /// what a dead sync left.
    pub(crate) async fn repair_indexes(&self) -> Result<(), StoreError> {
        let live: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM entity_runs WHERE state = 'running' AND lease_expires_ms > $1",
        )
        .bind(super::now_ms())
        .fetch_one(&self.pool)
        .await?;
        if live == 0 {
            self.build_missing_indexes().await?;
        }
        Ok(())
    }

    /// The secondary indexes of this store's dialect.
    fn secondary(&self) -> Vec<Secondary> {
        secondary(self.dialect.schema(), self.dialect == Dialect::Postgres)
    }

    /// Names of the indexes the database has (of its current schema).
    async fn index_names(&self) -> Result<Vec<String>, StoreError> {
        let q = match self.dialect {
            Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index'",
            Dialect::Postgres => {
                "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema()"
            }
        };
        Ok(sqlx::query_scalar(q).fetch_all(&self.pool).await?)
    }

    /// Drops the secondary indexes of those of `tables` that hold no row, for a sync to fill
    /// them without index maintenance; returns the indexes dropped. A table that holds rows
    /// is told without a lock; for an empty one the check is repeated and the indexes dropped
    /// in one transaction, under PostgreSQL's table lock (SQLite's write lock), so a
    /// concurrent writer cannot slip rows in between. A PostgreSQL table whose lock is not
    /// had within 2 s keeps its indexes.
    pub async fn defer_indexes(&self, tables: &[&str]) -> Result<Vec<String>, StoreError> {
        let have = self.index_names().await?;
        let all = self.secondary();
        let mut dropped = Vec::new();
        for table in tables {
            let indexes: Vec<&Secondary> = all
                .iter()
                .filter(|s| s.table == *table && have.contains(&s.name))
                .collect();
            if indexes.is_empty() {
                continue;
            }
            // Most syncs find their tables holding rows: they are told so without a lock.
            if holds_rows(&self.pool, table).await? {
                continue;
            }
            let begin = match self.dialect {
                Dialect::Sqlite => "BEGIN IMMEDIATE",
                // Deferring only saves time: a table another session keeps busy (a long
                // read) is filled with its indexes rather than waited for. Nor does the
                // commit wait for its WAL to reach the disk (3–5 ms a table on these
                // machines, in front of every first sync): should the server lose it in a
                // crash, the indexes are merely still there.
                Dialect::Postgres => {
                    "BEGIN; SET LOCAL lock_timeout = '2s'; SET LOCAL synchronous_commit = off"
                }
            };
            let mut tx = self.pool.begin_with(begin).await?;
            if self.dialect == Dialect::Postgres {
                let lock = format!("LOCK TABLE \"{table}\" IN ACCESS EXCLUSIVE MODE");
                match (&mut *tx).execute(sql(lock)).await {
                    Ok(_) => {}
                    // The transaction rolls back as it drops.
                    Err(e)
                        if e.as_database_error().and_then(|d| d.code()).as_deref()
                            == Some("55P03") =>
                    {
                        tracing::debug!(table, "table busy: its indexes are not deferred");
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            // Again under the lock: rows may have arrived since.
            if holds_rows(&mut *tx, table).await? {
                continue;
            }
            for s in indexes {
                (&mut *tx)
                    .execute(sql(format!("DROP INDEX IF EXISTS \"{}\"", s.name)))
                    .await?;
                dropped.push(s.name.clone());
            }
            tx.commit().await?;
        }
        if !dropped.is_empty() {
            tracing::debug!(?dropped, "secondary indexes deferred until the sync ends");
        }
        Ok(dropped)
    }

    /// Builds the secondary indexes the spec's schema declares and the database lacks
    /// (deferred by a sync, or left missing by one that did not finish); returns their names.
    /// PostgreSQL builds a few at once, on connections of their own, each without parallel
    /// workers: at the end of a 50,000-person sync (10 indexes, 4 at a time, 6 interleaved
    /// pairs) the builds took 342–458 ms (median 372) against 442–578 ms (537) with the
    /// server's default of 2 workers each. SQLite builds one after the other (one writer),
    /// sorting in temporary files rather than in memory.
    pub async fn build_missing_indexes(&self) -> Result<Vec<String>, StoreError> {
        let have = self.index_names().await?;
        let missing: Vec<Secondary> = self
            .secondary()
            .into_iter()
            .filter(|s| !have.contains(&s.name))
            .collect();
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let started = std::time::Instant::now();
        let names: Vec<String> = missing.iter().map(|s| s.name.clone()).collect();
        match self.dialect {
            Dialect::Sqlite => {
                let mut conn = self.pool.acquire().await?;
                // temp_store = MEMORY (the pool's setting) would hold the sorter's spill in
                // memory: peak RSS growing with the organisation.
                conn.execute("PRAGMA temp_store = FILE").await?;
                let mut result = Ok(());
                for s in &missing {
                    if let Err(e) = conn.execute(sql(s.create.clone())).await {
                        result = Err(e);
                        break;
                    }
                }
                conn.execute("PRAGMA temp_store = MEMORY").await?;
                result?;
            }
            Dialect::Postgres => {
                let builds = futures::stream::iter(missing.iter().map(|s| {
                    let create = s.create.clone();
                    // Two syncs ending together would both find the index missing and
                    // both create it (a unique violation in the catalog): a lock per index
                    // name makes the second wait, then find it.
                    let lock = format!(
                        "SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock({LOCK_CLASS}, \
                         hashtext('{}'))) AS l",
                        s.name
                    );
                    async move {
                        // The builds run side by side already; parallel workers on top
                        // (PostgreSQL's default, 2 per build) oversubscribed the server's
                        // cores and split each build's sort memory among them. A commit
                        // lost in a crash leaves an index missing, which the next
                        // `Store::connect` builds: no need to wait for the WAL's flush.
                        let mut tx = self
                            .pool
                            .begin_with(
                                "BEGIN; SET LOCAL max_parallel_maintenance_workers = 0; \
                                 SET LOCAL synchronous_commit = off",
                            )
                            .await?;
                        sqlx::query_scalar::<_, i64>(sql(lock))
                            .fetch_one(&mut *tx)
                            .await?;
                        (&mut *tx).execute(sql(create)).await?;
                        tx.commit().await
                    }
                }))
                .buffer_unordered(4)
                .collect::<Vec<_>>()
                .await;
                for b in builds {
                    b?;
                }
            }
        }
        tracing::debug!(built = ?names, elapsed = ?started.elapsed(), "secondary indexes built");
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filled_tables_secondary_indexes_come_from_the_spec_schema() {
        for (schema, with_owner) in [
            (crate::canonical::SQLITE_SCHEMA, false),
            (crate::canonical::POSTGRES_SCHEMA, true),
        ] {
            let all = secondary(schema, with_owner);
            let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
            for want in ["people_org_idx", "emails_org_idx", "edges_idx0"] {
                assert!(names.contains(&want), "{want} in {names:?}");
            }
            // One per entity table, plus its owner index on PostgreSQL, one per ref column,
            // one on edges; none of the run-state tables.
            let refs: usize = crate::canonical::ENTITIES
                .iter()
                .map(|t| t.refs.len())
                .sum();
            let per_table = if with_owner { 2 } else { 1 };
            assert!(names.contains(&"people_primary_campus_idx"), "{names:?}");
            assert_eq!(
                all.len(),
                crate::canonical::ENTITIES.len() * per_table + refs + 1,
                "{names:?}"
            );
            let owners = names.iter().filter(|n| n.ends_with("_owner_idx")).count();
            assert_eq!(
                owners,
                if with_owner {
                    crate::canonical::ENTITIES.len()
                } else {
                    0
                }
            );
            assert!(
                !names
                    .iter()
                    .any(|n| n.starts_with("sync_runs") || n.starts_with("entity_runs"))
            );
            let people = all.iter().find(|s| s.name == "people_org_idx").unwrap();
            assert_eq!(people.table, "people");
            assert!(
                people
                    .create
                    .starts_with("CREATE INDEX IF NOT EXISTS \"people_org_idx\" ON \"people\" (")
            );
            assert!(!people.create.ends_with(';'));
        }
    }
}
