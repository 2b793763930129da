//! OAuth refresh: proactive, on 401 mid-stream, single-flight, rotation persisted, reuse never.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use futures::TryStreamExt;
use secrecy::ExposeSecret;
use serde_json::json;
use tributary_core::{Auth, Client, Error, MemoryTokenStore, OAuth, Query, TokenSet, TokenStore};

use crate::common::{Person, fast_retry, offset_of, people_page, serve};

const ORG: &str = "org-42";
const CLIENT_ID: &str = "client-id";
const CLIENT_SECRET: &str = "client-secret-XYZ";

/// A token endpoint with rotating refresh tokens and an API that checks bearer tokens.
#[derive(Default)]
pub struct OAuthSim {
    valid: Mutex<HashSet<String>>,
    /// Refresh token -> already used.
    refresh: Mutex<HashMap<String, bool>>,
    /// Every refresh token presented, in order.
    pub presented: Mutex<Vec<String>>,
    issued: AtomicU32,
    /// Revoke the access token after this many successful API requests.
    revoke_after: Mutex<Option<u32>>,
    ok_requests: AtomicU32,
    /// `(offset, status)` of every API request.
    pub api: Mutex<Vec<(u64, u16)>>,
    refresh_delay: Duration,
}

impl OAuthSim {
    fn new(access: &str, refresh: &str) -> Arc<Self> {
        let sim = Self {
            refresh_delay: Duration::from_millis(50),
            ..Self::default()
        };
        sim.valid.lock().unwrap().insert(access.into());
        sim.refresh.lock().unwrap().insert(refresh.into(), false);
        Arc::new(sim)
    }

    fn refreshes(&self) -> usize {
        self.presented.lock().unwrap().len()
    }
}

