//! The database: SQLite (a file, the default) or PostgreSQL, through one `sqlx::Any` pool, and
//! for page writes a connection of their own: on SQLite a page writer (`writer`), on
//! PostgreSQL a pool of the driver's own connections (`page`).
//!
//! Queries are written once with `$n` placeholders (SQLite reads them as numbered parameters);
//! where the dialects differ, [`Dialect`] says how. Page writes, the bulk of the work, take
//! each database's fastest path: on PostgreSQL `COPY` for new records (`copy`) and one
//! statement per table with a column array per field for the others (`bulk`), on SQLite
//! single-row statements prepared once, on a thread that owns its connection (`writer`).
//! Every query is scoped by `org_id`.
//! On PostgreSQL the store also keeps the planner's statistics current as tables grow
//! (`stats`). A sync that fills empty tables builds their secondary indexes at the end
//! (`indexes`).

mod bulk;
mod copy;
mod dump;
mod indexes;
mod nodelay;
mod page;
mod rules;
mod stats;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyPool, Executor, SqlSafeStr, Transaction};

pub(crate) use rules::FENCE_SELECT;

pub use page::{
    Checkpoint, PageCounts, PageWrite, PreparedRecord, Quarantined, SideCounts, SideWrite,
};

use crate::canonical::ColumnType;
use crate::error::StoreError;

/// A value bound to a query parameter. NULLs carry their type because PostgreSQL checks it.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// A NULL of the given column type.
    Null(ColumnType),
    /// Text (also dates, instants and JSON, cast where the dialect needs it).
    Text(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// The schema `specs/canonical.yaml` describes, generated for this dialect.
    pub fn schema(self) -> &'static str {
        match self {
            Dialect::Sqlite => crate::canonical::SQLITE_SCHEMA,
            Dialect::Postgres => crate::canonical::POSTGRES_SCHEMA,
        }
    }

    /// The placeholder for parameter `n` holding a value of `ty`.
    pub fn param(self, n: usize, ty: ColumnType) -> String {
        match (self, ty) {
            (Dialect::Postgres, ColumnType::Date) => format!("CAST(${n} AS DATE)"),
            (Dialect::Postgres, ColumnType::Timestamp) => format!("CAST(${n} AS TIMESTAMPTZ)"),
            (Dialect::Postgres, ColumnType::Json) => format!("CAST(${n} AS JSONB)"),
            _ => format!("${n}"),
        }
    }

    /// `FOR UPDATE` where row locks exist (PostgreSQL); SQLite's write transaction already
    /// excludes every other writer.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }
}

/// A connection pool to the canonical database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite admits one writer; queueing this process's writers here instead of in SQLite's
    /// busy handler (which sleeps up to 100 ms between retries) keeps page commits fast.
    /// Other processes still queue through `busy_timeout`.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Rows written per table since PostgreSQL last analyzed it (see [`stats`]).
    growth: Arc<stats::Growth>,
    /// SQLite: the page writer ([`writer`]).
    pages: Option<Arc<writer::PageWriter>>,
    /// PostgreSQL: a pool of the driver's own connections for page transactions, which
    /// stream new rows with `COPY` (`copy`); `sqlx::Any` offers neither `COPY` nor a way to
    /// reach the connection under it.
    pg: Option<sqlx::PgPool>,
    /// Whether page transactions may `COPY`: false once a page connection's socket could not
    /// be told to send small writes at once ([`nodelay`]); they upsert instead.
    copy: Arc<std::sync::atomic::AtomicBool>,
    /// PostgreSQL: the entities whose last page found none of its records stored.
    fresh: Arc<rules::FreshEntities>,
}

/// A page transaction on PostgreSQL (see [`Store::begin_page_write`]).
pub(crate) type PageTx = Transaction<'static, sqlx::Postgres>;

