//! # tributary-engine
//!
//! Pulls an organisation's records out of an adapter (Planning Center first) into one canonical
//! database, in dependency order, durably.
//!
//! - [`canonical`]: the canonical model generated from `specs/canonical.yaml`.
//! - [`store`]: the database (SQLite by default, PostgreSQL by URL) and its page transaction.
//! - [`lease`]: claiming an entity run with a lease and a fencing epoch.
//! - [`runs`]: the run history and the entity runs of a run.
//! - [`workflow`]: one entity's sync: endpoint, pages, transform, commit.
//! - [`orchestrator`]: every entity of a manifest, concurrently, in dependency order.
//! - [`tokens`]: API credentials encrypted at rest.
//! - [`registry`]: the adapters this binary knows.

pub mod canonical;
pub mod error;
pub mod lease;
pub mod orchestrator;
pub mod registry;
pub mod runs;
pub mod store;
pub mod tokens;
pub mod workflow;

pub use error::{EngineError, StoreError};
pub use orchestrator::{Progress, SyncOptions, SyncSummary};
pub use store::Store;