async fn token(
    State(sim): State<Arc<OAuthSim>>,
    Form(p): Form<HashMap<String, String>>,
) -> Response {
    tokio::time::sleep(sim.refresh_delay).await;
    assert_eq!(
        p.get("grant_type").map(String::as_str),
        Some("refresh_token")
    );
    if p.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || p.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let rt = p.get("refresh_token").cloned().unwrap_or_default();
    sim.presented.lock().unwrap().push(rt.clone());
    match sim.refresh.lock().unwrap().get_mut(&rt) {
        Some(used) if !*used => *used = true,
        _ => {
            let body = json!({"error": "invalid_grant", "error_description": "The refresh token is invalid"});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    }
    let n = sim.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let (access, refresh) = (format!("access-secret-{n}"), format!("refresh-secret-{n}"));
    sim.valid.lock().unwrap().insert(access.clone());
    sim.refresh.lock().unwrap().insert(refresh.clone(), false);
    Json(
        json!({"access_token": access, "token_type": "bearer", "expires_in": 7200,
        "refresh_token": refresh, "created_at": Utc::now().timestamp()}),
    )
    .into_response()
}

async fn people(
    State(sim): State<Arc<OAuthSim>>,
    headers: HeaderMap,
    Q(q): Q<HashMap<String, String>>,
) -> Response {
    let offset = offset_of(&q);
    let bearer = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    if !sim.valid.lock().unwrap().contains(&bearer) {
        sim.api.lock().unwrap().push((offset, 401));
        let body = json!({"errors": [{"status": "401", "title": "Unauthorized", "detail": "The access token expired"}]});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    sim.api.lock().unwrap().push((offset, 200));
    let n = sim.ok_requests.fetch_add(1, Ordering::SeqCst) + 1;
    if *sim.revoke_after.lock().unwrap() == Some(n) {
        sim.valid.lock().unwrap().remove(&bearer);
    }
    Json(people_page(offset, 25, 100)).into_response()
}

pub async fn oauth_server(sim: Arc<OAuthSim>) -> String {
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/people/v2/people", get(people))
        .with_state(sim);
    serve(app).await
}

fn tokens(access: &str, refresh: &str, ttl: chrono::Duration) -> TokenSet {
    TokenSet::new(access, refresh, Utc::now() + ttl)
}

fn oauth_client(base: &str, store: Arc<MemoryTokenStore>) -> Client {
    let oauth = OAuth::new(ORG, CLIENT_ID, CLIENT_SECRET, store);
    Client::builder(base, Auth::OAuth(oauth))
        .retry(fast_retry(3))
        .build()
        .unwrap()
}

fn assert_no_reuse(sim: &OAuthSim) {
    let presented = sim.presented.lock().unwrap();
    let unique: HashSet<_> = presented.iter().collect();
    assert_eq!(
        unique.len(),
        presented.len(),
        "a refresh token was sent twice: {presented:?}"
    );
}

/// The access token dies mid-stream: 401, one refresh, and the same offset is fetched again.
#[tokio::test]
async fn token_expiring_mid_stream_refreshes_and_paging_continues() {
    let sim = OAuthSim::new("access-secret-0", "refresh-secret-0");
    *sim.revoke_after.lock().unwrap() = Some(2);
    let base = oauth_server(sim.clone()).await;
    let store = Arc::new(MemoryTokenStore::with(
        ORG,
        tokens(
            "access-secret-0",
            "refresh-secret-0",
            chrono::Duration::hours(2),
        ),
    ));
    let client = oauth_client(&base, store.clone());
    let pages: Vec<_> = client
        .pages::<Person>("/people/v2/people".into(), Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.offset).collect::<Vec<_>>(),
        [0, 25, 50, 75]
    );
    assert_eq!(
        *sim.api.lock().unwrap(),
        [(0, 200), (25, 200), (50, 401), (50, 200), (75, 200)]
    );
    assert_eq!(sim.refreshes(), 1);
    let stored = store.get(ORG).unwrap();
    assert_eq!(stored.refresh_token.expose_secret(), "refresh-secret-1");
    assert_eq!(stored.access_token.expose_secret(), "access-secret-1");
    assert_eq!(store.saves(), 1);
    assert_no_reuse(&sim);
}

/// Fewer than 60 s left: refreshed before the request, never sent expired.
#[tokio::test]
async fn refreshes_proactively_when_under_a_minute_remains() {
    let sim = OAuthSim::new("access-secret-0", "refresh-secret-0");
    let base = oauth_server(sim.clone()).await;
    let store = Arc::new(MemoryTokenStore::with(
        ORG,
        tokens(
            "access-secret-0",
            "refresh-secret-0",
            chrono::Duration::seconds(30),
        ),
    ));
    let client = oauth_client(&base, store.clone());
    let _: serde_json::Value = client
        .get("/people/v2/people", &Query::new())
        .await
        .unwrap();
    assert_eq!(sim.refreshes(), 1);
    assert_eq!(
        *sim.api.lock().unwrap(),
        [(0, 200)],
        "no request with the old token"
    );
    assert_eq!(
        store.get(ORG).unwrap().refresh_token.expose_secret(),
        "refresh-secret-1"
    );
}

/// Eight tasks find the token expiring at once: exactly one refresh request.
#[tokio::test]
async fn refresh_is_single_flight_under_8_concurrent_tasks() {
    let sim = OAuthSim::new("access-secret-0", "refresh-secret-0");
    let base = oauth_server(sim.clone()).await;
    let store = Arc::new(MemoryTokenStore::with(
        ORG,
        tokens(
            "access-secret-0",
            "refresh-secret-0",
            chrono::Duration::seconds(10),
        ),
    ));
    let client = oauth_client(&base, store.clone());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let _: serde_json::Value = client
                    .get("/people/v2/people", &Query::new())
                    .await
                    .unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(sim.refreshes(), 1);
    assert_eq!(sim.api.lock().unwrap().len(), 8);
    assert_eq!(store.saves(), 1);
    assert_no_reuse(&sim);
}

/// The same: eight tasks all get a 401 for the same revoked token; one refresh between them.
#[tokio::test]
async fn concurrent_401s_share_one_refresh() {
    let sim = OAuthSim::new("access-secret-0", "refresh-secret-0");
    let base = oauth_server(sim.clone()).await;
    sim.valid.lock().unwrap().clear();
    let store = Arc::new(MemoryTokenStore::with(
        ORG,
        tokens(
            "access-secret-0",
            "refresh-secret-0",
            chrono::Duration::hours(1),
        ),
    ));
    let client = oauth_client(&base, store.clone());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let _: serde_json::Value = client
                    .get("/people/v2/people", &Query::new())
                    .await
                    .unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(sim.refreshes(), 1);
    assert_no_reuse(&sim);
}

/// A second handle on the same store adopts tokens another handle rotated instead of
/// sending the burned refresh token.
#[tokio::test]
async fn a_second_handle_adopts_rotated_tokens_from_the_store() {
    let sim = OAuthSim::new("access-secret-0", "refresh-secret-0");
    let base = oauth_server(sim.clone()).await;
    let store = Arc::new(MemoryTokenStore::with(
        ORG,
        tokens(
            "access-secret-0",
            "refresh-secret-0",
            chrono::Duration::hours(1),
        ),
    ));
    let a = oauth_client(&base, store.clone());
    let b = oauth_client(&base, store.clone());
    let _: serde_json::Value = b.get("/people/v2/people", &Query::new()).await.unwrap(); // b caches token 0
    sim.valid.lock().unwrap().clear();
    let _: serde_json::Value = a.get("/people/v2/people", &Query::new()).await.unwrap(); // a rotates
    let _: serde_json::Value = b.get("/people/v2/people", &Query::new()).await.unwrap(); // b: 401, adopts
    assert_eq!(sim.refreshes(), 1);
    assert_no_reuse(&sim);
}

/// A rejected refresh token is a typed, reconnect-needed error and is never sent again.
#[tokio::test]
async fn rejected_refresh_token_is_an_auth_error_and_never_resent() {
    let sim = OAuthSim::new("access-secret-0", "refresh-secret-0");
    sim.refresh
        .lock()
        .unwrap()
        .insert("refresh-secret-0".into(), true); // already used
    let base = oauth_server(sim.clone()).await;
    let store = Arc::new(MemoryTokenStore::with(
        ORG,
        tokens(
            "access-secret-0",
            "refresh-secret-0",
            chrono::Duration::seconds(5),
        ),
    ));
    let client = oauth_client(&base, store.clone());
    for _ in 0..2 {
        let err = client
            .get::<serde_json::Value>("/people/v2/people", &Query::new())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Auth { org, .. } if org == ORG),
            "{err:?}"
        );
        assert!(err.needs_reconnect());
        assert!(err.to_string().contains("invalid_grant"), "{err}");
    }
    assert_eq!(sim.refreshes(), 1, "the rejected token was sent again");
    assert!(sim.api.lock().unwrap().is_empty());
    // The store is untouched: the engine decides what to do with a dead connection.
    assert_eq!(store.saves(), 0);
    let loaded = store.load(ORG).await.unwrap().unwrap();
    assert_eq!(loaded.refresh_token.expose_secret(), "refresh-secret-0");
}