/// A write transaction, holding this process's SQLite write slot until dropped.
pub struct WriteTx {
    /// The transaction.
    pub tx: Transaction<'static, Any>,
    _slot: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Milliseconds since the Unix epoch: the engine's clock for leases and bookkeeping.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `values` as statement arguments, in order, for either driver (`AnyArguments`,
/// `PgArguments`). Bulk statements take thousands: binding them one by one onto a query grew
/// its argument vector step by step, each step a copy, on the path every page's commit waits
/// for.
pub(crate) fn arguments<A>(
    values: impl IntoIterator<Item = Bind>,
    count: usize,
) -> Result<A, StoreError>
where
    A: sqlx::Arguments,
    for<'t> String: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
    for<'t> i64: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
    for<'t> f64: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
    for<'t> bool: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
    for<'t> Option<String>: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
    for<'t> Option<i64>: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
    for<'t> Option<f64>: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
    for<'t> Option<bool>: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
{
    let mut args = A::default();
    args.reserve(count, 0);
    for v in values {
        match v {
            Bind::Null(ColumnType::Integer) => args.add(None::<i64>),
            Bind::Null(ColumnType::Decimal) => args.add(None::<f64>),
            Bind::Null(ColumnType::Boolean) => args.add(None::<bool>),
            Bind::Null(_) => args.add(None::<String>),
            Bind::Text(s) => args.add(s),
            Bind::Int(i) => args.add(i),
            Bind::Float(f) => args.add(f),
            Bind::Bool(b) => args.add(b),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(args)
}

/// A dynamic SQL string (built from the generated model, never from remote data).
pub(crate) fn sql(s: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(s)
}

impl Store {
    /// Connects to `url` and applies migrations.
    ///
    /// `url` is `postgres://…`, `sqlite://path` or a plain file path (SQLite). SQLite runs in
    /// WAL mode with `synchronous=NORMAL`: a page's records and its checkpoint commit in one
    /// transaction, so a process crash never loses a committed page, and an OS crash can at
    /// worst roll back the last few pages together with their checkpoints, which the next run
    /// fetches again; `FULL` would add an fsync per page for no consistency gain.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (dialect, url) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Dialect::Postgres, url.to_owned())
        } else if url.contains("://") && !url.starts_with("sqlite://") {
            return Err(StoreError::Url(url.to_owned()));
        } else {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let sep = if path.contains('?') { '&' } else { '?' };
            (Dialect::Sqlite, format!("sqlite://{path}{sep}mode=rwc"))
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = match dialect {
            Dialect::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            // Writers queue on SQLite's single write lock instead of failing.
                            conn.execute("PRAGMA busy_timeout = 30000").await?;
                            // A multi-row upsert keeps a statement journal; in a temp *file*
                            // it was 1.7 GB of writes for a 78 MB database (20,000 people).
                            conn.execute("PRAGMA temp_store = MEMORY").await?;
                            // The page cache stays at SQLite's 2 MiB default: 16 MiB per pooled
                            // connection bought little time and made peak memory grow with the
                            // database (46 → 73 MiB from 10k to 100k people).
                            // A page transaction dirties ~1,000 index pages (updated_at and
                            // target-id indexes take random inserts), so the default
                            // checkpoint every 1,000 WAL pages ran after nearly every commit,
                            // each with an fsync; every 8,192 pages writes hot pages once.
                            conn.execute("PRAGMA wal_autocheckpoint = 8192").await?;
                            // Each pooled connection has its own page cache, and those
                            // that only read now and then filled theirs as the database
                            // grew: SQLite's heap went 6.8 → 11.4 MiB from 10k to 300k
                            // people. The soft limit (process-wide) makes SQLite recycle
                            // cache pages beyond 6 MB in all: 7.2 MiB at 300k, no slower.
                            conn.execute("PRAGMA soft_heap_limit = 6000000").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Dialect::Postgres => {
                // Each running entity workflow holds up to two page transactions (they
                // overlap on PostgreSQL); with the default 4 workflows that is 8, and leases,
                // analyses and reads need connections beside them. Opened on demand.
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?
            }
        };
        let mut store = Store {
            pool,
            dialect,
            writer: Arc::default(),
            growth: Arc::default(),
            pages: None,
            pg: None,
            copy: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            fresh: Arc::default(),
        };
        if dialect == Dialect::Postgres {
            store.pg = Some(page_pool(&url, store.copy.clone())?);
        }
        store.migrate().await?;
        // Indexes a sync deferred and did not live to build.
        store.repair_indexes().await?;
        store.load_growth().await?;
        if dialect == Dialect::Sqlite {
            store.pages = Some(Arc::new(store.page_writer().await?));
        }
        Ok(store)
    }

    /// Whether page transactions copy new records in (see [`nodelay`]).
    pub(crate) fn copies(&self) -> bool {
        self.copy.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// SQLite's page writer, on the database file the pool opened.
    async fn page_writer(&self) -> Result<writer::PageWriter, StoreError> {
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&self.pool)
                .await?;
        if file.is_empty() {
            // Each pooled connection would have a database of its own.
            return Err(StoreError::Writer(
                "SQLite needs a database file (an in-memory database would be a different one \
                 on each pooled connection): give a file path"
                    .into(),
            ));
        }
        let fresh = self.fresh.clone();
        tokio::task::spawn_blocking(move || writer::PageWriter::open(file.as_ref(), fresh))
            .await
            .map_err(|e| StoreError::Writer(format!("opening SQLite's page writer: {e}")))?
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        // Applied in order; a database keeps the versions it has and gets the rest.
        let mut migrations = released(self.dialect);
        if self.is_empty_database().await? {
            baseline(self.dialect, &mut migrations);
        } else if let Some(covered) = self.unfinished_baseline().await? {
            // A one-step build stopped (killed) after its first migration: the schema is
            // whole already, so the versions it covers are only recorded, never replayed.
            finish_baseline(&mut migrations, covered);
        }
        match Migrator::with_migrations(migrations).run(&self.pool).await {
            // Say plainly what a changed migration means instead of sqlx's checksum message.
            Err(sqlx::migrate::MigrateError::VersionMismatch(v)) => {
                Err(StoreError::Schema(format!(
                    "migration {v} of this build differs from the one that made the database \
                     (a released file under engine/migrations/ was edited; changes to the \
                     schema belong in a new migration): sync into a new database, or run the \
                     build that made it"
                )))
            }
            other => Ok(other?),
        }
    }

    /// Whether the database holds no table at all (not even the migrations' own): a new
    /// database, which [`baseline`] makes in one step.
    async fn is_empty_database(&self) -> Result<bool, StoreError> {
        Ok(self.count_tables(None).await? == 0)
    }

    /// The last version a one-step build covers, if one was stopped before it recorded them
    /// all (its marker table is still there; see [`baseline`]).
    async fn unfinished_baseline(&self) -> Result<Option<i64>, StoreError> {
        if self.count_tables(Some(BASELINE_MARKER)).await? == 0 {
            return Ok(None);
        }
        let covered: i64 =
            sqlx::query_scalar(sql(format!("SELECT version FROM \"{BASELINE_MARKER}\"")))
                .fetch_one(&self.pool)
                .await?;
        Ok(Some(covered))
    }

    /// How many tables the current schema holds, or how many named `named` (a name of this
    /// module's, never user input: it is written into the query).
    async fn count_tables(&self, named: Option<&str>) -> Result<i64, StoreError> {
        let (q, name_column) = match self.dialect {
            Dialect::Sqlite => (
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
                "name",
            ),
            Dialect::Postgres => (
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema()",
                "table_name",
            ),
        };
        let q = match named {
            Some(name) => format!("{q} AND {name_column} = '{name}'"),
            None => q.to_owned(),
        };
        Ok(sqlx::query_scalar(sql(q)).fetch_one(&self.pool).await?)
    }

    /// The dialect of this store.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The pool, for queries the library does not wrap.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so that a read-then-write never fails on lock upgrade.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        Ok(match self.dialect {
            Dialect::Sqlite => {
                let slot = self.writer.clone().lock_owned().await;
                WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _slot: Some(slot),
                }
            }
            Dialect::Postgres => WriteTx {
                tx: self.pool.begin().await?,
                _slot: None,
            },
        })
    }

    /// A page transaction on PostgreSQL (SQLite's pages go to its writer thread). Its commit
    /// does not wait for the WAL flush, as with SQLite's `synchronous=NORMAL`: an OS crash may
    /// roll back the last pages, always together with their checkpoints (WAL order), so they
    /// are fetched again; a process crash loses nothing. Saves an fsync wait per page. (Not
    /// for tokens: a rotated refresh token must be durable before it is used.)
    pub(crate) async fn begin_page_write(&self) -> Result<PageTx, StoreError> {
        let Some(pg) = &self.pg else {
            return Err(StoreError::Writer(
                "a SQLite page commits whole, on the writer thread (Store::commit_page)".into(),
            ));
        };
        // One round trip: PostgreSQL's simple protocol takes both statements at once.
        Ok(pg
            .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
            .await?)
    }

    /// Closes the pools (and SQLite's page writer).
    pub async fn close(&self) {
        if let Some(pages) = &self.pages {
            pages.close().await;
        }
        if let Some(pg) = &self.pg {
            pg.close().await;
        }
        self.pool.close().await;
    }
}

