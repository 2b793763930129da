//! # tributary-pco
//!
//! The Planning Center Online adapter. Everything in [`generated`] comes from `specs/pco` at
//! build time: one attributes struct per entity (unknown attributes kept in `extra`), typed
//! relationships, a request builder per operation, the [`MANIFEST`] and the compile-time
//! [`SYNC_ORDER`]. Edit the spec, not this crate.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tributary_core::Error> {
//! use futures::TryStreamExt as _;
//! use tributary_core::{Auth, Client, Compare};
//! use tributary_pco::{ListPeople, ListPeopleInclude};
//!
//! let client = Client::new("https://api.planningcenteronline.com", Auth::None)?;
//! let mut pages = ListPeople::new(&client)
//!     .include(ListPeopleInclude::Emails)
//!     .where_updated_at(Compare::Gte, "2024-01-01T00:00:00Z")
//!     .per_page(100)
//!     .stream();
//! while let Some(page) = pages.try_next().await? {
//!     for person in &page.document.data {
//!         println!("{} {:?}", person.id, person.attributes.first_name);
//!     }
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

/// Code generated from `specs/pco`.
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/pco.rs"));
}

pub use generated::*;
