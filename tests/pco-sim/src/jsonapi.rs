//! JSON:API rendering the way Planning Center does it: resource objects, relationships,
//! `included` de-duplication and error documents.

use crate::schema::{RelKind, Relation, TableSchema};
use crate::store::{Org, Record};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Content type of every JSON:API document.
pub const JSONAPI: &str = "application/vnd.api+json; charset=utf-8";
/// Content type of error documents (as recorded from Planning Center).
pub const JSON: &str = "application/json; charset=utf-8";

/// A Planning Center error document: `{"errors":[{"status","title","detail"}]}`.
pub fn error_doc(status: u16, detail: &str) -> ErrorDoc<'_> {
    let title = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    ErrorDoc {
        errors: [ErrorObject {
            status: status.to_string(),
            title,
            code: (status == 429).then_some("429"),
            detail,
        }],
    }
}

/// The organisation resource of a module (see [`Renderer::organization`]).
#[derive(Debug, serde::Serialize)]
pub struct OrganizationView {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    attributes: Map<String, Value>,
    links: SelfLink,
}

/// `links` with only `self`.
#[derive(Debug, serde::Serialize)]
struct SelfLink {
    #[serde(rename = "self")]
    this: String,
}

/// An error document (see [`error_doc`]).
#[derive(Debug, serde::Serialize)]
pub struct ErrorDoc<'a> {
    errors: [ErrorObject<'a>; 1],
}

/// One entry of `errors`, in Planning Center's key order.
#[derive(Debug, serde::Serialize)]
struct ErrorObject<'a> {
    status: String,
    title: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    detail: &'a str,
}

/// The standard 404 detail.
pub const NOT_FOUND: &str = "The resource you requested could not be found";

/// Renders resources of one organisation against one base URL.
#[derive(Clone, Copy)]
pub struct Renderer<'a> {
    /// The organisation.
    pub org: &'a Org,
    /// Absolute base URL, no trailing slash.
    pub base: &'a str,
}

/// Accumulates `included` resources without duplicates, in first-seen order. They are
/// rendered when the document is serialized ([`Renderer::included`]).
#[derive(Default)]
pub struct Included {
    seen: HashSet<(usize, u64)>,
    items: Vec<Item>,
}

/// An included resource, by reference.
enum Item {
    /// The organisation resource of a module.
    Organization(String),
    /// A record: table index and id.
    Record(usize, u64),
}