/// PostgreSQL's pool for page transactions, beside the `Any` pool (up to two per running
/// entity workflow); opened on demand. A connection whose TCP socket cannot be set to send
/// small writes at once turns `copy` off (a Unix socket needs nothing).
fn page_pool(
    url: &str,
    copy: Arc<std::sync::atomic::AtomicBool>,
) -> Result<sqlx::PgPool, StoreError> {
    let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _| {
            let copy = copy.clone();
            Box::pin(async move {
                let port: Option<i32> = sqlx::query_scalar("SELECT inet_client_port()")
                    .fetch_one(&mut *conn)
                    .await?;
                let ok = port.is_none_or(|p| u16::try_from(p).is_ok_and(nodelay::set));
                if !ok && copy.swap(false, std::sync::atomic::Ordering::Relaxed) {
                    tracing::warn!(
                        "could not set TCP_NODELAY on a PostgreSQL connection (a proxy between?): \
                         pages are written with INSERT, not COPY"
                    );
                }
                Ok(())
            })
        })
        .connect_lazy_with(options))
}

/// The released migrations of `dialect` as sqlx runs them (see [`migrations`]).
fn released(dialect: Dialect) -> Vec<Migration> {
    migrations(dialect)
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                description.into(),
                MigrationType::Simple,
                sqlx::SqlStr::from_static(sql),
                false,
            )
        })
        .collect()
}

