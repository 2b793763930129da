//! HTTP layer: auth, rate limiting, faults, reads and writes of the API, and the OAuth endpoints.

use crate::api::{self, Reply, Target};
use crate::faults::Fault;
use crate::jsonapi::{JSON, JSONAPI, NOT_FOUND, error_doc};
use crate::schema::RelKind;
use crate::sim::Shared;
use crate::store::StoreError;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::Rng;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The whole application.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/token", post(oauth_token))
        .route("/oauth/authorize", get(oauth_authorize))
        .nest("/__admin", crate::admin::router())
        .fallback(api_request)
        .with_state(shared)
}

fn json_response(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn reply_response(reply: Reply) -> Response {
    match reply.body {
        None => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::NO_CONTENT);
            r
        }
        Some(bytes) => json_response(reply.status, reply.content_type, bytes),
    }
}

fn query_offset(uri: &Uri) -> usize {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "offset")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// Every API request: auth, rate limit, faults, then the read or write itself.
async fn api_request(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seq = s.counters.requests.fetch_add(1, Ordering::Relaxed);
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let credential = match s.auth.authenticate(auth) {
        Ok(c) => c,
        Err(detail) => {
            tracing::debug!(path = uri.path(), "401: {detail}");
            return reply_response(Reply::error(401, &detail));
        }
    };
    let fault = if s.faults.any() {
        s.faults.decide(s.seed, seq)
    } else {
        Fault::None
    };
    let d = s
        .limiter
        .admit(&credential, query_offset(&uri), fault == Fault::Storm);
    let rate_headers = |r: &mut Response| {
        let h = r.headers_mut();
        h.insert("X-PCO-API-Request-Rate-Count", HeaderValue::from(d.count));
        h.insert("X-PCO-API-Request-Rate-Limit", HeaderValue::from(d.limit));
        h.insert("X-PCO-API-Request-Rate-Period", HeaderValue::from(d.period));
    };
    if let Some(retry) = d.retry_after {
        if fault == Fault::Storm {
            s.counters.faults.fetch_add(1, Ordering::Relaxed);
        } else {
            s.counters.over_limit.fetch_add(1, Ordering::Relaxed);
        }
        let detail = format!(
            "Rate limit exceeded: {} of {} requests per {} seconds",
            d.count, d.limit, d.period
        );
        let mut r = reply_response(Reply::error(429, &detail));
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry));
        rate_headers(&mut r);
        return r;
    }
    if !s.faults.latency.is_zero() {
        tokio::time::sleep(s.faults.latency).await;
    }
    if fault != Fault::None {
        s.counters.faults.fetch_add(1, Ordering::Relaxed);
    }
    let reply = match fault {
        Fault::ServerError(code) => Reply::error(code, "Something went wrong (injected fault)"),
        Fault::Hang => {
            tokio::time::sleep(s.faults.hang_for).await;
            dispatch(&s, &method, &uri, &credential, &body)
        }
        _ => dispatch(&s, &method, &uri, &credential, &body),
    };
    let mut r = match (fault, reply.body.is_some()) {
        (Fault::Drop, _) => broken(reply.status, Vec::new()),
        (Fault::Truncate, true) => {
            let mut bytes = reply.body.unwrap_or_default();
            bytes.truncate(bytes.len() / 2);
            broken(reply.status, bytes)
        }
        (Fault::Malformed, true) => {
            let mut bytes = reply.body.unwrap_or_default();
            bytes.truncate(bytes.len() * 2 / 3);
            bytes.extend_from_slice(b"\",,}");
            json_response(reply.status, JSONAPI, bytes)
        }
        _ => reply_response(reply),
    };
    rate_headers(&mut r);
    r
}

/// A response whose body stream fails after `prefix`, so the connection is cut mid-body.
fn broken(status: u16, prefix: Vec<u8>) -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(prefix)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected fault",
        )),
    ];
    let mut r = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSONAPI));
    r
}

