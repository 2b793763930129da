//! The client against the `pco-sim` simulator: full paging with includes, pacing under the
//! simulator's own budget, faults and 429 storms, and OAuth tokens expiring mid-sync.

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use pco_sim::{FaultConfig, RateLimitConfig, Simulator};
use secrecy::ExposeSecret;
use tributary_core::{Auth, Client, MemoryTokenStore, OAuth, Query, RetryPolicy, TokenSet};

fn pat() -> Auth {
    Auth::pat(pco_sim::DEFAULT_APP_ID, pco_sim::DEFAULT_SECRET)
}

fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_rate_limited: 50,
    }
}

fn people_query(per_page: u32) -> Query {
    let mut q = Query::new();
    q.set("per_page", per_page.to_string())
        .append_list("include", "emails")
        .append_list("include", "addresses")
        .append_list("include", "phone_numbers");
    q
}

fn small_budget() -> RateLimitConfig {
    RateLimitConfig {
        limit: 10,
        deep_limit: 10,
        period: Duration::from_secs(1),
        ..RateLimitConfig::default()
    }
}

/// Pages every person with includes under a 10 requests / 1 s budget: counts equal ground
/// truth and the simulator counts no request over budget.
#[tokio::test]
async fn pages_a_simulated_org_under_its_budget() {
    let sim = Simulator::builder()
        .people(300)
        .seed(3)
        .rate_limit(small_budget())
        .start()
        .await
        .unwrap();
    let client = Client::builder(&sim.base_url(), pat())
        .retry(retry())
        .build()
        .unwrap();
    let pages: Vec<_> = client
        .raw_pages("/people/v2/people".into(), people_query(20))
        .try_collect()
        .await
        .unwrap();
    let people: usize = pages.iter().map(|p| p.document.data.len()).sum();
    let emails = pages
        .iter()
        .flat_map(|p| &p.document.included)
        .filter(|r| r.kind == "Email")
        .count();
    assert_eq!(people, sim.org().count("Person"));
    assert!(emails > 0);
    let stats = sim.stats();
    assert_eq!(stats.over_limit, 0, "{stats:?}");
    assert_eq!(stats.requests, pages.len() as u64);
    sim.shutdown().await;
}

/// 5xx, dropped and truncated responses, malformed pages and 429 storms: the sync completes
/// with every record, exactly once.
#[tokio::test]
async fn completes_through_faults_and_429_storms() {
    let faults = FaultConfig {
        error_rate: 0.1,
        drop_rate: 0.05,
        truncate_rate: 0.05,
        malformed_rate: 0.05,
        storm_every: 12,
        storm_len: 2,
        ..FaultConfig::default()
    };
    let sim = Simulator::builder()
        .people(250)
        .seed(5)
        .rate_limit(small_budget())
        .faults(faults)
        .start()
        .await
        .unwrap();
    let client = Client::builder(&sim.base_url(), pat())
        .retry(retry())
        .prefetch(3)
        .build()
        .unwrap();
    let pages: Vec<_> = client
        .raw_pages("/people/v2/people".into(), people_query(25))
        .try_collect()
        .await
        .unwrap();
    let mut ids: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.document.data.iter().map(|r| r.id.as_str()))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((n, ids.len()), (sim.org().count("Person"), n));
    assert!(sim.stats().faults > 0);
    sim.shutdown().await;
}

/// OAuth with a 1 s access-token lifetime: tokens rotate during the sync, every rotation is
/// stored, and no refresh token is ever presented twice.
#[tokio::test]
async fn oauth_tokens_rotate_mid_sync_without_reuse() {
    let sim = Simulator::builder()
        .people(200)
        .seed(9)
        .rate_limit(small_budget())
        .token_ttl(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let code = sim.authorization_code(pco_sim::DEFAULT_CLIENT_ID).unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", sim.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", pco_sim::DEFAULT_CLIENT_ID),
            ("client_secret", pco_sim::DEFAULT_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = TokenSet::new(
        answer["access_token"].as_str().unwrap(),
        answer["refresh_token"].as_str().unwrap(),
        chrono::Utc::now() + chrono::Duration::seconds(1),
    );
    let store = Arc::new(MemoryTokenStore::with("org", first.clone()));
    let oauth = OAuth::new(
        "org",
        pco_sim::DEFAULT_CLIENT_ID,
        pco_sim::DEFAULT_CLIENT_SECRET,
        store.clone(),
    )
    .with_refresh_margin(Duration::from_millis(300));
    let client = Client::builder(&sim.base_url(), Auth::OAuth(oauth))
        .retry(retry())
        .build()
        .unwrap();
    // 25 pages at 10 / s: over 2 s, so the 1 s token expires mid-stream.
    let pages: Vec<_> = client
        .raw_pages("/people/v2/people".into(), people_query(8))
        .try_collect()
        .await
        .unwrap();
    let people: usize = pages.iter().map(|p| p.document.data.len()).sum();
    assert_eq!(people, sim.org().count("Person"));
    let stats = sim.stats();
    assert_eq!(stats.refresh_reuse, 0, "{stats:?}");
    assert!(stats.tokens_issued >= 2, "{stats:?}");
    assert!(store.saves() >= 1);
    let stored = store.get("org").unwrap();
    assert_ne!(
        stored.refresh_token.expose_secret(),
        first.refresh_token.expose_secret()
    );
    sim.shutdown().await;
}
