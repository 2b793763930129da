//! Declarative mapping of an adapter's records onto the canonical model.
//!
//! The generator compiles each entity's `canonical:` section of the manifest into a
//! [`CanonicalMapping`]; [`CanonicalMapping::apply`] turns one raw resource into a
//! [`CanonicalRecord`] the engine stores. Where a declaration cannot say it, a hand-written
//! [`CanonicalMapping::hook`] finishes the record.

use serde_json::{Map, Value};

use crate::jsonapi::RawResource;

/// A value normalisation applied while copying an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Copy the value unchanged.
    Copy,
    /// Trim surrounding white space from strings; an empty string becomes `null`.
    Trim,
    /// Lower-case and trim strings (emails).
    Lowercase,
    /// Normalise a gender to `male`, `female` or `other` (`M`, `F`, `Male`, …).
    Gender,
    /// Keep only the `YYYY-MM-DD` date of a date or timestamp.
    Date,
}

impl Transform {
    /// Applies the transform to one value. Values of unexpected types pass through unchanged so
    /// that no data is lost; validation of types happens against the generated structs.
    pub fn apply(self, value: &Value) -> Value {
        let Some(s) = value.as_str() else {
            return value.clone();
        };
        let trimmed = s.trim();
        match self {
            Transform::Copy => value.clone(),
            Transform::Trim | Transform::Lowercase if trimmed.is_empty() => Value::Null,
            Transform::Trim => Value::String(trimmed.to_owned()),
            Transform::Lowercase => Value::String(trimmed.to_lowercase()),
            Transform::Gender => match trimmed.to_ascii_lowercase().as_str() {
                "" => Value::Null,
                "m" | "male" => Value::String("male".into()),
                "f" | "female" => Value::String("female".into()),
                _ => Value::String("other".into()),
            },
            Transform::Date => Value::String(trimmed.chars().take(10).collect()),
        }
    }
}

/// One attribute copied into a canonical field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMapping {
    /// The source attribute.
    pub from: &'static str,
    /// The canonical field.
    pub to: &'static str,
    /// Normalisation on the way.
    pub transform: Transform,
}

/// A relationship recorded as a canonical edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeMapping {
    /// The relationship name on the source resource.
    pub relationship: &'static str,
    /// The target entity's name in the adapter's manifest.
    pub target: &'static str,
    /// The canonical edge type, e.g. `member_of`.
    pub edge: &'static str,
}

/// A hand-written finishing step for a mapping.
pub type MappingHook = fn(&RawResource, &mut CanonicalRecord) -> Result<(), String>;

/// How one entity maps onto a canonical entity.
#[derive(Debug, Clone, Copy)]
pub struct CanonicalMapping {
    /// The canonical entity, e.g. `person`.
    pub target: &'static str,
    /// Attributes copied into canonical fields.
    pub fields: &'static [FieldMapping],
    /// The relationship whose target owns this record (an address's `person`), if any.
    /// The engine stores the owner in the row's `owner_id` column only, not as an edge; its
    /// `relationships` view names the relationship `<canonical entity>_of` whatever `edge`
    /// says here (the generator names it so).
    pub owner: Option<EdgeMapping>,
    /// Relationships recorded as edges.
    pub edges: &'static [EdgeMapping],
    /// The attribute holding the remote modification time.
    pub updated_at: Option<&'static str>,
    /// Attributes neither mapped nor wanted in `custom_fields` (e.g. derived ones).
    pub ignore: &'static [&'static str],
    /// A hand-written step run after the declarative one.
    pub hook: Option<MappingHook>,
}

/// A reference from a canonical record to another record of the same adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// The canonical edge type.
    pub edge: &'static str,
    /// The target entity's name in the adapter's manifest.
    pub entity: &'static str,
    /// The target's remote id.
    pub external_id: String,
}

/// One record in canonical form, still keyed by remote ids (the engine resolves them).
#[derive(Debug, Clone, PartialEq)]
pub struct CanonicalRecord {
    /// The canonical entity.
    pub entity: &'static str,
    /// The remote id.
    pub external_id: String,
    /// Canonical fields.
    pub fields: Map<String, Value>,
    /// Unmapped attributes, kept so that nothing is lost.
    pub custom_fields: Map<String, Value>,
    /// The owning record, if any.
    pub owner: Option<RecordRef>,
    /// Relationships as edges.
    pub edges: Vec<RecordRef>,
    /// The remote modification time, verbatim.
    pub remote_updated_at: Option<String>,
}

