//! Full sync of a simulated organisation, on SQLite and on PostgreSQL: every record present,
//! mapped fields equal to ground truth, edges exact, counts exact; a second run is unchanged.

mod common;

use common::{TestDb, assert_matches_ground_truth, client, fixture, sim};
use tributary_engine::{Progress, SyncOptions, orchestrator};

/// People in the big test; the suite stays fast on 2 cores with this.
fn people() -> usize {
    std::env::var("TRIBUTARY_TEST_PEOPLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

async fn full_sync(kind: &str) {
    let sim = sim(people(), 11).await;
    let db = TestDb::of(kind).await;
    let store = db.store().await;
    let client = client(&sim);
    let org = "org_full";
    let requests_before = sim.stats().requests;
    let started = std::time::Instant::now();
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let summary = orchestrator::sync(
        &store,
        &fixture::MANIFEST,
        &client,
        &SyncOptions::new(org),
        Some(tx),
    )
    .await
    .unwrap();
    // The last events: the indexes the load deferred, then their build.
    let mut last = Vec::new();
    while let Ok(e) = events.try_recv() {
        last.push(e);
    }
    match &last[last.len() - 2..] {
        [
            Progress::BuildingIndexes { indexes },
            Progress::IndexesBuilt { .. },
        ] => {
            assert!(
                indexes.contains(&"people_org_idx".to_owned()),
                "{indexes:?}"
            );
            assert!(indexes.contains(&"edges_idx0".to_owned()), "{indexes:?}");
            // Owner indexes: built at the end on PostgreSQL, kept up row by row on SQLite.
            assert_eq!(
                indexes.contains(&"emails_owner_idx".to_owned()),
                kind == "postgres",
                "{indexes:?}"
            );
        }
        other => panic!("last events: {other:?}"),
    }
    eprintln!("{kind}: first sync {:?}", started.elapsed());
    assert_eq!(summary.state, "done", "{summary:#?}");
    let expected: Vec<i64> = {
        let o = sim.org();
        summary
            .entities
            .iter()
            .map(|e| o.count(&e.entity) as i64)
            .collect()
    };
    for (e, &n) in summary.entities.iter().zip(&expected) {
        assert_eq!(
            (e.fetched, e.created, e.updated, e.unchanged, e.quarantined),
            (n, n, 0, 0, 0),
            "{}",
            e.entity
        );
    }
    assert_matches_ground_truth(&store, org, &sim).await;
    // The sync filled empty tables without their secondary indexes and built them at the end.
    assert_eq!(
        store.build_missing_indexes().await.unwrap(),
        Vec::<String>::new(),
        "indexes the sync left missing"
    );
    if kind == "postgres" {
        assert_statistics_keep_up(&store).await;
    }
    // Addresses, emails and phone numbers came side-loaded with people: the only requests
    // are the pages of the three top-level lists.
    let pages = |n: usize| n.div_ceil(100).max(1) as u64;
    let plan = {
        let o = sim.org();
        pages(o.count("Campus")) + pages(o.count("Household")) + pages(o.count("Person"))
    };
    assert_eq!(sim.stats().requests - requests_before, plan, "requests");

    // A second full sync finds everything unchanged and writes nothing new; its tables
    // hold rows, so it defers and builds no index.
    let second_started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let again = orchestrator::sync(
        &store,
        &fixture::MANIFEST,
        &client,
        &SyncOptions::new(org),
        Some(tx),
    )
    .await
    .unwrap();
    while let Ok(e) = events.try_recv() {
        assert!(
            !matches!(
                e,
                Progress::BuildingIndexes { .. } | Progress::IndexesBuilt { .. }
            ),
            "{e:?}"
        );
    }
    assert!(!again.run.resumed);
    for e in &again.entities {
        assert_eq!(
            (e.created, e.updated, e.quarantined),
            (0, 0, 0),
            "{}",
            e.entity
        );
        assert_eq!(e.unchanged, e.fetched, "{}", e.entity);
    }
    // Every record was seen again by the second run, and keeps when it was first seen.
    let (links, seen_again, first_kept): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), \
         SUM(CASE WHEN last_run_id = $2 AND last_seen_ms >= $3 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN first_seen_ms < $3 THEN 1 ELSE 0 END) \
         FROM external_links WHERE org_id = $1",
    )
    .bind(org)
    .bind(again.run.id.clone())
    .bind(second_started)
    .fetch_one(store.pool())
    .await
    .unwrap();
    let fetched: i64 = again.entities.iter().map(|e| e.fetched).sum();
    assert_eq!(links, fetched, "one link per record");
    assert_eq!((seen_again, first_kept), (links, links));
    assert_matches_ground_truth(&store, org, &sim).await;
    store.close().await;
    db.drop_db().await;
    sim.shutdown().await;
}

