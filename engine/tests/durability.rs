//! Leases and fencing, quarantine, and tenant isolation.

mod common;

use axum::Json;
use axum::routing::get;
use common::{TestDb, assert_matches_ground_truth, client, fixture, sim};
use serde_json::{Value, json};
use tributary_engine::lease::{self, Claim};
use tributary_engine::store::{Checkpoint, PageWrite};
use tributary_engine::{StoreError, SyncOptions, orchestrator, runs};

async fn stale_lease_holder_cannot_commit(kind: &str) {
    let db = TestDb::of(kind).await;
    let store = db.store().await;
    let run = runs::start_or_resume(&store, "org1", &fixture::MANIFEST, "full", &["Person"])
        .await
        .unwrap();
    let ers = runs::entity_runs(&store, "org1", &run.id).await.unwrap();
    let person = ers.iter().find(|e| e.entity == "Person").unwrap();

    let Claim::Acquired(a) = lease::claim(&store, "org1", &person.id, "host:1:a", 200)
        .await
        .unwrap()
    else {
        panic!("first claim must succeed")
    };
    // While A's lease is live, nobody else gets it.
    let held = lease::claim(&store, "org1", &person.id, "host:1:b", 200)
        .await
        .unwrap();
    assert!(matches!(held, Claim::Held { .. }), "{held:?}");
    // A stalls past its expiry; B takes over with a higher epoch.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let Claim::Acquired(b) = lease::claim(&store, "org1", &person.id, "host:1:b", 10_000)
        .await
        .unwrap()
    else {
        panic!("claim after expiry must succeed")
    };
    assert_eq!(b.epoch, a.epoch + 1);
    let page = |offset| PageWrite {
        entity: "Person".into(),
        records: Vec::new(),
        quarantined: Vec::new(),
        checkpoint: Checkpoint {
            cursor_parent: None,
            next_offset: Some(offset),
            done: false,
        },
        fetched: 0,
        pages: 1,
        side: Vec::new(),
    };
    let refused = store.commit_page(&a, page(100), 1000).await;
    assert!(
        matches!(refused, Err(StoreError::LeaseLost { .. })),
        "{refused:?}"
    );
    assert!(!lease::renew(&store, &a, 1000).await.unwrap());
    assert!(
        !lease::release(&store, &a, "failed", Some("stale"))
            .await
            .unwrap()
    );
    store.commit_page(&b, page(200), 1000).await.unwrap();
    let after = runs::entity_runs(&store, "org1", &run.id).await.unwrap();
    let p = after.iter().find(|e| e.entity == "Person").unwrap();
    assert_eq!(
        (p.next_offset, p.pages, p.state.as_str()),
        (Some(200), 1, "running")
    );
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn fencing_refuses_stale_holder_sqlite() {
    stale_lease_holder_cannot_commit("sqlite").await;
}

#[tokio::test]
async fn fencing_refuses_stale_holder_postgres() {
    stale_lease_holder_cannot_commit("postgres").await;
}

fn person(id: &str, first: Value, birthdate: &str) -> Value {
    json!({"type": "Person", "id": id,
           "attributes": {"first_name": first, "last_name": "Doe", "birthdate": birthdate,
                          "updated_at": "2024-01-02T03:04:05Z"},
           "relationships": {"primary_campus": {"data": null}}})
}

async fn list(data: Vec<Value>) -> Json<Value> {
    let n = data.len();
    Json(json!({"data": data, "included": [], "meta": {"total_count": n, "count": n}}))
}

/// A tiny JSON:API server with one good and three malformed people.
async fn malformed_server() -> String {
    let app = axum::Router::new()
        .route(
            "/people/v2/people",
            get(|| {
                list(vec![
                    person("1", json!("Ann"), "1990-01-01"),
                    person("2", json!(42), "1990-01-01"),
                    person("3", json!("Bo"), "not-a-date"),
                    person("x4", json!("Cy"), "1990-01-01"),
                ])
            }),
        )
        .fallback(get(|| list(Vec::new())));
    serve(app).await
}

/// Serves `app` on a loopback port; returns its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn malformed_records_are_quarantined_with_reasons(kind: &str) {
    let base = malformed_server().await;
    let db = TestDb::of(kind).await;
    let store = db.store().await;
    let client = tributary_core::Client::new(&base, tributary_core::Auth::None).unwrap();
    let summary = orchestrator::sync(
        &store,
        &fixture::MANIFEST,
        &client,
        &SyncOptions::new("q"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(summary.state, "done");
    let p = summary
        .entities
        .iter()
        .find(|e| e.entity == "Person")
        .unwrap();
    assert_eq!((p.fetched, p.created, p.quarantined), (4, 1, 3));
    assert_eq!(store.count("q", "people").await.unwrap(), 1);
    let q = store.quarantine("q").await.unwrap();
    let reasons: Vec<(&str, &str)> = q
        .iter()
        .map(|(_, id, r)| (id.as_str(), r.as_str()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].0 == "2" && reasons[0].1.contains("first_name") && reasons[0].1.contains("42"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == "3"
            && reasons[1].1.contains("birthdate")
            && reasons[1].1.contains("not-a-date"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].0 == "x4" && reasons[2].1.contains("not numeric"),
        "{reasons:?}"
    );
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn malformed_records_are_quarantined_with_reasons_sqlite() {
    malformed_records_are_quarantined_with_reasons("sqlite").await;
}

#[tokio::test]
async fn malformed_records_are_quarantined_with_reasons_postgres() {
    malformed_records_are_quarantined_with_reasons("postgres").await;
}

/// A record quarantined by one sync and valid in the next leaves quarantine; the others stay.
async fn a_record_that_maps_again_leaves_quarantine(kind: &str) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let fixed = Arc::new(AtomicBool::new(false));
    let flag = fixed.clone();
    let app = axum::Router::new()
        .route(
            "/people/v2/people",
            get(move || {
                let name = if flag.load(Ordering::SeqCst) {
                    json!("Bea")
                } else {
                    json!(42)
                };
                list(vec![
                    person("1", json!("Ann"), "1990-01-01"),
                    person("2", name, "1990-01-01"),
                    person("3", json!("Bo"), "not-a-date"),
                ])
            }),
        )
        .fallback(get(|| list(Vec::new())));
    let base = serve(app).await;
    let db = TestDb::of(kind).await;
    let store = db.store().await;
    let client = tributary_core::Client::new(&base, tributary_core::Auth::None).unwrap();
    let options = SyncOptions::new("q");
    let sync = || orchestrator::sync(&store, &fixture::MANIFEST, &client, &options, None);
    assert_eq!(sync().await.unwrap().state, "done");
    let ids =
        |q: Vec<(String, String, String)>| q.into_iter().map(|(_, id, _)| id).collect::<Vec<_>>();
    assert_eq!(ids(store.quarantine("q").await.unwrap()), ["2", "3"]);
    fixed.store(true, Ordering::SeqCst);
    assert_eq!(sync().await.unwrap().state, "done");
    assert_eq!(ids(store.quarantine("q").await.unwrap()), ["3"]);
    assert_eq!(store.count("q", "people").await.unwrap(), 2);
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn a_record_that_maps_again_leaves_quarantine_sqlite() {
    a_record_that_maps_again_leaves_quarantine("sqlite").await;
}

#[tokio::test]
async fn a_record_that_maps_again_leaves_quarantine_postgres() {
    a_record_that_maps_again_leaves_quarantine("postgres").await;
}

async fn two_orgs_isolated(kind: &str) {
    let (sim_a, sim_b) = (sim(300, 1).await, sim(200, 2).await);
    let db = TestDb::of(kind).await;
    let store = db.store().await;
    let (ca, cb) = (client(&sim_a), client(&sim_b));
    let (oa, ob) = (SyncOptions::new("alpha"), SyncOptions::new("beta"));
    let (ra, rb) = tokio::join!(
        orchestrator::sync(&store, &fixture::MANIFEST, &ca, &oa, None),
        orchestrator::sync(&store, &fixture::MANIFEST, &cb, &ob, None),
    );
    assert_eq!(ra.unwrap().state, "done");
    assert_eq!(rb.unwrap().state, "done");
    assert_matches_ground_truth(&store, "alpha", &sim_a).await;
    assert_matches_ground_truth(&store, "beta", &sim_b).await;
    // Nothing of one organisation is visible under the other's id.
    let links_a = store.links("alpha").await.unwrap();
    let links_b = store.links("beta").await.unwrap();
    assert!(links_a.iter().all(|l| !links_b.iter().any(|m| m.3 == l.3)));
    store.close().await;
    db.drop_db().await;
    sim_a.shutdown().await;
    sim_b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_orgs_isolated_sqlite() {
    two_orgs_isolated("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_orgs_isolated_postgres() {
    two_orgs_isolated("postgres").await;
}

/// One page of a paged people list: person `id` named `P<id>`, the list's total, and the
/// offset of the next page, if any.
fn people_page(ids: &[&str], total: usize, next: Option<usize>) -> Json<Value> {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| person(id, json!(format!("P{id}")), "1990-01-01"))
        .collect();
    let mut meta = json!({"total_count": total, "count": data.len()});
    if let Some(next) = next {
        meta["next"] = json!({ "offset": next });
    }
    Json(json!({"data": data, "included": [], "meta": meta}))
}

/// A paged list (2 per page) whose second and third pages repeat the record before them, as a
/// list that shifts while it is paged does; the page at offset 6 answers 400 until `fixed`.
fn shifting_server(fixed: std::sync::Arc<std::sync::atomic::AtomicBool>) -> axum::Router {
    use axum::extract::Query;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use std::collections::HashMap;
    let pages: [&[&str]; 5] = [&["1", "2"], &["2", "3"], &["3", "4"], &["5", "6"], &["7"]];
    axum::Router::new()
        .route(
            "/people/v2/people",
            get(move |Query(q): Query<HashMap<String, String>>| async move {
                let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
                if offset == 6 && !fixed.load(std::sync::atomic::Ordering::SeqCst) {
                    return (StatusCode::BAD_REQUEST, "broken page").into_response();
                }
                let Some(ids) = pages.get(offset / 2) else {
                    return list(Vec::new()).await.into_response();
                };
                let next = (offset / 2 + 1 < pages.len()).then_some(offset + 2);
                people_page(ids, 9, next).into_response()
            }),
        )
        .fallback(get(|| list(Vec::new())))
}

/// Pages commit in order, also while (on PostgreSQL) a page's records are written before the
/// previous page has committed: a page that repeats a record of the page before waits for it
/// (counted unchanged, not created twice), and a broken page stops the sync after the pages
/// before it committed, so the next sync resumes there and ends with exact counts.
async fn shifting_pages_commit_in_order(kind: &str) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let fixed = Arc::new(AtomicBool::new(false));
    let base = serve(shifting_server(fixed.clone())).await;
    let db = TestDb::of(kind).await;
    let store = db.store().await;
    let client = tributary_core::Client::new(&base, tributary_core::Auth::None).unwrap();
    let options = SyncOptions::new("shift");
    let sync = || orchestrator::sync(&store, &fixture::MANIFEST, &client, &options, None);
    let person = |s: &tributary_engine::SyncSummary| {
        let p = s.entities.iter().find(|e| e.entity == "Person").unwrap();
        (p.fetched, p.created, p.unchanged, p.next_offset)
    };
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), sync())
        .await
        .expect("no deadlock")
        .unwrap();
    assert_ne!(first.state, "done");
    // Pages at offsets 0, 2 and 4 committed; the checkpoint points at the broken page.
    assert_eq!(person(&first), (6, 4, 2, Some(6)), "{first:#?}");
    assert_eq!(store.count("shift", "people").await.unwrap(), 4);
    fixed.store(true, Ordering::SeqCst);
    let second = tokio::time::timeout(std::time::Duration::from_secs(60), sync())
        .await
        .expect("no deadlock")
        .unwrap();
    assert_eq!(second.state, "done", "{second:#?}");
    assert_eq!(person(&second), (9, 7, 2, None), "{second:#?}");
    assert_eq!(store.count("shift", "people").await.unwrap(), 7);
    store.close().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shifting_pages_commit_in_order_sqlite() {
    shifting_pages_commit_in_order("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shifting_pages_commit_in_order_postgres() {
    shifting_pages_commit_in_order("postgres").await;
}

/// Three pages, the third repeating the first's second record; the second and third are
/// served 200 ms apart, so that each arrives while the pages before it are in flight.
fn repeating_server() -> axum::Router {
    use axum::extract::Query;
    use std::collections::HashMap;
    axum::Router::new()
        .route(
            "/people/v2/people",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
                let (ids, next): (&[&str], Option<usize>) = match offset {
                    0 => (&["1", "2"], Some(2)),
                    2 => (&["3"], Some(3)),
                    3 => (&["2", "4"], None),
                    _ => return list(Vec::new()).await,
                };
                if offset > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                people_page(ids, 5, next)
            }),
        )
        .fallback(get(|| list(Vec::new())))
}

/// On PostgreSQL several pages are written at once; a page that repeats a record of any page
/// still in flight, not only of the previous one, must wait for them. A trigger holds the
/// first page's transaction for 1.5 s just before it inserts person 2 (the first to get
/// there only), so the third page, if let through, stores person 2 first and then waits for
/// the second page's commit, which waits for the first, which waits for person 2's row: the
/// sync hangs (it did with only the previous page checked). Done right, the third page waits,
/// and person 2 counts once, unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_of_any_page_in_flight_waits_postgres() {
    let base = serve(repeating_server()).await;
    let db = TestDb::of("postgres").await;
    let store = db.store().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE held (id TEXT); \
         CREATE FUNCTION hold_person_2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.id LIKE '%\\_00000000000000000002' AND pg_try_advisory_xact_lock(4242) THEN \
         INSERT INTO held VALUES (NEW.id); PERFORM pg_sleep(1.5); END IF; RETURN NEW; END $$; \
         CREATE TRIGGER hold_person_2 BEFORE INSERT ON people \
         FOR EACH ROW EXECUTE FUNCTION hold_person_2();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let client = tributary_core::Client::new(&base, tributary_core::Auth::None).unwrap();
    let options = SyncOptions::new("repeat");
    let summary = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        orchestrator::sync(&store, &fixture::MANIFEST, &client, &options, None),
    )
    .await
    .expect("no deadlock")
    .unwrap();
    assert_eq!(summary.state, "done", "{summary:#?}");
    let p = summary
        .entities
        .iter()
        .find(|e| e.entity == "Person")
        .unwrap();
    assert_eq!(
        (p.fetched, p.created, p.updated, p.unchanged),
        (5, 4, 0, 1),
        "{summary:#?}"
    );
    assert_eq!(store.count("repeat", "people").await.unwrap(), 4);
    // The trigger held one transaction, the first page's (the test proves nothing otherwise):
    // the third page's insert of person 2 came after the first page committed.
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM held")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(held, 1);
    pool.close().await;
    store.close().await;
    db.drop_db().await;
}