/// The declared fields of a mapping in order of source attribute and of target field
/// (stable: declared order among equals), computed once per mapping: sorting them for every
/// record cost more than the look-ups it saved.
struct FieldOrder {
    by_source: Vec<usize>,
    by_target: Vec<usize>,
}

impl FieldOrder {
    fn of(fields: &'static [FieldMapping]) -> &'static FieldOrder {
        type Cache = Vec<(usize, usize, &'static FieldOrder)>;
        static CACHE: std::sync::RwLock<Cache> = std::sync::RwLock::new(Vec::new());
        let key = (fields.as_ptr() as usize, fields.len());
        let find = |cache: &Cache| {
            cache
                .iter()
                .find(|(p, n, _)| (*p, *n) == key)
                .map(|(.., o)| *o)
        };
        if let Some(order) = find(&CACHE.read().unwrap_or_else(|e| e.into_inner())) {
            return order;
        }
        let mut cache = CACHE.write().unwrap_or_else(|e| e.into_inner());
        if let Some(order) = find(&cache) {
            return order;
        }
        let mut by_source: Vec<usize> = (0..fields.len()).collect();
        by_source.sort_by_key(|&i| fields[i].from);
        let mut by_target: Vec<usize> = (0..fields.len()).collect();
        by_target.sort_by_key(|&i| fields[i].to);
        // One per static mapping (a manifest holds a few dozen), kept for the process.
        let order: &'static FieldOrder = Box::leak(Box::new(FieldOrder {
            by_source,
            by_target,
        }));
        cache.push((key.0, key.1, order));
        order
    }
}

