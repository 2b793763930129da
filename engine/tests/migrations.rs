//! Upgrading a database made by an older build: versioned migrations.

mod common;

use common::TestDb;
use sqlx::Connection;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use tributary_engine::canonical;

/// A database that has only the first migration (the canonical tables, as every build before
/// the `relationships` migration made it), holding an address owned by a person, stored the
/// old way with an owner edge, and two other edges.
async fn version_one(db: &TestDb, kind: &str) {
    let (schema, url) = match kind {
        "postgres" => (canonical::POSTGRES_MIGRATION, db.url.clone()),
        _ => (
            canonical::SQLITE_MIGRATION,
            format!("sqlite://{}?mode=rwc", db.url),
        ),
    };
    let first = Migration::new(
        1,
        "canonical model".into(),
        MigrationType::Simple,
        sqlx::SqlStr::from_static(schema),
        false,
    );
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    Migrator::with_migrations(vec![first])
        .run(&mut conn)
        .await
        .unwrap();
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
    let stored = store.count("o", "edges").await.unwrap();
    assert_eq!(stored, 2, "the owner edge is no longer stored");
    let all = store.edges("o").await.unwrap();
    let t = |s: &str, r: &str, d: &str| (s.to_owned(), r.to_owned(), d.to_owned());
    assert_eq!(
        all,
        vec![
            t("address_1", "address_of", "person_1"),
            t("address_1", "address_of", "person_2"),
            t("person_1", "member_of", "household_1"),
        ],
        "the relationships view shows the owner with the stored edges"
    );
    store.close().await;
    // Opening again applies nothing twice.
    let store = db.store().await;
    assert_eq!(store.edges("o").await.unwrap().len(), 3);
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
