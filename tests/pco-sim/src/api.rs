//! Read API: resolves `/{module}/v2/...` paths against the store and builds list and single
//! documents with Planning Center's links, meta, paging, `where`, `order` and `include`.

use crate::jsonapi::{
    Included, IncludedView, JSON, JSONAPI, NOT_FOUND, Renderer, ResourceView, error_doc,
};
use crate::query::{ListQuery, Op, Where, parse};
use crate::schema::RelKind;
use crate::store::{Org, Record};
use crate::value::Val;
use serde::Serialize;
use serde_json::{Value, json};
use std::cmp::Ordering;

/// A response of the read API: status and optional JSON body, serialized.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body (`None` for 204).
    pub body: Option<Vec<u8>>,
    /// Content type of the body: JSON:API, or plain JSON for error documents.
    pub content_type: &'static str,
}

impl Reply {
    fn ok(v: impl Serialize) -> Self {
        Reply::json(200, &v)
    }

    /// A JSON:API document.
    pub fn json(status: u16, v: &impl Serialize) -> Self {
        // A page of people with their side-loaded records is a few hundred KB: starting
        // bigger saves most of the doublings (and copies) of `to_vec`'s 128 bytes.
        let mut body = Vec::with_capacity(64 * 1024);
        if serde_json::to_writer(&mut body, v).is_err() {
            body.clear();
        }
        Reply {
            status,
            body: Some(body),
            content_type: JSONAPI,
        }
    }

    /// No body (204).
    pub fn empty(status: u16) -> Self {
        Reply {
            status,
            body: None,
            content_type: JSONAPI,
        }
    }

    /// An error document.
    pub fn error(status: u16, detail: &str) -> Self {
        Reply {
            status,
            body: Some(serde_json::to_vec(&error_doc(status, detail)).unwrap_or_default()),
            content_type: JSON,
        }
    }
}

/// Where a path points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The organisation of a module (`/people/v2`).
    Organization(String),
    /// A list of a table, optionally the children of a parent record over a relation.
    List {
        /// Table index.
        table: usize,
        /// Parent table, record id and relation name.
        parent: Option<(usize, u64, String)>,
    },
    /// One record.
    One {
        /// Table index.
        table: usize,
        /// Record id.
        id: u64,
    },
    /// An action that answers 204 (e.g. `/people/v2/lists/{id}/run`).
    Action,
}

/// Resolve a request path; `None` means 404.
pub fn resolve(org: &Org, path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if segs.len() < 2 || segs[1] != "v2" || !org.schema.has_module(segs[0]) {
        return None;
    }
    let module = segs[0];
    if segs.len() == 2 {
        return Some(Target::Organization(module.to_string()));
    }
    let mut target = Target::List {
        table: org.schema.collection(module, segs[2])?,
        parent: None,
    };
    for seg in &segs[3..] {
        target = match target {
            Target::List { table, parent } => {
                let id: u64 = seg.parse().ok()?;
                let t = org.table_at(table);
                let rec = t.get(id)?;
                if let Some((pt, pid, rel)) = &parent {
                    let prec = org.table_at(*pt).get(*pid)?;
                    if !org.related(*pt, prec, rel).contains(&rec.id) {
                        return None;
                    }
                }
                Target::One { table, id }
            }
            Target::One { table, id } => {
                let t = org.table_at(table);
                if *seg == "run" && t.schema.name == "List" {
                    Target::Action
                } else {
                    let rel = t.schema.relation(seg)?;
                    match rel.kind {
                        RelKind::Org => Target::Organization(module.to_string()),
                        RelKind::One { slot } => Target::One {
                            table: org.schema.index(&rel.target)?,
                            id: t.get(id)?.links[slot]?,
                        },
                        _ => Target::List {
                            table: org.schema.index(&rel.target)?,
                            parent: Some((table, id, rel.name.clone())),
                        },
                    }
                }
            }
            Target::Organization(_) | Target::Action => return None,
        };
    }
    Some(target)
}

