//! Changes over time (admin API and library calls) and signed webhook deliveries with retries.

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use pco_sim::WebhookConfig;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test]
async fn admin_changes_advance_updated_at_and_deletes_vanish() {
    let sim = common::start(40).await;
    let base = sim.base_url();
    let http = reqwest::Client::new();
    let counts: Value = http
        .get(format!("{base}/__admin/counts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counts["Person"], 40);
    let pid = sim.org().records("Person").nth(3).unwrap().id;
    let r = http
        .patch(format!("{base}/__admin/records/Person/{pid}"))
        .json(&json!({"attributes": {"nickname": "Bud"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, _, doc) = common::get(&sim, &format!("/people/v2/people/{pid}")).await;
    assert_eq!(doc["data"]["attributes"]["nickname"], "Bud");
    let updated = doc["data"]["attributes"]["updated_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        updated.as_str() > "2024-06-02",
        "updated_at advanced to now: {updated}"
    );
    let (_, _, delta) = common::get(
        &sim,
        "/people/v2/people?where[updated_at][gte]=2024-06-02T00:00:00Z",
    )
    .await;
    assert_eq!(delta["meta"]["total_count"], 1);
    let emails_before = sim.org().count("Email");
    let owned = sim
        .org()
        .records("Email")
        .filter(|e| e.links[0] == Some(pid))
        .count();
    let r = http
        .delete(format!("{base}/__admin/records/Person/{pid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, _, _) = common::get(&sim, &format!("/people/v2/people/{pid}")).await;
    assert_eq!(s, 404);
    assert_eq!(sim.org().count("Person"), 39);
    assert_eq!(
        sim.org().count("Email"),
        emails_before - owned,
        "dependents are deleted too"
    );
    let r = http
        .post(format!("{base}/__admin/records/Person"))
        .json(&json!({"attributes": {"first_name": "Ada", "last_name": "Lovelace"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let changes = sim.churn(25);
    assert!(!changes.is_empty());
    let (_, _, all) = common::get(&sim, "/people/v2/people?per_page=1").await;
    assert_eq!(all["meta"]["total_count"], sim.org().count("Person"));
    sim.shutdown().await;
}

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

#[tokio::test]
async fn webhooks_are_signed_and_retried() {
    let seen: Seen = Arc::default();
    let attempts = Arc::new(Mutex::new(0u32));
    let app = axum::Router::new().route(
        "/hook",
        post({
            let (seen, attempts) = (seen.clone(), attempts.clone());
            move |headers: HeaderMap, body: Bytes| async move {
                let mut a = attempts.lock().unwrap();
                *a += 1;
                if *a == 1 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                seen.lock().unwrap().push((headers, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sim = common::builder(10)
        .webhooks(WebhookConfig {
            max_attempts: 3,
            backoff: Duration::from_millis(50),
        })
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let sub: Value = http
        .post(format!("{}/webhooks/v2/webhook_subscriptions", sim.base_url()))
        .basic_auth("sim-app-id", Some("sim-secret"))
        .json(&json!({"data": {"attributes": {"name": "people.v2.events.person.updated", "url": hook}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sub["data"]["type"], "WebhookSubscription");
    let secret = sub["data"]["attributes"]["authenticity_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, subs) = common::get(&sim, "/webhooks/v2/webhook_subscriptions").await;
    assert_eq!(subs["meta"]["total_count"], 1);

    let pid = sim.org().records("Person").next().unwrap().id;
    let mut attrs = serde_json::Map::new();
    attrs.insert("nickname".into(), json!("Webby"));
    sim.update("Person", pid, attrs).unwrap();
    for _ in 0..100 {
        if !seen.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (headers, body) = seen
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("webhook delivered after a retry");
    let sig = headers["x-pco-webhooks-authenticity"].to_str().unwrap();
    assert_eq!(
        sig,
        pco_sim::webhooks::sign(&secret, &body),
        "HMAC-SHA256 of the raw body"
    );
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let ev = &doc["data"][0];
    assert_eq!(ev["type"], "EventDelivery");
    assert_eq!(ev["attributes"]["name"], "people.v2.events.person.updated");
    assert_eq!(ev["attributes"]["attempt"], 2);
    let payload: Value =
        serde_json::from_str(ev["attributes"]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["data"]["id"], pid.to_string());
    assert_eq!(payload["data"]["attributes"]["nickname"], "Webby");
    let st = sim.stats();
    assert_eq!((st.webhooks_delivered, st.webhook_failed_attempts), (1, 1));
    sim.shutdown().await;
}
