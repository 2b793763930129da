//! The database token store: encrypted round trips, and OAuth refresh single flight across
//! processes (separate pools on one database, and real `tributary` processes) against the
//! simulator's rotating refresh tokens with reuse detection.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use common::{TestDb, assert_matches_ground_truth, fixture};
use pco_sim::{RunningSim, Simulator};
use secrecy::ExposeSecret as _;
use sqlx::Row as _;
use tributary_core::{Auth, Client, TokenSet, TokenStore};
use tributary_engine::tokens::db::LeaseOptions;
use tributary_engine::tokens::{self, Credential, DbTokenStore, TokenKey};
use tributary_engine::{Store, SyncOptions, orchestrator};

const ACCESS: &str = "access-plaintext-4f1d2c";
const REFRESH: &str = "refresh-plaintext-9a7b3e";

fn oauth_credential(access: &str, refresh: &str, expires_at: chrono::DateTime<Utc>) -> Credential {
    Credential::OAuth {
        client_id: pco_sim::DEFAULT_CLIENT_ID.into(),
        client_secret: pco_sim::DEFAULT_CLIENT_SECRET.into(),
        access_token: access.into(),
        refresh_token: refresh.into(),
        expires_at,
    }
}

/// Every stored column of the org's row, as text.
async fn raw_row(store: &Store, org: &str) -> Vec<String> {
    let row = sqlx::query(
        "SELECT org_id, adapter, key_id, nonce, ciphertext, updated_ms, refresh_owner, \
         refresh_expires_ms FROM tokens WHERE org_id = $1",
    )
    .bind(org)
    .fetch_one(store.pool())
    .await
    .unwrap();
    let mut out: Vec<String> = (0..5).map(|i| row.get::<String, _>(i)).collect();
    out.push(row.get::<i64, _>(5).to_string());
    out.push(format!("{:?}", row.get::<Option<String>, _>(6)));
    out.push(format!("{:?}", row.get::<Option<i64>, _>(7)));
    out
}

fn assert_secret_free(text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "a secret leaked into {text:?}");
    }
}

async fn round_trip(kind: &str) {
    let db = TestDb::of(kind).await;
    let store = db.store().await;
    let key = TokenKey::generate();
    let expires = Utc::now() + chrono::Duration::minutes(30);
    tokens::put(
        &store,
        &key,
        "org1",
        "pco",
        &oauth_credential(ACCESS, REFRESH, expires),
    )
    .await
    .unwrap();
    let ts = DbTokenStore::new(store.clone(), key.clone(), "pco");

    let loaded = ts.load("org1").await.unwrap().expect("stored");
    assert_eq!(loaded.access_token.expose_secret(), ACCESS);
    assert_eq!(loaded.refresh_token.expose_secret(), REFRESH);
    assert_eq!(loaded.expires_at.timestamp(), expires.timestamp());
    assert!(ts.load("other-org").await.unwrap().is_none());

    // save() replaces the tokens and keeps the client credentials.
    let next = TokenSet::new("access-next-77", "refresh-next-88", expires);
    ts.save("org1", &next).await.unwrap();
    let loaded = ts.load("org1").await.unwrap().unwrap();
    assert_eq!(loaded.refresh_token.expose_secret(), "refresh-next-88");
    match tokens::get(&store, &key, "org1", "pco").await.unwrap() {
        Some(Credential::OAuth {
            client_id,
            client_secret,
            ..
        }) => {
            assert_eq!(client_id, pco_sim::DEFAULT_CLIENT_ID);
            assert_eq!(client_secret, pco_sim::DEFAULT_CLIENT_SECRET);
        }
        other => panic!("expected OAuth credentials, got {other:?}"),
    }

    // At rest: no column holds a token or the client secret, not even the decoded ciphertext.
    let secrets = [
        "access-next-77",
        "refresh-next-88",
        pco_sim::DEFAULT_CLIENT_SECRET,
    ];
    let row = raw_row(&store, "org1").await;
    assert_secret_free(&row.join("|"), &secrets);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&row[4])
        .unwrap();
    assert_secret_free(&String::from_utf8_lossy(&decoded), &secrets);
    assert_eq!(row[2], key.id());
    assert_eq!((row[6].as_str(), row[7].as_str()), ("None", "None"));

    // Nothing prints a secret.
    let creds = tokens::get(&store, &key, "org1", "pco").await.unwrap();
    for text in [
        format!("{ts:?}"),
        format!("{loaded:?}"),
        format!("{creds:?}"),
        format!("{key:?}"),
    ] {
        assert_secret_free(&text, &secrets);
        assert_secret_free(&text, &[&key.to_base64()]);
    }

    // A wrong key is a clear error naming both key ids, and writes nothing.
    let other = TokenKey::generate();
    let wrong = DbTokenStore::new(store.clone(), other.clone(), "pco");
    let err = wrong.load("org1").await.unwrap_err().to_string();
    assert!(
        err.contains("encrypted with key") && err.contains(&key.id()) && err.contains(&other.id()),
        "{err}"
    );
    assert_secret_free(&err, &secrets);
    let err = wrong.save("org1", &next).await.unwrap_err().to_string();
    assert!(err.contains("encrypted with key"), "{err}");
    assert_eq!(raw_row(&store, "org1").await, row);

    // Saving for an organisation that never connected is an error, not a half row.
    let err = ts.save("nobody", &next).await.unwrap_err().to_string();
    assert!(err.contains("no OAuth credentials stored"), "{err}");

    // A stored credential of another kind is not OAuth tokens.
    let pat = Credential::Basic {
        app_id: "a".into(),
        secret: "s".into(),
    };
    tokens::put(&store, &key, "pat-org", "pco", &pat)
        .await
        .unwrap();
    let err = ts.load("pat-org").await.unwrap_err().to_string();
    assert!(err.contains("not OAuth"), "{err}");

    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn round_trip_encrypted_at_rest_sqlite() {
    round_trip("sqlite").await;
}

