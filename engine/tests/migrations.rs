//! Versioned migrations: released ones never change, the last one arrives at the schema
//! `specs/canonical.yaml` describes, and a database made by an older build upgrades.

mod common;

use std::collections::BTreeSet;

use common::TestDb;
use sha2::{Digest, Sha256};
use sqlx::Connection;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use tributary_engine::canonical;
use tributary_engine::store::{Dialect, migrations};

fn dialect(kind: &str) -> Dialect {
    match kind {
        "postgres" => Dialect::Postgres,
        _ => Dialect::Sqlite,
    }
}

/// A URL sqlx's `Any` driver opens (creating a SQLite file).
fn any_url(db: &TestDb, kind: &str) -> String {
    match kind {
        "postgres" => db.url.clone(),
        _ => format!("sqlite://{}?mode=rwc", db.url),
    }
}

/// A connection to `db` after the first `n` released migrations only, as an older build left
/// the database.
async fn older_build(db: &TestDb, kind: &str, n: usize) -> sqlx::AnyConnection {
    let released: Vec<Migration> = migrations(dialect(kind))[..n]
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                (*description).into(),
                MigrationType::Simple,
                sqlx::SqlStr::from_static(sql),
                false,
            )
        })
        .collect();
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&any_url(db, kind))
        .await
        .unwrap();
    Migrator::with_migrations(released)
        .run(&mut conn)
        .await
        .unwrap();
    conn
}