/// Answer a GET.
pub fn get(org: &Org, base: &str, path: &str, raw_query: Option<&str>) -> Reply {
    let Some(target) = resolve(org, path) else {
        return Reply::error(404, NOT_FOUND);
    };
    let mut q = match parse(raw_query) {
        Ok(q) => q,
        Err(e) => return Reply::error(400, &e),
    };
    let r = Renderer { org, base };
    match target {
        Target::Action => Reply::empty(204),
        Target::Organization(module) => Reply::ok(OneDoc {
            data: r.organization(&module),
            included: Vec::<()>::new(),
            meta: OneMeta {
                can_include: &[],
                parent: Value::Null,
            },
        }),
        Target::One { table, id } => {
            let t = org.table_at(table);
            if let Err(e) = q.validate(&t.schema, false) {
                return Reply::error(400, &e);
            }
            let Some(rec) = t.get(id) else {
                return Reply::error(404, NOT_FOUND);
            };
            let mut inc = Included::default();
            let data = r.resource(table, rec, &q.include, &mut inc, true);
            Reply::ok(OneDoc {
                data,
                included: r.included(&inc),
                meta: OneMeta {
                    can_include: &t.schema.can_include,
                    parent: parent_meta(org, None),
                },
            })
        }
        Target::List { table, parent } => list(&r, table, parent, &mut q, path),
    }
}

fn parent_meta(org: &Org, parent: Option<&(usize, u64, String)>) -> Value {
    match parent {
        Some((pt, pid, _)) => {
            json!({"id": pid.to_string(), "type": org.table_at(*pt).schema.wire_type})
        }
        None => json!({"id": org.org_id.to_string(), "type": "Organization"}),
    }
}

fn list(
    r: &Renderer,
    table: usize,
    parent: Option<(usize, u64, String)>,
    q: &mut ListQuery,
    path: &str,
) -> Reply {
    let org = r.org;
    let t = org.table_at(table);
    if let Err(e) = q.validate(&t.schema, true) {
        return Reply::error(400, &e);
    }
    let all: Vec<&Record> = match &parent {
        Some((pt, pid, rel)) => match org.table_at(*pt).get(*pid) {
            Some(prec) => org
                .related(*pt, prec, rel)
                .iter()
                .filter_map(|id| t.get(*id))
                .collect(),
            None => return Reply::error(404, NOT_FOUND),
        },
        None if q.wheres.is_empty() && q.order.is_none() => {
            // Fast path: a page of the whole table needs no candidate list.
            let recs = t.records();
            let end = (q.offset + q.per_page).min(recs.len());
            let page = if q.offset < recs.len() {
                &recs[q.offset..end]
            } else {
                &[]
            };
            return page_doc(r, table, None, q, path, page.iter().collect(), recs.len());
        }
        None => match &q.order {
            Some((name, false)) if q.wheres.is_empty() && t.schema.attr(name).is_some() => {
                // Fast path for a stable ascending order (what sync engines page by).
                let sorted = t.sorted_by(t.schema.attr(name).unwrap_or_default());
                let recs = t.records();
                let page = sorted
                    .iter()
                    .skip(q.offset)
                    .take(q.per_page)
                    .map(|&p| &recs[p as usize])
                    .collect();
                return page_doc(r, table, None, q, path, page, recs.len());
            }
            _ => t.records().iter().collect(),
        },
    };
    let mut rows: Vec<&Record> = all
        .into_iter()
        .filter(|rec| q.wheres.iter().all(|w| matches(org, table, rec, w)))
        .collect();
    if let Some((name, desc)) = &q.order
        && let Some(i) = t.schema.attr(name)
    {
        // Stable sort over id order: ties stay ordered by id in both directions.
        rows.sort_by(|a, b| {
            let o = a.attrs[i].compare(&b.attrs[i]);
            if *desc { o.reverse() } else { o }
        });
    }
    let total = rows.len();
    let page: Vec<&Record> = rows.into_iter().skip(q.offset).take(q.per_page).collect();
    page_doc(r, table, parent.as_ref(), q, path, page, total)
}

