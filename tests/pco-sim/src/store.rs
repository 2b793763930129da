//! The generic resource store: the simulated organisation and the ground truth tests compare with.
//!
//! Each table holds compact records (id, attribute values aligned to the schema, to-one foreign
//! keys) sorted by id, plus a reverse index per to-one relation so nested paths, to-many
//! relationships and includes resolve without scans.

use crate::schema::{RelKind, Schema, TableSchema};
use crate::value::Val;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// One stored resource.
#[derive(Debug, Clone)]
pub struct Record {
    /// Numeric id (rendered as a string on the wire).
    pub id: u64,
    /// Attribute values aligned to [`TableSchema::attributes`].
    pub attrs: Box<[Val]>,
    /// To-one foreign keys aligned to the relation slots of the table.
    pub links: Box<[Option<u64>]>,
}

impl Record {
    /// An attribute by name.
    pub fn get<'a>(&'a self, schema: &TableSchema, name: &str) -> Option<&'a Val> {
        schema.attr(name).map(|i| &self.attrs[i])
    }
}

/// One table of records.
#[derive(Debug)]
pub struct Table {
    /// The table's schema.
    pub schema: Arc<TableSchema>,
    records: Vec<Record>,
    next_id: u64,
    reverse: Vec<HashMap<u64, Vec<u64>>>,
    /// Record positions sorted by an attribute (ascending, ties by id), built on first use
    /// and dropped by any change: `order=created_at` on every page would otherwise sort the
    /// whole table per request, which dominated the simulator's CPU at 50,000 people.
    sorted: std::sync::Mutex<HashMap<usize, Arc<Vec<u32>>>>,
}

impl Table {
    fn new(schema: TableSchema, first_id: u64) -> Self {
        let slots = schema.slot_count();
        Table {
            schema: Arc::new(schema),
            records: Vec::new(),
            next_id: first_id,
            reverse: vec![HashMap::new(); slots],
            sorted: Default::default(),
        }
    }

    /// Positions into [`Table::records`] in ascending order of attribute `attr`, ties by id.
    pub fn sorted_by(&self, attr: usize) -> Arc<Vec<u32>> {
        let mut cache = self.sorted.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(attr)
            .or_insert_with(|| {
                let mut pos: Vec<u32> = (0..self.records.len() as u32).collect();
                // Stable: records are in id order, so ties stay ordered by id.
                pos.sort_by(|&a, &b| {
                    self.records[a as usize].attrs[attr]
                        .compare(&self.records[b as usize].attrs[attr])
                });
                Arc::new(pos)
            })
            .clone()
    }

    fn changed(&mut self) {
        self.sorted
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Reassigns generated `created_at` values so they rise with the id, moving each record's
    /// `updated_at` by the same amount. Planning Center numbers records as it creates them
    /// (recorded responses: ids ascending with `created_at`), so a list ordered by
    /// `created_at` comes in id order; independent random timestamps made the two orders
    /// unrelated, which no real account shows.
    fn order_creation(&mut self) {
        let (Some(c), u) = (
            self.schema.attr("created_at"),
            self.schema.attr("updated_at"),
        ) else {
            return;
        };
        let mut created: Vec<i64> = self
            .records
            .iter()
            .filter_map(|r| match r.attrs[c] {
                Val::Ts(t) => Some(t),
                _ => None,
            })
            .collect();
        created.sort_unstable();
        let mut sorted = created.into_iter();
        for r in &mut self.records {
            let Val::Ts(old) = r.attrs[c] else { continue };
            let Some(new) = sorted.next() else { break };
            r.attrs[c] = Val::Ts(new);
            if let Some(u) = u
                && let Val::Ts(t) = r.attrs[u]
            {
                r.attrs[u] = Val::Ts(t + (new - old));
            }
        }
        self.changed();
    }

    /// All records, in id order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// A record by id.
    pub fn get(&self, id: u64) -> Option<&Record> {
        self.records
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .map(|i| &self.records[i])
    }

    /// Ids of the records whose to-one slot points at `target` (in id order).
    pub fn referencing(&self, slot: usize, target: u64) -> &[u64] {
        self.reverse[slot]
            .get(&target)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    fn index(&mut self, rec: &Record) {
        for (slot, fk) in rec.links.iter().enumerate() {
            if let Some(fk) = fk {
                let ids = self.reverse[slot].entry(*fk).or_default();
                match ids.binary_search(&rec.id) {
                    Ok(_) => {}
                    Err(pos) => ids.insert(pos, rec.id),
                }
            }
        }
    }

    fn unindex(&mut self, rec: &Record) {
        for (slot, fk) in rec.links.iter().enumerate() {
            if let Some(fk) = fk
                && let Some(ids) = self.reverse[slot].get_mut(fk)
            {
                ids.retain(|i| *i != rec.id);
                if ids.is_empty() {
                    self.reverse[slot].remove(fk);
                }
            }
        }
    }
}

/// A change applied to the organisation (drives webhooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Table name.
    pub table: String,
    /// Record id.
    pub id: u64,
    /// `created`, `updated` or `destroyed`.
    pub action: &'static str,
}

/// A write that could not be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// Unknown table.
    #[error("unknown resource type {0}")]
    UnknownTable(String),
    /// Unknown record.
    #[error("{0} {1} not found")]
    NotFound(String, u64),
    /// Bad attribute or relation in the write.
    #[error("{0}")]
    Invalid(String),
}

