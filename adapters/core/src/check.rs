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
    let relationships = r.relationships.get();
    if relationships.starts_with('[') {
        // A stand-in, having no flattened `extra` map, would read a list as a struct's
        // fields in order; the real type refuses one, and so does this.
        let name = std::any::type_name::<R>().rsplit("::").next().unwrap_or("");
        return Err(format!("invalid type: sequence, expected struct {name}"));
    }
    serde_json::from_str::<R>(relationships).map_err(|e| without_position(&e))?;
    Ok(())
}

/// The message of `e` without serde_json's ` at line L column C`: the position is within the
/// resource's relationships text, which nobody reading a quarantine reason has at hand, and
/// the message reads as it did when relationships were checked as a map.
fn without_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match message.strip_suffix(&suffix) {
        Some(head) if e.line() > 0 => head.to_owned(),
        _ => message,
    }
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

/// Stands in for `chrono::DateTime<FixedOffset>` (date-time attributes).
///
/// Most instants on the wire are already `YYYY-MM-DDTHH:MM:SSZ`; those are checked digit by
/// digit ([`utc_seconds`]), the rest go through chrono's parser, whose generic machinery was
/// 2 % of a sync's instructions when it read every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant;

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Instant;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // chrono's own wording, so a quarantine reason reads the same.
                f.write_str("an RFC 3339 formatted date and time string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Instant, E> {
                if utc_seconds(v) {
                    return Ok(Instant);
                }
                v.parse::<chrono::DateTime<chrono::FixedOffset>>()
                    .map(|_| Instant)
                    .map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// Whether `s` is exactly `YYYY-MM-DDTHH:MM:SSZ`, a real UTC instant to the second (years
/// 0000–9999, no leap second): a form chrono reads as RFC 3339 and writes back unchanged.
/// False says nothing: other forms may be valid too.
pub fn utc_seconds(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && ymd(&b[..10])
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
        && matches!(two(&b[11..13]), Some(0..=23))
        && matches!(two(&b[14..16]), Some(0..=59))
        && matches!(two(&b[17..19]), Some(0..=59))
}

/// Whether `s` is exactly `YYYY-MM-DD`, a real date (years 0000–9999). False says nothing:
/// other forms may be valid too.
pub fn plain_date(s: &str) -> bool {
    s.len() == 10 && ymd(s.as_bytes())
}

fn ymd(b: &[u8]) -> bool {
    let (Some(hi), Some(lo), Some(month), Some(day)) =
        (two(&b[0..2]), two(&b[2..4]), two(&b[5..7]), two(&b[8..10]))
    else {
        return false;
    };
    let year = hi * 100 + lo;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    b[4] == b'-' && b[7] == b'-' && (1..=days).contains(&day)
}

/// Two ASCII digits as a number.
fn two(b: &[u8]) -> Option<u32> {
    match b {
        [h @ b'0'..=b'9', l @ b'0'..=b'9'] => Some(u32::from(h - b'0') * 10 + u32::from(l - b'0')),
        _ => None,
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
            agree::<chrono::DateTime<chrono::FixedOffset>, Instant>(v);
            agree::<String, Str>(v);
            agree::<serde_json::Map<String, Value>, Object>(v);
            agree::<crate::ResourceId, ResourceId>(v);
            agree::<RealOne, ToOne>(v);
            agree::<RealMany, ToMany>(v);
        }
    }

    /// The digit-by-digit instants and dates are exactly those chrono reads in that form, and
    /// the stand-in gives chrono's message for the rest.
    #[test]
    fn fast_instants_agree_with_chrono() {
        let instants = [
            "2015-01-22T22:34:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-29T12:00:00Z",
            "2023-02-29T12:00:00Z",
            "1900-02-29T12:00:00Z",
            "2000-02-29T12:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-00-10T00:00:00Z",
            "2024-01-00T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T23:60:00Z",
            "2024-01-01T23:59:60Z",
            "2024-01-01t23:59:59Z",
            "2024-01-01T23:59:59z",
            "2024-01-01 23:59:59Z",
            "2024-01-01T23:59:59+00:00",
            "2024-01-01T23:59:59.5Z",
            "2024-1-01T23:59:59Z",
            "2024-01-01T23:59:5aZ",
            "+2024-01-01T23:59:59Z",
            "",
            "not a date",
        ];
        for s in instants {
            let chrono = s.parse::<chrono::DateTime<chrono::FixedOffset>>();
            if utc_seconds(s) {
                let dt = chrono
                    .unwrap_or_else(|e| panic!("{s}: fast path took what chrono refuses: {e}"));
                let back = dt
                    .with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
                assert_eq!(back, s, "written back unchanged");
            }
            let check = Instant::deserialize(json!(s))
                .map(|_| ())
                .map_err(|e| e.to_string());
            let real = chrono::DateTime::<chrono::FixedOffset>::deserialize(json!(s))
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert_eq!(check, real, "{s}");
        }
        assert!(utc_seconds("2015-01-22T22:34:00Z"));
        assert!(!utc_seconds("2023-02-29T12:00:00Z"));
        // Every day of a leap and a common year, and the invalid days around them.
        for year in [1900, 2000, 2023, 2024] {
            for month in 0..=13 {
                for day in 0..=32 {
                    let s = format!("{year:04}-{month:02}-{day:02}");
                    let chrono = chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").is_ok();
                    assert_eq!(plain_date(&s), chrono, "{s}");
                }
            }
        }
    }
}