fn page_doc(
    r: &Renderer,
    table: usize,
    parent: Option<&(usize, u64, String)>,
    q: &ListQuery,
    path: &str,
    page: Vec<&Record>,
    total: usize,
) -> Reply {
    let s = &r.org.table_at(table).schema;
    let mut inc = Included::default();
    let data: Vec<ResourceView> = page
        .iter()
        .map(|rec| r.resource(table, rec, &q.include, &mut inc, false))
        .collect();
    let count = data.len();
    let next = (q.offset + q.per_page < total).then_some(q.offset + q.per_page);
    let prev = (q.offset > 0).then(|| q.offset.saturating_sub(q.per_page));
    let links = PageLinks {
        this: q.link(r.base, path, None),
        prev: prev.map(|p| q.link(r.base, path, Some(p))),
        next: next.map(|n| q.link(r.base, path, Some(n))),
    };
    let meta = PageMeta {
        total_count: total,
        count,
        prev: prev.map(|offset| Offset { offset }),
        next: next.map(|offset| Offset { offset }),
        can_order_by: &s.can_order_by,
        can_query_by: s.can_query_by.iter().map(|(n, _)| n.as_str()).collect(),
        can_include: &s.can_include,
        can_filter: &s.can_filter,
        parent: parent_meta(r.org, parent),
    };
    Reply::ok(ListDoc {
        links,
        data,
        included: r.included(&inc),
        meta,
    })
}

/// A single-resource document, in Planning Center's key order.
#[derive(Serialize)]
struct OneDoc<'r, D, I> {
    data: D,
    included: I,
    meta: OneMeta<'r>,
}

/// A single-resource document's `meta`.
#[derive(Serialize)]
struct OneMeta<'r> {
    can_include: &'r [String],
    parent: Value,
}

/// A list document, in Planning Center's key order.
#[derive(Serialize)]
struct ListDoc<'r> {
    links: PageLinks,
    data: Vec<ResourceView<'r>>,
    included: IncludedView<'r>,
    meta: PageMeta<'r>,
}

/// A list document's `links`: `self`, then `prev` and `next` where there are such pages.
#[derive(Serialize)]
struct PageLinks {
    #[serde(rename = "self")]
    this: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// A list document's `meta`, in Planning Center's order.
#[derive(Serialize)]
struct PageMeta<'r> {
    total_count: usize,
    count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<Offset>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<Offset>,
    can_order_by: &'r [String],
    can_query_by: Vec<&'r str>,
    can_include: &'r [String],
    can_filter: &'r [String],
    parent: Value,
}

/// `meta.prev` / `meta.next`.
#[derive(Serialize)]
struct Offset {
    offset: usize,
}

fn matches(org: &Org, table: usize, rec: &Record, w: &Where) -> bool {
    let t = &org.table_at(table).schema;
    let f = w.field.as_str();
    let owned;
    let v: &Val = if f == "id" {
        owned = Val::Int(rec.id as i64);
        &owned
    } else if let Some(i) = t.attr(f) {
        &rec.attrs[i]
    } else if let Some(slot) = f.strip_suffix("_id").and_then(|r| t.slot(r)) {
        owned = rec.links[slot].map_or(Val::Null, |x| Val::Int(x as i64));
        &owned
    } else if let Some(kind) = f.strip_prefix("search_") {
        return search(org, table, rec, kind, w.value.as_str().unwrap_or(""));
    } else {
        return false;
    };
    if matches!(v, Val::Null) && w.op != Op::Eq {
        return false;
    }
    match w.op {
        Op::Eq => v.matches(&w.value),
        Op::Gt => v.compare(&w.value) == Ordering::Greater,
        Op::Gte => v.compare(&w.value) != Ordering::Less,
        Op::Lt => v.compare(&w.value) == Ordering::Less,
        Op::Lte => v.compare(&w.value) != Ordering::Greater,
    }
}

/// `search_name`, `search_name_or_email`, ... : case-insensitive substring matches.
fn search(org: &Org, table: usize, rec: &Record, kind: &str, needle: &str) -> bool {
    let needle = needle.to_lowercase();
    let t = &org.table_at(table).schema;
    let has = |v: Option<&Val>| {
        v.and_then(Val::as_str)
            .is_some_and(|s| s.to_lowercase().contains(&needle))
    };
    if kind.contains("name") && has(rec.get(t, "name")) {
        return true;
    }
    for (part, rel, attr) in [
        ("email", "emails", "address"),
        ("phone", "phone_numbers", "number"),
    ] {
        if !kind.contains(part) {
            continue;
        }
        let Some(ct) = t.relation(rel).and_then(|r| org.table(&r.target)) else {
            continue;
        };
        for id in org.related(table, rec, rel) {
            if ct.get(id).is_some_and(|c| has(c.get(&ct.schema, attr))) {
                return true;
            }
        }
    }
    false
}
