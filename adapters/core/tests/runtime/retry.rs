//! Bounded retries: 5xx, timeouts and dropped bodies pass; malformed pages and 4xx do not.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query as Q, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use tributary_core::{Auth, Client, Error, Query};

use crate::common::{Person, fast_retry, offset_of, people_page, serve};

/// Requests per offset.
type Hits = Arc<Mutex<HashMap<u64, u32>>>;

fn hit(hits: &Hits, offset: u64) -> u32 {
    let mut h = hits.lock().unwrap();
    let n = h.entry(offset).or_default();
    *n += 1;
    *n
}

/// Each page fails once in a different way, then succeeds.
#[tokio::test]
async fn server_errors_timeouts_and_dropped_connections_are_retried() {
    let hits: Hits = Arc::default();
    let app = Router::new()
        .route(
            "/people/v2/people",
            get(|State(hits): State<Hits>, Q(q): Q<HashMap<String, String>>| async move {
                let offset = offset_of(&q);
                let page = people_page(offset, 10, 50);
                if hit(&hits, offset) > 1 {
                    return Json(page).into_response();
                }
                match offset {
                    0 => (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response(),
                    10 => StatusCode::BAD_GATEWAY.into_response(),
                    20 => {
                        // Slower than the client's timeout.
                        tokio::time::sleep(Duration::from_millis(800)).await;
                        Json(page).into_response()
                    }
                    30 => {
                        // The connection dies half-way through the body.
                        let text = page.to_string();
                        let half = Bytes::from(text[..text.len() / 2].to_owned());
                        let chunks = futures::stream::iter(vec![
                            Ok(half),
                            Err(std::io::Error::other("connection reset")),
                        ]);
                        Response::builder()
                            .header("content-type", "application/json")
                            .body(Body::from_stream(chunks))
                            .unwrap()
                    }
                    _ => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"errors": [{"status": "500", "title": "Internal Server Error"}]}))).into_response(),
                }
            }),
        )
        .with_state(hits.clone());
    let base = serve(app).await;
    let client = Client::builder(&base, Auth::None)
        .retry(fast_retry(3))
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let pages: Vec<_> = client
        .pages::<Person>("/people/v2/people".into(), Query::new())
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.document.data.iter().map(|r| r.id.clone()))
        .collect();
    assert_eq!(ids.len(), 50);
    assert_eq!(ids.last().unwrap(), "49");
    assert!(hits.lock().unwrap().values().all(|&n| n == 2));
}

/// A page that never parses: a typed error naming URL, offset and attempt, after exactly
/// `max_attempts` sends.
#[tokio::test]
async fn malformed_page_is_a_typed_error_after_bounded_attempts() {
    let hits: Hits = Arc::default();
    let app = Router::new()
        .route(
            "/people/v2/people",
            get(
                |State(hits): State<Hits>, Q(q): Q<HashMap<String, String>>| async move {
                    let offset = offset_of(&q);
                    hit(&hits, offset);
                    if offset == 25 {
                        return (
                            [("content-type", "application/json")],
                            r#"{"data": [{"type": "Person", "id"#,
                        )
                            .into_response();
                    }
                    Json(people_page(offset, 25, 100)).into_response()
                },
            ),
        )
        .with_state(hits.clone());
    let base = serve(app).await;
    let client = Client::builder(&base, Auth::None)
        .retry(fast_retry(4))
        .build()
        .unwrap();
    let mut q = Query::new();
    q.set("per_page", "25");
    let results: Vec<_> = client
        .raw_pages("/people/v2/people".into(), q)
        .collect()
        .await;
    assert_eq!(
        results.len(),
        2,
        "one good page, then the error ends the stream"
    );
    assert_eq!(results[0].as_ref().unwrap().offset, 0);
    let err = results[1].as_ref().unwrap_err();
    match err {
        Error::Decode {
            url,
            offset,
            attempt,
            ..
        } => {
            assert!(
                url.starts_with(&base) && url.contains("/people/v2/people?per_page=25&offset=25"),
                "{url}"
            );
            assert_eq!(*offset, Some(25));
            assert_eq!(*attempt, 4);
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("offset 25") && text.contains("attempt 4"),
        "{text}"
    );
    assert_eq!(hits.lock().unwrap()[&25], 4);
}

/// 404 (any 4xx but 401/429) is final at once, with PCO's error document mapped.
#[tokio::test]
async fn not_found_is_not_retried() {
    let n = Arc::new(AtomicU32::new(0));
    let app = Router::new()
        .route(
            "/people/v2/people/9",
            get(|State(n): State<Arc<AtomicU32>>| async move {
                n.fetch_add(1, Ordering::SeqCst);
                let body = json!({"errors": [{"status": "404", "title": "Not Found",
                    "detail": "The resource you requested could not be found", "code": "not_found"}]});
                (StatusCode::NOT_FOUND, Json(body))
            }),
        )
        .with_state(n.clone());
    let base = serve(app).await;
    let client = Client::builder(&base, Auth::None)
        .retry(fast_retry(5))
        .build()
        .unwrap();
    let err = client
        .get::<serde_json::Value>("/people/v2/people/9", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(n.load(Ordering::SeqCst), 1);
    match &err {
        Error::Api {
            status,
            attempt,
            errors,
            offset,
            ..
        } => {
            assert_eq!((*status, *attempt, *offset), (404, 1, None));
            assert_eq!(errors[0].code.as_deref(), Some("not_found"));
        }
        other => panic!("expected Api, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("Not Found: The resource you requested could not be found")
    );
}

/// Persistent 5xx ends after the bounded attempts with the last status.
#[tokio::test]
async fn persistent_server_error_gives_up_after_max_attempts() {
    let n = Arc::new(AtomicU32::new(0));
    let app = Router::new()
        .route(
            "/x",
            get(|State(n): State<Arc<AtomicU32>>| async move {
                n.fetch_add(1, Ordering::SeqCst);
                StatusCode::INTERNAL_SERVER_ERROR
            }),
        )
        .with_state(n.clone());
    let base = serve(app).await;
    let client = Client::builder(&base, Auth::None)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let err = client
        .get::<serde_json::Value>("/x", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(n.load(Ordering::SeqCst), 3);
    assert_eq!(err.status(), Some(500));
    assert!(matches!(err, Error::Api { attempt: 3, .. }));
}
