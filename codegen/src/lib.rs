//! # tributary-codegen
//!
//! Turns Tributary's declarative spec files into typed Rust. Used from `build.rs` of every
//! adapter crate, from the proc macros, and from `tributary codegen` for reviewing output.
//!
//! The pipeline is a sequence of modules, each with one job:
//! 1. [`load`] reads the OpenAPI documents (3.0 and 3.1) and the adapter manifest;
//! 2. [`validate`] checks them together and reports *every* problem, each naming the file, the
//!    entity or operation and the JSON pointer;
//! 3. [`ir`] is the resolved model the emitters work from (entities, attributes, relationships
//!    with their dependency class, endpoints, mapping);
//! 4. [`graph`] orders entities in topological levels and names hard cycles;
//! 5. [`emit`] writes Rust with `quote` + `prettyplease`, and JSON Schema.
//!
//! [`canonical`] does the same for the canonical model spec.

pub mod canonical;
pub mod diagnostic;
pub mod graph;
pub mod ir;
pub mod load;
pub mod manifest;
pub mod naming;
pub mod resolve;
