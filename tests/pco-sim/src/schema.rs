//! The routing table: which resources are served, where, with which attributes and relations.
//!
//! The table is data (`schema/pco.json`, regenerated from Planning Center's documented API by
//! `scripts/extract-schema.py`), so adding an entity is one entry there plus, optionally, a
//! hand-tuned value generator in [`crate::generate`]. [`Schema::from_json`] accepts the same
//! shape from any source, so the table can later be populated from the codegen IR.

use serde::Deserialize;
use std::collections::HashMap;

/// The schema embedded in the crate (People, Groups, Calendar and Webhooks subsets).
pub const EMBEDDED_SCHEMA: &str = include_str!("../schema/pco.json");

/// Declared type of an attribute, from the documentation's `ClrType`.
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

impl AttrType {
    /// Map a documented `ClrType` to an attribute type (unknown structured types become objects).
    pub fn from_clr(clr: &str) -> Self {
        match clr {
            "string" => Self::String,
            "bool" => Self::Bool,
            "int" | "long" => Self::Int,
            "decimal" | "double" | "float" => Self::Decimal,
            "System.DateTime" => Self::DateTime,
            "System.DateOnly" => Self::Date,
            "System.Text.Json.Nodes.JsonArray" => Self::Array,
            _ => Self::Object,
        }
    }
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
    /// Attributes in rendering order.
    pub attributes: Vec<(String, AttrType)>,
    /// Documented `CanInclude`.
    pub can_include: Vec<String>,
    /// Documented `CanOrderBy`.
    pub can_order_by: Vec<String>,
    /// Documented `CanQueryBy` with the declared parameter type.
    pub can_query_by: Vec<(String, AttrType)>,
    /// Documented list filters.
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

#[derive(Deserialize)]
struct RawSchema {
    organization: HashMap<String, Vec<(String, String)>>,
    tables: Vec<RawTable>,
}

#[derive(Deserialize)]
struct RawTable {
    name: String,
    module: String,
    #[serde(rename = "type")]
    wire_type: String,
    collection: Option<String>,
    attributes: Vec<(String, String)>,
    can_include: Vec<String>,
    can_order_by: Vec<String>,
    can_query_by: Vec<(String, String)>,
    can_filter: Vec<String>,
    relations: Vec<RawRelation>,
}

#[derive(Deserialize)]
struct RawRelation {
    name: String,
    kind: String,
    target: String,
    via: Option<String>,
    join: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    default: bool,
}

/// A schema that does not describe a consistent routing table.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The JSON is not in the expected shape.
    #[error("schema JSON: {0}")]
    Json(#[from] serde_json::Error),
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

impl Schema {
    /// The embedded schema.
    pub fn embedded() -> Self {
        Self::from_json(EMBEDDED_SCHEMA).expect("embedded schema is valid")
    }

    /// Parse and validate a schema in the `schema/pco.json` shape.
    pub fn from_json(text: &str) -> Result<Self, SchemaError> {
        let raw: RawSchema = serde_json::from_str(text)?;
        let conv = |v: Vec<(String, String)>| {
            v.into_iter()
                .map(|(n, t)| {
                    let ty = AttrType::from_clr(&t);
                    (n, ty)
                })
                .collect::<Vec<_>>()
        };
        let mut tables = Vec::new();
        for t in raw.tables {
            let mut slot = 0;
            let mut relations = Vec::new();
            for r in t.relations {
                let err = |p: &str| SchemaError::Relation {
                    table: t.name.clone(),
                    relation: r.name.clone(),
                    problem: p.to_string(),
                };
                let kind = match r.kind.as_str() {
                    "one" => {
                        slot += 1;
                        RelKind::One { slot: slot - 1 }
                    }
                    "many" => RelKind::Many {
                        via: r.via.clone().ok_or_else(|| err("many without via"))?,
                    },
                    "through" => RelKind::Through {
                        join: r.join.clone().ok_or_else(|| err("through without join"))?,
                        from: r.from.clone().ok_or_else(|| err("through without from"))?,
                        to: r.to.clone().ok_or_else(|| err("through without to"))?,
                    },
                    "org" => RelKind::Org,
                    other => return Err(err(&format!("unknown kind {other}"))),
                };
                relations.push(Relation {
                    name: r.name,
                    target: r.target,
                    kind,
                    default: r.default,
                });
            }
            let attributes = conv(t.attributes);
            let attr_index = attributes
                .iter()
                .enumerate()
                .map(|(i, (n, _))| (n.clone(), i))
                .collect();
            tables.push(TableSchema {
                name: t.name,
                module: t.module,
                wire_type: t.wire_type,
                collection: t.collection,
                attributes,
                can_include: t.can_include,
                can_order_by: t.can_order_by,
                can_query_by: conv(t.can_query_by),
                can_filter: t.can_filter,
                relations,
                attr_index,
            });
        }
        let by_name = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        let schema = Schema {
            tables,
            organization: raw
                .organization
                .into_iter()
                .map(|(k, v)| (k, conv(v)))
                .collect(),
            by_name,
        };
        schema.validate()?;
        Ok(schema)
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
        self.tables
            .iter()
            .position(|t| t.module == module && t.collection.as_deref() == Some(collection))
    }

    /// Whether any table is served under the module.
    pub fn has_module(&self, module: &str) -> bool {
        self.tables.iter().any(|t| t.module == module)
    }
}