/// An email record as the store receives it: every column of the canonical table, in order.
fn email_record(external_id: &str, address: &str) -> tributary_engine::store::PreparedRecord {
    use tributary_engine::canonical::{self, COMMON_COLUMNS, ColumnType};
    use tributary_engine::store::Bind;
    let table = canonical::entity("email").expect("the canonical model has emails");
    let values = COMMON_COLUMNS
        .iter()
        .chain(table.fields)
        .map(|c| match (c.name, c.ty) {
            ("id", _) => Bind::Text(format!("em_org1_{external_id}")),
            ("org_id", _) => Bind::Text("org1".into()),
            ("address", _) => Bind::Text(address.into()),
            ("tags", _) => Bind::Text("[]".into()),
            ("status", _) => Bind::Text("active".into()),
            (_, ColumnType::Json) => Bind::Text("{}".into()),
            ("deleted_at", _) => Bind::Null(ColumnType::Timestamp),
            (_, ColumnType::Timestamp) => Bind::Text("2024-01-02T03:04:05Z".into()),
            (_, ColumnType::Date) => Bind::Text("2024-01-02".into()),
            (_, ColumnType::Integer) => Bind::Int(1),
            (_, ColumnType::Decimal) => Bind::Float(1.5),
            (_, ColumnType::Boolean) => Bind::Bool(true),
            (_, ColumnType::Text) => Bind::Null(ColumnType::Text),
        })
        .collect();
    tributary_engine::store::PreparedRecord {
        external_id: external_id.into(),
        canonical_id: format!("em_org1_{external_id}"),
        table,
        values,
        edges: Vec::new(),
        content_hash: format!("hash of {address}"),
        remote_updated_at: None,
    }
}

