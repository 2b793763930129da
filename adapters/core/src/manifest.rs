//! An adapter's manifest: its entities and the order they sync in.

use crate::entity::EntityDef;
use crate::jsonapi::RawResource;

/// Checks a raw resource of the named entity against its typed schema, saying what is wrong.
pub type Validator = fn(entity: &str, resource: &RawResource) -> Result<(), String>;

/// How an API pages its collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Query parameter holding the page size (`per_page`).
    pub per_page_param: &'static str,
    /// Query parameter holding the offset (`offset`).
    pub offset_param: &'static str,
    /// Largest page size the API accepts.
    pub max_per_page: u32,
    /// Page size the API uses when none is given.
    pub default_per_page: u32,
}

/// Everything the engine needs to know about an adapter, fixed at compile time.
#[derive(Debug, Clone, Copy)]
pub struct Manifest {
    /// The adapter's name, e.g. `pco`.
    pub adapter: &'static str,
    /// The API's base URL.
    pub base_url: &'static str,
    /// The entities, in manifest order.
    pub entities: &'static [EntityDef],
    /// Topological levels: every entity of a level may sync once the earlier levels are done.
    pub sync_order: &'static [&'static [&'static str]],
    /// Paging conventions.
    pub paging: Paging,
    /// Filter template for delta syncs, with `{attr}` for the timestamp attribute,
    /// e.g. `where[{attr}][gte]`.
    pub delta_filter: Option<&'static str>,
    /// Decodes a raw resource into its typed entity; a record that fails is quarantined.
    pub validate: Validator,
}

impl Manifest {
    /// The entity with this name.
    pub fn entity(&self, name: &str) -> Option<&'static EntityDef> {
        self.entities.iter().find(|e| e.name == name)
    }

    /// The level an entity syncs in.
    pub fn level_of(&self, name: &str) -> Option<usize> {
        self.sync_order.iter().position(|l| l.contains(&name))
    }
}
