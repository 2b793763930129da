//! Pages per second paging a simulated organisation (`pco-sim`, rate limit off) over loopback,
//! sequentially and with prefetch. Run: `cargo bench -p tributary-core --bench sim_throughput`.

use std::time::Instant;

use futures::TryStreamExt;
use tributary_core::{Auth, Client, Query};

#[tokio::main]
async fn main() {
    let sim = pco_sim::Simulator::builder()
        .people(5000)
        .seed(1)
        .no_rate_limit()
        .start()
        .await
        .unwrap();
    let auth = Auth::pat(pco_sim::DEFAULT_APP_ID, pco_sim::DEFAULT_SECRET);
    for prefetch in [1, 4] {
        let client = Client::builder(&sim.base_url(), auth.clone())
            .rate_limiter(std::sync::Arc::new(tributary_core::ratelimit::Unlimited))
            .prefetch(prefetch)
            .build()
            .unwrap();
        let mut q = Query::new();
        q.set("per_page", "100")
            .append_list("include", "emails")
            .append_list("include", "addresses")
            .append_list("include", "phone_numbers");
        // Warm-up pass, then the measured one.
        for measured in [false, true] {
            let t = Instant::now();
            let pages: Vec<_> = client
                .raw_pages("/people/v2/people".into(), q.clone())
                .try_collect()
                .await
                .unwrap();
            let secs = t.elapsed().as_secs_f64();
            let people: usize = pages.iter().map(|p| p.document.data.len()).sum();
            assert_eq!(people, 5000);
            if measured {
                println!(
                    "prefetch {prefetch}: {} pages of 100 people (+includes) in {:.2} s = {:.0} pages/s",
                    pages.len(),
                    secs,
                    pages.len() as f64 / secs
                );
            }
        }
    }
    sim.shutdown().await;
}
