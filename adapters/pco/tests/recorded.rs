//! Every real PCO response recorded in `../shared/reference/pco-recorded/` parses into the
//! generated types with no data dropped: attributes the spec does not describe land in `extra`,
//! and re-serialising gives back every attribute and relationship the server sent.

use std::path::PathBuf;

use serde_json::Value;
use tributary_core::{Document, Resource};
use tributary_pco::{Email, Person};

fn recorded_dir() -> PathBuf {
    // The workspace root's sibling `shared/` (CI lays a copy beside the clone).
    let dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("../../../shared/reference/pco-recorded");
    assert!(
        dir.is_dir(),
        "recorded PCO responses not found at {} — the tests need ../shared beside the repository",
        dir.display()
    );
    dir
}

/// (file, uri, body) of every recorded JSON response with a `data` member.
fn bodies() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(recorded_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let cassette: Value =
            serde_norway::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for it in cassette["interactions"].as_array().unwrap() {
            let body = it["response"]["body"]["string"]
                .as_str()
                .unwrap_or_default();
            let Ok(doc) = serde_json::from_str::<Value>(body) else {
                continue;
            };
            if doc.get("data").is_some() {
                let uri = it["request"]["uri"].as_str().unwrap_or_default().to_owned();
                out.push((
                    file.file_name().unwrap().to_string_lossy().into_owned(),
                    uri,
                    doc,
                ));
            }
        }
    }
    out
}

fn assert_lossless(original: &Value, reserialised: &Value, at: &str) {
    for part in ["attributes", "relationships"] {
        let (Some(orig), Some(back)) = (original[part].as_object(), reserialised[part].as_object())
        else {
            assert!(
                original[part].is_null()
                    || original[part].as_object().is_some_and(|m| m.is_empty()),
                "{at}: {part} lost"
            );
            continue;
        };
        for (k, v) in orig {
            assert_eq!(back.get(k), Some(v), "{at}: {part}.{k} changed or lost");
        }
    }
}

#[test]
fn every_recorded_person_parses_without_loss() {
    let mut people = 0;
    let mut emails = 0;
    for (file, uri, doc) in bodies() {
        let at = format!("{file} {uri}");
        let items: Vec<Value> = match &doc["data"] {
            Value::Array(a) => a.clone(),
            one => vec![one.clone()],
        };
        for item in items.iter().filter(|i| i["type"] == "Person") {
            let p: Resource<Person> =
                serde_json::from_value(item.clone()).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_lossless(item, &serde_json::to_value(&p).unwrap(), &at);
            people += 1;
        }
        // The whole document decodes too, and included emails resolve to the typed entity.
        if doc["data"].is_array() {
            let d: Document<Vec<Resource<Person>>> =
                serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{at}: {e}"));
            for e in d.included_of::<Email>() {
                let e = e.unwrap_or_else(|err| panic!("{at}: included Email: {err}"));
                assert!(
                    e.attributes.address.is_some(),
                    "{at}: email without address"
                );
                emails += 1;
            }
        }
    }
    assert!(
        people >= 100,
        "expected the recorded people, parsed {people}"
    );
    assert!(emails > 0, "expected included emails in the recordings");
}

/// Each canonical person column PCO has an attribute for is filled from it: the recorded
/// people's names, avatars, remote ids, graduation years and inactivation times land in
/// their columns, not in `custom_fields` and not dropped.
#[test]
fn recorded_people_fill_every_canonical_column_pco_has() {
    let mapping = tributary_pco::MANIFEST
        .entity("Person")
        .and_then(|e| e.canonical)
        .expect("Person maps onto the canonical person");
    let columns = [
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("given_name", "given_name"),
        ("name", "name"),
        ("avatar", "avatar_url"),
        ("remote_id", "remote_id"),
        ("graduation_year", "graduation_year"),
        ("inactivated_at", "inactivated_at"),
    ];
    let mut filled = std::collections::BTreeMap::<&str, usize>::new();
    for (file, uri, doc) in bodies() {
        let items: Vec<Value> = match &doc["data"] {
            Value::Array(a) => a.clone(),
            one => vec![one.clone()],
        };
        for item in items.iter().filter(|i| i["type"] == "Person") {
            let raw: tributary_core::RawResource = serde_json::from_value(item.clone()).unwrap();
            let record = mapping
                .apply(&raw)
                .unwrap_or_else(|e| panic!("{file} {uri}: {e}"));
            for (attribute, column) in columns {
                let Some(v) = raw.attributes.get(attribute) else {
                    continue;
                };
                let got = &record.fields[column];
                match v.as_str() {
                    Some(s) if s.trim().is_empty() => assert!(got.is_null()),
                    Some(s) => assert_eq!(got.as_str(), Some(s.trim()), "{file}: {column}"),
                    None => assert_eq!(got, v, "{file}: {column}"),
                }
                assert!(
                    !record.custom_fields.contains_key(attribute),
                    "{file}: {attribute} is mapped, not a custom field"
                );
                if !v.is_null() {
                    *filled.entry(column).or_default() += 1;
                }
            }
        }
    }
    // The recordings carry real values for these, so the test checks more than nulls.
    for column in ["first_name", "name", "avatar_url"] {
        assert!(
            filled.get(column).copied().unwrap_or(0) > 0,
            "{column}: {filled:?}"
        );
    }
}
