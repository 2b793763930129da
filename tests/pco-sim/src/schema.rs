//! The routing table: which resources are served, where, with which attributes and relations.
//!
//! It is built from `specs/pco` (the same OpenAPI documents and manifest the adapter is
//! generated from) through `tributary_codegen::resolve_dir`, so an entity added to the spec is
//! served, with values generated from its schema. What the spec cannot say and the simulator
//! needs (the `Organization` attributes, polymorphic targets, a path alias) is in the constants
//! below; realism lives in [`crate::generate`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tributary_codegen::ir;

/// Declared type of an attribute, from the spec's schema type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// A string.
    String,
    /// A boolean.
    Bool,
    /// An integer.
    Int,
    /// A decimal number.
    Decimal,
    /// A timestamp rendered as `2018-08-03T01:13:32Z`.
    DateTime,
    /// A calendar date rendered as `2018-08-03`.
    Date,
    /// Any JSON object.
    Object,
    /// Any JSON array.
    Array,
}

/// How a relation of a table is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelKind {
    /// A to-one relation stored on the record (foreign key slot `slot`).
    One {
        /// Index into [`crate::store::Record::links`].
        slot: usize,
    },
    /// A to-many relation: the records of `target` whose to-one relation `via` points here.
    Many {
        /// Name of the to-one relation on the target table.
        via: String,
    },
    /// A to-many relation through a join table.
    Through {
        /// The join table.
        join: String,
        /// The join table's to-one relation pointing at this table.
        from: String,
        /// The join table's to-one relation pointing at the target.
        to: String,
    },
    /// The organisation singleton.
    Org,
    /// A many-to-many relation the spec declares without a join entity: a deterministic
    /// sample of the target's records (about one in eight).
    Sampled,
}

/// One relation of a table.
#[derive(Debug, Clone)]
pub struct Relation {
    /// Relation name (also the nested path slug and the `include` name).
    pub name: String,
    /// Target table name.
    pub target: String,
    /// How it resolves.
    pub kind: RelKind,
    /// Rendered in `relationships` even when not included (as Planning Center does).
    pub default: bool,
}

/// The schema of one served table.
#[derive(Debug, Clone)]
pub struct TableSchema {
    /// Table name, unique across modules (e.g. `GroupEvent`).
    pub name: String,
    /// API module (`people`, `groups`, `calendar`, `webhooks`).
    pub module: String,
    /// JSON:API `type` on the wire (e.g. `Event`).
    pub wire_type: String,
    /// Collection slug under `/{module}/v2/`, `None` for nested-only resources.
    pub collection: Option<String>,
    /// Further slugs the collection is also served at.
    pub aliases: Vec<String>,
    /// Attributes in rendering order.
    pub attributes: Vec<(String, AttrType)>,
    /// Allowed values of enum attributes.
    pub enums: HashMap<String, Vec<String>>,
    /// `include=` values of the list operation (`meta.can_include`).
    pub can_include: Vec<String>,
    /// `order=` attributes of the list operation.
    pub can_order_by: Vec<String>,
    /// `where[...]` parameters of the list operation with their declared type.
    pub can_query_by: Vec<(String, AttrType)>,
    /// `filter=` values (the spec declares none yet).
    pub can_filter: Vec<String>,
    /// Relations (to-one relations first get the storage slots in declaration order).
    pub relations: Vec<Relation>,
    attr_index: HashMap<String, usize>,
}

impl TableSchema {
    /// Position of an attribute in [`Self::attributes`].
    pub fn attr(&self, name: &str) -> Option<usize> {
        self.attr_index.get(name).copied()
    }

    /// A relation by name.
    pub fn relation(&self, name: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// Storage slot of a to-one relation by name.
    pub fn slot(&self, name: &str) -> Option<usize> {
        match self.relation(name)?.kind {
            RelKind::One { slot } => Some(slot),
            _ => None,
        }
    }

    /// Number of stored to-one slots.
    pub fn slot_count(&self) -> usize {
        self.relations
            .iter()
            .filter(|r| matches!(r.kind, RelKind::One { .. }))
            .count()
    }
}

/// The whole routing table.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Served tables, in dependency-friendly order.
    pub tables: Vec<TableSchema>,
    /// Organisation attributes per module.
    pub organization: HashMap<String, Vec<(String, AttrType)>>,
    by_name: HashMap<String, usize>,
}

