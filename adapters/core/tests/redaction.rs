//! Captures every log line at `trace` (ours, reqwest's and hyper's) while the client uses a
//! PAT and OAuth through refreshes, 401s and a rejected refresh token, and prints its values
//! with `Debug`; no secret or token may appear. Own binary: it installs a global subscriber.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use futures::TryStreamExt;
use serde_json::json;
use tracing_subscriber::fmt::format::FmtSpan;
use tributary_core::{Auth, Client, MemoryTokenStore, OAuth, Query, TokenSet};

const PAT_SECRET: &str = "pat-secret-5f8e2d";
const PAT_BASIC: &str = "YXBwLWlkOnBhdC1zZWNyZXQtNWY4ZTJk"; // base64("app-id:pat-secret-5f8e2d")
const CLIENT_SECRET: &str = "client-secret-9a7b";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Default)]
struct Sim {
    issued: AtomicU32,
    api_calls: AtomicU32,
}

fn token_name(kind: &str, n: u32) -> String {
    format!("{kind}-tok-{n}-c3b1e0")
}

async fn token(State(sim): State<Arc<Sim>>, Form(p): Form<HashMap<String, String>>) -> Response {
    if p["refresh_token"] == "refresh-dead-77aa" {
        let body = json!({"error": "invalid_grant", "error_description": "reused"});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let n = sim.issued.fetch_add(1, Ordering::SeqCst) + 1;
    Json(
        json!({"access_token": token_name("access", n), "token_type": "bearer",
        "expires_in": 7200, "refresh_token": token_name("refresh", n), "created_at": 0}),
    )
    .into_response()
}

async fn people(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    // Every third OAuth call is refused, as if the token had been revoked.
    let n = sim.api_calls.fetch_add(1, Ordering::SeqCst);
    if auth.starts_with("Bearer") && n % 3 == 2 {
        let body = json!({"errors": [{"status": "401", "title": "Unauthorized"}]});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    let mut page = json!({"data": [{"type": "Person", "id": n.to_string(), "attributes": {}}],
        "meta": {"total_count": 4}});
    if n < 3 {
        page["meta"]["next"] = json!({"offset": n + 1});
    }
    Json(page).into_response()
}

#[tokio::test]
async fn trace_logs_carry_no_secret() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();

    let sim = Arc::new(Sim::default());
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/people/v2/people", get(people))
        .with_state(sim.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let pat = Client::new(&base, Auth::pat("app-id", PAT_SECRET)).unwrap();
    let _: serde_json::Value = pat.get("/people/v2/people", &Query::new()).await.unwrap();
    tracing::trace!(client = ?pat, "pat client");

    let expiring = TokenSet::new(
        token_name("access", 0),
        token_name("refresh", 0),
        Utc::now(),
    );
    let store = Arc::new(MemoryTokenStore::with("org", expiring.clone()));
    let oauth = OAuth::new("org", "client-id", CLIENT_SECRET, store.clone());
    let client = Client::new(&base, Auth::OAuth(oauth.clone())).unwrap();
    let pages: Vec<_> = client
        .raw_pages("/people/v2/people".into(), Query::new())
        .try_collect()
        .await
        .unwrap();
    assert!(!pages.is_empty());
    tracing::trace!(?client, ?oauth, tokens = ?store.get("org"), ?expiring, ?store, "oauth state");

    let dead = TokenSet::new("access-dead-77aa", "refresh-dead-77aa", Utc::now());
    let dead_store = Arc::new(MemoryTokenStore::with("org2", dead));
    let auth = Auth::OAuth(OAuth::new("org2", "client-id", CLIENT_SECRET, dead_store));
    let failing = Client::new(&base, auth).unwrap();
    let err = failing
        .get::<serde_json::Value>("/people/v2/people", &Query::new())
        .await
        .unwrap_err();
    tracing::error!(error = %err, debug = ?err, "refresh failed");

    if std::env::var_os("DUMP_LOG").is_some() {
        eprintln!("{}", String::from_utf8_lossy(&capture.0.lock().unwrap()));
    }
    let issued = sim.issued.load(Ordering::SeqCst);
    assert!(issued >= 2, "expected refreshes, got {issued}");
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("http.request") && log.contains("oauth.refresh"),
        "{log}"
    );
    assert!(
        log.contains("status=401") && log.contains("invalid_grant"),
        "{log}"
    );
    let mut secrets = vec![
        PAT_SECRET.to_owned(),
        PAT_BASIC.to_owned(),
        CLIENT_SECRET.to_owned(),
        "access-dead-77aa".to_owned(),
        "refresh-dead-77aa".to_owned(),
    ];
    for n in 0..=issued {
        secrets.push(token_name("access", n));
        secrets.push(token_name("refresh", n));
    }
    for s in &secrets {
        assert!(
            !log.contains(s.as_str()),
            "secret {s:?} leaked into the log:\n{log}"
        );
    }
}
