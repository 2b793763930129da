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

fn related_ids(raw: &RawResource, relationship: &str) -> Vec<String> {
    let data = raw
        .relationships
        .get(relationship)
        .and_then(|r| r.get("data"));
    let one = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
    match data {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v @ Value::Object(_)) => one(v).into_iter().collect(),
        _ => Vec::new(),
    }
}

impl CanonicalMapping {
    /// Maps one raw resource.
    pub fn apply(&self, raw: &RawResource) -> Result<CanonicalRecord, String> {
        let mut fields = Map::new();
        for f in self.fields {
            let value = raw.attributes.get(f.from).unwrap_or(&Value::Null);
            fields.insert(f.to.to_owned(), f.transform.apply(value));
        }
        let custom_fields = raw
            .attributes
            .iter()
            .filter(|(k, _)| {
                !self.fields.iter().any(|f| f.from == k.as_str())
                    && !self.ignore.contains(&k.as_str())
                    && self.updated_at != Some(k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let refs = |m: &EdgeMapping| {
            related_ids(raw, m.relationship)
                .into_iter()
                .map(|external_id| RecordRef {
                    edge: m.edge,
                    entity: m.target,
                    external_id,
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
