//! # tributary-core
//!
//! The runtime half of Tributary's adapters. Generated adapter crates (see `adapters/pco`) and
//! hand-written entities (through `#[derive(Entity)]` from `tributary-macros`) implement the
//! traits in [`entity`]; the engine sees every adapter only through them.
//!
//! - [`jsonapi`]: JSON:API documents, resources and relationships, with no data dropped.
//! - [`check`]: stand-ins that validate a record against its entity type without decoding it.
//! - [`entity`]: the [`Entity`](entity::Entity) trait and the static descriptions
//!   ([`EntityDef`](entity::EntityDef), [`Manifest`](manifest::Manifest)) the generator emits.
//! - [`manifest`]: an adapter's manifest and its compile-time sync order.
//! - [`graph`]: dependency checks usable in `const` context (a hard cycle is a compile error).
//! - [`mapping`]: declarative mapping of records onto the canonical model.
//! - [`query`]: the query string of a list or get request.
//! - [`include`]: side-loaded resources resolved to typed values.
//! - [`client`]: the HTTP client that fetches documents and streams pages, built from
//!   [`auth`] (PAT, OAuth with rotating refresh through a [`token`] store), [`ratelimit`]
//!   (pacing learned from PCO's headers) and [`retry`] (bounded, jittered backoff).

pub mod auth;
pub mod check;
pub mod client;
pub mod entity;
pub mod error;
pub mod graph;
pub mod include;
pub mod jsonapi;
pub mod manifest;
pub mod mapping;
pub mod query;
pub mod ratelimit;
pub mod redacted;
pub mod retry;
pub mod token;

pub use auth::{Auth, OAuth};
pub use client::{Client, ClientBuilder, Page, RawPage};
pub use entity::{Dependency, EndpointDef, EndpointKind, Entity, EntityDef, RelationshipDef};
pub use error::Error;
pub use include::Included;
pub use jsonapi::{Document, RawResource, Resource, ResourceId, ToMany, ToOne};
pub use manifest::{Manifest, Paging, Validator};
pub use mapping::{
    CanonicalMapping, CanonicalRecord, EdgeMapping, FieldMapping, RecordRef, Transform,
};
pub use query::{Compare, Direction, Query};
pub use ratelimit::{RateLimiter, RateObservation, WindowLimiter};
pub use redacted::Redacted;
pub use retry::RetryPolicy;
pub use token::{MemoryTokenStore, RefreshGuard, TokenSet, TokenStore};

/// Re-exports used by generated code and by `tributary-macros`, so that adapter crates need
/// no direct dependency on them. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use chrono;
    pub use futures;
    pub use schemars;
    pub use serde;
    pub use serde_json;
}