#[tokio::test]
async fn round_trip_encrypted_at_rest_postgres() {
    round_trip("postgres").await;
}

/// The refresh lease excludes a second holder (another pool = another process) until released,
/// and a holder that never releases (a crashed process) loses it when it expires.
async fn lease_excludes_other_processes(kind: &str) {
    let db = TestDb::of(kind).await;
    let (a, b) = (db.store().await, db.store().await);
    let key = TokenKey::generate();
    tokens::put(
        &a,
        &key,
        "org1",
        "pco",
        &oauth_credential(ACCESS, REFRESH, Utc::now()),
    )
    .await
    .unwrap();
    let lease = LeaseOptions {
        ttl: Duration::from_millis(900),
        poll: Duration::from_millis(20),
        max_wait: Duration::from_secs(10),
    };
    let ta = DbTokenStore::with_lease(a.clone(), key.clone(), "pco", lease);
    let tb = DbTokenStore::with_lease(b.clone(), key.clone(), "pco", lease);

    let held = ta.lock_refresh("org1").await.unwrap();
    // Held past several lease lifetimes: the heartbeat keeps the lease.
    let waiter = tokio::spawn({
        let tb = tb.clone();
        async move { tb.lock_refresh("org1").await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !waiter.is_finished(),
        "a second process took the lease while it was held"
    );
    held.release().await;
    let second = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the waiter gets the lease once it is released")
        .unwrap();

    second.release().await;

    // A process that dies holding the lease (its guard never released, its pool gone, so its
    // heartbeat stops): the lease expires and the next refresher takes it.
    let c = db.store().await;
    let tc = DbTokenStore::with_lease(c.clone(), key.clone(), "pco", lease);
    std::mem::forget(tc.lock_refresh("org1").await.unwrap());
    c.close().await;
    let started = std::time::Instant::now();
    let third = ta.lock_refresh("org1").await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    third.release().await;
    let row = raw_row(&a, "org1").await;
    assert_eq!((row[6].as_str(), row[7].as_str()), ("None", "None"));

    // No row: nothing to lock, nothing to wait for.
    tb.lock_refresh("nobody").await.unwrap().release().await;

    a.close().await;
    b.close().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_excludes_other_processes_sqlite() {
    lease_excludes_other_processes("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_excludes_other_processes_postgres() {
    lease_excludes_other_processes("postgres").await;
}

/// A simulator with OAuth (rotating refresh tokens, reuse detection) and `people` people, and
/// the first token set, obtained through the authorization-code grant.
async fn oauth_sim(people: usize, seed: u64) -> (RunningSim, String, String) {
    let sim = Simulator::builder()
        .people(people)
        .seed(seed)
        .no_rate_limit()
        .start()
        .await
        .unwrap();
    let code = sim.authorization_code(pco_sim::DEFAULT_CLIENT_ID).unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", sim.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", pco_sim::DEFAULT_CLIENT_ID),
            ("client_secret", pco_sim::DEFAULT_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sim.stats().tokens_issued, 1);
    let access = answer["access_token"].as_str().unwrap().to_owned();
    let refresh = answer["refresh_token"].as_str().unwrap().to_owned();
    (sim, access, refresh)
}

/// The simulator's token endpoint behind a proxy that answers 300 ms late, as a distant
/// server does: two refreshers that are not excluded would both send the refresh token
/// within that window (without it they race over a few milliseconds and mostly miss).
async fn slow_token_endpoint(sim: &RunningSim) -> String {
    use axum::extract::{Form, State};
    use axum::response::IntoResponse;
    let upstream = format!("{}/oauth/token", sim.base_url());
    let app = axum::Router::new()
        .route(
            "/oauth/token",
            axum::routing::post(
                |State(upstream): State<String>,
                 Form(form): Form<std::collections::HashMap<String, String>>| async move {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    let r = reqwest::Client::new()
                        .post(upstream)
                        .form(&form)
                        .send()
                        .await
                        .unwrap();
                    let status = axum::http::StatusCode::from_u16(r.status().as_u16()).unwrap();
                    let body = r.bytes().await.unwrap();
                    (
                        status,
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                        .into_response()
                },
            ),
        )
        .with_state(upstream);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/oauth/token")
}

/// Two processes (two `Store`s: separate pools) on one database, each with its own client and
/// `DbTokenStore`, page and then sync the same organisation at once with tokens that have
/// already expired:
/// the simulator sees exactly one refresh, no reused refresh token, and the database ends
/// with the rotated token.
async fn two_processes_refresh_once(kind: &str) {
    let (sim, access, refresh) = oauth_sim(150, 11).await;
    let token_url = slow_token_endpoint(&sim).await;
    let db = TestDb::of(kind).await;
    let key = TokenKey::generate();
    let adapter = fixture::MANIFEST.adapter;
    {
        let seed = db.store().await;
        let expired = Utc::now() - chrono::Duration::hours(1);
        tokens::put(
            &seed,
            &key,
            "org1",
            adapter,
            &oauth_credential(&access, &refresh, expired),
        )
        .await
        .unwrap();
        seed.close().await;
    }
    let mut workers = Vec::new();
    for _ in 0..2 {
        let store = db.store().await;
        let ts = DbTokenStore::new(store.clone(), key.clone(), adapter);
        let credential = tokens::get(&store, &key, "org1", adapter)
            .await
            .unwrap()
            .unwrap();
        let Auth::OAuth(oauth) = ts.auth("org1", &credential) else {
            panic!("stored OAuth credentials give OAuth client authentication");
        };
        let auth = Auth::OAuth(oauth.with_token_url(&token_url));
        let client = Client::builder(&sim.base_url(), auth)
            .rate_limiter(Arc::new(tributary_core::ratelimit::Unlimited))
            .build()
            .unwrap();
        workers.push((store, client));
    }
    // Both fetch a page at the same moment (on SQLite the sync's own start-up would serialise
    // them through the write lock and hide a race), then sync the organisation together.
    let query = tributary_core::Query::new();
    let page = |i: usize| {
        workers[i]
            .1
            .get::<serde_json::Value>("/people/v2/people", &query)
    };
    let (pa, pb) = tokio::join!(page(0), page(1));
    pa.unwrap();
    pb.unwrap();
    // Each "process" has its own worker identity (lease owner).
    let (oa, ob) = (SyncOptions::new("org1"), SyncOptions::new("org1"));
    let (ra, rb) = tokio::join!(
        orchestrator::sync(&workers[0].0, &fixture::MANIFEST, &workers[0].1, &oa, None),
        orchestrator::sync(&workers[1].0, &fixture::MANIFEST, &workers[1].1, &ob, None),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(
        (ra.state.as_str(), rb.state.as_str()),
        ("done", "done"),
        "{ra:?} {rb:?}"
    );
    let stats = sim.stats();
    assert_eq!(
        stats.refresh_reuse, 0,
        "a refresh token was sent twice: {stats:?}"
    );
    assert_eq!(
        stats.tokens_issued, 2,
        "the code grant plus exactly one refresh: {stats:?}"
    );
    assert_eq!(stats.expired_token_uses, 0, "{stats:?}");
    assert_eq!(stats.unauthorized, 0, "{stats:?}");

    let store = &workers[0].0;
    let stored = DbTokenStore::new(store.clone(), key.clone(), adapter)
        .load("org1")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored.refresh_token.expose_secret(), refresh.as_str());
    assert_ne!(stored.access_token.expose_secret(), access.as_str());
    assert!(stored.expires_at > Utc::now() + chrono::Duration::minutes(100));
    let row = raw_row(store, "org1").await;
    assert_eq!((row[6].as_str(), row[7].as_str()), ("None", "None"));
    assert_matches_ground_truth(store, "org1", &sim).await;

    for (s, _) in &workers {
        s.close().await;
    }
    db.drop_db().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_refresh_once_sqlite() {
    two_processes_refresh_once("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_refresh_once_postgres() {
    two_processes_refresh_once("postgres").await;
}

/// `tributary sync` with OAuth: two real processes started at once with the same refresh
/// token connect the organisation once, refresh once between them, and leave the rotated
/// token stored; a third run needs only the token key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_processes_share_stored_oauth_tokens() {
    let (sim, _access, refresh) = oauth_sim(120, 12).await;
    let db = TestDb::sqlite();
    // Create the schema first so the processes do not race on migrations.
    db.store().await.close().await;
    let key = TokenKey::generate();
    let spawn = |with_refresh: bool| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tributary"));
        cmd.args(["--json", "sync", "--org", "cli", "--adapter", "pco"])
            .args(["--database-url", &db.url, "--base-url", &sim.base_url()])
            .args(["--per-page", "50", "--no-rate-limit"])
            .env("TRIBUTARY_TOKEN_KEY", key.to_base64())
            .env("PCO_CLIENT_ID", pco_sim::DEFAULT_CLIENT_ID)
            .env("PCO_CLIENT_SECRET", pco_sim::DEFAULT_CLIENT_SECRET)
            .env_remove("PCO_APP_ID")
            .env_remove("PCO_SECRET")
            .env(
                "TRIBUTARY_LOG",
                std::env::var("TRIBUTARY_LOG").unwrap_or_else(|_| "error".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if with_refresh {
            cmd.env("PCO_REFRESH_TOKEN", &refresh);
        } else {
            cmd.env_remove("PCO_REFRESH_TOKEN");
        }
        cmd.spawn().expect("spawn tributary")
    };
    let (a, b) = (spawn(true), spawn(true));
    let (a, b) = (
        a.wait_with_output().await.unwrap(),
        b.wait_with_output().await.unwrap(),
    );
    for out in [&a, &b] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{:?}: {stderr}", out.status);
        assert_secret_free(&stderr, &[&refresh]);
    }
    let stats = sim.stats();
    assert_eq!(stats.refresh_reuse, 0, "{stats:?}");
    assert_eq!(
        stats.tokens_issued, 2,
        "one refresh between both: {stats:?}"
    );

    let store = db.store().await;
    let ts = DbTokenStore::new(store.clone(), key.clone(), "pco");
    let rotated = ts.load("cli").await.unwrap().unwrap();
    assert_ne!(rotated.refresh_token.expose_secret(), refresh.as_str());

    // The next run has no refresh token to give: the stored, rotated one still works (and
    // is fresh, so no refresh at all).
    let c = spawn(false).wait_with_output().await.unwrap();
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    assert_eq!(sim.stats().tokens_issued, 2);
    assert_eq!(sim.stats().refresh_reuse, 0);
    store.close().await;
    sim.shutdown().await;
}
