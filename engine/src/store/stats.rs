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
//!
//! Only pages that look their records up need the statistics now. A first load's pages copy
//! without looking (see [`FreshEntities`](super::rules::FreshEntities)), so a table that
//! doubles under such pages is analyzed once, when the sync settles (or as soon as a page
//! looks it up again), not at every doubling: at 50,000 people that is 5 analyses instead of
//! 29, which took about 6 % of the server's CPU in the middle of the load.

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
/// against 10 ms), and a table that pages look up is analyzed each time it doubles.
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
    /// Whether the table doubled under pages that did not look it up: analyzed when the sync
    /// settles, or when a page looks it up first.
    pending: bool,
}

impl Growth {
    /// Records `n` rows written to `table` by a page that looked its records up (`looked`)
    /// or not; true when the table is due for analysis now (and then counts the analysis as
    /// done, so that concurrent writers do not repeat it). A table due under a page that did
    /// not look is marked pending instead.
    fn note(&self, table: &str, n: usize, looked: bool) -> bool {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let Some(e) = tables.get_mut(table) else {
            return false;
        };
        e.written += n as f64;
        let due = e.written >= e.base.max(MIN_ROWS);
        if due {
            e.base += e.written;
            e.written = 0.0;
        }
        if !looked {
            e.pending |= due;
            return false;
        }
        let now = due || e.pending;
        e.pending = false;
        now
    }

    /// The tables pending analysis, which are then no longer pending.
    fn take_pending(&self) -> Vec<String> {
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        let mut pending: Vec<String> = tables
            .iter_mut()
            .filter(|(_, e)| e.pending)
            .map(|(t, e)| {
                e.pending = false;
                t.clone()
            })
            .collect();
        pending.sort();
        pending
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
            tables.insert(
                row.try_get(0)?,
                Entry {
                    base,
                    written: 0.0,
                    pending: false,
                },
            );
        }
        Ok(())
    }

    /// Counts rows just committed per table by a page that looked its records up
    /// (`looked`) or not, and starts an analysis of each table that has doubled and is
    /// looked up (see [`Growth::note`]).
    pub(crate) fn note_writes(&self, writes: &[(&str, usize)], looked: bool) {
        if self.dialect != Dialect::Postgres {
            return;
        }
        for &(table, n) in writes {
            if n > 0 && self.growth.note(table, n, looked) {
                self.start_analysis(table.to_owned());
            }
        }
    }

    /// Starts an analysis of `table` beside the page transactions. Statistics only steer
    /// plans, so a failed analysis is logged, not returned.
    fn start_analysis(&self, table: String) {
        let pool = self.pool.clone();
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

    /// Analyzes the tables pending analysis and waits for every analysis under way.
    pub async fn settle(&self) {
        for table in self.growth.take_pending() {
            self.start_analysis(table);
        }
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
        g.tables.lock().unwrap().insert(
            "t".into(),
            Entry {
                base,
                written: 0.0,
                pending: false,
            },
        );
        g
    }

    #[test]
    fn an_empty_table_is_analyzed_after_a_thousand_rows_then_each_time_it_doubles() {
        let g = growth(0.0);
        assert!(!g.note("t", 999, true));
        assert!(g.note("t", 1, true));
        assert!(!g.note("t", 999, true));
        assert!(g.note("t", 1, true), "1,000 more rows double the table");
        assert!(!g.note("t", 1_999, true));
        assert!(g.note("t", 1, true));
        assert!(
            !g.note("other", 1_000_000, true),
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

    /// A first load's pages do not look their records up: the doublings under them leave
    /// one analysis pending, run when a page looks again or when the sync settles.
    #[test]
    fn doublings_under_pages_that_do_not_look_leave_one_analysis_pending() {
        let g = growth(0.0);
        assert!(
            !g.note("t", 1_000, false),
            "due, but nothing reads the table"
        );
        assert!(!g.note("t", 1_000, false));
        assert!(!g.note("t", 2_000, false));
        assert_eq!(g.take_pending(), vec!["t".to_owned()]);
        assert!(g.take_pending().is_empty(), "taken once");
        assert!(!g.note("t", 4_000, false), "due again at 8,000 rows");
        assert!(
            g.note("t", 1, true),
            "a page that looks the table up has it analyzed first"
        );
        assert!(g.take_pending().is_empty());
        assert!(
            !g.note("t", 7_000, true),
            "7,001 of the 8,000 rows it takes to double"
        );
        assert!(!g.note("t", 998, false));
        assert!(g.take_pending().is_empty(), "not due, so not pending");
    }

    #[test]
    fn an_analyzed_table_waits_until_it_has_doubled() {
        let g = growth(50_000.0);
        assert!(!g.note("t", 49_999, true));
        assert!(g.note("t", 1, true));
    }
}
