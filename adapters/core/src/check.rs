//! Validation without decoding.
//!
//! A sync checks every record against its entity's generated type before mapping it, but
//! only needs the verdict: building the typed value (every string copied, unknown
//! attributes buffered for the `extra` map) was most of that check's cost. The generator
//! therefore also emits, per entity, a stand-in struct with the same fields, optionality and
//! JSON names whose leaf types come from here: each accepts exactly what the real type
//! accepts, with the same error message, and keeps nothing. [`resource`] runs both stand-ins
//! of an entity over a [`RawResource`].

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::jsonapi::RawResource;

/// Checks `r`'s attributes as `A` and its relationships as `R` (the generated stand-ins);
/// the error is the message decoding into the real types would give.
pub fn resource<A: DeserializeOwned, R: DeserializeOwned>(r: &RawResource) -> Result<(), String> {
    A::deserialize(&r.attributes).map_err(|e| e.to_string())?;
    R::deserialize(&r.relationships).map_err(|e| e.to_string())?;
    Ok(())
}

/// Stands in for `String` (and for generated enums, which accept any string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Str;

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `String`'s own wording, so a quarantine reason reads the same.
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Str, E> {
                Ok(Str)
            }
        }
        d.deserialize_str(V)
    }
}

/// Stands in for a JSON object kept verbatim (`links`, `Map<String, Value>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object;

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Object;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Object)
            }
        }
        d.deserialize_map(V)
    }
}

/// Stands in for [`crate::ResourceId`].
#[derive(Debug, Deserialize)]
pub struct ResourceId {
    #[serde(rename = "type")]
    _kind: Str,
    #[serde(rename = "id")]
    _id: Str,
}

/// Stands in for [`crate::ToOne`].
#[derive(Debug, Deserialize)]
pub struct ToOne {
    #[serde(rename = "data", default)]
    _data: Option<ResourceId>,
    #[serde(rename = "links", default)]
    _links: Option<Object>,
}

/// Stands in for [`crate::ToMany`] (`null` data is empty there too).
#[derive(Debug, Deserialize)]
pub struct ToMany {
    #[serde(rename = "data", default)]
    _data: Option<Vec<ResourceId>>,
    #[serde(rename = "links", default)]
    _links: Option<Object>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::{ToMany as RealMany, ToOne as RealOne};

    /// Each stand-in accepts what its real type accepts and refuses the rest with the same
    /// message.
    #[test]
    fn stand_ins_agree_with_the_real_types() {
        fn agree<Real: DeserializeOwned, Check: DeserializeOwned>(v: &Value) {
            let real = Real::deserialize(v).map(|_| ()).map_err(|e| e.to_string());
            let check = Check::deserialize(v).map(|_| ()).map_err(|e| e.to_string());
            assert_eq!(real, check, "{v}");
        }
        let values = [
            json!("text"),
            json!(""),
            json!(5),
            json!(null),
            json!(true),
            json!([]),
            json!({}),
            json!({"data": null}),
            json!({"data": {"type": "Campus", "id": "1"}}),
            json!({"data": {"type": "Campus", "id": 1}}),
            json!({"data": {"type": "Campus"}}),
            json!({"data": [{"type": "Email", "id": "2"}], "links": {"related": "x"}}),
            json!({"data": [{"type": "Email", "id": "2"}, 3]}),
            json!({"data": {"type": "Campus", "id": "1"}, "links": "x"}),
            json!({"links": null, "meta": {"count": 1}}),
        ];
        for v in &values {
            agree::<String, Str>(v);
            agree::<serde_json::Map<String, Value>, Object>(v);
            agree::<crate::ResourceId, ResourceId>(v);
            agree::<RealOne, ToOne>(v);
            agree::<RealMany, ToMany>(v);
        }
    }
}