/// The store analyzes the tables its page transactions look up by key: without statistics
/// PostgreSQL's planner took the growing tables for empty and the per-page hash lookup scanned
/// all of an entity's links (then a table of their own, now columns of the rows). After a
/// first sync into empty tables each has been analyzed since it last doubled.
async fn assert_statistics_keep_up(store: &tributary_engine::Store) {
    use sqlx::Row;
    for table in ["people", "edges"] {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT (SELECT count(*) FROM \"{table}\")::BIGINT, \
             (SELECT reltuples FROM pg_class WHERE oid = '\"{table}\"'::regclass)::FLOAT8"
        )))
        .fetch_one(store.pool())
        .await
        .unwrap();
        let (rows, estimate): (i64, f64) = (row.get(0), row.get(1));
        assert!(rows > 2_000, "{table}: {rows} rows are too few to tell");
        assert!(
            estimate * 2.0 >= rows as f64,
            "{table}: the planner believes {estimate} rows, the table holds {rows}"
        );
    }
    // The small sample still tells the planner that ids are distinct, and the analyses'
    // statistics target did not outlive them.
    let distinct: f32 = sqlx::query_scalar(
        "SELECT n_distinct FROM pg_stats WHERE tablename = 'people' AND attname = 'id'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(distinct, -1.0, "the ids' statistics say ids repeat");
    let kept: bool = sqlx::query_scalar(
        "SELECT bool_and(setting = reset_val) FROM pg_settings \
         WHERE name = 'default_statistics_target'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(
        kept,
        "a pooled connection kept the analyses' statistics target"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_sqlite() {
    full_sync("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_postgres() {
    full_sync("postgres").await;
}

/// Nested per-person endpoints (emails, phone numbers) give the same database. More than
/// 1,000 people: parents are read in chunks of 1,000, so this crosses a chunk boundary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_endpoints_sync_the_same() {
    let sim = sim(1_100, 5).await;
    let db = TestDb::sqlite();
    let store = db.store().await;
    let summary = orchestrator::sync(
        &store,
        &fixture::NESTED,
        &client(&sim),
        &SyncOptions::new("o"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(summary.state, "done", "{summary:#?}");
    assert_matches_ground_truth(&store, "o", &sim).await;
    sim.shutdown().await;
}

/// `entities` selects what to sync; what it waits for comes along, nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_selection_brings_its_dependencies_only() {
    let sim = sim(120, 8).await;
    let db = TestDb::sqlite();
    let store = db.store().await;
    let mut options = SyncOptions::new("o");
    options.entities = Some(vec!["email".into()]);
    let summary = orchestrator::sync(&store, &fixture::MANIFEST, &client(&sim), &options, None)
        .await
        .unwrap();
    assert_eq!(summary.state, "done", "{summary:#?}");
    let mut synced: Vec<&str> = summary.entities.iter().map(|e| e.entity.as_str()).collect();
    synced.sort_unstable();
    assert_eq!(synced, ["Email", "Person"]);
    let emails = sim.org().count("Email") as i64;
    let email = summary.entities.iter().find(|e| e.entity == "Email");
    assert_eq!(email.map(|e| e.created), Some(emails));
    let mut bad = SyncOptions::new("o2");
    bad.entities = Some(vec!["Pets".into()]);
    let err = orchestrator::sync(&store, &fixture::MANIFEST, &client(&sim), &bad, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown entity `Pets`"), "{err}");
    sim.shutdown().await;
}

/// The SQLite settings a sync's durability and memory rest on, on every pooled connection.
#[tokio::test]
async fn sqlite_connections_are_set_up_for_durable_bounded_syncs() {
    let db = TestDb::of("sqlite").await;
    let store = db.store().await;
    // Hold several connections at once so that each pragma is read on more than one.
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(store.pool().acquire().await.unwrap());
    }
    for conn in &mut conns {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        for (pragma, want) in [
            ("PRAGMA synchronous", 1), // NORMAL
            ("PRAGMA temp_store", 2),  // MEMORY
            ("PRAGMA soft_heap_limit", 6_000_000),
        ] {
            let got: i64 = sqlx::query_scalar(pragma)
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!(got, want, "{pragma}");
        }
    }
    drop(conns);
    store.close().await;
}