/// PATs go out as HTTP Basic.
#[tokio::test]
async fn pat_sends_basic_auth() {
    let app = Router::new().route(
        "/people/v2/me",
        get(|headers: HeaderMap| async move {
            let h = headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            Json(json!({"auth": h}))
        }),
    );
    let base = serve(app).await;
    let client = Client::new(&base, Auth::pat("app", "pw")).unwrap();
    let v: serde_json::Value = client.get("/people/v2/me", &Query::new()).await.unwrap();
    assert_eq!(v["auth"], "Basic YXBwOnB3");
}

/// Separate handles of one organisation (e.g. two clients built independently) still refresh
/// once between them.
#[tokio::test]
async fn refresh_is_single_flight_across_handles_of_one_org() {
    let sim = OAuthSim::new("access-secret-0", "refresh-secret-0");
    let base = oauth_server(sim.clone()).await;
    let store = Arc::new(MemoryTokenStore::with(
        "org-shared",
        tokens(
            "access-secret-0",
            "refresh-secret-0",
            chrono::Duration::seconds(10),
        ),
    ));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let oauth = OAuth::new("org-shared", CLIENT_ID, CLIENT_SECRET, store.clone());
            let client = Client::builder(&base, Auth::OAuth(oauth))
                .retry(fast_retry(3))
                .build()
                .unwrap();
            tokio::spawn(async move {
                let _: serde_json::Value = client
                    .get("/people/v2/people", &Query::new())
                    .await
                    .unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(sim.refreshes(), 1);
    assert_no_reuse(&sim);
}

/// The default refresh lock: one holder per organisation in the process, across store
/// instances; other organisations do not wait; dropping or releasing the guard frees it.
#[tokio::test]
async fn default_refresh_lock_is_exclusive_per_org_across_stores() {
    let (a, b) = (MemoryTokenStore::new(), Arc::new(MemoryTokenStore::new()));
    let held = a.lock_refresh("org-lock-1").await.unwrap();
    let waiter = tokio::spawn({
        let b = b.clone();
        async move { b.lock_refresh("org-lock-1").await.unwrap().release().await }
    });
    // Another organisation is not blocked.
    tokio::time::timeout(Duration::from_secs(1), b.lock_refresh("org-lock-2"))
        .await
        .expect("another organisation's lock is free")
        .unwrap()
        .release()
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiter.is_finished(), "a second holder got the lock");
    held.release().await;
    tokio::time::timeout(Duration::from_secs(1), waiter)
        .await
        .expect("released")
        .unwrap();
    // A dropped (not released) guard frees the lock too.
    drop(a.lock_refresh("org-lock-1").await.unwrap());
    tokio::time::timeout(Duration::from_secs(1), b.lock_refresh("org-lock-1"))
        .await
        .expect("dropped")
        .unwrap()
        .release()
        .await;
}

/// A store whose refresh lock is shared with "another process" (the test), counting use.
#[derive(Debug)]
struct SharedLockStore {
    tokens: MemoryTokenStore,
    lock: Arc<tokio::sync::Mutex<()>>,
    locks: AtomicU32,
    releases: Arc<AtomicU32>,
}

impl TokenStore for SharedLockStore {
    fn load<'a>(
        &'a self,
        org: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Option<TokenSet>, tributary_core::error::StoreError>>
    {
        self.tokens.load(org)
    }

    fn save<'a>(
        &'a self,
        org: &'a str,
        tokens: &'a TokenSet,
    ) -> futures::future::BoxFuture<'a, Result<(), tributary_core::error::StoreError>> {
        self.tokens.save(org, tokens)
    }

    fn lock_refresh<'a>(
        &'a self,
        _org: &'a str,
    ) -> futures::future::BoxFuture<
        'a,
        Result<tributary_core::RefreshGuard, tributary_core::error::StoreError>,
    > {
        Box::pin(async move {
            self.locks.fetch_add(1, Ordering::SeqCst);
            let held = self.lock.clone().lock_owned().await;
            let releases = self.releases.clone();
            Ok(tributary_core::RefreshGuard::with_release(
                held,
                Box::pin(async move {
                    releases.fetch_add(1, Ordering::SeqCst);
                }),
            ))
        })
    }
}