/// A spec that does not describe a consistent routing table.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The spec directory could not be loaded or resolved by `tributary-codegen`.
    #[error("spec {dir}: {message}")]
    Spec {
        /// The spec directory.
        dir: PathBuf,
        /// The generator's diagnostics.
        message: String,
    },
    /// An operation cannot be served.
    #[error("operation {op} ({path}): {problem}")]
    Operation {
        /// operationId.
        op: String,
        /// Path template.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// A relation is malformed or points at an unknown table.
    #[error("table {table}: relation {relation}: {problem}")]
    Relation {
        /// Table name.
        table: String,
        /// Relation name.
        relation: String,
        /// What is wrong.
        problem: String,
    },
}

/// `specs/pco` compiled in when this crate was built (see `build.rs`).
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/spec.rs"));
}

/// The folder the compiled-in spec names in diagnostics.
const EMBEDDED_DIR: &str = "specs/pco";

/// The files of `specs/pco` compiled into the simulator: (`/`-separated path in the folder,
/// text), as they were when it was built.
pub fn spec_files() -> &'static [(&'static str, &'static str)] {
    embedded::SPEC_FILES
}

/// Attributes documented as "only available when requested with the `?fields` param" are not
/// rendered by default, so the simulator does not serve them.
const FIELDS_ONLY: &str = "requested with the `?fields` param";

/// Organisation attributes per module: the spec has no `Organization` entity, the wire has one.
const ORGANIZATION: &[(&str, &[(&str, AttrType)])] = &[
    (
        "people",
        &[
            ("avatar_url", AttrType::String),
            ("church_center_subdomain", AttrType::String),
            ("contact_website", AttrType::String),
            ("country_code", AttrType::String),
            ("created_at", AttrType::DateTime),
            ("date_format", AttrType::String),
            ("grades", AttrType::Array),
            ("name", AttrType::String),
            ("time_zone", AttrType::String),
        ],
    ),
    (
        "groups",
        &[("name", AttrType::String), ("time_zone", AttrType::String)],
    ),
    (
        "calendar",
        &[
            ("calendar_starts_on", AttrType::String),
            ("date_format", AttrType::String),
            ("name", AttrType::String),
            ("time_zone", AttrType::String),
            ("twenty_four_hour_time", AttrType::Bool),
        ],
    ),
];

/// Polymorphic to-one relations the spec types as an abstract target (e.g. `Customizable`):
/// (entity, relation, the entity the simulator links them to).
const POLYMORPHIC: &[(&str, &str, &str)] = &[("FieldDatum", "customizable", "Person")];

/// Extra collection slugs served for an entity besides its list path (older clients and the
/// simulator's webhook docs use `webhook_subscriptions`).
const ALIASES: &[(&str, &str)] = &[("WebhookSubscription", "webhook_subscriptions")];

fn attr_type(adapter: &ir::Adapter, ty: &ir::Type) -> (AttrType, Option<Vec<String>>) {
    match ty {
        ir::Type::String => (AttrType::String, None),
        ir::Type::DateTime => (AttrType::DateTime, None),
        ir::Type::Date => (AttrType::Date, None),
        ir::Type::Integer => (AttrType::Int, None),
        ir::Type::Number => (AttrType::Decimal, None),
        ir::Type::Boolean => (AttrType::Bool, None),
        ir::Type::Json => (AttrType::Object, None),
        ir::Type::Array(_) => (AttrType::Array, None),
        ir::Type::Named(n) => match adapter.types.iter().find(|t| &t.name == n).map(|t| &t.kind) {
            Some(ir::NamedKind::Enum(values)) => (
                AttrType::String,
                Some(values.iter().map(|(json, _)| json.clone()).collect()),
            ),
            _ => (AttrType::Object, None),
        },
    }
}

/// Literal segments of a path template: `/people/v2/people/{person_id}/emails` →
/// `["people", "v2", "people", "emails"]`.
fn literals(path: &str) -> Vec<&str> {
    path.trim_matches('/')
        .split('/')
        .filter(|s| !s.starts_with('{'))
        .collect()
}