impl Renderer<'_> {
    /// Path (no base) of a record, e.g. `/people/v2/people/1`.
    pub fn path(&self, table: usize, id: u64) -> String {
        let t = &self.org.table_at(table).schema;
        if let Some(c) = &t.collection {
            // Every resource of a page asks for its path: built in one allocation (`format!`
            // grew its String piece by piece).
            let mut digits = itoa::Buffer::new();
            let id = digits.format(id);
            let mut path = String::with_capacity(t.module.len() + c.len() + id.len() + 6);
            for part in ["/", &t.module, "/v2/", c, "/", id] {
                path.push_str(part);
            }
            return path;
        }
        // Nested-only resources live under the parent that lists them.
        if let Some(rec) = self.org.table_at(table).get(id) {
            for r in &t.relations {
                let RelKind::One { slot } = r.kind else {
                    continue;
                };
                let (Some(pi), Some(pid)) = (self.org.schema.index(&r.target), rec.links[slot])
                else {
                    continue;
                };
                let parent = &self.org.table_at(pi).schema;
                let back = parent.relations.iter().find(|pr| {
                    pr.target == t.name
                        && matches!(&pr.kind, RelKind::Many { via } if *via == r.name)
                });
                if let Some(back) = back {
                    return format!("{}/{}/{id}", self.path(pi, pid), back.name);
                }
            }
        }
        format!("/{}/v2/{}/{id}", t.module, t.wire_type.to_lowercase())
    }

    /// The organisation resource of a module.
    pub fn organization(&self, module: &str) -> OrganizationView {
        OrganizationView {
            kind: "Organization",
            id: self.org.org_id.to_string(),
            attributes: self.org.org_attrs.get(module).cloned().unwrap_or_default(),
            links: SelfLink {
                this: format!("{}/{module}/v2", self.base),
            },
        }
    }

    /// A resource object, serialized straight from the record (a page of people with their
    /// addresses, emails and phone numbers built thousands of `Value` maps only to write them
    /// out). `includes` adds those relationships' targets to `included`.
    pub fn resource<'r>(
        &'r self,
        table: usize,
        rec: &'r Record,
        includes: &'r [String],
        included: &mut Included,
        detail_links: bool,
    ) -> ResourceView<'r> {
        let t = &self.org.table_at(table).schema;
        let mut included_ids = Vec::new();
        for r in &t.relations {
            if includes.contains(&r.name) {
                let ids = self.org.related(table, rec, &r.name);
                self.include(table, &r.name, &ids, included);
                included_ids.push((r.name.as_str(), ids));
            }
        }
        ResourceView {
            r: *self,
            table,
            rec,
            includes,
            included_ids,
            detail_links,
        }
    }

    /// The `included` array of a document.
    pub fn included<'r>(&'r self, included: &'r Included) -> IncludedView<'r> {
        IncludedView { r: *self, included }
    }

    fn include(&self, table: usize, rel: &str, ids: &[u64], included: &mut Included) {
        let t = &self.org.table_at(table).schema;
        let Some(r) = t.relation(rel) else { return };
        if r.kind == RelKind::Org {
            if included.seen.insert((usize::MAX, self.org.org_id)) {
                included.items.push(Item::Organization(t.module.clone()));
            }
            return;
        }
        let Some(ti) = self.org.schema.index(&r.target) else {
            return;
        };
        for id in ids {
            if included.seen.insert((ti, *id)) && self.org.table_at(ti).get(*id).is_some() {
                included.items.push(Item::Record(ti, *id));
            }
        }
    }
}

/// A resource object as Planning Center writes it: `type`, `id`, `attributes`,
/// `relationships` (those listed by default and those included), `links`.
pub struct ResourceView<'r> {
    r: Renderer<'r>,
    table: usize,
    rec: &'r Record,
    includes: &'r [String],
    /// The related ids of the included relationships, looked up once for `included` and
    /// for `relationships`.
    included_ids: Vec<(&'r str, Vec<u64>)>,
    detail_links: bool,
}

impl Serialize for ResourceView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (org, base) = (self.r.org, self.r.base);
        let t = &org.table_at(self.table).schema;
        let self_path = self.r.path(self.table, self.rec.id);
        let shown = |r: &&Relation| r.default || self.includes.contains(&r.name);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", &t.wire_type)?;
        m.serialize_entry("id", &Id(self.rec.id))?;
        m.serialize_entry("attributes", &Attributes(t, self.rec))?;
        if t.relations.iter().any(|r| shown(&r)) {
            let rels = Relationships {
                view: self,
                self_path: &self_path,
            };
            m.serialize_entry("relationships", &rels)?;
        }
        let links = Links {
            relations: &t.relations,
            base,
            self_path: &self_path,
            detail: self.detail_links,
        };
        m.serialize_entry("links", &links)?;
        m.end()
    }
}

/// A numeric id, written as a string.
struct Id(u64);

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(itoa::Buffer::new().format(self.0))
    }
}

/// `base` + `path` (+ `/name`) as one JSON string, written in place rather than built as a
/// String first.
struct Url<'r> {
    base: &'r str,
    path: &'r str,
    name: Option<&'r str>,
}

impl Serialize for Url<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.name {
            Some(name) => s.collect_str(&format_args!("{}{}/{name}", self.base, self.path)),
            None => s.collect_str(&format_args!("{}{}", self.base, self.path)),
        }
    }
}

struct Attributes<'r>(&'r TableSchema, &'r Record);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.attributes.len()))?;
        for ((name, _), v) in self.0.attributes.iter().zip(self.1.attrs.iter()) {
            m.serialize_entry(name, v)?;
        }
        m.end()
    }
}

