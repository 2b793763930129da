//! Crash safety and exclusivity with real processes: the `tributary` binary is killed with
//! SIGKILL at seeded random points and restarted; the final database must equal an
//! uninterrupted run's, counts must be exact, and a resumed run may re-fetch at most the pages
//! that were in flight.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestDb, sim};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use tributary_engine::{Store, canonical, runs};

const ORG: &str = "crash";
const PER_PAGE: &str = "25";
/// Entity workflows per process: the most pages one kill can leave in flight.
const CONCURRENCY: u64 = 4;

fn spawn(base: &str, db: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args([
            "--json",
            "sync",
            "--org",
            ORG,
            "--adapter",
            "pco",
            "--database-url",
            db,
        ])
        .args([
            "--base-url",
            base,
            "--per-page",
            PER_PAGE,
            "--concurrency",
            "4",
        ])
        .args([
            "--app-id",
            pco_sim::DEFAULT_APP_ID,
            "--secret",
            pco_sim::DEFAULT_SECRET,
        ])
        .env("TRIBUTARY_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tributary")
}

/// Everything a sync wrote for the org, minus bookkeeping times that differ between runs.
async fn snapshot(store: &Store) -> Vec<(String, Vec<Map<String, Value>>)> {
    let mut out = Vec::new();
    for t in canonical::ENTITIES {
        out.push((t.table.to_owned(), store.rows(ORG, t).await.unwrap()));
    }
    let edges = store.edges(ORG).await.unwrap();
    let links = store.links(ORG).await.unwrap();
    let as_rows = |v: Vec<Value>| {
        v.into_iter()
            .filter_map(|x| x.as_object().cloned())
            .collect()
    };
    out.push((
        "edges".into(),
        as_rows(
            edges
                .into_iter()
                .map(|e| serde_json::json!({"e": e}))
                .collect(),
        ),
    ));
    out.push((
        "links".into(),
        as_rows(
            links
                .into_iter()
                .map(|l| serde_json::json!({"l": l}))
                .collect(),
        ),
    ));
    out
}

async fn counts(store: &Store) -> Vec<(String, i64, i64, i64, i64)> {
    let (id, state, _) = runs::latest(store, ORG, "pco").await.unwrap().unwrap();
    assert_eq!(state, "done");
    runs::entity_runs(store, ORG, &id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.entity, e.fetched, e.created, e.updated, e.unchanged))
        .collect()
}

async fn crash_trials(kind: &str, trials: u64, people: usize) {
    let sim = sim(people, 3).await;
    let base = sim.base_url();
    // The uninterrupted reference run.
    let reference_db = TestDb::of(kind).await;
    let before = sim.stats().requests;
    let started = Instant::now();
    let status = spawn(&base, &reference_db.url).wait().unwrap();
    let clean_secs = started.elapsed().as_secs_f64();
    assert!(status.success(), "reference run failed: {status:?}");
    let clean_requests = sim.stats().requests - before;
    let reference_store = reference_db.store().await;
    let reference = snapshot(&reference_store).await;
    let reference_counts = counts(&reference_store).await;
    reference_store.close().await;
    eprintln!("{kind}: reference run {clean_secs:.1}s, {clean_requests} requests");

    for trial in 0..trials {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1000 + trial);
        let db = TestDb::of(kind).await;
        let before = sim.stats().requests;
        let mut kills = 0u64;
        loop {
            let mut child = spawn(&base, &db.url);
            // Kill within the first ~90% of a clean run; after 3 kills let it finish.
            let kill_at = (kills < 3)
                .then(|| Duration::from_secs_f64(rng.random_range(0.05..0.9) * clean_secs));
            let spawned = Instant::now();
            let exited = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break Some(s);
                }
                if kill_at.is_some_and(|k| spawned.elapsed() >= k) {
                    break None;
                }
                assert!(
                    spawned.elapsed() < Duration::from_secs(120),
                    "trial {trial}: sync hung"
                );
                std::thread::sleep(Duration::from_millis(5));
            };
            match exited {
                Some(s) => {
                    assert!(s.success(), "trial {trial}: sync exited with {s:?}");
                    break;
                }
                None => {
                    child.kill().unwrap(); // SIGKILL
                    child.wait().unwrap();
                    kills += 1;
                }
            }
        }
        let requests = sim.stats().requests - before;
        let store = db.store().await;
        assert_eq!(
            snapshot(&store).await,
            reference,
            "trial {trial}: database differs"
        );
        assert_eq!(
            counts(&store).await,
            reference_counts,
            "trial {trial}: counts differ"
        );
        // Each kill may lose at most the pages in flight, one per running workflow.
        assert!(
            requests <= clean_requests + kills * CONCURRENCY,
            "trial {trial}: {requests} requests for {kills} kills (clean run: {clean_requests})"
        );
        eprintln!("{kind} trial {trial}: {kills} kills, {requests} requests");
        store.close().await;
        db.drop_db().await;
    }
    reference_db.drop_db().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_and_resume_sqlite() {
    crash_trials("sqlite", 10, 1500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_and_resume_postgres() {
    crash_trials("postgres", 3, 1000).await;
}

/// Two processes on the same run: both finish, and no page is committed twice (counts exact).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_a_run_without_double_commits() {
    let sim = sim(800, 4).await;
    let base = sim.base_url();
    let db = TestDb::sqlite();
    // Create the schema first so the two processes do not race on migrations.
    db.store().await.close().await;
    let mut a = spawn(&base, &db.url);
    let mut b = spawn(&base, &db.url);
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    let store = db.store().await;
    // Whether the second process joined the first one's run or started a new one after it,
    // every run fetched each record exactly once and each record was created exactly once.
    let rows = sqlx::query(
        "SELECT run_id, entity, fetched, created, updated FROM entity_runs WHERE org_id = $1",
    )
    .bind(ORG)
    .fetch_all(store.pool())
    .await
    .unwrap();
    let o = sim.org();
    let mut created = std::collections::HashMap::<String, i64>::new();
    for r in &rows {
        use sqlx::Row;
        let entity: String = r.get(1);
        let n = o.count(&entity) as i64;
        assert_eq!(r.get::<i64, _>(2), n, "{entity}: fetched");
        assert_eq!(r.get::<i64, _>(4), 0, "{entity}: updated");
        *created.entry(entity).or_default() += r.get::<i64, _>(3);
    }
    for (entity, c) in created {
        assert_eq!(c, o.count(&entity) as i64, "{entity}: created");
    }
}