/// A database that has only the first migration (the canonical tables, as every build before
/// the `relationships` migration made it), holding an address owned by a person, stored the
/// old way with an owner edge, two other edges, and a person's campus as edges.
async fn version_one(db: &TestDb, kind: &str) {
    let mut conn = older_build(db, kind, 1).await;
    let rows = [
        "INSERT INTO people (id, org_id, created_at, updated_at) \
         VALUES ('person_1', 'o', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
        "INSERT INTO addresses (id, org_id, owner_id, created_at, updated_at) \
         VALUES ('address_1', 'o', 'person_1', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
        // The owner edge older builds stored, repeating owner_id: the migration removes it.
        "INSERT INTO edges (org_id, source_id, relationship, target_id, adapter, last_seen_ms) \
         VALUES ('o', 'address_1', 'address_of', 'person_1', 'pco', 1)",
        // Not the owner (another target): kept.
        "INSERT INTO edges (org_id, source_id, relationship, target_id, adapter, last_seen_ms) \
         VALUES ('o', 'address_1', 'address_of', 'person_2', 'pco', 1)",
        "INSERT INTO edges (org_id, source_id, relationship, target_id, adapter, last_seen_ms) \
         VALUES ('o', 'person_1', 'member_of', 'household_1', 'pco', 1)",
        // A person's campus (twice, which a to-one relationship should not be): the first
        // moves to people.primary_campus_id in migration 6, the other stays an edge.
        "INSERT INTO edges (org_id, source_id, relationship, target_id, adapter, last_seen_ms) \
         VALUES ('o', 'person_1', 'primary_campus', 'campus_b', 'pco', 1)",
        "INSERT INTO edges (org_id, source_id, relationship, target_id, adapter, last_seen_ms) \
         VALUES ('o', 'person_1', 'primary_campus', 'campus_a', 'pco', 1)",
        // Not from a person: stays.
        "INSERT INTO edges (org_id, source_id, relationship, target_id, adapter, last_seen_ms) \
         VALUES ('o', 'address_1', 'primary_campus', 'campus_a', 'pco', 1)",
    ];
    for q in rows {
        sqlx::query(q).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

async fn upgrade_keeps_every_relationship_and_stores_owners_once(kind: &str) {
    let db = TestDb::of(kind).await;
    version_one(&db, kind).await;
    let store = db.store().await;
    assert_eq!(
        catalog(&db, kind).await,
        spec_catalog(kind).await,
        "the upgraded database has the spec's schema"
    );
    let stored = store.count("o", "edges").await.unwrap();
    assert_eq!(
        stored, 4,
        "the owner edge and the person's first campus are no longer stored"
    );
    let campus: Option<String> =
        sqlx::query_scalar("SELECT primary_campus_id FROM people WHERE id = 'person_1'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(campus.as_deref(), Some("campus_a"));
    let all = store.edges("o").await.unwrap();
    let t = |s: &str, r: &str, d: &str| (s.to_owned(), r.to_owned(), d.to_owned());
    assert_eq!(
        all,
        vec![
            t("address_1", "address_of", "person_1"),
            t("address_1", "address_of", "person_2"),
            t("address_1", "primary_campus", "campus_a"),
            t("person_1", "member_of", "household_1"),
            t("person_1", "primary_campus", "campus_a"),
            t("person_1", "primary_campus", "campus_b"),
        ],
        "the relationships view shows owners and refs with the stored edges"
    );
    store.close().await;
    // Opening again applies nothing twice.
    let store = db.store().await;
    assert_eq!(store.edges("o").await.unwrap().len(), 6);
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_upgrade_keeps_every_relationship_and_stores_owners_once() {
    upgrade_keeps_every_relationship_and_stores_owners_once("sqlite").await;
}

#[tokio::test]
async fn postgres_upgrade_keeps_every_relationship_and_stores_owners_once() {
    upgrade_keeps_every_relationship_and_stores_owners_once("postgres").await;
}

/// A database at migration 3 (links keyed by organisation, adapter, entity and remote id)
/// holding two groups with their links and two runs of a nested list with a parent cursor,
/// one unfinished.
async fn version_three(db: &TestDb, kind: &str) {
    let mut conn = older_build(db, kind, 3).await;
    let rows = [
        "INSERT INTO groups (id, org_id, created_at, updated_at, name) \
         VALUES ('group_x_07', 'o', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 'Seven')",
        "INSERT INTO groups (id, org_id, created_at, updated_at, name) \
         VALUES ('group_x_10', 'o', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 'Ten')",
        "INSERT INTO external_links (org_id, adapter, entity, external_id, canonical_id, \
         canonical_entity, content_hash, first_seen_ms, last_seen_ms) \
         VALUES ('o', 'pco', 'Group', '7', 'group_x_07', 'group', 'h7', 1, 2)",
        "INSERT INTO external_links (org_id, adapter, entity, external_id, canonical_id, \
         canonical_entity, content_hash, first_seen_ms, last_seen_ms) \
         VALUES ('o', 'pco', 'Group', '10', 'group_x_10', 'group', 'h10', 1, 2)",
        "INSERT INTO entity_runs (id, run_id, org_id, adapter, entity, level, state, \
         cursor_parent, next_offset, updated_ms) \
         VALUES ('r1', 'run1', 'o', 'pco', 'GroupMembership', 1, 'running', '10', 25, 1)",
        "INSERT INTO entity_runs (id, run_id, org_id, adapter, entity, level, state, \
         cursor_parent, next_offset, updated_ms) \
         VALUES ('r0', 'run0', 'o', 'pco', 'GroupMembership', 1, 'done', '7', NULL, 1)",
    ];
    for q in rows {
        sqlx::query(q).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

/// Migration 4 keys links by canonical id: every link survives, and an unfinished walk over
/// parents (whose order changes with the key) restarts from its first parent. Migration 5
/// moves them onto their rows: each row carries its link's values, the `external_links`
/// view shows them as before, and the table is gone.
async fn links_move_to_their_canonical_key_then_onto_the_rows(kind: &str) {
    let db = TestDb::of(kind).await;
    version_three(&db, kind).await;
    let store = db.store().await;
    assert_eq!(
        catalog(&db, kind).await,
        spec_catalog(kind).await,
        "the upgraded database has the spec's schema"
    );
    let links = store.links("o").await.unwrap();
    let link = |e: &str, c: &str| {
        (
            "pco".to_owned(),
            "Group".to_owned(),
            e.to_owned(),
            c.to_owned(),
        )
    };
    assert_eq!(
        links,
        vec![link("10", "group_x_10"), link("7", "group_x_07")]
    );
    store.close().await;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&any_url(&db, kind))
        .await
        .unwrap();
    let runs: Vec<(String, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT id, cursor_parent, next_offset FROM entity_runs ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let on_rows: Vec<(String, String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, source_adapter, source_entity, external_id, content_hash, first_seen_ms, \
         last_seen_ms FROM groups ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let tables: i64 = sqlx::query_scalar(match kind {
        "postgres" => "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'external_links'",
        _ => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'external_links'",
    })
    .fetch_one(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let row = |id: &str, e: &str, h: &str| {
        let s = |v: &str| v.to_owned();
        (s(id), s("pco"), s("Group"), s(e), s(h), 1, 2)
    };
    assert_eq!(
        on_rows,
        vec![row("group_x_07", "7", "h7"), row("group_x_10", "10", "h10")]
    );
    assert_eq!(tables, 0, "external_links is a view now");
    assert_eq!(
        runs,
        vec![
            ("r0".to_owned(), Some("7".to_owned()), None),
            ("r1".to_owned(), None, None),
        ],
        "the finished run keeps its cursor, the unfinished one starts over"
    );
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_links_move_to_their_canonical_key_then_onto_the_rows() {
    links_move_to_their_canonical_key_then_onto_the_rows("sqlite").await;
}

#[tokio::test]
async fn postgres_links_move_to_their_canonical_key_then_onto_the_rows() {
    links_move_to_their_canonical_key_then_onto_the_rows("postgres").await;
}

/// `external_links` shows when a record was last seen: when its row was written or, if
/// later, when a sync found it unchanged and marked it in `seen_marks`, with that run.
async fn links_show_the_later_sighting(kind: &str) {
    let db = TestDb::of(kind).await;
    let store = db.store().await;
    let pool = store.pool();
    let seen = || async {
        let row: (i64, i64, String) = sqlx::query_as(
            "SELECT first_seen_ms, last_seen_ms, last_run_id FROM external_links \
             WHERE canonical_id = 'person_x_1'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        row
    };
    sqlx::query(
        "INSERT INTO people (id, org_id, created_at, updated_at, source_adapter, \
         source_entity, external_id, content_hash, first_seen_ms, last_seen_ms, last_run_id) \
         VALUES ('person_x_1', 'o', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 'pco', \
         'Person', '1', 'h', 5, 5, 'r1')",
    )
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(
        seen().await,
        (5, 5, "r1".to_owned()),
        "written, never marked"
    );
    sqlx::query(
        "INSERT INTO seen_marks (canonical_id, org_id, last_seen_ms, last_run_id) \
         VALUES ('person_x_1', 'o', 7, 'r2')",
    )
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(
        seen().await,
        (5, 7, "r2".to_owned()),
        "seen again unchanged"
    );
    sqlx::query("UPDATE people SET last_seen_ms = 9, last_run_id = 'r3' WHERE id = 'person_x_1'")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        seen().await,
        (5, 9, "r3".to_owned()),
        "rewritten after the mark"
    );
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_links_show_the_later_sighting() {
    links_show_the_later_sighting("sqlite").await;
}

#[tokio::test]
async fn postgres_links_show_the_later_sighting() {
    links_show_the_later_sighting("postgres").await;
}

/// Every table column, index, constraint and view of the database at `url`, one line each
/// (sqlx's own bookkeeping table left out).
async fn describe(url: &str, kind: &str) -> BTreeSet<String> {
    let q = match kind {
        "postgres" => {
            "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type \
             || ' nullable=' || is_nullable || ' default=' || COALESCE(column_default, '') \
             || ' collate=' || COALESCE(collation_name, '') \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
             UNION ALL SELECT 'index ' || indexdef FROM pg_indexes \
             WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations' \
             UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' \
             || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE connamespace = 'public'::regnamespace \
             AND conrelid::regclass::text <> '_sqlx_migrations' \
             UNION ALL SELECT 'view ' || viewname || ': ' || definition FROM pg_views \
             WHERE schemaname = 'public'"
        }
        _ => {
            "SELECT 'column ' || m.name || '.' || c.name || ' ' || c.type \
             || ' notnull=' || c.\"notnull\" || ' default=' || COALESCE(c.dflt_value, '') \
             || ' pk=' || c.pk \
             FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name <> '_sqlx_migrations' \
             UNION ALL SELECT 'index ' || m.name || '.' || il.name || ' unique=' || il.\"unique\" \
             || ' (' || (SELECT group_concat(name, ', ') FROM \
             (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)) || ')' \
             FROM sqlite_master m, pragma_index_list(m.name) il \
             WHERE m.type = 'table' AND m.name <> '_sqlx_migrations' \
             UNION ALL SELECT 'view ' || name || ': ' || sql FROM sqlite_master WHERE type = 'view'"
        }
    };
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows: Vec<String> = sqlx::query_scalar(q).fetch_all(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    rows.into_iter()
        .map(|r| r.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

async fn catalog(db: &TestDb, kind: &str) -> BTreeSet<String> {
    describe(&any_url(db, kind), kind).await
}

/// The catalog of a database made straight from the spec's schema.
async fn spec_catalog(kind: &str) -> BTreeSet<String> {
    let db = TestDb::of(kind).await;
    let url = any_url(&db, kind);
    let schema = dialect(kind).schema();
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    for script in [schema, canonical::RELATIONSHIPS_SCHEMA] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(script))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();
    let described = describe(&url, kind).await;
    db.drop_db().await;
    described
}

/// Applied one by one, the released migrations leave exactly the schema
/// `specs/canonical.yaml` describes. When this fails after a spec edit, add a migration
/// under `engine/migrations/<dialect>/` that takes the previous one's schema to the spec's.
/// (A new database is made from the spec's schema in one step: this is what makes that the
/// same database.)
async fn migrations_arrive_at_the_spec(kind: &str) {
    let db = TestDb::of(kind).await;
    let all = migrations(dialect(kind)).len();
    older_build(&db, kind, all).await.close().await.unwrap();
    let migrated = catalog(&db, kind).await;
    db.drop_db().await;
    let spec = spec_catalog(kind).await;
    let missing: Vec<&String> = spec.difference(&migrated).collect();
    let extra: Vec<&String> = migrated.difference(&spec).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{kind}: the migrations do not arrive at specs/canonical.yaml's schema; add a \
         migration under engine/migrations/{kind}/.\n  the spec has, the migrations do not: \
         {missing:#?}\n  the migrations have, the spec does not: {extra:#?}"
    );
    assert!(spec.len() > 100, "the catalog is read: {spec:?}");
}

#[tokio::test]
async fn sqlite_migrations_arrive_at_the_spec() {
    migrations_arrive_at_the_spec("sqlite").await;
}

#[tokio::test]
async fn postgres_migrations_arrive_at_the_spec() {
    migrations_arrive_at_the_spec("postgres").await;
}

/// The versions and checksums a database records as applied (successfully).
/// Secondary indexes a sync defers come back: built by the store when asked (a sync asks at
/// its end), or by the next connect when the process died first; a table that holds a row
/// keeps its indexes. PostgreSQL defers the owner indexes too, SQLite keeps them.
async fn deferred_indexes_come_back(kind: &str) {
    let db = TestDb::of(kind).await;
    let store = db.store().await;
    let complete = catalog(&db, kind).await;
    let mut dropped = store.defer_indexes(&["people", "edges"]).await.unwrap();
    dropped.sort();
    let mut want = vec!["edges_idx0", "people_org_idx", "people_primary_campus_idx"];
    if kind == "postgres" {
        want.insert(2, "people_owner_idx");
    }
    assert_eq!(dropped, want);
    let without = catalog(&db, kind).await;
    let gone: Vec<&String> = complete.difference(&without).collect();
    assert_eq!(gone.len(), want.len(), "{gone:#?}");
    assert!(gone.iter().all(|l| l.starts_with("index ")), "{gone:#?}");
    assert!(without.is_subset(&complete));

    sqlx::raw_sql(
        "INSERT INTO emails (id, org_id, created_at, updated_at) \
         VALUES ('email_x', 'org', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    assert!(store.defer_indexes(&["emails"]).await.unwrap().is_empty());
    // A sync with a live lease (this one, "loading"): opening the store leaves its indexes
    // to it.
    let in_ms = |ms: i64| tributary_engine::store::now_ms() + ms;
    sqlx::query(
        "INSERT INTO entity_runs (id, run_id, org_id, adapter, entity, level, state, \
         lease_owner, lease_expires_ms, updated_ms) \
         VALUES ('erun_x', 'run_x', 'org', 'pco', 'Person', 1, 'running', 'w', $1, $2)",
    )
    .bind(in_ms(60_000))
    .bind(in_ms(0))
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    drop(store);
    let meanwhile = db.store().await;
    assert_eq!(catalog(&db, kind).await, without);
    meanwhile.close().await;
    drop(meanwhile);

    // The process "died" before building them (its lease ran out): the next connect does.
    let expire = db.store().await;
    sqlx::query("UPDATE entity_runs SET lease_expires_ms = $1")
        .bind(in_ms(-1))
        .execute(expire.pool())
        .await
        .unwrap();
    expire.close().await;
    drop(expire);
    let again = db.store().await;
    assert_eq!(catalog(&db, kind).await, complete);
    assert!(again.build_missing_indexes().await.unwrap().is_empty());
    let mut deferred = again.defer_indexes(&["addresses"]).await.unwrap();
    deferred.sort();
    if kind == "postgres" {
        assert_eq!(deferred, ["addresses_org_idx", "addresses_owner_idx"]);
    } else {
        assert_eq!(deferred, ["addresses_org_idx"]);
    }
    let mut built = again.build_missing_indexes().await.unwrap();
    built.sort();
    assert_eq!(built, deferred);
    assert_eq!(catalog(&db, kind).await, complete);
    again.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn sqlite_deferred_indexes_come_back() {
    deferred_indexes_come_back("sqlite").await;
}

#[tokio::test]
async fn postgres_deferred_indexes_come_back() {
    deferred_indexes_come_back("postgres").await;
}

/// Deferring only saves time: an empty PostgreSQL table another session holds (a long read)
/// keeps its indexes after a short wait rather than stall the sync.
#[tokio::test]
async fn a_busy_table_keeps_its_indexes_postgres() {
    let db = TestDb::postgres().await;
    let store = db.store().await;
    let complete = catalog(&db, "postgres").await;
    let mut reader = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("BEGIN; SELECT COUNT(*) FROM people")
        .execute(&mut reader)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let dropped = store.defer_indexes(&["people", "emails"]).await.unwrap();
    assert_eq!(
        dropped,
        ["emails_org_idx", "emails_owner_idx"],
        "people is busy, emails is not"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut reader)
        .await
        .unwrap();
    reader.close().await.unwrap();
    let now = catalog(&db, "postgres").await;
    let gone: Vec<&String> = complete.difference(&now).collect();
    assert_eq!(gone.len(), 2, "{gone:#?}");
    assert!(gone.iter().all(|g| g.contains("emails_")), "{gone:#?}");
    store.build_missing_indexes().await.unwrap();
    store.close().await;
    db.drop_db().await;
}

async fn recorded(db: &TestDb, kind: &str) -> Vec<(i64, String)> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&any_url(db, kind))
        .await
        .unwrap();
    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    rows.into_iter().map(|(v, c)| (v, hex::encode(c))).collect()
}

/// A new database is made in one step, from the spec's schema: it gets the same schema as
/// one migrated step by step and records the same versions with the released checksums, so
/// that a later build applies only its new migrations to it (and refuses none).
async fn new_database_is_made_in_one_step(kind: &str) {
    let one_step = TestDb::of(kind).await;
    one_step.store().await.close().await;
    let step_by_step = TestDb::of(kind).await;
    let all = migrations(dialect(kind)).len();
    older_build(&step_by_step, kind, all)
        .await
        .close()
        .await
        .unwrap();
    assert_eq!(
        catalog(&one_step, kind).await,
        catalog(&step_by_step, kind).await,
        "{kind}: the one-step schema differs from the migrated one"
    );
    let (made, migrated) = (
        recorded(&one_step, kind).await,
        recorded(&step_by_step, kind).await,
    );
    assert_eq!(made.len(), all, "{kind}: every version recorded: {made:?}");
    assert_eq!(
        made, migrated,
        "{kind}: versions and checksums as if migrated"
    );
    // A later build (the released migrations run again) finds nothing to apply or refuse,
    // and a store opens it as it is.
    older_build(&one_step, kind, all)
        .await
        .close()
        .await
        .unwrap();
    one_step.store().await.close().await;
    assert_eq!(recorded(&one_step, kind).await, made);
    one_step.drop_db().await;
    step_by_step.drop_db().await;
}

#[tokio::test]
async fn sqlite_new_database_is_made_in_one_step() {
    new_database_is_made_in_one_step("sqlite").await;
}

#[tokio::test]
async fn postgres_new_database_is_made_in_one_step() {
    new_database_is_made_in_one_step("postgres").await;
}

/// A one-step build killed after its first migration (sqlx commits each on its own) left
/// the whole schema, its marker table and only version 1 recorded: the next store records
/// the rest without replaying them (which failed on columns that were there already), and
/// the database ends as a finished one-step build.
async fn a_stopped_one_step_build_is_finished(kind: &str) {
    let finished = TestDb::of(kind).await;
    finished.store().await.close().await;
    let stopped = TestDb::of(kind).await;
    stopped.store().await.close().await;
    let all = migrations(dialect(kind));
    let last = all.last().unwrap().0;
    // The state a kill between the first and the second migration leaves (the marker's name
    // and shape are the store's: `BASELINE_MARKER` in src/store/mod.rs).
    let mut conn = sqlx::AnyConnection::connect(&any_url(&stopped, kind))
        .await
        .unwrap();
    for q in [
        "DELETE FROM _sqlx_migrations WHERE version > 1".to_owned(),
        "CREATE TABLE tributary_baseline (version BIGINT NOT NULL)".to_owned(),
        format!("INSERT INTO tributary_baseline (version) VALUES ({last})"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(q))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();
    assert_eq!(recorded(&stopped, kind).await.len(), 1);

    stopped.store().await.close().await;
    assert_eq!(
        recorded(&stopped, kind).await,
        recorded(&finished, kind).await,
        "{kind}: every version recorded, with the released checksums"
    );
    assert_eq!(
        catalog(&stopped, kind).await,
        catalog(&finished, kind).await,
        "{kind}: the schema of a finished one-step build, without the marker"
    );
    stopped.drop_db().await;
    finished.drop_db().await;
}

#[tokio::test]
async fn sqlite_a_stopped_one_step_build_is_finished() {
    a_stopped_one_step_build_is_finished("sqlite").await;
}

#[tokio::test]
async fn postgres_a_stopped_one_step_build_is_finished() {
    a_stopped_one_step_build_is_finished("postgres").await;
}

/// Databases hold each applied migration's checksum and refuse a build whose text differs:
/// a released migration is never edited.
#[test]
fn released_migrations_never_change() {
    let released = [
        (
            Dialect::Sqlite,
            [
                "9f1af2137641e617e5e2c777c637da9d4071116496a67ea19c4e7cde706f94b4",
                "2a77b3a2ce6f349f44184a9a236390b739803338eb588539572442a7c1ea7a37",
                "f0f7f7f433267c001e7840fe6546bfbc88cdcbd387a166edc52fd4d100f95776",
                "0ed24050cc07603bdc0f708b040d2fe71c6668a8607b2e978140935b5ce72c33",
                "329d85a62636039ac2977a8528ea309a96bffd717b40dbc47e11ca87caf2dc99",
                "19cfa6ee6e1f9545943563e587511d7dbe4b6f4bba49c40c1f6376fafd1346d0",
            ],
        ),
        (
            Dialect::Postgres,
            [
                "72613b72338b55505719a607d6bfd19e81839effed601d8412d5535decccb4e4",
                "2a77b3a2ce6f349f44184a9a236390b739803338eb588539572442a7c1ea7a37",
                "79045ad0bf1343618d55066aebbda5d917bb50ff861ca6f0f2e6718baa040aab",
                "ab12efdbea9c05dbcfecaf66badb9a2470b0409848168c100b4fcf8b0ddac54a",
                "9a51d74528ee482c30f9b997dfc1ae33ecd549d717eb19832972800bd40146d5",
                "81a26ab4be736214c9a202d3142f8a1502995ff19f8dacc22a7b8ffe8be55586",
            ],
        ),
    ];
    for (dialect, hashes) in released {
        let all = migrations(dialect);
        assert!(
            all.len() >= hashes.len(),
            "{dialect:?}: a migration was removed"
        );
        for ((version, description, sql), want) in all.iter().zip(hashes) {
            assert_eq!(
                hex::encode(Sha256::digest(sql.as_bytes())),
                want,
                "{dialect:?} migration {version} ({description}) was edited after release"
            );
        }
        let versions: Vec<i64> = all.iter().map(|m| m.0).collect();
        let expected: Vec<i64> = (1..=all.len() as i64).collect();
        assert_eq!(versions, expected, "{dialect:?}: versions are 1, 2, 3, …");
    }
}
