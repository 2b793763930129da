//! JSON:API rendering the way Planning Center does it: resource objects, relationships,
//! `included` de-duplication and error documents.

use crate::schema::RelKind;
use crate::store::{Org, Record};
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// Content type of every JSON:API document.
pub const JSONAPI: &str = "application/vnd.api+json; charset=utf-8";
/// Content type of error documents (as recorded from Planning Center).
pub const JSON: &str = "application/json; charset=utf-8";

/// A Planning Center error document: `{"errors":[{"status","title","detail"}]}`.
pub fn error_doc(status: u16, detail: &str) -> Value {
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
    let mut e = Map::new();
    e.insert("status".into(), Value::from(status.to_string()));
    e.insert("title".into(), Value::from(title));
    if status == 429 {
        e.insert("code".into(), Value::from("429"));
    }
    e.insert("detail".into(), Value::from(detail));
    json!({ "errors": [Value::Object(e)] })
}

/// The standard 404 detail.
pub const NOT_FOUND: &str = "The resource you requested could not be found";

/// Renders resources of one organisation against one base URL.
pub struct Renderer<'a> {
    /// The organisation.
    pub org: &'a Org,
    /// Absolute base URL, no trailing slash.
    pub base: &'a str,
}

/// Accumulates `included` resources without duplicates.
#[derive(Default)]
pub struct Included {
    seen: HashSet<(usize, u64)>,
    /// Rendered resources in first-seen order.
    pub items: Vec<Value>,
}

impl Renderer<'_> {
    /// Path (no base) of a record, e.g. `/people/v2/people/1`.
    pub fn path(&self, table: usize, id: u64) -> String {
        let t = &self.org.table_at(table).schema;
        if let Some(c) = &t.collection {
            return format!("/{}/v2/{c}/{id}", t.module);
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
    pub fn organization(&self, module: &str) -> Value {
        let attrs = self.org.org_attrs.get(module).cloned().unwrap_or_default();
        json!({
            "type": "Organization",
            "id": self.org.org_id.to_string(),
            "attributes": attrs,
            "links": { "self": format!("{}/{module}/v2", self.base) },
        })
    }

    /// A resource object; `includes` adds those relationships and their targets to `included`.
    pub fn resource(
        &self,
        table: usize,
        rec: &Record,
        includes: &[String],
        included: &mut Included,
        detail_links: bool,
    ) -> Value {
        let t = &self.org.table_at(table).schema;
        let self_path = self.path(table, rec.id);
        let mut attrs = Map::with_capacity(t.attributes.len());
        for ((name, _), v) in t.attributes.iter().zip(rec.attrs.iter()) {
            attrs.insert(name.clone(), v.to_json());
        }
        let mut rels = Map::new();
        for r in &t.relations {
            let wanted = includes.contains(&r.name);
            if !r.default && !wanted {
                continue;
            }
            let ids = self.org.related(table, rec, &r.name);
            let target_type = match r.kind {
                RelKind::Org => "Organization".to_string(),
                _ => self
                    .org
                    .schema
                    .table(&r.target)
                    .map_or_else(String::new, |x| x.wire_type.clone()),
            };
            let ident = |id: &u64| json!({"type": target_type, "id": id.to_string()});
            let data = match r.kind {
                RelKind::One { .. } | RelKind::Org => ids.first().map_or(Value::Null, ident),
                _ => Value::Array(ids.iter().map(ident).collect()),
            };
            let mut rel = Map::new();
            if wanted {
                rel.insert(
                    "links".into(),
                    json!({"related": format!("{}{self_path}/{}", self.base, r.name)}),
                );
            }
            rel.insert("data".into(), data);
            rels.insert(r.name.clone(), Value::Object(rel));
            if wanted {
                self.include(table, &r.name, &ids, included);
            }
        }
        let mut links = Map::new();
        if detail_links {
            for r in &t.relations {
                if !matches!(r.kind, RelKind::One { .. }) {
                    links.insert(
                        r.name.clone(),
                        Value::from(format!("{}{self_path}/{}", self.base, r.name)),
                    );
                }
            }
        }
        links.insert(
            "self".into(),
            Value::from(format!("{}{self_path}", self.base)),
        );
        let mut o = Map::new();
        o.insert("type".into(), Value::from(t.wire_type.clone()));
        o.insert("id".into(), Value::from(rec.id.to_string()));
        o.insert("attributes".into(), Value::Object(attrs));
        if !rels.is_empty() {
            o.insert("relationships".into(), Value::Object(rels));
        }
        o.insert("links".into(), Value::Object(links));
        Value::Object(o)
    }

    fn include(&self, table: usize, rel: &str, ids: &[u64], included: &mut Included) {
        let t = &self.org.table_at(table).schema;
        let Some(r) = t.relation(rel) else { return };
        if r.kind == RelKind::Org {
            if included.seen.insert((usize::MAX, self.org.org_id)) {
                included.items.push(self.organization(&t.module));
            }
            return;
        }
        let Some(ti) = self.org.schema.index(&r.target) else {
            return;
        };
        for id in ids {
            if !included.seen.insert((ti, *id)) {
                continue;
            }
            if let Some(rec) = self.org.table_at(ti).get(*id) {
                let v = self.resource(ti, rec, &[], &mut Included::default(), false);
                included.items.push(v);
            }
        }
    }
}
