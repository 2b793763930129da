//! Pacing from PCO's rate-limit headers and `Retry-After` on 429.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::TryStreamExt;
use serde_json::json;
use tributary_core::{Auth, Client, Query};

use crate::common::{Person, fast_retry, offset_of, people_page, serve};

#[derive(Default)]
struct Log {
    /// Arrival time and whether it was answered 429.
    arrivals: Vec<(Instant, bool)>,
}

fn rate_headers(count: u32, limit: u32, period: u32) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("X-PCO-API-Request-Rate-Count", count.into());
    h.insert("X-PCO-API-Request-Rate-Limit", limit.into());
    h.insert("X-PCO-API-Request-Rate-Period", period.into());
    h
}

fn too_many(retry_after: u32) -> Response {
    let mut h = rate_headers(101, 100, 20);
    h.insert("Retry-After", retry_after.into());
    let body = json!({"errors": [{"status": "429", "title": "Too Many Requests",
        "detail": "Rate limit exceeded: 118 of 100 requests per 20 seconds"}]});
    (StatusCode::TOO_MANY_REQUESTS, h, Json(body)).into_response()
}

/// Nothing reaches the server before a 429's Retry-After has passed, and the stream completes.
#[tokio::test]
async fn storm_of_429_honours_retry_after_and_completes() {
    let log = Arc::new(Mutex::new(Log::default()));
    let app = Router::new()
        .route(
            "/people/v2/people",
            get(
                |State(log): State<Arc<Mutex<Log>>>, Q(q): Q<HashMap<String, String>>| async move {
                    let mut log = log.lock().unwrap();
                    let n = log.arrivals.len();
                    // Requests 2 and 3 (the second page and its first retry) are rejected.
                    let reject = n == 1 || n == 2;
                    log.arrivals.push((Instant::now(), reject));
                    if reject {
                        return too_many(1);
                    }
                    (
                        rate_headers(n as u32 + 1, 100, 20),
                        Json(people_page(offset_of(&q), 10, 40)),
                    )
                        .into_response()
                },
            ),
        )
        .with_state(log.clone());
    let base = serve(app).await;
    let client = Client::builder(&base, Auth::None)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let pages: Vec<_> = client
        .pages::<Person>("/people/v2/people".into(), Query::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.offset).collect::<Vec<_>>(),
        [0, 10, 20, 30]
    );
    let log = log.lock().unwrap();
    assert_eq!(log.arrivals.len(), 6);
    for pair in log.arrivals.windows(2) {
        if pair[0].1 {
            let gap = pair[1].0 - pair[0].0;
            assert!(gap >= Duration::from_secs(1), "request {gap:?} after a 429");
        }
    }
}

/// After a 429 answered to one task, no other task sharing the client sends before it passes.
#[tokio::test]
async fn retry_after_pauses_every_task_sharing_the_client() {
    let log = Arc::new(Mutex::new(Log::default()));
    let app = Router::new()
        .route(
            "/people/v2/people/1",
            get(|State(log): State<Arc<Mutex<Log>>>| async move {
                let mut log = log.lock().unwrap();
                let reject = log.arrivals.len() == 3;
                log.arrivals.push((Instant::now(), reject));
                if reject {
                    return too_many(1);
                }
                Json(json!({"data": {"type": "Person", "id": "1", "attributes": {"first_name": "A"}}}))
                    .into_response()
            }),
        )
        .with_state(log.clone());
    let base = serve(app).await;
    let client = Client::builder(&base, Auth::None)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..3 {
                    let _: serde_json::Value = client
                        .get("/people/v2/people/1", &Query::new())
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let log = log.lock().unwrap();
    assert_eq!(log.arrivals.len(), 19, "18 requests and one retry");
    let (t429, _) = *log.arrivals.iter().find(|a| a.1).unwrap();
    // Requests already in flight when the 429 left may still land just after it.
    let early = log
        .arrivals
        .iter()
        .filter(|(t, _)| {
            *t > t429 + Duration::from_millis(100) && *t < t429 + Duration::from_secs(1)
        })
        .count();
    assert_eq!(early, 0, "requests sent during Retry-After");
}

/// A server counting 10 requests per 1 s window (as PCO does, window opened by the first
/// request) never sees an over-budget request: the client learns the budget from headers.
#[tokio::test]
async fn steady_pacing_from_headers_stays_under_budget() {
    struct Window {
        start: Option<Instant>,
        count: u32,
        over: u32,
        arrivals: Vec<Instant>,
    }
    let w = Arc::new(Mutex::new(Window {
        start: None,
        count: 0,
        over: 0,
        arrivals: vec![],
    }));
    let app = Router::new()
        .route(
            "/people/v2/people/1",
            get(|State(w): State<Arc<Mutex<Window>>>| async move {
                let mut w = w.lock().unwrap();
                let now = Instant::now();
                w.arrivals.push(now);
                if w.start.is_none_or(|s| now - s >= Duration::from_secs(1)) {
                    w.start = Some(now);
                    w.count = 0;
                }
                w.count += 1;
                if w.count > 10 {
                    w.over += 1;
                    return too_many(1);
                }
                let body = json!({"data": {"type": "Person", "id": "1", "attributes": {"first_name": "A"}}});
                (rate_headers(w.count, 10, 1), Json(body)).into_response()
            }),
        )
        .with_state(w.clone());
    let base = serve(app).await;
    // Default limiter: starts at 100 / 20 s and must learn 10 / 1 s.
    let client = Client::builder(&base, Auth::None)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..8 {
                    let _: serde_json::Value = client
                        .get("/people/v2/people/1", &Query::new())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let w = w.lock().unwrap();
    assert_eq!(w.over, 0, "requests over budget");
    assert_eq!(w.arrivals.len(), 32);
    // Sliding check: any 11 consecutive arrivals span at least the period.
    for win in w.arrivals.windows(11) {
        assert!(win[10] - win[0] >= Duration::from_millis(990));
    }
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "pacing too slow: {:?}",
        started.elapsed()
    );
}