fn dispatch(s: &Shared, method: &Method, uri: &Uri, credential: &str, body: &[u8]) -> Reply {
    let path = uri.path();
    if *method == Method::GET {
        let org = s.read();
        return api::get(&org, &s.base(), path, uri.query());
    }
    let target = {
        let org = s.read();
        api::resolve(&org, path)
    };
    let Some(target) = target else {
        return Reply::error(404, NOT_FOUND);
    };
    let table_of = |i: usize| s.read().table_at(i).schema.clone();
    match (method.as_str(), target) {
        ("POST", Target::List { table, parent }) => {
            let t = table_of(table);
            let (mut attrs, mut rels) = match parse_write(body) {
                Ok(x) => x,
                Err(e) => return Reply::error(400, &e),
            };
            if let Some((pt, pid, rel)) = parent {
                let p = table_of(pt);
                if let Some(RelKind::Many { via }) = p.relation(&rel).map(|r| r.kind.clone()) {
                    rels.insert(via, Some(pid));
                }
            }
            if t.name == "WebhookSubscription" {
                let secret = hex::encode(rand::rng().random::<[u8; 16]>());
                attrs.insert("authenticity_secret".into(), Value::from(secret));
                attrs.insert(
                    "application_id".into(),
                    Value::from(credential.split(':').nth(1).unwrap_or("")),
                );
                attrs.entry("active").or_insert(Value::Bool(true));
            }
            write_reply(
                s,
                s.create(&t.name, &attrs, &rels).map(|c| c.id),
                &t.name,
                201,
            )
        }
        ("PATCH", Target::One { table, id }) => {
            let t = table_of(table);
            match parse_write(body) {
                Ok((attrs, rels)) => write_reply(
                    s,
                    s.update(&t.name, id, &attrs, &rels).map(|_| id),
                    &t.name,
                    200,
                ),
                Err(e) => Reply::error(400, &e),
            }
        }
        ("DELETE", Target::One { table, id }) => match s.delete(&table_of(table).name, id) {
            Ok(_) => Reply::empty(204),
            Err(e) => store_error(e),
        },
        ("POST", Target::Action) => Reply::empty(204),
        _ => Reply::error(405, "The method is not allowed for this resource"),
    }
}

fn write_reply(s: &Shared, res: Result<u64, StoreError>, table: &str, status: u16) -> Reply {
    match res {
        Ok(id) => match s.document(&s.read(), table, id) {
            Some(doc) => Reply::json(status, &doc),
            None => Reply::error(404, NOT_FOUND),
        },
        Err(e) => store_error(e),
    }
}

fn store_error(e: StoreError) -> Reply {
    match e {
        StoreError::Invalid(m) => Reply::error(422, &m),
        _ => Reply::error(404, NOT_FOUND),
    }
}

/// Parse a JSON:API write body: `{"data":{"attributes":{...},"relationships":{"x":{"data":{"id"}}}}}`.
type WriteBody = (Map<String, Value>, HashMap<String, Option<u64>>);

fn parse_write(body: &[u8]) -> Result<WriteBody, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("The request body is not valid JSON: {e}"))?;
    let data = v
        .get("data")
        .ok_or("The request body must have a data member")?;
    let attrs = data
        .get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut rels = HashMap::new();
    if let Some(r) = data.get("relationships").and_then(Value::as_object) {
        for (k, rv) in r {
            let id = rv.pointer("/data/id").and_then(|i| {
                i.as_str()
                    .and_then(|s| s.parse().ok())
                    .or_else(|| i.as_u64())
            });
            rels.insert(k.clone(), id);
        }
    }
    Ok((attrs, rels))
}

async fn oauth_token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    let params: HashMap<String, String> = if is_json {
        serde_json::from_slice::<Map<String, Value>>(&body)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), String::from)))
            .collect()
    } else {
        url::form_urlencoded::parse(&body).into_owned().collect()
    };
    let (status, v) = match s.auth.token_endpoint(&params) {
        Ok(v) => (200, v),
        Err((status, v)) => (status, v),
    };
    json_response(status, JSON, serde_json::to_vec(&v).unwrap_or_default())
}

/// Auto-approving consent screen: redirects to `redirect_uri?code=...&state=...`.
async fn oauth_authorize(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let client = q.get("client_id").map(String::as_str).unwrap_or("");
    let (Some(code), Some(redirect)) = (s.auth.issue_code(client), q.get("redirect_uri")) else {
        let body = serde_json::to_vec(&error_doc(400, "Unknown client_id or missing redirect_uri"))
            .unwrap_or_default();
        return json_response(400, JSON, body);
    };
    let mut url = match url::Url::parse(redirect) {
        Ok(u) => u,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response(),
    };
    url.query_pairs_mut().append_pair("code", &code);
    if let Some(st) = q.get("state") {
        url.query_pairs_mut().append_pair("state", st);
    }
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}
