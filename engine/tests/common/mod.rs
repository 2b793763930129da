//! Shared test helpers: databases (SQLite files, fresh PostgreSQL databases), the simulator and
//! ground-truth checks.
#![allow(dead_code)]

pub mod fixture;

use std::collections::BTreeSet;

use pco_sim::{RunningSim, Simulator};
use sqlx::Connection;
use tributary_core::{Auth, Client};
use tributary_engine::Store;
use tributary_engine::workflow::canonical_id;

/// The administrative PostgreSQL URL (databases are created and dropped through it).
pub fn pg_admin_url() -> String {
    std::env::var("TRIBUTARY_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database for one test: a SQLite file in a temporary directory, or a fresh PostgreSQL
/// database dropped by [`TestDb::drop_db`] (or, should the test fail first, when dropped).
pub struct TestDb {
    /// The URL to connect to.
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A SQLite file in a new temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("t.db").display().to_string();
        TestDb {
            url,
            pg_name: None,
            _dir: Some(dir),
        }
    }

    /// A new PostgreSQL database `tributary_test_<random>`.
    pub async fn postgres() -> TestDb {
        let name = format!("tributary_test_{:016x}", rand::random::<u64>());
        let admin = pg_admin_url();
        let mut conn = sqlx::postgres::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required for this test: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
        TestDb {
            url: format!("{base}/{name}"),
            pg_name: Some(name),
            _dir: None,
        }
    }

    /// Both kinds, by name.
    pub async fn of(kind: &str) -> TestDb {
        match kind {
            "postgres" => TestDb::postgres().await,
            _ => TestDb::sqlite(),
        }
    }

    /// Opens (and migrates) the store.
    pub async fn store(&self) -> Store {
        Store::connect(&self.url).await.unwrap()
    }

    /// Drops the PostgreSQL database (no-op for SQLite).
    pub async fn drop_db(mut self) {
        if let Some(name) = self.pg_name.take() {
            drop_database(&name).await.unwrap();
        }
    }
}

/// Drops database `name`, closing any connection to it.
async fn drop_database(name: &str) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::postgres::PgConnection::connect(&pg_admin_url()).await?;
    let q = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    sqlx::query(sqlx::AssertSqlSafe(q))
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// A test that fails (panics) before [`TestDb::drop_db`] still drops its PostgreSQL database,
/// here, so failed runs do not pile databases up on the server. `Drop` cannot await inside the
/// test's runtime: a thread with a runtime of its own does it.
impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("{name}: {e}"))?;
            rt.block_on(drop_database(&name))
                .map_err(|e| format!("{name}: {e}"))
        })
        .join();
        if let Ok(Err(e)) | Err(e) = dropped.map_err(|_| "panicked".to_owned()) {
            eprintln!("a test database was not dropped: {e}");
        }
    }
}

/// A simulator with `people` people, rate limit off.
pub async fn sim(people: usize, seed: u64) -> RunningSim {
    Simulator::builder()
        .people(people)
        .seed(seed)
        .no_rate_limit()
        .start()
        .await
        .unwrap()
}

/// A client for the simulator with its default Personal Access Token.
pub fn client(sim: &RunningSim) -> Client {
    let auth = Auth::Basic {
        app_id: pco_sim::DEFAULT_APP_ID.into(),
        secret: pco_sim::DEFAULT_SECRET.to_string().into(),
    };
    // The simulator's rate limit is off; so is the client's pacing.
    Client::builder(&sim.base_url(), auth)
        .rate_limiter(std::sync::Arc::new(tributary_core::ratelimit::Unlimited))
        .build()
        .unwrap()
}

/// Canonical id of a simulator record.
pub fn cid(prefix: &str, org: &str, entity: &str, id: u64) -> String {
    canonical_id(prefix, org, "pco", entity, &id.to_string())
}

