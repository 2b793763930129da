//! Planner statistics on PostgreSQL: the store analyzes the tables its own queries read by key
//! as they grow.
//!
//! A first sync fills empty tables. Until PostgreSQL analyzes them, its planner believes they
//! hold about nothing: when links were keyed by (org, adapter, entity, id) it took that
//! prefix for one row, so the per-page hash lookup scanned the whole prefix and filtered the
//! page's ids instead of looking each one up: a page cost grew with the organisation, and
//! 500,000 people took 44× the time of 50,000. Autovacuum would analyze the tables at most
//! once a minute, and not at all where it is off (as on these machines). So the store counts
//! the rows it writes to the canonical tables and `edges` (the tables the page transaction
//! looks up by key) and analyzes a table whenever it has taken as many rows as it held at its
//! last analysis (at least [`MIN_ROWS`]): about log₂(n / 1,000) analyses of a table that grows
//! to n rows, each of a small fixed-size sample ([`STATISTICS_TARGET`]). They run beside the
//! page transactions, and a sync waits for them before it returns ([`Store::settle`]).

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::Row;

use super::{Dialect, Store, sql};
use crate::error::StoreError;

/// Rows written before a table is first analyzed.
const MIN_ROWS: f64 = 1_000.0;

/// The statistics target of the store's analyses (PostgreSQL's default is 100).
///
/// The page transaction's look-ups only need the planner to know that a key prefix holds
/// many rows and that the ids are distinct; a sample of 300 × 10 rows says as much as one
/// of 30,000, and the analysis takes about a ninth of the time (18 against 169 ms for
/// `external_links`, then a table, at 160,000 rows). Autovacuum's analyses, where it runs,
/// use the server's target again.
const STATISTICS_TARGET: u32 = 10;

/// Analyzes `table` at [`STATISTICS_TARGET`], in a transaction of its own so that the target
/// applies to this analysis only (and a failed one is rolled back, not left open on a pooled
/// connection). A canonical table is analyzed for its key only, the one column the store's
/// queries select it by (the size estimates come with any analysis): a wide table's other
/// columns made each analysis about three times as long (people at 50,000 rows: 30–36 ms
/// against 10 ms), and a first sync analyzes each table about six times.
async fn analyze(pool: &sqlx::AnyPool, table: &str) -> Result<(), sqlx::Error> {
    let begin = format!("BEGIN; SET LOCAL default_statistics_target = {STATISTICS_TARGET}");
    let mut tx = pool.begin_with(sql(begin)).await?;
    let canonical = crate::canonical::ENTITIES.iter().any(|t| t.table == table);
    let columns = if canonical { " (\"id\")" } else { "" };
    sqlx::raw_sql(sql(format!("ANALYZE \"{table}\"{columns}")))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Rows written per table since its last analysis, and the analyses under way.
#[derive(Debug, Default)]
pub(crate) struct Growth {
    tables: Mutex<HashMap<String, Entry>>,
    running: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Rows the table held at its last analysis (PostgreSQL's `reltuples`), as far as known.
    base: f64,
    /// Rows written since.
    written: f64,
}

impl Growth {
    /// Records `n` rows written to `table`; true when the table is due for analysis (and then
    /// counts the analysis as done, so that concurrent writers do not repeat it).
    fn note(&self, table: &str, n: usize) -> bool {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let Some(e) = tables.get_mut(table) else {
            return false;
        };
        e.written += n as f64;
        if e.written < e.base.max(MIN_ROWS) {
            return false;
        }
        e.base += e.written;
        e.written = 0.0;
        true
    }
}

impl Store {
    /// Reads what PostgreSQL knows of the size of every table of the current schema.
    pub(crate) async fn load_growth(&self) -> Result<(), StoreError> {
        if self.dialect != Dialect::Postgres {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT c.relname::TEXT, GREATEST(c.reltuples, 0)::FLOAT8 FROM pg_class c \
             WHERE c.relkind = 'r' AND c.relnamespace = to_regnamespace(current_schema())",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut tables = self.growth.tables.lock().unwrap_or_else(|e| e.into_inner());
        for row in rows {
            let base: f64 = row.try_get(1)?;
            tables.insert(row.try_get(0)?, Entry { base, written: 0.0 });
        }
        Ok(())
    }

    /// Counts rows just committed per table and starts an analysis of each table that has
    /// doubled. Statistics only steer plans, so a failed analysis is logged, not returned.
    pub(crate) fn note_writes(&self, writes: &[(&str, usize)]) {
        if self.dialect != Dialect::Postgres {
            return;
        }
        for &(table, n) in writes {
            if n == 0 || !self.growth.note(table, n) {
                continue;
            }
            let (pool, table) = (self.pool.clone(), table.to_owned());
            let task = tokio::spawn(async move {
                let started = std::time::Instant::now();
                match analyze(&pool, &table).await {
                    Ok(_) => tracing::debug!(table, elapsed = ?started.elapsed(), "analyzed"),
                    Err(e) => tracing::warn!(table, error = %e, "could not analyze the table"),
                }
            });
            let mut running = self
                .growth
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            running.retain(|t| !t.is_finished());
            running.push(task);
        }
    }

    /// Waits for the analyses under way.
    pub async fn settle(&self) {
        let running = std::mem::take(
            &mut *self
                .growth
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for task in running {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn growth(base: f64) -> Growth {
        let g = Growth::default();
        g.tables
            .lock()
            .unwrap()
            .insert("t".into(), Entry { base, written: 0.0 });
        g
    }

    #[test]
    fn an_empty_table_is_analyzed_after_a_thousand_rows_then_each_time_it_doubles() {
        let g = growth(0.0);
        assert!(!g.note("t", 999));
        assert!(g.note("t", 1));
        assert!(!g.note("t", 999));
        assert!(g.note("t", 1), "1,000 more rows double the table");
        assert!(!g.note("t", 1_999));
        assert!(g.note("t", 1));
        assert!(
            !g.note("other", 1_000_000),
            "tables the store did not find are left alone"
        );
    }

    /// A failed analysis leaves its connection usable, at the server's own target.
    #[tokio::test]
    async fn a_failed_analysis_leaves_no_transaction_open() {
        let url = std::env::var("TRIBUTARY_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url} is required for this test: {e}"));
        let err = analyze(&pool, "no_such_table").await.unwrap_err();
        assert!(err.to_string().contains("no_such_table"), "{err}");
        let kept: bool = sqlx::query_scalar(
            "SELECT setting = reset_val FROM pg_settings \
             WHERE name = 'default_statistics_target'",
        )
        .fetch_one(&pool)
        .await
        .expect("the one pooled connection still answers");
        assert!(kept);
        analyze(&pool, "pg_class")
            .await
            .expect("an existing table is analyzed");
        pool.close().await;
    }

    #[test]
    fn an_analyzed_table_waits_until_it_has_doubled() {
        let g = growth(50_000.0);
        assert!(!g.note("t", 49_999));
        assert!(g.note("t", 1));
    }
}