/// The table a one-step build keeps while it records the versions it covers (its one row
/// holds the last), dropped with the last of them. sqlx commits each migration on its own, so
/// a process killed between the first and the last leaves the whole schema with only the
/// first version recorded; the marker tells the next store to record the rest, not replay
/// them onto a schema that has them already.
const BASELINE_MARKER: &str = "tributary_baseline";

/// Makes `migrations` build a new database in one step: the first carries the schema
/// `specs/canonical.yaml` describes (with the `relationships` view), the others nothing, and
/// each keeps its released file's checksum, so the database records the versions it would
/// have had by applying them one by one (a later build sees them applied and applies only
/// its new ones). The result is the same schema: `migrations_arrive_at_the_spec` checks that
/// the released migrations arrive at exactly the spec's. Replaying them on PostgreSQL took
/// about 0.15 s of every first sync (0.3 s of DDL by `psql`, against 0.1 s for the spec's
/// script): ALTERs that rewrite every table, and a transaction each.
fn baseline(dialect: Dialect, migrations: &mut [Migration]) {
    let Some(covered) = migrations.last().map(|m| m.version) else {
        return;
    };
    let mut first = format!(
        "{}\n{}",
        dialect.schema(),
        crate::canonical::RELATIONSHIPS_SCHEMA
    );
    if migrations.len() > 1 {
        first.push_str(&format!(
            "\nCREATE TABLE \"{BASELINE_MARKER}\" (version BIGINT NOT NULL);\n\
             INSERT INTO \"{BASELINE_MARKER}\" (version) VALUES ({covered});\n"
        ));
    }
    migrations[0].sql = sqlx::AssertSqlSafe(first).into_sql_str();
    finish_baseline(&mut migrations[1..], covered);
}

/// The versions after the first that a one-step build covers (up to `covered`) record
/// nothing but themselves, the last of them dropping the marker; later ones stay as released.
fn finish_baseline(migrations: &mut [Migration], covered: i64) {
    for m in migrations.iter_mut() {
        if m.version == covered {
            m.sql = sqlx::AssertSqlSafe(format!("DROP TABLE \"{BASELINE_MARKER}\"")).into_sql_str();
        } else if m.version > 1 && m.version < covered {
            // A statement so that every driver runs something.
            m.sql = sqlx::SqlStr::from_static("SELECT 1");
        }
    }
}