impl Schema {
    /// The routing table of this workspace's `specs/pco`, as compiled into the simulator: it
    /// needs no checkout at run time.
    pub fn load_default() -> Result<Self, SchemaError> {
        let dir = Path::new(EMBEDDED_DIR);
        let adapter = tributary_codegen::resolve_files(dir, embedded::SPEC_FILES).map_err(|d| {
            SchemaError::Spec {
                dir: dir.to_path_buf(),
                message: d.to_string(),
            }
        })?;
        Self::from_ir(&adapter)
    }

    /// Load a spec directory (`manifest.yaml` + `openapi/*.yaml`) through `tributary-codegen`.
    pub fn from_spec_dir(dir: &Path) -> Result<Self, SchemaError> {
        let (adapter, _) = tributary_codegen::resolve_dir(dir).map_err(|d| SchemaError::Spec {
            dir: dir.to_path_buf(),
            message: d.to_string(),
        })?;
        Self::from_ir(&adapter)
    }

    /// Build the routing table from the codegen IR: one table per entity, served at the paths
    /// of its operations, with the IR's attributes (types and enum values), relationships, and
    /// the `include`/`order`/`where` parameters of its list operation as `meta.can_*`.
    ///
    /// Relations are resolved for serving: a to-one relationship to an entity is a stored
    /// foreign key; a to-many one is the reverse of the target's to-one back to this entity, or
    /// a join through an entity with to-one relations to both, or else a deterministic sample
    /// (many-to-many without a join in the spec). A nested list path whose slug is not a
    /// relationship of its parent gets one (and, if needed, a hidden foreign key on the child).
    pub fn from_ir(adapter: &ir::Adapter) -> Result<Self, SchemaError> {
        struct Draft {
            table: TableSchema,
            to_one: Vec<(String, String, bool)>,
            to_many: Vec<(String, String, bool)>,
        }
        fn ops_of<'a>(
            adapter: &'a ir::Adapter,
            e: &'a str,
        ) -> impl Iterator<Item = &'a ir::Operation> + 'a {
            adapter.operations.iter().filter(move |o| o.entity == e)
        }
        let mut drafts: Vec<Draft> = Vec::new();
        for e in &adapter.entities {
            let module = ops_of(adapter, &e.name)
                .filter_map(|o| literals(&o.path).first().map(|m| m.to_string()))
                .next()
                .ok_or_else(|| SchemaError::Operation {
                    op: String::new(),
                    path: String::new(),
                    problem: format!("entity {} has no operation", e.name),
                })?;
            let list = ops_of(adapter, &e.name).find(|o| o.kind == ir::OperationKind::List);
            let params = list.or_else(|| {
                ops_of(adapter, &e.name).find(|o| o.kind == ir::OperationKind::NestedList)
            });
            let collection = list.map(|o| {
                let l = literals(&o.path);
                l[l.len() - 1].to_string()
            });
            let mut attributes = Vec::new();
            let mut enums = HashMap::new();
            for f in &e.attributes {
                if f.doc.as_deref().is_some_and(|d| d.contains(FIELDS_ONLY)) {
                    continue;
                }
                let (ty, values) = attr_type(adapter, &f.ty);
                if let Some(v) = values {
                    enums.insert(f.json_name.clone(), v);
                }
                attributes.push((f.json_name.clone(), ty));
            }
            let attr_index = attributes
                .iter()
                .enumerate()
                .map(|(i, (n, _)): (usize, &(String, AttrType))| (n.clone(), i))
                .collect();
            let can_include: Vec<String> = params.map(|o| o.includes.clone()).unwrap_or_default();
            let mut to_one = Vec::new();
            let mut to_many = Vec::new();
            let mut org_declared = false;
            for r in &e.relationships {
                if r.target_type == "Organization" {
                    org_declared = true;
                    continue;
                }
                let target = r.target_entity.clone().or_else(|| {
                    POLYMORPHIC
                        .iter()
                        .find(|(t, n, _)| *t == e.name && *n == r.json_name)
                        .map(|(_, _, x)| x.to_string())
                });
                let Some(target) = target else { continue };
                if r.to_many {
                    to_many.push((r.json_name.clone(), target, false));
                } else {
                    to_one.push((r.json_name.clone(), target, true));
                }
            }
            let mut relations = Vec::new();
            if org_declared || can_include.iter().any(|i| i == "organization") {
                relations.push(Relation {
                    name: "organization".into(),
                    target: "Organization".into(),
                    kind: RelKind::Org,
                    default: org_declared,
                });
            }
            drafts.push(Draft {
                table: TableSchema {
                    name: e.name.clone(),
                    module,
                    wire_type: e.json_type.clone(),
                    collection,
                    aliases: ALIASES
                        .iter()
                        .filter(|(n, _)| *n == e.name)
                        .map(|(_, a)| a.to_string())
                        .collect(),
                    attributes,
                    enums,
                    can_include,
                    can_order_by: params.map(|o| o.order_by.clone()).unwrap_or_default(),
                    can_query_by: params
                        .map(|o| {
                            o.filters
                                .iter()
                                .map(|(n, t)| (n.clone(), attr_type(adapter, t).0))
                                .collect()
                        })
                        .unwrap_or_default(),
                    can_filter: Vec::new(),
                    relations,
                    attr_index,
                },
                to_one,
                to_many,
            });
        }
        let idx = |drafts: &[Draft], n: &str| drafts.iter().position(|d| d.table.name == n);
        // Nested list paths: the parent needs a to-many relation named like the path's slug.
        for o in &adapter.operations {
            if o.kind != ir::OperationKind::NestedList {
                continue;
            }
            let err = |p: String| SchemaError::Operation {
                op: o.id.clone(),
                path: o.path.clone(),
                problem: p,
            };
            let parent = o.parent.clone().ok_or_else(|| err("no parent".into()))?;
            let l = literals(&o.path);
            let slug = l[l.len() - 1].to_string();
            let pi =
                idx(&drafts, &parent).ok_or_else(|| err(format!("unknown parent {parent}")))?;
            let p = &drafts[pi];
            let known = p
                .to_one
                .iter()
                .chain(&p.to_many)
                .any(|(n, _, _)| *n == slug);
            if !known {
                drafts[pi].to_many.push((slug, o.entity.clone(), false));
            }
        }
        // To-many relations: reverse of a to-one, a join, a hidden foreign key (nested paths
        // only) or a sample.
        let mut resolved: Vec<Vec<(String, String, RelKind, bool)>> =
            vec![Vec::new(); drafts.len()];
        for i in 0..drafts.len() {
            let me = drafts[i].table.name.clone();
            for (name, target, _) in drafts[i].to_many.clone() {
                let Some(ti) = idx(&drafts, &target) else {
                    continue;
                };
                let snake_me = crate::sim::snake(&me);
                let back: Vec<String> = drafts[ti]
                    .to_one
                    .iter()
                    .filter(|(_, t, _)| *t == me)
                    .map(|(n, _, _)| n.clone())
                    .collect();
                let named = back
                    .iter()
                    .find(|n| **n == snake_me || snake_me.ends_with(&format!("_{n}")));
                let join = drafts.iter().find(|d| {
                    d.table.collection.is_none()
                        && d.to_one.iter().any(|(_, t, _)| *t == me)
                        && d.to_one.iter().any(|(_, t, _)| *t == target)
                });
                let nested = adapter.operations.iter().any(|o| {
                    o.kind == ir::OperationKind::NestedList
                        && o.parent.as_deref() == Some(me.as_str())
                        && o.entity == target
                        && literals(&o.path).last() == Some(&name.as_str())
                });
                let taken = drafts[ti]
                    .to_one
                    .iter()
                    .chain(&drafts[ti].to_many)
                    .any(|(n, _, _)| *n == snake_me);
                let declared = adapter
                    .entities
                    .iter()
                    .any(|e| e.name == me && e.relationships.iter().any(|r| r.json_name == name));
                let kind = if let Some(via) = named {
                    RelKind::Many { via: via.clone() }
                } else if let Some(join) = join {
                    let from = join.to_one.iter().find(|(_, t, _)| *t == me).unwrap();
                    let to = join.to_one.iter().find(|(_, t, _)| *t == target).unwrap();
                    RelKind::Through {
                        join: join.table.name.clone(),
                        from: from.0.clone(),
                        to: to.0.clone(),
                    }
                } else if let Some(via) = back.first() {
                    RelKind::Many { via: via.clone() }
                } else if nested && !declared && !taken {
                    // A nested path the spec has no relationship for: a hidden foreign key on
                    // the child, named after the parent (`group_type`).
                    drafts[ti]
                        .to_one
                        .push((snake_me.clone(), me.clone(), false));
                    RelKind::Many { via: snake_me }
                } else {
                    RelKind::Sampled
                };
                resolved[i].push((name, target, kind, false));
            }
        }
        let mut tables = Vec::new();
        for (d, many) in drafts.into_iter().zip(resolved) {
            let mut t = d.table;
            for (slot, (name, target, default)) in d.to_one.into_iter().enumerate() {
                t.relations.push(Relation {
                    name,
                    target,
                    kind: RelKind::One { slot },
                    default,
                });
            }
            for (name, target, kind, default) in many {
                t.relations.push(Relation {
                    name,
                    target,
                    kind,
                    default,
                });
            }
            tables.push(t);
        }
        let by_name = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        let schema = Schema {
            tables,
            organization: ORGANIZATION
                .iter()
                .map(|(m, a)| {
                    (
                        m.to_string(),
                        a.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
                    )
                })
                .collect(),
            by_name,
        };
        schema.validate()?;
        schema.check_routes(adapter)?;
        Ok(schema)
    }

    /// Every list, nested list and single GET of the IR resolves to a table of this schema.
    fn check_routes(&self, adapter: &ir::Adapter) -> Result<(), SchemaError> {
        for o in &adapter.operations {
            let err = |p: &str| SchemaError::Operation {
                op: o.id.clone(),
                path: o.path.clone(),
                problem: p.to_string(),
            };
            let l = literals(&o.path);
            if l.len() < 3 || l[1] != "v2" {
                return Err(err("not a /{module}/v2/... path"));
            }
            let first = self
                .collection(l[0], l[2])
                .ok_or_else(|| err("no table is served at the first segment"))?;
            let served = match o.kind {
                ir::OperationKind::List | ir::OperationKind::Get => {
                    l.len() == 3 && self.tables[first].name == o.entity
                }
                ir::OperationKind::NestedList => {
                    l.len() == 4
                        && self.tables[first]
                            .relation(l[3])
                            .is_some_and(|r| r.target == o.entity)
                }
            };
            if !served {
                return Err(err("the path does not resolve to its entity"));
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), SchemaError> {
        for t in &self.tables {
            for r in &t.relations {
                let err = |p: String| SchemaError::Relation {
                    table: t.name.clone(),
                    relation: r.name.clone(),
                    problem: p,
                };
                if r.kind == RelKind::Org {
                    continue;
                }
                let target = self
                    .table(&r.target)
                    .ok_or_else(|| err(format!("unknown target {}", r.target)))?;
                match &r.kind {
                    RelKind::Many { via } if target.slot(via).is_none() => {
                        return Err(err(format!("{} has no to-one {via}", target.name)));
                    }
                    RelKind::Through { join, from, to } => {
                        let j = self
                            .table(join)
                            .ok_or_else(|| err(format!("unknown join {join}")))?;
                        if j.slot(from).is_none() || j.slot(to).is_none() {
                            return Err(err(format!("join {join} lacks {from}/{to}")));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Index of a table by name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        self.index(name).map(|i| &self.tables[i])
    }

    /// The table served at `/{module}/v2/{collection}`.
    pub fn collection(&self, module: &str, collection: &str) -> Option<usize> {
        self.tables.iter().position(|t| {
            t.module == module
                && (t.collection.as_deref() == Some(collection)
                    || t.aliases.iter().any(|a| a == collection))
        })
    }

    /// Whether any table is served under the module.
    pub fn has_module(&self, module: &str) -> bool {
        self.tables.iter().any(|t| t.module == module)
    }
}