/// The simulated organisation: every table plus the organisation singleton.
#[derive(Debug)]
pub struct Org {
    /// The routing table it was built from.
    pub schema: Arc<Schema>,
    /// Organisation id.
    pub org_id: u64,
    /// Organisation attributes per module (already JSON).
    pub org_attrs: HashMap<String, Map<String, Value>>,
    tables: Vec<Table>,
}

impl Org {
    /// Makes every table's `created_at` rise with its ids, as in a real account (see
    /// [`Table::order_creation`]). The generator calls it once, after generating.
    pub(crate) fn order_creation(&mut self) {
        for t in &mut self.tables {
            t.order_creation();
        }
    }

    /// An empty organisation for the schema.
    pub fn new(schema: Arc<Schema>, org_id: u64) -> Self {
        let tables = schema
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| Table::new(t.clone(), (i as u64 + 1) * 10_000_000 + 1))
            .collect();
        Org {
            schema,
            org_id,
            org_attrs: HashMap::new(),
            tables,
        }
    }

    /// A table by name.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.schema.index(name).map(|i| &self.tables[i])
    }

    /// A table by index.
    pub fn table_at(&self, i: usize) -> &Table {
        &self.tables[i]
    }

    /// Number of records of a table (0 for unknown tables).
    pub fn count(&self, table: &str) -> usize {
        self.table(table).map_or(0, |t| t.records.len())
    }

    /// Iterate the records of a table in id order.
    pub fn records(&self, table: &str) -> impl Iterator<Item = &Record> {
        self.table(table).into_iter().flat_map(|t| t.records.iter())
    }

    /// Ids reachable over a relation from a record (to-one gives at most one id).
    pub fn related(&self, table: usize, rec: &Record, rel: &str) -> Vec<u64> {
        let schema = &self.tables[table].schema;
        let Some(r) = schema.relation(rel) else {
            return Vec::new();
        };
        match &r.kind {
            RelKind::One { slot } => rec.links[*slot].into_iter().collect(),
            RelKind::Org => vec![self.org_id],
            RelKind::Many { via } => {
                let t = self.table(&r.target).expect("validated");
                let slot = t.schema.slot(via).expect("validated");
                t.referencing(slot, rec.id).to_vec()
            }
            RelKind::Sampled => {
                let t = self.table(&r.target).expect("validated");
                t.records
                    .iter()
                    .filter(|x| sampled(rec.id, x.id))
                    .map(|x| x.id)
                    .collect()
            }
            RelKind::Through { join, from, to } => {
                let j = self.table(join).expect("validated");
                let (fs, ts) = (j.schema.slot(from).unwrap(), j.schema.slot(to).unwrap());
                let mut out: Vec<u64> = j
                    .referencing(fs, rec.id)
                    .iter()
                    .filter_map(|jid| j.get(*jid).and_then(|jr| jr.links[ts]))
                    .collect();
                out.sort_unstable();
                out.dedup();
                out
            }
        }
    }

    /// Insert a record built by the generator or a write; returns its id.
    pub fn insert(&mut self, table: &str, attrs: Vec<Val>, links: Vec<Option<u64>>) -> u64 {
        let ti = self.schema.index(table).expect("known table");
        let t = &mut self.tables[ti];
        t.changed();
        debug_assert_eq!(attrs.len(), t.schema.attributes.len());
        let id = t.next_id;
        t.next_id += 1;
        let rec = Record {
            id,
            attrs: attrs.into_boxed_slice(),
            links: links.into_boxed_slice(),
        };
        t.index(&rec);
        t.records.push(rec);
        id
    }

    /// Set a to-one link of a record (generation; no timestamps change).
    pub fn set_link(&mut self, table: &str, id: u64, slot: usize, to: Option<u64>) {
        let Some(ti) = self.schema.index(table) else {
            return;
        };
        let t = &mut self.tables[ti];
        t.changed();
        let Ok(pos) = t.records.binary_search_by_key(&id, |r| r.id) else {
            return;
        };
        let mut rec = t.records[pos].clone();
        rec.links[slot] = to;
        let old = std::mem::replace(&mut t.records[pos], rec.clone());
        t.unindex(&old);
        t.index(&rec);
    }

    /// Apply JSON attribute and relation changes to a record; bumps `updated_at` to `now`.
    pub fn update(
        &mut self,
        table: &str,
        id: u64,
        attrs: &Map<String, Value>,
        rels: &HashMap<String, Option<u64>>,
        now: i64,
    ) -> Result<Change, StoreError> {
        let ti = self
            .schema
            .index(table)
            .ok_or_else(|| StoreError::UnknownTable(table.into()))?;
        let t = &mut self.tables[ti];
        t.changed();
        let schema = t.schema.clone();
        let pos = t
            .records
            .binary_search_by_key(&id, |r| r.id)
            .map_err(|_| StoreError::NotFound(table.into(), id))?;
        let mut rec = t.records[pos].clone();
        for (k, v) in attrs {
            let i = schema
                .attr(k)
                .ok_or_else(|| StoreError::Invalid(format!("unknown attribute {k}")))?;
            rec.attrs[i] = Val::from_json(v, schema.attributes[i].1)
                .map_err(|e| StoreError::Invalid(format!("{k}: {e}")))?;
        }
        for (k, v) in rels {
            let slot = schema
                .slot(k)
                .ok_or_else(|| StoreError::Invalid(format!("unknown relation {k}")))?;
            rec.links[slot] = *v;
        }
        if let Some(i) = schema.attr("updated_at") {
            rec.attrs[i] = Val::Ts(now);
        }
        let old = std::mem::replace(&mut t.records[pos], rec.clone());
        t.unindex(&old);
        t.index(&rec);
        Ok(Change {
            table: table.into(),
            id,
            action: "updated",
        })
    }

    /// Delete a record; it vanishes from lists, nested paths and includes.
    pub fn delete(&mut self, table: &str, id: u64) -> Result<Change, StoreError> {
        let ti = self
            .schema
            .index(table)
            .ok_or_else(|| StoreError::UnknownTable(table.into()))?;
        let t = &mut self.tables[ti];
        t.changed();
        let pos = t
            .records
            .binary_search_by_key(&id, |r| r.id)
            .map_err(|_| StoreError::NotFound(table.into(), id))?;
        let old = t.records.remove(pos);
        t.unindex(&old);
        Ok(Change {
            table: table.into(),
            id,
            action: "destroyed",
        })
    }

    /// Create a record from JSON attributes (unspecified ones null, timestamps `now`).
    pub fn create(
        &mut self,
        table: &str,
        attrs: &Map<String, Value>,
        rels: &HashMap<String, Option<u64>>,
        now: i64,
    ) -> Result<Change, StoreError> {
        let schema = self
            .table(table)
            .ok_or_else(|| StoreError::UnknownTable(table.into()))?
            .schema
            .clone();
        let mut vals = vec![Val::Null; schema.attributes.len()];
        for ts in ["created_at", "updated_at"] {
            if let Some(i) = schema.attr(ts) {
                vals[i] = Val::Ts(now);
            }
        }
        for (k, v) in attrs {
            let i = schema
                .attr(k)
                .ok_or_else(|| StoreError::Invalid(format!("unknown attribute {k}")))?;
            vals[i] = Val::from_json(v, schema.attributes[i].1)
                .map_err(|e| StoreError::Invalid(format!("{k}: {e}")))?;
        }
        let mut links = vec![None; schema.slot_count()];
        for (k, v) in rels {
            let slot = schema
                .slot(k)
                .ok_or_else(|| StoreError::Invalid(format!("unknown relation {k}")))?;
            links[slot] = *v;
        }
        let id = self.insert(table, vals, links);
        Ok(Change {
            table: table.into(),
            id,
            action: "created",
        })
    }

    /// Count of every table, for ground-truth endpoints.
    pub fn counts(&self) -> Vec<(String, usize)> {
        self.tables
            .iter()
            .map(|t| (t.schema.name.clone(), t.records.len()))
            .collect()
    }
}

/// Whether `target` belongs to the sampled to-many relation of `owner` (about one in eight,
/// the same answer every time).
fn sampled(owner: u64, target: u64) -> bool {
    let mut x = owner.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ target;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    x.is_multiple_of(8)
}