/// The migrations of `dialect`, in order: (version, description, SQL). Released files never
/// change (a database stores each one's checksum); a schema change is a new file, and the
/// test `migrations_arrive_at_the_spec` checks that the last one arrives at the schema
/// `specs/canonical.yaml` describes ([`crate::canonical::SQLITE_SCHEMA`]).
pub fn migrations(dialect: Dialect) -> &'static [(i64, &'static str, &'static str)] {
    macro_rules! file {
        ($dir:literal, $name:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/",
                $dir,
                "/",
                $name
            ))
        };
    }
    const SQLITE: [(i64, &str, &str); 6] = [
        (
            1,
            "canonical model",
            file!("sqlite", "0001_canonical_model.sql"),
        ),
        (
            2,
            "owners stored once",
            file!("sqlite", "0002_owners_stored_once.sql"),
        ),
        (3, "leaner keys", file!("sqlite", "0003_leaner_keys.sql")),
        (
            4,
            "links by canonical id",
            file!("sqlite", "0004_links_by_canonical_id.sql"),
        ),
        (
            5,
            "links on the rows",
            file!("sqlite", "0005_links_on_the_rows.sql"),
        ),
        (
            6,
            "refs in columns",
            file!("sqlite", "0006_refs_in_columns.sql"),
        ),
    ];
    const POSTGRES: [(i64, &str, &str); 6] = [
        (
            1,
            "canonical model",
            file!("postgres", "0001_canonical_model.sql"),
        ),
        (
            2,
            "owners stored once",
            file!("postgres", "0002_owners_stored_once.sql"),
        ),
        (3, "leaner keys", file!("postgres", "0003_leaner_keys.sql")),
        (
            4,
            "links by canonical id",
            file!("postgres", "0004_links_by_canonical_id.sql"),
        ),
        (
            5,
            "links on the rows",
            file!("postgres", "0005_links_on_the_rows.sql"),
        ),
        (
            6,
            "refs in columns",
            file!("postgres", "0006_refs_in_columns.sql"),
        ),
    ];
    match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A page connection over TCP sends small writes at once, so pages copy (the test server
    /// is reached over TCP unless `TRIBUTARY_TEST_PG` names a Unix socket).
    #[tokio::test]
    async fn page_connections_send_small_writes_at_once() {
        let url = std::env::var("TRIBUTARY_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let copy = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let pool = page_pool(&url, copy.clone()).unwrap();
        let mut conn = pool
            .acquire()
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url} is required for this test: {e}"));
        let port: Option<i32> = sqlx::query_scalar("SELECT inet_client_port()")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert!(copy.load(std::sync::atomic::Ordering::Relaxed));
        if let Some(port) = port {
            assert_eq!(nodelay::get(u16::try_from(port).unwrap()), Some(true));
        }
        drop(conn);
        pool.close().await;
    }
}

#[cfg(test)]
mod baseline_tests {
    use super::*;

    /// The one-step build keeps every released migration's version, description and
    /// checksum; the first carries the spec's whole schema with the `relationships` view, the
    /// others nothing of their own (the last drops the marker the first made).
    #[test]
    fn baseline_carries_the_schema_under_the_released_checksums() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let released = released(dialect);
            let mut one_step = released.clone();
            baseline(dialect, &mut one_step);
            assert_eq!(one_step.len(), released.len());
            for (made, was) in one_step.iter().zip(&released) {
                assert_eq!(
                    (made.version, &made.description, &made.checksum),
                    (was.version, &was.description, &was.checksum),
                    "{dialect:?}"
                );
            }
            let schema = dialect.schema();
            let first = one_step[0].sql.as_str();
            let last = released.last().unwrap().version;
            assert!(first.starts_with(schema), "{dialect:?}");
            let marker = format!(
                "{}\nCREATE TABLE \"{BASELINE_MARKER}\" (version BIGINT NOT NULL);\n\
                 INSERT INTO \"{BASELINE_MARKER}\" (version) VALUES ({last});\n",
                crate::canonical::RELATIONSHIPS_SCHEMA
            );
            assert!(first.ends_with(&marker), "{dialect:?}");
            assert_ne!(first, released[0].sql.as_str());
            let (tail, last) = one_step[1..].split_at(one_step.len() - 2);
            for m in tail {
                assert_eq!(m.sql.as_str(), "SELECT 1", "{dialect:?} {}", m.version);
            }
            assert_eq!(
                last[0].sql.as_str(),
                format!("DROP TABLE \"{BASELINE_MARKER}\""),
                "{dialect:?}"
            );
        }
    }
}
