//! The linkage of a resource's relationships, read from their verbatim JSON text.
//!
//! Only each relationship's `data` is read; its `links` and `meta` are skipped without
//! building anything. Names and ids borrow from the text unless they hold escapes.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One relationship's linkage: its name and the identifiers its `data` names (none for
/// `null` or no `data`, one for a to-one, any number for a to-many).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linkage<'a> {
    /// The relationship's name, e.g. `primary_campus`.
    pub name: Cow<'a, str>,
    /// The related resources.
    pub ids: Vec<LinkedId<'a>>,
}

/// A resource identifier in a relationship's `data`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LinkedId<'a> {
    /// The JSON:API type name.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// The remote identifier.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
}

/// Every relationship of a resource.
pub(super) struct All<'a>(pub Vec<Linkage<'a>>);

impl<'de> Deserialize<'de> for All<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = All<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of relationships")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<All<'de>, A::Error> {
                let mut all = Vec::new();
                while let Some(CowStr(name)) = map.next_key()? {
                    let Relationship(ids) = map.next_value()?;
                    all.push(Linkage { name, ids });
                }
                Ok(All(all))
            }
        }
        d.deserialize_map(V)
    }
}

/// Text borrowed from the input unless it holds escapes (`Cow<str>`'s own `Deserialize`
/// always copies).
struct CowStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<CowStr<'de>, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// One relationship object: its `data`, the rest skipped.
struct Relationship<'a>(Vec<LinkedId<'a>>);

impl<'de> Deserialize<'de> for Relationship<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Relationship<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a relationship object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Relationship<'de>, A::Error> {
                let mut ids = Vec::new();
                while let Some(CowStr(key)) = map.next_key()? {
                    if key == "data" {
                        ids = map.next_value::<Data<'de>>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Relationship(ids))
            }
        }
        d.deserialize_map(V)
    }
}

/// A relationship's `data`: `null`, one identifier or a list of them.
struct Data<'a>(Vec<LinkedId<'a>>);

impl<'de> Deserialize<'de> for Data<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Data<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("null, a resource identifier or a list of them")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Data<'de>, E> {
                Ok(Data(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Data<'de>, E> {
                Ok(Data(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Data<'de>, A::Error> {
                let one = LinkedId::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Data(vec![one]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data<'de>, A::Error> {
                let mut ids = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(id) = seq.next_element()? {
                    ids.push(id);
                }
                Ok(Data(ids))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::super::RawResource;
    use super::*;

    fn raw(relationships: &str) -> RawResource {
        serde_json::from_str(&format!(
            r#"{{"type": "Person", "id": "1", "relationships": {relationships}}}"#
        ))
        .unwrap()
    }

    fn ids<'a>(l: &'a [Linkage<'_>], name: &str) -> Vec<(&'a str, &'a str)> {
        l.iter()
            .find(|l| l.name == name)
            .map(|l| l.ids.iter().map(|i| (&*i.kind, &*i.id)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn reads_to_one_to_many_null_and_absent_data() {
        let r = raw(
            r#"{"primary_campus": {"data": {"type": "Campus", "id": "7"}},
                "households": {"links": {"related": "https://x/h"},
                               "data": [{"type": "Household", "id": "2"},
                                        {"type": "Household", "id": "3", "meta": {"a": [1]}}]},
                "created_by": {"data": null},
                "emails": {"links": {"related": "https://x/e"}},
                "odd\u00e9": {"data": {"type": "T\"q", "id": "9"}}}"#,
        );
        let l = r.linkage().unwrap();
        assert_eq!(
            l.iter().map(|l| &*l.name).collect::<Vec<_>>(),
            [
                "primary_campus",
                "households",
                "created_by",
                "emails",
                "oddé"
            ]
        );
        assert_eq!(ids(&l, "primary_campus"), [("Campus", "7")]);
        assert_eq!(
            ids(&l, "households"),
            [("Household", "2"), ("Household", "3")]
        );
        assert!(ids(&l, "created_by").is_empty());
        assert!(ids(&l, "emails").is_empty());
        // Escaped text is unescaped (owned), plain text borrowed.
        assert_eq!(ids(&l, "oddé"), [("T\"q", "9")]);
        assert!(matches!(l[0].ids[0].id, Cow::Borrowed(_)));
    }

    #[test]
    fn no_relationships_link_nothing() {
        let r: RawResource = serde_json::from_str(r#"{"type": "Person", "id": "1"}"#).unwrap();
        assert_eq!(r.relationships.get(), "{}");
        assert!(r.linkage().unwrap().is_empty());
    }

    #[test]
    fn refuses_data_that_names_no_resource() {
        for bad in [
            r#"{"person": {"data": "1"}}"#,
            r#"{"person": {"data": {"type": "Person"}}}"#,
            r#"{"person": {"data": [{"id": "1"}]}}"#,
            r#"{"person": 3}"#,
            r#"[]"#,
        ] {
            assert!(raw(bad).linkage().is_err(), "{bad}");
        }
    }

    #[test]
    fn keeps_relationships_and_links_verbatim() {
        let text = r#"{"type":"Person","id":"1","attributes":{"a":1},"relationships":{"x":{"data":null,"links":{"related":"u"}}},"links":{"self":"s"}}"#;
        let r: RawResource = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), text);
        // From a `Value` too (tests and fixtures build resources that way).
        let v: RawResource =
            serde_json::from_value(serde_json::from_str::<serde_json::Value>(text).unwrap())
                .unwrap();
        assert_eq!(
            v.relationships.get(),
            r#"{"x":{"data":null,"links":{"related":"u"}}}"#
        );
        assert_eq!(v, r);
        // Empty relationships are left out, as before.
        let bare: RawResource =
            serde_json::from_str(r#"{"type":"T","id":"2","relationships":{ }}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"type":"T","id":"2","attributes":{}}"#
        );
    }
}
