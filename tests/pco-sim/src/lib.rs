//! `pco-sim`: a Planning Center Online simulator for tests, demos and benchmarks.
//!
//! It serves a deterministic, seeded organisation over Planning Center's JSON:API wire format on
//! loopback, with PCO's paging links and meta, `where`/`order`/`include`, rate limits, Personal
//! Access Tokens and OAuth 2, webhooks, an admin API for changes over time, and seeded faults.
//!
//! ```no_run
//! # async fn demo() {
//! let sim = pco_sim::Simulator::builder().people(500).seed(7).start().await.unwrap();
//! let url = format!("{}/people/v2/people", sim.base_url());
//! let people = sim.org().count("Person");
//! # let _ = (url, people);
//! sim.shutdown().await;
//! # }
//! ```

pub mod admin;
pub mod api;
pub mod auth;
pub mod faults;
pub mod generate;
pub mod jsonapi;
mod names;
pub mod query;
pub mod ratelimit;
pub mod schema;
pub mod server;
pub mod sim;
pub mod store;
pub mod value;
pub mod webhooks;

pub use auth::{
    AuthConfig, DEFAULT_APP_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_SECRET,
};
pub use faults::FaultConfig;
pub use ratelimit::RateLimitConfig;
pub use sim::{RunningSim, Simulator, SimulatorBuilder, Stats};
pub use store::{Org, Record};
pub use webhooks::WebhookConfig;
