//! JSON:API documents as Planning Center serves them.
//!
//! Every type here keeps what it does not model (`extra` maps, raw `links`/`meta`), so that API
//! drift loses no data: a field PCO adds tomorrow is carried through to the canonical store.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::entity::Entity;

mod bulk;
mod linkage;

/// `links` of a document or resource: `self`, `next`, `prev`, `html`, …
pub type Links = Map<String, Value>;

/// A resource identifier: `{"type": "Campus", "id": "1"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceId {
    /// The JSON:API type name, e.g. `Person`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The remote identifier (PCO ids are decimal strings).
    pub id: String,
}

/// A to-one relationship: `{"data": {...} | null}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToOne {
    /// The related resource, or `None` when the relationship is empty.
    #[serde(default)]
    pub data: Option<ResourceId>,
    /// Relationship links, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

/// A to-many relationship: `{"data": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToMany {
    /// The related resources. Absent `data` (PCO omits it unless included) is empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub data: Vec<ResourceId>,
    /// Relationship links, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ResourceId>, D::Error> {
    Ok(Option::<Vec<ResourceId>>::deserialize(d)?.unwrap_or_default())
}

/// Relationships of an entity that has no generated relationship struct.
pub type UntypedRelationships = Map<String, Value>;

/// A typed resource of entity `E`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Resource<E: Entity> {
    /// The JSON:API type name.
    #[serde(rename = "type")]
    pub kind: String,
    /// The remote identifier.
    pub id: String,
    /// Typed attributes (unknown ones are kept in the entity's `extra` map).
    pub attributes: E,
    /// Typed relationships.
    #[serde(default)]
    pub relationships: E::Relationships,
    /// Resource links (`self`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

impl<E: Entity> Resource<E> {
    /// The identifier of this resource.
    pub fn resource_id(&self) -> ResourceId {
        ResourceId {
            kind: self.kind.clone(),
            id: self.id.clone(),
        }
    }
}

/// A resource whose type is not known statically (e.g. an `included` entry).
///
/// Its relationships and links are kept as their JSON text, verbatim: a sync reads only the
/// linkage of a few relationships ([`RawResource::linkage`]), and building every
/// relationship's `data` and `links` as [`Value`]s, then dropping them, was about a tenth of
/// the client's CPU (a person carries six relationships, most with a `links` object).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawResource {
    /// The JSON:API type name.
    #[serde(rename = "type")]
    pub kind: String,
    /// The remote identifier.
    pub id: String,
    /// Attributes, verbatim.
    #[serde(default, deserialize_with = "bulk::map")]
    pub attributes: Map<String, Value>,
    /// Relationships: the text of their JSON object, verbatim (`{}` when absent).
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub relationships: Box<RawValue>,
    /// Links: the text of their JSON object, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Box<RawValue>>,
}

fn empty_object() -> Box<RawValue> {
    RawValue::from_string("{}".to_owned()).expect("`{}` is JSON")
}

fn is_empty_object(raw: &RawValue) -> bool {
    raw.get()
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .eq(*b"{}")
}

/// Equal when kind, id and attributes are equal and relationships and links have the same
/// text (they are kept verbatim, so a change of spacing is a difference).
impl PartialEq for RawResource {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.id == other.id
            && self.attributes == other.attributes
            && self.relationships.get() == other.relationships.get()
            && self.links.as_ref().map(|l| l.get()) == other.links.as_ref().map(|l| l.get())
    }
}

impl RawResource {
    /// Decodes this resource as entity `E`.
    pub fn decode<E: Entity>(&self) -> Result<Resource<E>, serde_json::Error> {
        Ok(Resource {
            kind: self.kind.clone(),
            id: self.id.clone(),
            // Deserialize from the map in place: cloning it first cost more than decoding.
            attributes: E::deserialize(&self.attributes)?,
            // Through a map, not straight from the text, so that an error reads as the
            // validator's does (no position within the relationships' text). Typed decoding
            // is not on a sync's path; validation is.
            relationships: E::Relationships::deserialize(&serde_json::from_str::<Value>(
                self.relationships.get(),
            )?)?,
            links: self
                .links
                .as_ref()
                .map(|l| serde_json::from_str(l.get()))
                .transpose()?,
        })
    }

    /// The linkage (`data`) of every relationship, in the order sent, read from the
    /// verbatim text; `links` and `meta` are skipped unread. A relationship whose `data` is
    /// absent or `null` links nothing. Fails when the text is not an object of
    /// relationship objects whose `data` is a resource identifier, a list of them or `null`.
    pub fn linkage(&self) -> Result<Vec<Linkage<'_>>, serde_json::Error> {
        serde_json::from_str::<linkage::All<'_>>(self.relationships.get()).map(|all| all.0)
    }
}

pub use linkage::{Linkage, LinkedId};

/// `meta.next` / `meta.prev` of a paged document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetRef {
    /// The offset of the neighbouring page.
    pub offset: u64,
}

/// `meta` of a document: paging facts plus whatever else PCO sends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Total number of records the query matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    /// Number of records in this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The next page, absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<OffsetRef>,
    /// The previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<OffsetRef>,
    /// Everything else (`can_include`, `can_order_by`, `parent`, …), verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A JSON:API top-level document whose primary data is `T`
/// (`Vec<Resource<E>>` for lists, `Resource<E>` for single resources).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document<T> {
    /// Top-level links (`self`, `next`, `prev`).
    #[serde(default)]
    pub links: Links,
    /// Primary data.
    pub data: T,
    /// Side-loaded resources (`include=`), de-duplicated by the server.
    #[serde(default)]
    pub included: Vec<RawResource>,
    /// Paging and capability facts.
    #[serde(default)]
    pub meta: Meta,
}

impl<T> Document<T> {
    /// Decodes the included resources of entity `E`, skipping other types.
    pub fn included_of<E: Entity>(
        &self,
    ) -> impl Iterator<Item = Result<Resource<E>, serde_json::Error>> + '_ {
        self.included
            .iter()
            .filter(|r| r.kind == E::DEF.json_type)
            .map(RawResource::decode::<E>)
    }
}
