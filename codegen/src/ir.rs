//! The resolved model of an adapter: what the emitters turn into Rust.
//!
//! Names here are already Rust-safe (see [`crate::naming`]); JSON names are kept beside them
//! for serde renames.

use std::path::PathBuf;

pub use crate::manifest::{DependencyKind, TransformKind};

/// A whole adapter.
#[derive(Debug, Clone)]
pub struct Adapter {
    /// The adapter's name.
    pub name: String,
    /// The manifest file (for messages).
    pub manifest_path: PathBuf,
    /// The API's base URL.
    pub base_url: String,
    /// Paging conventions.
    pub paging: Paging,
    /// Delta filter template.
    pub delta_filter: Option<String>,
    /// Entities, in manifest order.
    pub entities: Vec<Entity>,
    /// Named types (enums, unions, nested objects) the attributes refer to.
    pub types: Vec<NamedType>,
    /// GET operations returning entity documents.
    pub operations: Vec<Operation>,
    /// Topological levels of entity names.
    pub sync_order: Vec<Vec<String>>,
    /// Soft cycles that were broken, for warnings.
    pub broken_soft_edges: Vec<(String, String)>,
}

/// Paging conventions.
#[derive(Debug, Clone)]
pub struct Paging {
    /// `per_page` parameter.
    pub per_page_param: String,
    /// `offset` parameter.
    pub offset_param: String,
    /// Default page size.
    pub default_per_page: u32,
    /// Largest page size.
    pub max_per_page: u32,
}

/// One entity.
#[derive(Debug, Clone)]
pub struct Entity {
    /// Unique name in the manifest; also the Rust type name.
    pub name: String,
    /// JSON:API type name.
    pub json_type: String,
    /// Documentation from the schema description.
    pub doc: String,
    /// Attributes.
    pub attributes: Vec<Field>,
    /// Relationships.
    pub relationships: Vec<Relationship>,
    /// Relationships side-loaded during sync.
    pub include: Vec<String>,
    /// `order=` attributes accepted.
    pub order_by: Vec<String>,
    /// `where[...]` attributes accepted.
    pub query_by: Vec<String>,
    /// operationIds by role.
    pub list: Option<String>,
    /// Single GET.
    pub get: Option<String>,
    /// Nested list.
    pub nested: Option<String>,
    /// Canonical mapping.
    pub canonical: Option<Mapping>,
    /// Webhook events.
    pub webhooks: Vec<String>,
}

/// An attribute (or a nested object's property).
#[derive(Debug, Clone)]
pub struct Field {
    /// The JSON name.
    pub json_name: String,
    /// The Rust field name (raw identifiers spelled `r#type`).
    pub rust_name: String,
    /// Documentation.
    pub doc: Option<String>,
    /// The type.
    pub ty: Type,
    /// Whether `null` or absence is allowed.
    pub optional: bool,
    /// Whether the value is a secret (hidden from `Debug`).
    pub secret: bool,
}

/// An attribute type.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `String`.
    String,
    /// RFC 3339 timestamp.
    DateTime,
    /// `YYYY-MM-DD`.
    Date,
    /// `i64`.
    Integer,
    /// `f64`.
    Number,
    /// `bool`.
    Boolean,
    /// Any JSON.
    Json,
    /// An array.
    Array(Box<Type>),
    /// A named type of [`Adapter::types`].
    Named(String),
}

/// A generated named type.
#[derive(Debug, Clone)]
pub struct NamedType {
    /// Rust name.
    pub name: String,
    /// Documentation.
    pub doc: Option<String>,
    /// What it is.
    pub kind: NamedKind,
}

/// The kinds of named types.
#[derive(Debug, Clone)]
pub enum NamedKind {
    /// A string enum with an `Unknown(String)` fallback: (JSON value, Rust variant).
    Enum(Vec<(String, String)>),
    /// `oneOf`/`anyOf`: an untagged union of (Rust variant, type).
    Union(Vec<(String, Type)>),
    /// An object with properties (also `allOf`, merged).
    Object(Vec<Field>),
}

/// A relationship, discovered from the schema and classified by the manifest.
#[derive(Debug, Clone)]
pub struct Relationship {
    /// JSON name.
    pub json_name: String,
    /// Rust field name.
    pub rust_name: String,
    /// JSON:API type of the target.
    pub target_type: String,
    /// Target entity name, if the target is an entity of this manifest.
    pub target_entity: Option<String>,
    /// To-many?
    pub to_many: bool,
    /// Classification.
    pub dependency: DependencyKind,
}

/// The role of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    /// Top-level list.
    List,
    /// List nested under a parent.
    NestedList,
    /// Single resource.
    Get,
}

/// A GET operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// operationId.
    pub id: String,
    /// Rust type name of its builder.
    pub builder: String,
    /// Summary.
    pub doc: Option<String>,
    /// Path template.
    pub path: String,
    /// Path parameters, in order: (JSON name, Rust name).
    pub path_params: Vec<(String, String)>,
    /// The entity returned.
    pub entity: String,
    /// The role.
    pub kind: OperationKind,
    /// Parent entity for nested lists.
    pub parent: Option<String>,
    /// `include=` values accepted.
    pub includes: Vec<String>,
    /// `order=` attributes accepted.
    pub order_by: Vec<String>,
    /// `where[...]` filters accepted: (attribute, type).
    pub filters: Vec<(String, Type)>,
    /// Largest `per_page`.
    pub max_per_page: Option<u32>,
}

/// A canonical mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Canonical entity.
    pub target: String,
    /// (attribute, canonical field, transform).
    pub fields: Vec<(String, String, TransformKind)>,
    /// Owner relationship → (relationship, target entity).
    pub owner: Option<(String, String)>,
    /// (relationship, target entity, edge).
    pub edges: Vec<(String, String, String)>,
    /// Ignored attributes.
    pub ignore: Vec<String>,
    /// `updated_at` attribute.
    pub updated_at: Option<String>,
    /// Hook path.
    pub hook: Option<String>,
}
