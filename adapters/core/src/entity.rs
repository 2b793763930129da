//! The [`Entity`] trait and the static descriptions emitted by the generator.
//!
//! Everything here is `const`-constructible so that a manifest (and its dependency check) can be
//! evaluated at compile time.

use std::fmt::Debug;

use serde::Serialize;

use crate::mapping::CanonicalMapping;
use serde::de::DeserializeOwned;

/// How a relationship constrains the sync order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dependency {
    /// The target must be synced before this entity starts; a cycle is a build error.
    Hard,
    /// The target is synced first when that does not block; cycles are broken.
    Soft,
    /// The relationship is recorded but does not order the sync.
    Ignore,
}

impl Dependency {
    /// The lowercase name used in manifests (`hard`, `soft`, `ignore`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Dependency::Hard => "hard",
            Dependency::Soft => "soft",
            Dependency::Ignore => "ignore",
        }
    }
}

/// A relationship of an entity, discovered from the API schema and classified by the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelationshipDef {
    /// The relationship name in JSON:API documents, e.g. `primary_campus`.
    pub name: &'static str,
    /// The target entity's name in the manifest (not the JSON:API type, which may be ambiguous).
    pub target: &'static str,
    /// Whether the relationship holds many resources.
    pub to_many: bool,
    /// How it orders the sync.
    pub dependency: Dependency,
}

/// The shape of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// A top-level collection, e.g. `/people/v2/people`.
    List,
    /// A collection nested under a parent, e.g. `/people/v2/people/{person_id}/addresses`.
    NestedList,
    /// A single resource, e.g. `/people/v2/people/{id}`.
    Get,
}

/// An endpoint serving an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointDef {
    /// The OpenAPI `operationId`.
    pub operation_id: &'static str,
    /// The shape of the endpoint.
    pub kind: EndpointKind,
    /// The path template, with `{param}` placeholders.
    pub path: &'static str,
    /// For nested lists: the parent entity's name.
    pub parent: Option<&'static str>,
}

/// The static description of an entity: what the engine needs to sync it.
#[derive(Debug, Clone, Copy)]
pub struct EntityDef {
    /// The entity's unique name in its manifest, e.g. `Person` or `GroupEvent`.
    pub name: &'static str,
    /// The JSON:API type name, e.g. `Person`.
    pub json_type: &'static str,
    /// One line of documentation.
    pub doc: &'static str,
    /// Relationships, in schema order.
    pub relationships: &'static [RelationshipDef],
    /// Endpoints serving the entity.
    pub endpoints: &'static [EndpointDef],
    /// Relationships that may be side-loaded with `include=`.
    pub includes: &'static [&'static str],
    /// Attributes accepted by `order=`.
    pub order_by: &'static [&'static str],
    /// Attributes accepted by `where[...]=`.
    pub query_by: &'static [&'static str],
    /// How it maps onto the canonical model, if it does.
    pub canonical: Option<&'static CanonicalMapping>,
    /// Webhook event names that announce changes to it.
    pub webhook_events: &'static [&'static str],
}

impl EntityDef {
    /// The endpoint of the given kind, if the entity has one.
    pub fn endpoint(&self, kind: EndpointKind) -> Option<&'static EndpointDef> {
        self.endpoints.iter().find(|e| e.kind == kind)
    }

    /// Names of the entities this one depends on with the given strength.
    pub fn dependencies(&self, dependency: Dependency) -> impl Iterator<Item = &'static str> {
        self.relationships
            .iter()
            .filter(move |r| r.dependency == dependency)
            .map(|r| r.target)
    }
}

/// A syncable entity: its attributes type, with typed relationships and a static description.
///
/// Implemented by generated attribute structs and by `#[derive(Entity)]`.
pub trait Entity: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static {
    /// The typed relationships of the entity.
    type Relationships: Serialize
        + DeserializeOwned
        + Default
        + Clone
        + Debug
        + Send
        + Sync
        + 'static;

    /// The entity's static description.
    const DEF: EntityDef;
}