/// Asserts that `store` holds exactly the simulator's people, addresses, emails, phone
/// numbers, households and campuses for `org`, with mapped fields and edges as the fixture
/// mapping says.
pub async fn assert_matches_ground_truth(store: &Store, org: &str, sim: &RunningSim) {
    use tributary_engine::canonical::entity;
    let tables = [
        ("Person", "person"),
        ("Address", "address"),
        ("Email", "email"),
        ("PhoneNumber", "phone_number"),
        ("Household", "household"),
        ("Campus", "campus"),
    ];
    for (sim_table, canon) in tables {
        let t = entity(canon).unwrap();
        let rows = store.rows(org, t).await.unwrap();
        // The simulator's lock is not held across awaits: compare in a block.
        let o = sim.org();
        assert_eq!(rows.len(), o.count(sim_table), "{sim_table}: row count");
        let by_id: std::collections::HashMap<&str, &serde_json::Map<String, serde_json::Value>> =
            rows.iter()
                .map(|r| (r["id"].as_str().unwrap(), r))
                .collect();
        let schema = &o.table(sim_table).unwrap().schema;
        for rec in o.records(sim_table) {
            let id = cid(t.prefix, org, sim_table, rec.id);
            let row = by_id
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{sim_table} {} missing", rec.id));
            let attr = |n: &str| rec.get(schema, n).map(|v| v.to_json()).unwrap_or_default();
            let trimmed = |n: &str| match attr(n) {
                serde_json::Value::String(s) if s.trim().is_empty() => serde_json::Value::Null,
                serde_json::Value::String(s) => serde_json::Value::String(s.trim().to_owned()),
                v => v,
            };
            match sim_table {
                "Person" => {
                    assert_eq!(
                        row["first_name"],
                        trimmed("first_name"),
                        "person {}",
                        rec.id
                    );
                    assert_eq!(row["last_name"], trimmed("last_name"), "person {}", rec.id);
                    // Dates, instants and booleans, as each database stored them.
                    assert_eq!(row["birthdate"], attr("birthdate"), "person {}", rec.id);
                    let instant = |n: &str| {
                        attr(n)
                            .as_str()
                            .and_then(tributary_engine::workflow::normalize_instant)
                            .map(serde_json::Value::String)
                            .unwrap_or_default()
                    };
                    assert_eq!(
                        row["updated_at"],
                        instant("updated_at"),
                        "person {}",
                        rec.id
                    );
                    assert_eq!(
                        row["created_at"],
                        instant("created_at"),
                        "person {}",
                        rec.id
                    );
                    assert_eq!(row["child"], attr("child"), "person {}", rec.id);
                }
                "Email" => {
                    let want = attr("address").as_str().map(|s| s.trim().to_lowercase());
                    assert_eq!(row["address"].as_str().map(str::to_owned), want);
                }
                "Address" => assert_eq!(row["city"], trimmed("city")),
                "PhoneNumber" => assert_eq!(row["e164"], attr("e164")),
                "Household" => assert_eq!(row["name"], trimmed("name")),
                "Campus" => assert_eq!(row["name"], trimmed("name")),
                _ => {}
            }
            if matches!(sim_table, "Address" | "Email" | "PhoneNumber") {
                let ti = o.schema.index(sim_table).unwrap();
                let owner = o.related(ti, rec, "person");
                let want = owner.first().map(|p| cid("person", org, "Person", *p));
                assert_eq!(
                    row["owner_id"].as_str().map(str::to_owned),
                    want,
                    "{sim_table} owner"
                );
            }
        }
    }
    // Edges: owners, primary campuses and household memberships, exactly.
    let want = expected_edges(org, sim);
    let got: BTreeSet<_> = store.edges(org).await.unwrap().into_iter().collect();
    assert_eq!(got.len(), want.len(), "edge count");
    assert!(got == want, "edges differ from ground truth");
}

fn expected_edges(org: &str, sim: &RunningSim) -> BTreeSet<(String, String, String)> {
    let o = sim.org();
    let mut want = BTreeSet::new();
    let pi = o.schema.index("Person").unwrap();
    for p in o.records("Person") {
        let src = cid("person", org, "Person", p.id);
        for c in o.related(pi, p, "primary_campus") {
            want.insert((
                src.clone(),
                "primary_campus".to_owned(),
                cid("campus", org, "Campus", c),
            ));
        }
        for h in o.related(pi, p, "households") {
            want.insert((
                src.clone(),
                "member_of".to_owned(),
                cid("household", org, "Household", h),
            ));
        }
    }
    // Owners come from the rows' owner_id, named `<canonical entity>_of` by the
    // relationships view (the fixture's own edge name for owners is not stored).
    for (t, prefix, canonical) in [
        ("Address", "address", "address"),
        ("Email", "email", "email"),
        ("PhoneNumber", "phone", "phone_number"),
    ] {
        let ti = o.schema.index(t).unwrap();
        for r in o.records(t) {
            for p in o.related(ti, r, "person") {
                let target = cid("person", org, "Person", p);
                want.insert((cid(prefix, org, t, r.id), format!("{canonical}_of"), target));
            }
        }
    }
    want
}
