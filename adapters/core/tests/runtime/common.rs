//! Helpers shared by the scripted-server tests.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tributary_core::{Entity, EntityDef, RetryPolicy};

/// Serves `app` on an ephemeral loopback port; returns the base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A PCO-shaped page of people `offset..offset+per_page` out of `total`.
pub fn people_page(offset: u64, per_page: u64, total: u64) -> Value {
    let end = (offset + per_page).min(total);
    let data: Vec<Value> = (offset..end)
        .map(|i| {
            json!({
                "type": "Person",
                "id": i.to_string(),
                "attributes": {"first_name": format!("P{i}"), "status": "active"},
                "relationships": {},
                "links": {"self": format!("https://example.invalid/people/v2/people/{i}")}
            })
        })
        .collect();
    let mut meta = json!({"total_count": total, "count": data.len()});
    if end < total {
        meta["next"] = json!({"offset": end});
    }
    json!({"links": {}, "data": data, "included": [], "meta": meta})
}

/// The `offset` query parameter, 0 when absent.
pub fn offset_of(q: &HashMap<String, String>) -> u64 {
    q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0)
}

/// Retries fast enough for tests.
pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_rate_limited: 20,
    }
}

/// A minimal hand-written entity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Person {
    pub first_name: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Entity for Person {
    type Relationships = Map<String, Value>;
    const DEF: EntityDef = EntityDef {
        name: "Person",
        json_type: "Person",
        doc: "A person.",
        relationships: &[],
        endpoints: &[],
        includes: &[],
        order_by: &[],
        query_by: &[],
        canonical: None,
        webhook_events: &[],
    };
}
