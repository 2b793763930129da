//! Paging: `meta.next`, `links.next`, and in-order prefetch with bounded concurrency.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query as Q, State};
use axum::routing::get;
use axum::{Json, Router};
use futures::TryStreamExt;
use tributary_core::{Auth, Client, Query};

use crate::common::{Person, offset_of, people_page, serve};

#[derive(Default)]
struct Load {
    in_flight: AtomicU32,
    max_in_flight: AtomicU32,
    offsets: Mutex<Vec<u64>>,
}

/// With prefetch 4, later pages may finish first; the stream still yields them in order and
/// never has more than 4 requests in flight.
#[tokio::test]
async fn prefetch_is_bounded_and_in_order() {
    let load = Arc::new(Load::default());
    let app = Router::new()
        .route(
            "/people/v2/people",
            get(
                |State(load): State<Arc<Load>>, Q(q): Q<HashMap<String, String>>| async move {
                    let offset = offset_of(&q);
                    load.offsets.lock().unwrap().push(offset);
                    let now = load.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    load.max_in_flight.fetch_max(now, Ordering::SeqCst);
                    // Earlier pages are slower, so completion order differs from page order.
                    let delay = 60u64.saturating_sub((offset / 10) % 6 * 10);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    load.in_flight.fetch_sub(1, Ordering::SeqCst);
                    Json(people_page(offset, 10, 205))
                },
            ),
        )
        .with_state(load.clone());
    let base = serve(app).await;
    let client = Client::builder(&base, Auth::None)
        .prefetch(4)
        .build()
        .unwrap();
    let pages: Vec<_> = client
        .pages::<Person>("/people/v2/people".into(), Query::new())
        .try_collect()
        .await
        .unwrap();
    let offsets: Vec<u64> = pages.iter().map(|p| p.offset).collect();
    assert_eq!(offsets, (0..=200).step_by(10).collect::<Vec<_>>());
    let records: usize = pages.iter().map(|p| p.document.data.len()).sum();
    assert_eq!(records, 205);
    let max = load.max_in_flight.load(Ordering::SeqCst);
    assert!(max > 1 && max <= 4, "max in flight {max}");
    assert_eq!(
        load.offsets.lock().unwrap().len(),
        21,
        "each page fetched once"
    );
}

/// Without `meta.next`, the offset is taken from `links.next`; a start offset is honoured.
#[tokio::test]
async fn follows_links_next_from_a_start_offset() {
    let app = Router::new().route(
        "/people/v2/people",
        get(|Q(q): Q<HashMap<String, String>>| async move {
            let offset = offset_of(&q);
            let mut page = people_page(offset, 10, 40);
            if let Some(next) = page["meta"].as_object_mut().unwrap().remove("next") {
                page["links"]["next"] = format!(
                    "https://api.planningcenteronline.com/people/v2/people?offset={}&per_page=10",
                    next["offset"]
                )
                .into();
            }
            Json(page)
        }),
    );
    let base = serve(app).await;
    let client = Client::new(&base, Auth::None).unwrap();
    let mut q = Query::new();
    q.set("offset", "10");
    let pages: Vec<_> = client
        .raw_pages("/people/v2/people".into(), q)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages.iter().map(|p| p.offset).collect::<Vec<_>>(),
        [10, 20, 30]
    );
    assert!(
        pages[1].url.ends_with("/people/v2/people?offset=20"),
        "{}",
        pages[1].url
    );
}
