//! The canonical model spec as data: loading and checking `specs/canonical.yaml`.

use indexmap::IndexMap;
use serde::Deserialize;

use super::CanonicalError;

/// The type of a column, independent of the SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// A string.
    Text,
    /// A 64-bit integer.
    Integer,
    /// A floating-point number.
    Decimal,
    /// `true` / `false`.
    Boolean,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// An instant, RFC 3339.
    Timestamp,
    /// Any JSON value.
    Json,
}

impl ColumnType {
    /// The variant name used in generated Rust.
    pub fn variant(self) -> &'static str {
        match self {
            ColumnType::Text => "Text",
            ColumnType::Integer => "Integer",
            ColumnType::Decimal => "Decimal",
            ColumnType::Boolean => "Boolean",
            ColumnType::Date => "Date",
            ColumnType::Timestamp => "Timestamp",
            ColumnType::Json => "Json",
        }
    }
}

/// A column of a system table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Its type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether it may hold NULL (default true).
    #[serde(default = "yes", rename = "null")]
    pub nullable: bool,
    /// A SQL default expression, valid in both dialects.
    #[serde(default)]
    pub default: Option<String>,
}

fn yes() -> bool {
    true
}

/// A canonical entity: a table with the common columns plus its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// The table name, e.g. `people`.
    pub table: String,
    /// The id prefix, e.g. `person` for `person_…`.
    pub prefix: String,
    /// One line of documentation.
    pub doc: String,
    /// Entity-specific fields, all nullable.
    #[serde(default)]
    pub fields: IndexMap<String, ColumnType>,
    /// To-one relationships to other canonical rows, by name (`primary_campus`) with the
    /// target entity (`campus`): each is a nullable column `<name>_id` holding the target's
    /// canonical id, after the fields, and the `relationships` view shows it. An adapter's
    /// edge of that name lands there instead of in `edges`.
    #[serde(default)]
    pub refs: IndexMap<String, String>,
}

impl Entity {
    /// The entity's own columns in table order: its fields, then one per ref.
    pub fn columns(&self) -> impl Iterator<Item = (String, ColumnType)> + '_ {
        let fields = self.fields.iter().map(|(f, t)| (f.clone(), *t));
        fields.chain(self.refs.keys().map(|r| (ref_column(r), ColumnType::Text)))
    }
}

/// The column holding the to-one relationship `relationship` (`primary_campus_id`).
pub fn ref_column(relationship: &str) -> String {
    format!("{relationship}_id")
}

/// A bookkeeping table declared column by column.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemTable {
    /// Documentation.
    pub doc: String,
    /// Columns in order.
    pub columns: IndexMap<String, Column>,
    /// Primary key columns.
    pub primary_key: Vec<String>,
    /// Unique constraints.
    #[serde(default)]
    pub unique: Vec<Vec<String>>,
    /// Secondary indexes.
    #[serde(default)]
    pub indexes: Vec<Vec<String>>,
}

/// The whole canonical spec.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Spec format version.
    pub version: u32,
    /// Canonical entities by name (`person`, …).
    pub entities: IndexMap<String, Entity>,
    /// Bookkeeping tables by name.
    pub system: IndexMap<String, SystemTable>,
}

/// The columns every entity table has, before its own fields.
pub const COMMON_COLUMNS: &[(&str, ColumnType, bool)] = &[
    ("id", ColumnType::Text, false),
    ("org_id", ColumnType::Text, false),
    ("owner_id", ColumnType::Text, true),
    ("created_at", ColumnType::Timestamp, false),
    ("updated_at", ColumnType::Timestamp, false),
    ("deleted_at", ColumnType::Timestamp, true),
    ("status", ColumnType::Text, false),
    ("tags", ColumnType::Json, false),
    ("custom_fields", ColumnType::Json, false),
];

/// The default of a common column, as text (SQL quotes it): what a row that does not name the
/// column holds. The engine's `COPY` leaves a column out when every row holds its default.
pub fn common_default(column: &str) -> Option<&'static str> {
    match column {
        "tags" => Some("[]"),
        "custom_fields" => Some("{}"),
        "status" => Some("active"),
        _ => None,
    }
}