/// Waits until `n` sessions of the test database wait for a lock.
async fn until_waiting(store: &tributary_engine::Store, n: i64) {
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        if waiting >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{n} sessions never waited for a lock");
}

/// Two writers of the same new record: the person page that side-loads an email, and the
/// email list's own page. Both look before either commits, so both find the record new and
/// copy it in; the second waits for the first, fails on the stored key, and writes its page
/// again: it now finds the record stored and updates it. Both pages commit, the record counts
/// as created once and updated once, and one link remains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_of_a_new_record_both_commit_postgres() {
    use tributary_engine::store::SideWrite;
    let db = TestDb::postgres().await;
    let store = db.store().await;
    let run = runs::start_or_resume(
        &store,
        "org1",
        &fixture::MANIFEST,
        "full",
        &["Person", "Email"],
    )
    .await
    .unwrap();
    let ers = runs::entity_runs(&store, "org1", &run.id).await.unwrap();
    let id_of = |e: &str| ers.iter().find(|r| r.entity == e).unwrap().id.clone();
    let claim = |entity: String, owner: &'static str| {
        let store = &store;
        async move {
            match lease::claim(store, "org1", &entity, owner, 60_000)
                .await
                .unwrap()
            {
                Claim::Acquired(f) => f,
                other => panic!("{other:?}"),
            }
        }
    };
    let person = claim(id_of("Person"), "host:1:p").await;
    let email = claim(id_of("Email"), "host:1:e").await;
    let checkpoint = Checkpoint {
        cursor_parent: None,
        next_offset: Some(100),
        done: false,
    };
    // Holds the person run's row, so the person page stages its records and then waits to
    // commit.
    let mut blocker = store.pool().begin().await.unwrap();
    sqlx::query("SELECT 1 FROM entity_runs WHERE id = $1 FOR UPDATE")
        .bind(person.entity_run_id.clone())
        .execute(&mut *blocker)
        .await
        .unwrap();
    let side_page = PageWrite {
        entity: "Person".into(),
        records: Vec::new(),
        quarantined: Vec::new(),
        checkpoint: checkpoint.clone(),
        fetched: 0,
        pages: 1,
        side: vec![SideWrite {
            entity: "Email".into(),
            records: vec![email_record("7", "first@example.com")],
            quarantined: Vec::new(),
            fetched: 1,
        }],
    };
    let own_page = PageWrite {
        entity: "Email".into(),
        records: vec![email_record("7", "second@example.com")],
        quarantined: Vec::new(),
        checkpoint,
        fetched: 1,
        pages: 1,
        side: Vec::new(),
    };
    let (s1, s2) = (store.clone(), store.clone());
    let first = tokio::spawn(async move { s1.commit_page(&person, side_page, 60_000).await });
    until_waiting(&store, 1).await;
    let second = tokio::spawn(async move { s2.commit_page(&email, own_page, 60_000).await });
    until_waiting(&store, 2).await;
    blocker.commit().await.unwrap();
    let (_, side) = first.await.unwrap().expect("the side-loading page commits");
    assert_eq!(side[0].2.created, 1, "{side:?}");
    let (counts, _) = second
        .await
        .unwrap()
        .expect("the second writer falls back and commits");
    assert_eq!(
        (counts.created, counts.updated),
        (0, 1),
        "written again, it found the record stored"
    );
    let links: Vec<(String, String)> = sqlx::query_as(
        "SELECT canonical_id, content_hash FROM external_links WHERE org_id = 'org1' \
         AND entity = 'Email'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        links,
        [(
            "em_org1_7".to_owned(),
            "hash of second@example.com".to_owned()
        )]
    );
    let address: String = sqlx::query_scalar("SELECT address FROM emails WHERE id = 'em_org1_7'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(address, "second@example.com");
    store.close().await;
    db.drop_db().await;
}

