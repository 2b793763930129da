//! Crash safety and exclusivity with real processes: the `tributary` binary is killed with
//! SIGKILL at seeded random points and restarted; the final database must equal an
//! uninterrupted run's, counts must be exact, and a resumed run may re-fetch at most the pages
//! that were in flight.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{TestDb, sim};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use tokio::process::{Child, Command};
use tributary_engine::{Store, canonical, runs};

const ORG: &str = "crash";
const PER_PAGE: &str = "25";
/// Entity workflows per process.
const CONCURRENCY: u64 = 4;
/// Nested lists: parents whose first page is fetched at once, per workflow. A kill can leave
/// `CONCURRENCY × PARENTS` pages in flight (fetched, not committed).
const PARENTS: u64 = 4;

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
            "--parent-concurrency",
            "4",
            "--no-rate-limit",
        ])
        .args([
            "--app-id",
            pco_sim::DEFAULT_APP_ID,
            "--secret",
            pco_sim::DEFAULT_SECRET,
        ])
        .env(
            "TRIBUTARY_LOG",
            std::env::var("TRIBUTARY_LOG").unwrap_or_else(|_| "error".into()),
        )
        .stdout(Stdio::null())
        .stderr(if std::env::var_os("TRIBUTARY_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .kill_on_drop(true)
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

async fn run_state(url: &str) -> Option<String> {
    let store = Store::connect(url).await.unwrap();
    if url.starts_with("postgres") {
        // A killed client's last statement may still commit on the server after the kill
        // (say, the run's final `done`): wait until its backends have gone, or we would read
        // a state that is about to change and restart a run that is already finished.
        let started = std::time::Instant::now();
        loop {
            let others: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid()",
            )
            .fetch_one(store.pool())
            .await
            .unwrap();
            // Our pool normally holds one connection (this one); an idle extra one would
            // only cost the 10 s cap, never a wrong answer.
            if others == 0 || started.elapsed() > Duration::from_secs(10) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let state = runs::latest(&store, ORG, "pco").await.unwrap().map(|r| r.1);
    store.close().await;
    state
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
    let status = spawn(&base, &reference_db.url).wait().await.unwrap();
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
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            match exited {
                Some(s) => {
                    assert!(s.success(), "trial {trial}: sync exited with {s:?}");
                    break;
                }
                None => {
                    child.kill().await.unwrap(); // SIGKILL, then reaped
                    kills += 1;
                    // Killed after the run completed: there is nothing to resume (restarting
                    // would start a new run, as `tributary sync` after success does).
                    if run_state(&db.url).await.as_deref() == Some("done") {
                        break;
                    }
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
        // Each kill may lose at most the pages in flight: one per running workflow, or one per
        // parent being fetched for nested lists.
        assert!(
            requests <= clean_requests + kills * CONCURRENCY * PARENTS,
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
    crash_trials("sqlite", 10, 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_and_resume_postgres() {
    crash_trials("postgres", 3, 300).await;
}

/// Two processes on the same run: both finish, and no page is committed twice (counts exact).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_a_run_without_double_commits() {
    let sim = sim(300, 4).await;
    let base = sim.base_url();
    let db = TestDb::sqlite();
    // Create the schema first so the two processes do not race on migrations.
    db.store().await.close().await;
    let mut a = spawn(&base, &db.url);
    let mut b = spawn(&base, &db.url);
    assert!(a.wait().await.unwrap().success());
    assert!(b.wait().await.unwrap().success());
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
    let manifest = tributary_engine::registry::adapter("pco").unwrap();
    let quarantined: Vec<(String, String, String)> = store.quarantine(ORG).await.unwrap();
    let o = sim.org();
    let mut created = std::collections::HashMap::<String, i64>::new();
    for r in &rows {
        use sqlx::Row;
        let entity: String = r.get(1);
        if manifest.entity(&entity).and_then(|e| e.canonical).is_none() {
            continue; // not stored, not fetched
        }
        let n = o.count(&entity) as i64;
        assert_eq!(r.get::<i64, _>(2), n, "{entity}: fetched");
        assert_eq!(r.get::<i64, _>(4), 0, "{entity}: updated");
        *created.entry(entity).or_default() += r.get::<i64, _>(3);
    }
    for (entity, c) in created {
        let q = quarantined.iter().filter(|x| x.0 == entity).count() as i64;
        assert_eq!(
            c + q,
            o.count(&entity) as i64,
            "{entity}: created + quarantined"
        );
    }
}
