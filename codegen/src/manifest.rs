//! The adapter manifest (`manifest.yaml`): what OpenAPI cannot say.
//!
//! Unknown keys are errors, so a typo never silently drops a setting.

use indexmap::IndexMap;
use serde::Deserialize;

/// The whole manifest of one adapter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// The adapter's name, e.g. `pco`.
    pub adapter: String,
    /// The API's base URL.
    pub base_url: String,
    /// The wire protocol; only `jsonapi` is supported.
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// Supported authentication kinds.
    #[serde(default)]
    pub auth: Vec<AuthKind>,
    /// Paging conventions.
    pub paging: PagingSpec,
    /// Delta filter template with `{attr}`, e.g. `where[{attr}][gte]`.
    #[serde(default)]
    pub delta_filter: Option<String>,
    /// OpenAPI documents, relative to the manifest.
    pub openapi: Vec<String>,
    /// Entities by name, in sync-relevant order.
    pub entities: IndexMap<String, EntitySpec>,
}

fn default_protocol() -> String {
    "jsonapi".into()
}

/// Authentication kinds an adapter supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// HTTP Basic with an application id and secret.
    PersonalAccessToken,
    /// OAuth 2 bearer tokens with refresh.
    Oauth2,
}

/// Paging conventions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagingSpec {
    /// Only `offset` is supported.
    pub style: String,
    /// Query parameter of the page size.
    #[serde(default = "per_page")]
    pub per_page_param: String,
    /// Query parameter of the offset.
    #[serde(default = "offset")]
    pub offset_param: String,
    /// Page size when none is given.
    pub default_per_page: u32,
    /// Largest page size accepted.
    pub max_per_page: u32,
}

fn per_page() -> String {
    "per_page".into()
}
fn offset() -> String {
    "offset".into()
}

/// How a relationship orders the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DependencyKind {
    /// Target first; cycles are build errors.
    Hard,
    /// Target first when it does not block.
    Soft,
    /// Recorded, not ordering.
    Ignore,
}

/// A relationship classification: `hard`, or `{ dependency: hard, target: GroupEvent }` where the
/// JSON:API type alone is ambiguous.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RelationshipSpec {
    /// Just the dependency kind.
    Kind(DependencyKind),
    /// The kind plus an explicit target entity.
    Full {
        /// How it orders the sync.
        dependency: DependencyKind,
        /// The target entity's name in this manifest.
        target: String,
    },
}

impl RelationshipSpec {
    /// The dependency kind.
    pub fn kind(&self) -> DependencyKind {
        match self {
            RelationshipSpec::Kind(k) | RelationshipSpec::Full { dependency: k, .. } => *k,
        }
    }
}

/// One entity of the manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitySpec {
    /// The resource schema in `components.schemas` (defaults to the entity name).
    #[serde(default)]
    pub schema: Option<String>,
    /// operationId of the top-level list.
    #[serde(default)]
    pub list: Option<String>,
    /// operationId of the single-resource GET.
    #[serde(default)]
    pub get: Option<String>,
    /// operationId of a list nested under a parent.
    #[serde(default)]
    pub nested: Option<String>,
    /// Relationships side-loaded (`include=`) during sync.
    #[serde(default)]
    pub include: Vec<String>,
    /// Classification of every discovered relationship.
    #[serde(default)]
    pub relationships: IndexMap<String, RelationshipSpec>,
    /// Mapping onto the canonical model.
    #[serde(default)]
    pub canonical: Option<CanonicalSpec>,
    /// Webhook event names announcing changes.
    #[serde(default)]
    pub webhooks: Vec<String>,
    /// Attributes holding secrets: generated as `Redacted<T>`, hidden from `Debug`.
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// A value transform (see `tributary_core::Transform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransformKind {
    /// Unchanged.
    #[default]
    Copy,
    /// Trim white space.
    Trim,
    /// Trim and lower-case.
    Lowercase,
    /// `male` / `female` / `other`.
    Gender,
    /// `YYYY-MM-DD`.
    Date,
}

/// A field mapping: `name` or `{ to: name, transform: trim }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FieldSpec {
    /// Copy into this canonical field.
    To(String),
    /// Into a field with a transform.
    Full {
        /// Canonical field.
        to: String,
        /// Transform.
        #[serde(default)]
        transform: TransformKind,
    },
}

/// An edge mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSpec {
    /// The canonical edge type.
    pub edge: String,
}

/// Mapping of an entity onto the canonical model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanonicalSpec {
    /// Canonical entity.
    pub target: String,
    /// Owning relationship.
    #[serde(default)]
    pub owner: Option<String>,
    /// Attribute → canonical field.
    #[serde(default)]
    pub fields: IndexMap<String, FieldSpec>,
    /// Relationship → edge.
    #[serde(default)]
    pub edges: IndexMap<String, EdgeSpec>,
    /// Attributes left out of `custom_fields`.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Remote modification time attribute.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Path of a hand-written hook `fn(&RawResource, &mut CanonicalRecord) -> Result<(), String>`.
    #[serde(default)]
    pub hook: Option<String>,
}