/// New records are copied in without the columns every record of the copy leaves at their
/// default (the server fills those in): whether a column is sent or left out, each row reads
/// back with its own values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copied_rows_keep_their_values_with_defaults_left_out_postgres() {
    use tributary_engine::store::Bind;
    let db = TestDb::postgres().await;
    let store = db.store().await;
    let run = runs::start_or_resume(&store, "org1", &fixture::MANIFEST, "full", &["Email"])
        .await
        .unwrap();
    let ers = runs::entity_runs(&store, "org1", &run.id).await.unwrap();
    let email = ers.iter().find(|r| r.entity == "Email").unwrap();
    let Claim::Acquired(fence) = lease::claim(&store, "org1", &email.id, "host:1:e", 60_000)
        .await
        .unwrap()
    else {
        panic!("the claim must succeed")
    };
    let with = |id: &str, status: &str, tags: &str, custom: &str| {
        let mut r = email_record(id, &format!("{id}@example.com"));
        let table = r.table;
        let names = tributary_engine::canonical::COMMON_COLUMNS
            .iter()
            .chain(table.fields);
        for (v, c) in r.values.iter_mut().zip(names) {
            match c.name {
                "status" => *v = Bind::Text(status.into()),
                "tags" => *v = Bind::Text(tags.into()),
                "custom_fields" => *v = Bind::Text(custom.into()),
                _ => {}
            }
        }
        r
    };
    let page = |records, offset| PageWrite {
        entity: "Email".into(),
        records,
        quarantined: Vec::new(),
        checkpoint: Checkpoint {
            cursor_parent: None,
            next_offset: Some(offset),
            done: false,
        },
        fetched: 2,
        pages: 1,
        side: Vec::new(),
    };
    let mixed = vec![
        with("1", "active", "[]", "{}"),
        with("2", "inactive", r#"["a", "b"]"#, r#"{"x": 1}"#),
    ];
    let plain = vec![
        with("3", "active", "[]", "{}"),
        with("4", "active", "[]", "{}"),
    ];
    for (records, offset) in [(mixed, 2), (plain, 4)] {
        let (counts, _) = store
            .commit_page(&fence, page(records, offset), 60_000)
            .await
            .unwrap();
        assert_eq!(counts.created, 2);
    }
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT id, status, tags::TEXT, custom_fields::TEXT, address FROM emails ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let want = |id: &str, status: &str, tags: &str, custom: &str| {
        (
            format!("em_org1_{id}"),
            status.to_owned(),
            tags.to_owned(),
            custom.to_owned(),
            format!("{id}@example.com"),
        )
    };
    assert_eq!(
        rows,
        [
            want("1", "active", "[]", "{}"),
            want("2", "inactive", r#"["a", "b"]"#, r#"{"x": 1}"#),
            want("3", "active", "[]", "{}"),
            want("4", "active", "[]", "{}"),
        ]
    );
    store.close().await;
    db.drop_db().await;
}