/// The client refreshes under the store's lock and re-reads the store once it holds it: while
/// another process holds the lock and rotates the tokens, the client waits, then adopts them
/// without sending its own (burned) refresh token; the lock is released exactly once.
#[tokio::test]
async fn refresh_waits_for_the_store_lock_and_adopts_tokens_rotated_meanwhile() {
    let sim = OAuthSim::new("access-fresh", "refresh-fresh");
    let base = oauth_server(sim.clone()).await;
    let store = Arc::new(SharedLockStore {
        tokens: MemoryTokenStore::with(
            ORG,
            tokens("access-old", "refresh-old", chrono::Duration::seconds(-5)),
        ),
        lock: Arc::default(),
        locks: AtomicU32::new(0),
        releases: Arc::default(),
    });
    // "Another process" is refreshing.
    let other = store.lock.clone().lock_owned().await;
    let oauth = OAuth::new(ORG, CLIENT_ID, CLIENT_SECRET, store.clone());
    let client = Client::builder(&base, Auth::OAuth(oauth))
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let request = tokio::spawn(async move {
        client
            .get::<serde_json::Value>("/people/v2/people", &Query::new())
            .await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        !request.is_finished(),
        "the client did not wait for the lock"
    );
    assert_eq!(sim.refreshes(), 0);
    // It rotated and saved, then releases.
    store.tokens.put(
        ORG,
        tokens("access-fresh", "refresh-fresh", chrono::Duration::hours(2)),
    );
    drop(other);
    request.await.unwrap().unwrap();
    assert_eq!(
        sim.refreshes(),
        0,
        "the client refreshed instead of adopting"
    );
    assert_eq!(store.locks.load(Ordering::SeqCst), 1);
    assert_eq!(store.releases.load(Ordering::SeqCst), 1);
}