/// The columns every entity table ends with, after its own fields: where the row came from
/// (the adapter's entity and remote id) and the sync bookkeeping of that remote record. They
/// were a table of their own (`external_links`, now a view over these), one more row and
/// one more key per record, a quarter of what a first sync wrote. Nullable: a row need not
/// come from an adapter.
pub const LINK_COLUMNS: &[(&str, ColumnType, bool)] = &[
    ("source_adapter", ColumnType::Text, true),
    ("source_entity", ColumnType::Text, true),
    ("external_id", ColumnType::Text, true),
    ("content_hash", ColumnType::Text, true),
    ("remote_updated_at", ColumnType::Text, true),
    ("first_seen_ms", ColumnType::Integer, true),
    ("last_seen_ms", ColumnType::Integer, true),
    ("last_run_id", ColumnType::Text, true),
];

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Spec {
    /// Parses and checks a spec, reporting every problem at once.
    pub fn parse(yaml: &str) -> Result<Spec, CanonicalError> {
        let spec: Spec =
            serde_norway::from_str(yaml).map_err(|e| CanonicalError::Parse(e.to_string()))?;
        let mut problems = Vec::new();
        let mut prefixes = std::collections::HashSet::new();
        let mut tables = std::collections::HashSet::new();
        for (name, e) in &spec.entities {
            for (what, s) in [("entity", name), ("table", &e.table), ("prefix", &e.prefix)] {
                if !is_ident(s) {
                    problems.push(format!("entities.{name}: {what} `{s}` is not snake_case"));
                }
            }
            if !prefixes.insert(e.prefix.clone()) {
                problems.push(format!(
                    "entities.{name}: prefix `{}` is used twice",
                    e.prefix
                ));
            }
            if !tables.insert(e.table.clone()) {
                problems.push(format!(
                    "entities.{name}: table `{}` is used twice",
                    e.table
                ));
            }
            for (rel, target) in &e.refs {
                let column = ref_column(rel);
                if !is_ident(rel) {
                    problems.push(format!("entities.{name}.refs.{rel}: not snake_case"));
                }
                if !spec.entities.contains_key(target) {
                    problems.push(format!(
                        "entities.{name}.refs.{rel}: no canonical entity `{target}`"
                    ));
                }
                if e.fields.contains_key(&column) {
                    problems.push(format!(
                        "entities.{name}.refs.{rel}: its column `{column}` is also a field"
                    ));
                }
                let taken = COMMON_COLUMNS.iter().chain(LINK_COLUMNS);
                if taken.into_iter().any(|(c, _, _)| *c == column) {
                    problems.push(format!(
                        "entities.{name}.refs.{rel}: its column `{column}` is a common or link column"
                    ));
                }
                if spec
                    .entities
                    .keys()
                    .any(|other| super::owner_relationship(other) == *rel)
                {
                    problems.push(format!(
                        "entities.{name}.refs.{rel}: the name of an owner relationship"
                    ));
                }
            }
            for field in e.fields.keys() {
                if !is_ident(field) {
                    problems.push(format!("entities.{name}.fields.{field}: not snake_case"));
                }
                if COMMON_COLUMNS.iter().any(|(c, _, _)| c == field) {
                    problems.push(format!(
                        "entities.{name}.fields.{field}: repeats a common column"
                    ));
                }
                if LINK_COLUMNS.iter().any(|(c, _, _)| c == field) {
                    problems.push(format!(
                        "entities.{name}.fields.{field}: repeats a link column"
                    ));
                }
            }
        }
        for (name, t) in &spec.system {
            if !is_ident(name) || !tables.insert(name.clone()) {
                problems.push(format!("system.{name}: bad or duplicate table name"));
            }
            let known = |c: &String| t.columns.contains_key(c);
            let groups = std::iter::once(&t.primary_key)
                .chain(&t.unique)
                .chain(&t.indexes);
            for cols in groups {
                if cols.is_empty() {
                    problems.push(format!("system.{name}: empty key or index"));
                }
                for c in cols.iter().filter(|c| !known(c)) {
                    problems.push(format!("system.{name}: unknown column `{c}` in a key"));
                }
            }
        }
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(CanonicalError::Invalid(problems))
        }
    }
}
