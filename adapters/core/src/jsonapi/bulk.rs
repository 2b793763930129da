//! A JSON object read into a [`Map`] in one piece.
//!
//! `serde_json` builds a `Map` (a B-tree) by inserting each entry as it is read, searching
//! the tree from its root every time; a sync reads a few dozen attributes per record, and
//! those inserts were 6 % of a sync's instructions. Read into a vector first, the entries
//! are sorted once (PCO sends attributes sorted already, which the sort finds in one pass)
//! and the tree is built from the sorted run without a search. The result is the same map:
//! a key repeated in the object keeps its last value, as `serde_json` keeps it.

use std::fmt;

use serde::Deserializer;
use serde::de::{MapAccess, Visitor};
use serde_json::{Map, Value};

/// Deserializes a JSON object (only an object, as `Map`'s own `Deserialize` accepts) into a
/// [`Map`].
pub(super) fn map<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    d.deserialize_map(Entries)
}

struct Entries;

impl<'de> Visitor<'de> for Entries {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Map`'s own wording, so errors read as before.
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(String, Value)> =
            Vec::with_capacity(access.size_hint().unwrap_or(16).min(64));
        while let Some(entry) = access.next_entry()? {
            entries.push(entry);
        }
        // `BTreeMap`'s `FromIterator`: a stable sort, the last of equal keys kept, then a
        // bulk build.
        Ok(entries.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "map")]
        m: Map<String, Value>,
    }

    /// The same map serde_json builds, for sorted, unsorted, nested and repeated keys.
    #[test]
    fn reads_the_map_serde_json_reads() {
        for object in [
            r#"{}"#,
            r#"{"a": 1, "b": "two", "c": null}"#,
            r#"{"zeta": 1, "alpha": [1, {"y": 2, "x": 1}], "mid": {"k": true}}"#,
            r#"{"k": 1, "j": 2, "k": 3}"#,
            r#"{"k": 1, "k": 2, "k": {"deep": "last"}}"#,
        ] {
            let ours: Holder = serde_json::from_str(&format!(r#"{{"m": {object}}}"#)).unwrap();
            let theirs: Map<String, Value> = serde_json::from_str(object).unwrap();
            assert_eq!(ours.m, theirs, "{object}");
            assert_eq!(
                serde_json::to_string(&ours.m).unwrap(),
                serde_json::to_string(&theirs).unwrap(),
                "{object}"
            );
        }
    }

    #[test]
    fn refuses_what_a_map_refuses() {
        for bad in ["null", "[]", "3", r#""text""#] {
            let ours = serde_json::from_str::<Holder>(&format!(r#"{{"m": {bad}}}"#))
                .unwrap_err()
                .to_string();
            let theirs = serde_json::from_str::<Map<String, Value>>(bad)
                .unwrap_err()
                .to_string();
            // Same message; only the position differs (the value sits inside `{"m": …}`).
            let message = |e: &str| e.split(" at line").next().unwrap().to_owned();
            assert_eq!(message(&ours), message(&theirs), "{bad}");
        }
    }
}
