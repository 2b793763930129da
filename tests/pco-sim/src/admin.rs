//! The admin API under `/__admin` (no authentication; loopback only).
//!
//! | Method and path | Effect |
//! |---|---|
//! | `GET /__admin/counts` | ground truth: `{"Person": 600, ...}` per table |
//! | `GET /__admin/stats` | counters (requests, over_limit, refresh_reuse, webhooks, ...) |
//! | `GET /__admin/records/{table}` | ids of a table |
//! | `POST /__admin/records/{table}` | create: `{"attributes":{...},"relationships":{"person":"123"}}` |
//! | `PATCH /__admin/records/{table}/{id}` | update attributes (and to-one relations); `updated_at` advances |
//! | `DELETE /__admin/records/{table}/{id}` | delete with dependents |
//! | `POST /__admin/churn` | `{"mutations": n}`: apply n random mutations |
//! | `POST /__admin/oauth/code` | `{"client_id": "..."}` → `{"code": "..."}` |

use crate::sim::Shared;
use crate::store::StoreError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Routes nested under `/__admin`.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/counts", get(counts))
        .route("/stats", get(stats))
        .route("/records/{table}", get(list).post(create))
        .route("/records/{table}/{id}", patch(update).delete(delete))
        .route("/churn", post(churn))
        .route("/oauth/code", post(code))
}

fn err(e: StoreError) -> Response {
    let status = match e {
        StoreError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::NOT_FOUND,
    };
    (status, Json(json!({"error": e.to_string()}))).into_response()
}

async fn counts(State(s): State<Arc<Shared>>) -> Json<Value> {
    let org = s.read();
    let m: Map<String, Value> = org
        .counts()
        .into_iter()
        .map(|(k, v)| (k, Value::from(v)))
        .collect();
    Json(Value::Object(m))
}

async fn stats(State(s): State<Arc<Shared>>) -> Json<Value> {
    Json(serde_json::to_value(s.stats()).unwrap_or_default())
}

async fn list(State(s): State<Arc<Shared>>, Path(table): Path<String>) -> Response {
    let org = s.read();
    match org.table(&table) {
        Some(t) => Json(json!({"ids": t.records().iter().map(|r| r.id).collect::<Vec<_>>()}))
            .into_response(),
        None => err(StoreError::UnknownTable(table)),
    }
}

fn parse(body: &Value) -> (Map<String, Value>, HashMap<String, Option<u64>>) {
    let attrs = body
        .get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let rels = body
        .get("relationships")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok())),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (attrs, rels)
}

async fn create(
    State(s): State<Arc<Shared>>,
    Path(table): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let (attrs, rels) = parse(&body);
    match s.create(&table, &attrs, &rels) {
        Ok(c) => (StatusCode::CREATED, Json(json!({"id": c.id.to_string()}))).into_response(),
        Err(e) => err(e),
    }
}

async fn update(
    State(s): State<Arc<Shared>>,
    Path((table, id)): Path<(String, u64)>,
    Json(body): Json<Value>,
) -> Response {
    let (attrs, rels) = parse(&body);
    match s.update(&table, id, &attrs, &rels) {
        Ok(_) => Json(json!({"id": id.to_string()})).into_response(),
        Err(e) => err(e),
    }
}

async fn delete(State(s): State<Arc<Shared>>, Path((table, id)): Path<(String, u64)>) -> Response {
    match s.delete(&table, id) {
        Ok(changes) => Json(json!({"deleted": changes.iter().map(|c| json!({"table": c.table, "id": c.id.to_string()})).collect::<Vec<_>>()})).into_response(),
        Err(e) => err(e),
    }
}

async fn churn(State(s): State<Arc<Shared>>, body: Option<Json<Value>>) -> Json<Value> {
    let n = body
        .and_then(|b| b.get("mutations").and_then(Value::as_u64))
        .unwrap_or(1) as usize;
    let changes = s.churn(n);
    Json(
        json!({"changes": changes.iter().map(|c| json!({"table": c.table, "id": c.id.to_string(), "action": c.action})).collect::<Vec<_>>()}),
    )
}

async fn code(State(s): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let client = body.get("client_id").and_then(Value::as_str).unwrap_or("");
    match s.auth.issue_code(client) {
        Some(code) => Json(json!({"code": code})).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unknown client_id"})),
        )
            .into_response(),
    }
}
