//! # tributary-macros
//!
//! Proc macros for hand-written Tributary entities. This crate is a thin shell: the parsing,
//! validation and expansion live in `tributary_codegen::derive`, where they are unit-tested.
//!
//! - [`Entity`](macro@Entity): `#[derive(Entity)]` implements `tributary_core::Entity` for a
//!   hand-written attributes struct, exactly as the generator does for spec-driven entities.
//! - [`entity_manifest!`]: assembles hand-written and generated entities into a
//!   `tributary_core::Manifest` and computes the sync order at compile time, so a
//!   hard-dependency cycle is a build error naming the cycle.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! /// A song in the library.
//! #[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
//! #[entity(relationships(arrangement(target = "Arrangement", dependency = "hard")))]
//! pub struct Song {
//!     pub title: Option<String>,
//! }
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
//! pub struct Arrangement {
//!     pub key: Option<String>,
//! }
//!
//! tributary_macros::entity_manifest! {
//!     pub static MANIFEST = {
//!         adapter: "songs",
//!         base_url: "https://api.example.org",
//!         entities: [Song, Arrangement],
//!     };
//! }
//!
//! assert_eq!(MANIFEST.sync_order, &[&["Arrangement"][..], &["Song"]]);
//! ```

use proc_macro::TokenStream;

/// Implements `tributary_core::Entity` for a hand-written attributes struct.
///
/// The struct must also implement `Serialize`, `Deserialize`, `Clone` and `Debug`. Options, all
/// optional, go in one `#[entity(...)]` attribute:
///
/// - `name = "Song"`: the entity's unique name in its manifest (default: the struct name);
/// - `json_type = "Song"`: the JSON:API type (default: the name);
/// - `doc = "..."`: one line of documentation (default: the doc comment's first line);
/// - `relationships(rel(target = "Entity", dependency = "hard" | "soft" | "ignore"
///   [, to_many] [, rename = "json_name"]), ...)`: generates a `<Struct>Relationships` struct
///   with an `Option<ToOne>` / `Option<ToMany>` field per relationship plus an `extra` map;
///   without relationships, `Relationships` is `tributary_core::jsonapi::UntypedRelationships`;
/// - `endpoint(kind = "list" | "nested_list" | "get", path = "...", [operation_id = "..."]
///   [, parent = "Entity"])`, repeatable;
/// - `includes("rel", ...)`, `order_by("attr", ...)`, `query_by("attr", ...)`,
///   `webhook_events("event", ...)`;
/// - `canonical = path::TO::MAPPING`: a `static` or `const` `tributary_core::CanonicalMapping`.
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    tributary_codegen::derive::derive_entity(input.into()).into()
}

/// Declares a `static` `tributary_core::Manifest` over hand-written and generated entities.
///
/// ```text
/// entity_manifest! {
///     pub static MANIFEST = {
///         adapter: "church_tools",
///         base_url: "https://api.example.org",
///         entities: [Song, Arrangement, tributary_pco::Person],
///         // optional: per_page_param ("per_page"), offset_param ("offset"),
///         // max_per_page (100), default_per_page (25), delta_filter (none)
///     };
/// }
/// ```
///
/// The sync order is computed in `const` context: a hard-dependency cycle
/// (`hard-dependency cycle: Person -> Address -> Person`) or a hard dependency on an entity not
/// in `entities` fails the build.
#[proc_macro]
pub fn entity_manifest(input: TokenStream) -> TokenStream {
    tributary_codegen::derive::entity_manifest(input.into()).into()
}