impl CanonicalMapping {
    /// Maps one raw resource.
    pub fn apply(&self, raw: &RawResource) -> Result<CanonicalRecord, String> {
        // One pass over the attributes, merged with the declared fields in order of source
        // (where testing every field for every attribute, then looking every field up, was
        // a tenth of a sync's client CPU). A field whose attribute is absent maps to null.
        let order = FieldOrder::of(self.fields);
        let mut values = vec![Value::Null; self.fields.len()];
        let mut custom = Vec::with_capacity(raw.attributes.len());
        let mut next = 0;
        let mut previous: &str = "";
        for (name, value) in &raw.attributes {
            let name = name.as_str();
            // Attributes come sorted (a JSON object read as a map); should they not, the
            // walk over the fields starts again.
            if name < previous {
                next = 0;
            }
            previous = name;
            while next < order.by_source.len() && self.fields[order.by_source[next]].from < name {
                next += 1;
            }
            let mut is_field = false;
            let mut at = next;
            while let Some(&i) = order.by_source.get(at) {
                if self.fields[i].from != name {
                    break;
                }
                values[i] = self.fields[i].transform.apply(value);
                is_field = true;
                at += 1;
            }
            let keep = !is_field && !self.ignore.contains(&name) && self.updated_at != Some(name);
            if keep {
                custom.push((name.to_owned(), value.clone()));
            }
        }
        // In order of target, declared order among equal ones: the map is built without
        // inserts (its sort finds the run sorted), and of two fields with one target the last
        // declared wins.
        let fields: Map<String, Value> = order
            .by_target
            .iter()
            .map(|&i| (self.fields[i].to.to_owned(), std::mem::take(&mut values[i])))
            .collect();
        let custom_fields: Map<String, Value> = custom.into_iter().collect();
        // Relationships are read only when the mapping records one.
        let linkage = if self.owner.is_some() || !self.edges.is_empty() {
            raw.linkage().map_err(|e| format!("relationships: {e}"))?
        } else {
            Vec::new()
        };
        let refs = |m: &EdgeMapping| {
            linkage
                .iter()
                // A name sent twice: the last wins, as in a JSON object read as a map.
                .rfind(|l| l.name == m.relationship)
                .into_iter()
                .flat_map(|l| &l.ids)
                .map(|linked| RecordRef {
                    edge: m.edge,
                    entity: m.target,
                    external_id: linked.id.clone().into_owned(),
                })
                .collect::<Vec<_>>()
        };
        let owner = match &self.owner {
            Some(m) => Some(refs(m).into_iter().next().ok_or_else(|| {
                format!("relationship `{}` names no owning record", m.relationship)
            })?),
            None => None,
        };
        let mut record = CanonicalRecord {
            entity: self.target,
            external_id: raw.id.clone(),
            fields,
            custom_fields,
            owner,
            edges: self.edges.iter().flat_map(refs).collect(),
            remote_updated_at: self
                .updated_at
                .and_then(|a| raw.attributes.get(a))
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        if let Some(hook) = self.hook {
            hook(raw, &mut record)?;
        }
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static ADDRESS: CanonicalMapping = CanonicalMapping {
        target: "address",
        fields: &[
            FieldMapping {
                from: "street_line_1",
                to: "street",
                transform: Transform::Trim,
            },
            FieldMapping {
                from: "city",
                to: "city",
                transform: Transform::Copy,
            },
        ],
        owner: Some(EdgeMapping {
            relationship: "person",
            target: "Person",
            edge: "address_of",
        }),
        edges: &[],
        updated_at: Some("updated_at"),
        ignore: &["created_at"],
        hook: None,
    };

    fn raw(value: Value) -> RawResource {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn maps_fields_owner_and_keeps_the_rest() {
        let r = raw(json!({
            "type": "Address", "id": "7",
            "attributes": {"street_line_1": " 1 Main St ", "city": "Springfield",
                           "zip": "12345", "created_at": "x", "updated_at": "2024-01-02T03:04:05Z"},
            "relationships": {"person": {"data": {"type": "Person", "id": "42"}}}
        }));
        let rec = ADDRESS.apply(&r).unwrap();
        assert_eq!(rec.fields["street"], json!("1 Main St"));
        assert_eq!(
            rec.custom_fields,
            json!({"zip": "12345"}).as_object().unwrap().clone()
        );
        assert_eq!(rec.owner.unwrap().external_id, "42");
        assert_eq!(
            rec.remote_updated_at.as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
    }

    /// One attribute feeding two fields, a field whose attribute is absent (null), two
    /// fields with one target (the later declared wins), ignored and unmapped attributes.
    #[test]
    fn maps_every_declared_field_once() {
        static M: CanonicalMapping = CanonicalMapping {
            target: "person",
            fields: &[
                FieldMapping {
                    from: "name",
                    to: "display",
                    transform: Transform::Trim,
                },
                FieldMapping {
                    from: "zeta",
                    to: "last",
                    transform: Transform::Copy,
                },
                FieldMapping {
                    from: "name",
                    to: "lower",
                    transform: Transform::Lowercase,
                },
                FieldMapping {
                    from: "absent",
                    to: "gone",
                    transform: Transform::Copy,
                },
                FieldMapping {
                    from: "alpha",
                    to: "last",
                    transform: Transform::Copy,
                },
            ],
            owner: None,
            edges: &[],
            updated_at: Some("updated_at"),
            ignore: &["skip"],
            hook: None,
        };
        let r = raw(json!({
            "type": "Person", "id": "1",
            "attributes": {"zeta": 26, "name": " Ada ", "alpha": 1, "skip": true,
                           "extra": [1], "updated_at": "2024-01-02T03:04:05Z", "b": null},
            "relationships": {"x": {"data": "not read: no owner or edge is mapped"}}
        }));
        let rec = M.apply(&r).unwrap();
        assert_eq!(
            Value::Object(rec.fields),
            json!({"display": "Ada", "lower": "ada", "gone": null, "last": 1})
        );
        assert_eq!(
            Value::Object(rec.custom_fields),
            json!({"extra": [1], "b": null})
        );
    }

    #[test]
    fn missing_owner_is_an_error() {
        let r = raw(json!({"type": "Address", "id": "7", "attributes": {},
                           "relationships": {"person": {"data": null}}}));
        assert!(ADDRESS.apply(&r).unwrap_err().contains("`person`"));
    }

    #[test]
    fn normalises_gender() {
        assert_eq!(Transform::Gender.apply(&json!("M")), json!("male"));
        assert_eq!(Transform::Gender.apply(&json!("Female")), json!("female"));
        assert_eq!(Transform::Gender.apply(&json!(null)), json!(null));
    }
}
