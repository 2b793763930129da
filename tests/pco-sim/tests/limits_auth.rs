//! Rate limiting (429 + Retry-After, deep offsets, the over-budget counter), OAuth (expiry,
//! rotation, reuse detection) and faults.

mod common;

use pco_sim::{FaultConfig, RateLimitConfig};
use serde_json::Value;
use std::time::Duration;

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_and_counts_overage() {
    let sim = common::builder(20)
        .rate_limit(RateLimitConfig {
            limit: 5,
            deep_limit: 2,
            deep_offset: 10,
            period: Duration::from_secs(2),
            enabled: true,
        })
        .start()
        .await
        .unwrap();
    for i in 1..=5 {
        let (s, h, _) = common::get(&sim, "/people/v2/people").await;
        assert_eq!(s, 200);
        assert_eq!(h["x-pco-api-request-rate-count"], i.to_string().as_str());
        assert_eq!(h["x-pco-api-request-rate-limit"], "5");
        assert_eq!(h["x-pco-api-request-rate-period"], "2");
    }
    let (s, h, doc) = common::get(&sim, "/people/v2/people").await;
    assert_eq!(s, 429);
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry));
    assert_eq!(doc["errors"][0]["status"], "429");
    assert_eq!(sim.stats().over_limit, 1);
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let (s, _, _) = common::get(&sim, "/people/v2/people").await;
    assert_eq!(s, 200, "the window resets after Retry-After");
    let (_, _, _) = common::get(&sim, "/people/v2/people?offset=11").await;
    let (s, h, _) = common::get(&sim, "/people/v2/people?offset=11").await;
    assert_eq!(h["x-pco-api-request-rate-limit"], "2");
    assert_eq!(s, 429, "deep offsets have the lower limit");
    assert_eq!(sim.stats().over_limit, 2);
    sim.shutdown().await;
}

async fn token(base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn oauth_tokens_expire_rotate_and_detect_reuse() {
    let sim = common::builder(5)
        .token_ttl(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let base = sim.base_url();
    let code = sim.authorization_code(pco_sim::DEFAULT_CLIENT_ID).unwrap();
    let client = [
        ("client_id", pco_sim::DEFAULT_CLIENT_ID),
        ("client_secret", pco_sim::DEFAULT_CLIENT_SECRET),
    ];
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "http://localhost/cb"),
    ];
    form.extend(client);
    let (s, t1) = token(&base, &form).await;
    assert_eq!(s, 200, "{t1}");
    assert_eq!(t1["expires_in"], 1);
    let (s, again) = token(&base, &form).await;
    assert_eq!(
        (s, again["error"].as_str()),
        (400, Some("invalid_grant")),
        "codes are single-use"
    );
    let bearer = |t: &Value| format!("Bearer {}", t["access_token"].as_str().unwrap());
    let http = reqwest::Client::new();
    let url = format!("{base}/people/v2/people");
    let r = http
        .get(&url)
        .header("Authorization", bearer(&t1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = http
        .get(&url)
        .header("Authorization", bearer(&t1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "expired token");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["status"], "401");
    let rt1 = t1["refresh_token"].as_str().unwrap();
    let mut refresh = vec![("grant_type", "refresh_token"), ("refresh_token", rt1)];
    refresh.extend(client);
    let (s, t2) = token(&base, &refresh).await;
    assert_eq!(s, 200);
    assert_ne!(
        t2["refresh_token"], t1["refresh_token"],
        "refresh tokens rotate"
    );
    let r = http
        .get(&url)
        .header("Authorization", bearer(&t2))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, reuse) = token(&base, &refresh).await;
    assert_eq!((s, reuse["error"].as_str()), (400, Some("invalid_grant")));
    let st = sim.stats();
    assert_eq!(
        (st.refresh_reuse, st.expired_token_uses, st.tokens_issued),
        (1, 1, 2)
    );
    let (s, bad) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "nope"),
            ("client_secret", "x"),
        ],
    )
    .await;
    assert_eq!((s, bad["error"].as_str()), (401, Some("invalid_client")));
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_are_deterministic_under_the_seed() {
    let run = || async {
        let sim = common::builder(30)
            .no_rate_limit()
            .faults(FaultConfig {
                error_rate: 0.2,
                truncate_rate: 0.1,
                malformed_rate: 0.1,
                storm_every: 10,
                storm_len: 2,
                ..Default::default()
            })
            .start()
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let mut outcomes = Vec::new();
        for _ in 0..30 {
            let r = http
                .get(format!("{}/people/v2/people", sim.base_url()))
                .basic_auth("sim-app-id", Some("sim-secret"))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let outcome = match r.bytes().await {
                Err(_) => "cut".to_string(),
                Ok(b) if serde_json::from_slice::<Value>(&b).is_err() => "malformed".to_string(),
                Ok(_) => status.to_string(),
            };
            outcomes.push(outcome);
        }
        let faults = sim.stats().faults;
        sim.shutdown().await;
        (outcomes, faults)
    };
    let (a, fa) = run().await;
    let (b, _) = run().await;
    assert_eq!(a, b);
    assert!(a.iter().filter(|o| *o == "429").count() >= 6, "{a:?}");
    assert!(a.iter().any(|o| o.starts_with('5')), "{a:?}");
    assert!(a.iter().any(|o| o == "cut" || o == "malformed"), "{a:?}");
    assert!(a.iter().any(|o| o == "200"));
    assert_eq!(fa as usize, a.iter().filter(|o| *o != "200").count());
}
