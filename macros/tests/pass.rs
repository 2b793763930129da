//! The macros used for real: derived entities mixed with generated `tributary_pco` entities.

use serde::{Deserialize, Serialize};
use tributary_core::{Dependency, Entity, RawResource, ToOne};

/// A song in the library.
///
/// Only the first line ends up in `DEF.doc`.
#[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
#[entity(
    json_type = "songs",
    relationships(
        person(target = "Person", dependency = "hard"),
        arrangements(target = "Arrangement", dependency = "soft", to_many),
        kind_(target = "Kind", dependency = "ignore", rename = "type"),
    ),
    endpoint(kind = "list", path = "/songs"),
    endpoint(kind = "get", path = "/songs/{id}", operation_id = "get_song"),
    includes("arrangements")
)]
pub struct Song {
    /// The title.
    pub title: Option<String>,
}

/// An arrangement of a song.
#[derive(Debug, Clone, Serialize, Deserialize, tributary_macros::Entity)]
#[entity(name = "Arrangement")]
pub struct SongArrangement {
    /// The musical key.
    pub key: Option<String>,
}

tributary_macros::entity_manifest! {
    /// A manifest mixing hand-written and generated entities.
    pub static MANIFEST = {
        adapter: "church_tools",
        base_url: "https://api.example.org",
        entities: [Song, SongArrangement, tributary_pco::Person, tributary_pco::Address, tributary_pco::Campus],
        max_per_page: 50,
    };
}

tributary_macros::entity_manifest! {
    static SMALL = {
        adapter: "small",
        base_url: "https://small.example.org",
        entities: [SongArrangement],
        per_page_param: "limit",
        offset_param: "skip",
        delta_filter: "filter[{attr}][gte]",
    };
}

#[test]
fn derived_def() {
    let def = Song::DEF;
    assert_eq!(def.name, "Song");
    assert_eq!(def.json_type, "songs");
    assert_eq!(def.doc, "A song in the library.");
    assert_eq!(
        def.dependencies(Dependency::Hard).collect::<Vec<_>>(),
        ["Person"]
    );
    assert_eq!(def.relationships[2].name, "type");
    assert!(def.relationships[1].to_many);
    assert_eq!(def.endpoints[0].operation_id, "Song.list");
    assert_eq!(def.endpoints[1].operation_id, "get_song");
    assert_eq!(def.includes, ["arrangements"]);
    assert!(def.canonical.is_none());
    assert_eq!(SongArrangement::DEF.name, "Arrangement");
    assert_eq!(SongArrangement::DEF.doc, "An arrangement of a song.");
}

#[test]
fn sync_order_mixes_derived_and_generated() {
    assert_eq!(
        MANIFEST.sync_order,
        &[
            &["Arrangement", "Campus"][..],
            &["Person"],
            &["Song", "Address"],
        ]
    );
    assert_eq!(MANIFEST.adapter, "church_tools");
    assert_eq!(MANIFEST.entities.len(), 5);
    assert_eq!(MANIFEST.level_of("Song"), Some(2));
    assert_eq!(MANIFEST.paging.max_per_page, 50);
    assert_eq!(MANIFEST.paging.default_per_page, 25);
    assert_eq!(MANIFEST.paging.per_page_param, "per_page");
    assert_eq!(MANIFEST.delta_filter, None);

    assert_eq!(SMALL.sync_order, &[&["Arrangement"][..]]);
    assert_eq!(SMALL.paging.per_page_param, "limit");
    assert_eq!(SMALL.paging.offset_param, "skip");
    assert_eq!(SMALL.delta_filter, Some("filter[{attr}][gte]"));
}

#[test]
fn decodes_a_jsonapi_resource() {
    let raw: RawResource = serde_json::from_value(serde_json::json!({
        "type": "songs",
        "id": "7",
        "attributes": { "title": "Amazing Grace" },
        "relationships": {
            "person": { "data": { "type": "Person", "id": "1" } },
            "arrangements": { "data": [{ "type": "Arrangement", "id": "2" }] },
            "type": { "data": null },
            "album": { "data": { "type": "Album", "id": "3" } }
        }
    }))
    .unwrap();
    let song = raw.decode::<Song>().unwrap();
    assert_eq!(song.attributes.title.as_deref(), Some("Amazing Grace"));
    let person: &ToOne = song.relationships.person.as_ref().unwrap();
    assert_eq!(person.data.as_ref().unwrap().id, "1");
    assert_eq!(song.relationships.arrangements.unwrap().data[0].id, "2");
    assert_eq!(song.relationships.kind_.unwrap().data, None);
    assert!(song.relationships.extra.contains_key("album"));

    assert_eq!((MANIFEST.validate)("Song", &raw), Ok(()));
    let bad = RawResource {
        attributes: serde_json::from_value(serde_json::json!({ "title": 3 })).unwrap(),
        ..raw.clone()
    };
    assert!(
        (MANIFEST.validate)("Song", &bad)
            .unwrap_err()
            .contains("invalid type")
    );
    assert_eq!(
        (MANIFEST.validate)("Nope", &raw),
        Err("unknown entity `Nope`".to_owned())
    );

    let person: RawResource = serde_json::from_value(serde_json::json!({
        "type": "Person", "id": "1", "attributes": { "first_name": "Ada" }
    }))
    .unwrap();
    assert_eq!((MANIFEST.validate)("Person", &person), Ok(()));
}

#[test]
fn untyped_relationships_keep_everything() {
    let raw: RawResource = serde_json::from_value(serde_json::json!({
        "type": "Arrangement", "id": "2", "attributes": { "key": "G" },
        "relationships": { "song": { "data": { "type": "songs", "id": "7" } } }
    }))
    .unwrap();
    let arrangement = raw.decode::<SongArrangement>().unwrap();
    assert_eq!(arrangement.attributes.key.as_deref(), Some("G"));
    assert!(arrangement.relationships.contains_key("song"));
}

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