struct Relationships<'r> {
    view: &'r ResourceView<'r>,
    self_path: &'r str,
}

impl Serialize for Relationships<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = self.view;
        let org = v.r.org;
        let t = &org.table_at(v.table).schema;
        let mut m = s.serialize_map(None)?;
        for r in &t.relations {
            let wanted = v.includes.contains(&r.name);
            if !r.default && !wanted {
                continue;
            }
            let target_type = match r.kind {
                RelKind::Org => "Organization",
                _ => org
                    .schema
                    .table(&r.target)
                    .map_or("", |x| x.wire_type.as_str()),
            };
            let fetched;
            let ids = match v.included_ids.iter().find(|(name, _)| *name == r.name) {
                Some((_, ids)) => ids.as_slice(),
                None => {
                    fetched = org.related(v.table, v.rec, &r.name);
                    fetched.as_slice()
                }
            };
            let rel = Relationship {
                related: wanted.then_some(Url {
                    base: v.r.base,
                    path: self.self_path,
                    name: Some(&r.name),
                }),
                ids,
                one: matches!(r.kind, RelKind::One { .. } | RelKind::Org),
                target_type,
            };
            m.serialize_entry(&r.name, &rel)?;
        }
        m.end()
    }
}

/// One relationship: `links.related` when included, then `data` (an identifier or null for
/// to-one relations, an array for to-many).
struct Relationship<'r> {
    related: Option<Url<'r>>,
    ids: &'r [u64],
    one: bool,
    target_type: &'r str,
}

impl Serialize for Relationship<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ident = |id: u64| Identifier(self.target_type, id);
        let mut m = s.serialize_map(None)?;
        if let Some(related) = &self.related {
            m.serialize_entry("links", &RelatedLink(related))?;
        }
        if self.one {
            m.serialize_entry("data", &self.ids.first().map(|id| ident(*id)))?;
        } else {
            let all: Vec<Identifier> = self.ids.iter().map(|id| ident(*id)).collect();
            m.serialize_entry("data", &all)?;
        }
        m.end()
    }
}

/// `{"related": …}`.
struct RelatedLink<'r>(&'r Url<'r>);

impl Serialize for RelatedLink<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("related", self.0)?;
        m.end()
    }
}

/// A resource identifier object: `{"type": …, "id": …}`.
struct Identifier<'r>(&'r str, u64);

impl Serialize for Identifier<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", self.0)?;
        m.serialize_entry("id", &Id(self.1))?;
        m.end()
    }
}

/// `links`: with `detail`, one per to-many relation, then `self`.
struct Links<'r> {
    relations: &'r [Relation],
    base: &'r str,
    self_path: &'r str,
    detail: bool,
}

impl Serialize for Links<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if self.detail {
            for r in self.relations {
                if !matches!(r.kind, RelKind::One { .. }) {
                    let link = Url {
                        base: self.base,
                        path: self.self_path,
                        name: Some(&r.name),
                    };
                    m.serialize_entry(&r.name, &link)?;
                }
            }
        }
        let this = Url {
            base: self.base,
            path: self.self_path,
            name: None,
        };
        m.serialize_entry("self", &this)?;
        m.end()
    }
}

/// The `included` array: each record with its default relationships, no detail links.
pub struct IncludedView<'r> {
    r: Renderer<'r>,
    included: &'r Included,
}

impl Serialize for IncludedView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.included.items.len()))?;
        for item in &self.included.items {
            match item {
                Item::Organization(module) => {
                    seq.serialize_element(&self.r.organization(module))?
                }
                Item::Record(table, id) => {
                    if let Some(rec) = self.r.org.table_at(*table).get(*id) {
                        let view = ResourceView {
                            r: self.r,
                            table: *table,
                            rec,
                            includes: &[],
                            included_ids: Vec::new(),
                            detail_links: false,
                        };
                        seq.serialize_element(&view)?;
                    }
                }
            }
        }
        seq.end()
    }
}
