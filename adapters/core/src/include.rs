//! Resolving a document's `included` resources (side-loaded with `include=`) to typed values.

use std::collections::HashMap;

use crate::entity::Entity;
use crate::jsonapi::{RawResource, Resource, ResourceId, ToMany, ToOne};

/// The `included` resources of one document, indexed by `(type, id)` and decoded on demand,
/// so that resolving a page's relationships costs one hash lookup per reference.
#[derive(Debug, Clone, Default)]
pub struct Included<'a> {
    by_id: HashMap<(&'a str, &'a str), &'a RawResource>,
}

impl<'a> Included<'a> {
    /// Indexes `included`.
    pub fn new(included: &'a [RawResource]) -> Self {
        Self {
            by_id: included
                .iter()
                .map(|r| ((r.kind.as_str(), r.id.as_str()), r))
                .collect(),
        }
    }

    /// The included resource `id`, undecoded.
    pub fn raw(&self, id: &ResourceId) -> Option<&'a RawResource> {
        self.by_id.get(&(id.kind.as_str(), id.id.as_str())).copied()
    }

    /// The resource a to-one relationship points at, if it was included.
    pub fn one<E: Entity>(&self, rel: &ToOne) -> Option<Result<Resource<E>, serde_json::Error>> {
        rel.data
            .as_ref()
            .and_then(|id| self.raw(id))
            .map(RawResource::decode)
    }

    /// The included resources of a to-many relationship (those not included are skipped).
    pub fn many<'r, E: Entity>(
        &'r self,
        rel: &'r ToMany,
    ) -> impl Iterator<Item = Result<Resource<E>, serde_json::Error>> + 'r {
        rel.data
            .iter()
            .filter_map(|id| self.raw(id))
            .map(RawResource::decode)
    }
}
