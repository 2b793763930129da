//! Tokens in → tokens or error messages out, for both macros.

use proc_macro2::TokenStream;
use quote::quote;

use super::{entity, manifest};

/// Formats an expansion the way a reviewer reads it.
fn pretty(tokens: TokenStream) -> String {
    prettyplease::unparse(&syn::parse2(tokens).expect("the expansion parses as a file"))
}

/// The error messages of a derive.
fn derive_errors(input: TokenStream) -> Vec<String> {
    match entity::derive(input) {
        Ok(t) => panic!("expected an error, got {t}"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

/// The error messages of a manifest.
fn manifest_errors(input: TokenStream) -> Vec<String> {
    match manifest::manifest(input) {
        Ok(t) => panic!("expected an error, got {t}"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

fn song() -> TokenStream {
    quote! {
        /// A song in the library.
        ///
        /// More text that is not part of `doc`.
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, tributary_macros::Entity)]
        #[entity(name = "Song", json_type = "Song", relationships(
            arrangement(target = "Arrangement", dependency = "hard"),
            author(target = "Person", dependency = "soft", to_many),
            kind_(target = "Kind", dependency = "ignore", rename = "type")),
            endpoint(kind = "list", path = "/songs"),
            endpoint(kind = "nested_list", path = "/people/{person_id}/songs", parent = "Person", operation_id = "list_person_songs"),
            includes("arrangement", "author"),
            order_by("title"),
            canonical = crate::mapping::SONG)]
        pub struct Song { title: Option<String> }
    }
}

#[test]
fn derive_parses_and_validates_defaults() {
    let input = syn::parse2(quote! {
        /// Line one.
        struct Arrangement { key: Option<String> }
    })
    .unwrap();
    let model = entity::validate(entity::parse(&input).unwrap()).unwrap();
    assert_eq!(model.name, "Arrangement");
    assert_eq!(model.json_type, "Arrangement");
    assert_eq!(model.doc, "Line one.");
    assert!(model.relationships.is_none());
    assert!(model.endpoints.is_empty() && model.includes.is_empty());
}

#[test]
fn derive_json_type_defaults_to_name() {
    let input = syn::parse2(quote! {
        #[entity(name = "Tune")]
        struct Song {}
    })
    .unwrap();
    let model = entity::validate(entity::parse(&input).unwrap()).unwrap();
    assert_eq!(
        (model.name.as_str(), model.json_type.as_str()),
        ("Tune", "Tune")
    );
}

#[test]
fn derive_relationships_are_typed() {
    let model = entity::validate(entity::parse(&syn::parse2(song()).unwrap()).unwrap()).unwrap();
    let rels = model.relationships.unwrap();
    let got: Vec<_> = rels
        .iter()
        .map(|r| {
            (
                r.field.to_string(),
                r.json_name.as_str(),
                r.target.as_str(),
                r.to_many,
                r.dependency,
            )
        })
        .collect();
    use entity::Dependency::*;
    assert_eq!(
        got,
        vec![
            (
                "arrangement".into(),
                "arrangement",
                "Arrangement",
                false,
                Hard
            ),
            ("author".into(), "author", "Person", true, Soft),
            ("kind_".into(), "type", "Kind", false, Ignore),
        ]
    );
    assert_eq!(model.endpoints[0].operation_id, "Song.list");
    assert_eq!(model.endpoints[1].parent.as_deref(), Some("Person"));
}

#[test]
fn derive_expansion_snapshot() {
    insta::assert_snapshot!("derive_song", pretty(entity::derive(song()).unwrap()));
}

#[test]
fn derive_without_relationships_is_untyped() {
    let out = entity::derive(quote!(
        struct Arrangement {}
    ))
    .unwrap()
    .to_string();
    assert!(
        out.contains("type Relationships = :: tributary_core :: jsonapi :: UntypedRelationships")
    );
    assert!(!out.contains("struct ArrangementRelationships"));
}

#[test]
fn derive_rejects_unknown_key() {
    let errs = derive_errors(quote! {
        #[entity(nmae = "Song")]
        struct Song {}
    });
    assert_eq!(errs.len(), 1);
    assert!(errs[0].contains("Unknown field: `nmae`"), "{errs:?}");
}

#[test]
fn derive_rejects_unknown_relationship_key() {
    let errs = derive_errors(quote! {
        #[entity(relationships(author(targt = "Person", dependency = "soft")))]
        struct Song {}
    });
    assert!(
        errs.iter().any(|e| e.contains("Unknown field: `targt`")),
        "{errs:?}"
    );
}

#[test]
fn derive_rejects_bad_dependency() {
    let errs = derive_errors(quote! {
        #[entity(relationships(author(target = "Person", dependency = "strong")))]
        struct Song {}
    });
    assert_eq!(
        errs,
        ["unknown dependency `strong`: expected `hard`, `soft` or `ignore`"]
    );
}

#[test]
fn derive_rejects_missing_target() {
    let errs = derive_errors(quote! {
        #[entity(relationships(author(dependency = "soft")))]
        struct Song {}
    });
    assert!(
        errs.iter().any(|e| e.contains("Missing field `target`")),
        "{errs:?}"
    );
}

#[test]
fn derive_rejects_enums_and_unions() {
    let errs = derive_errors(quote!(
        enum Song {
            A,
        }
    ));
    assert_eq!(
        errs,
        [
            "`#[derive(Entity)]` only supports structs, not enums: an entity's JSON:API attributes are an object"
        ]
    );
    let errs = derive_errors(quote!(
        union Song {
            a: u8,
        }
    ));
    assert!(errs[0].contains("not unions"));
}

#[test]
fn derive_rejects_duplicates_and_reports_all() {
    let errs = derive_errors(quote! {
        #[entity(relationships(
            author(target = "Person", dependency = "soft"),
            author(target = "Person", dependency = "hard"),
            writer(target = "Person", dependency = "nope", rename = "author"),
        ), includes("missing"))]
        struct Song<T> { t: T }
    });
    assert_eq!(
        errs,
        [
            "`#[derive(Entity)]` does not support generic parameters: an entity has one static description",
            "duplicate relationship `author`",
            "duplicate relationship `author`",
            "unknown dependency `nope`: expected `hard`, `soft` or `ignore`",
            "`missing` is not a declared relationship of `Song`",
        ]
    );
}

#[test]
fn derive_rejects_bad_endpoints() {
    let errs = derive_errors(quote! {
        #[entity(
            endpoint(kind = "lists", path = "/songs"),
            endpoint(kind = "nested_list", path = "/a/{id}/songs"),
            endpoint(kind = "get", path = "/songs/{id}", parent = "A"),
        )]
        struct Song {}
    });
    assert_eq!(
        errs,
        [
            "unknown endpoint kind `lists`: expected `list`, `nested_list` or `get`",
            "a `nested_list` endpoint needs `parent = \"Entity\"`",
            "only a `nested_list` endpoint has a parent",
        ]
    );
}

fn sample_manifest() -> TokenStream {
    quote! {
        /// The church tools adapter.
        pub static MANIFEST = {
            adapter: "church_tools",
            base_url: "https://api.example.org",
            entities: [Song, Arrangement, tributary_pco::Person],
            default_per_page: 50,
            delta_filter: "where[{attr}][gte]",
        };
    }
}

#[test]
fn manifest_validates_with_defaults() {
    let model = manifest::validate(manifest::parse(sample_manifest()).unwrap()).unwrap();
    assert_eq!(model.adapter.value(), "church_tools");
    assert_eq!(model.entities.len(), 3);
    assert_eq!(model.per_page_param.value(), "per_page");
    assert_eq!(model.offset_param.value(), "offset");
    assert_eq!((model.max_per_page, model.default_per_page), (100, 50));
    assert_eq!(model.delta_filter.unwrap().value(), "where[{attr}][gte]");
}

#[test]
fn manifest_expansion_snapshot() {
    insta::assert_snapshot!(
        "manifest_church_tools",
        pretty(manifest::manifest(sample_manifest()).unwrap())
    );
}

#[test]
fn manifest_rejects_bad_keys_and_values() {
    let errs = manifest_errors(quote! {
        static M = {
            adapter: "a",
            adaptor: "b",
            adapter: "c",
            base_url: 3,
            entities: [Song, Song, 4],
            max_per_page: 10,
            default_per_page: 20,
        };
    });
    assert_eq!(
        errs,
        [
            "unknown manifest key `adaptor`; expected one of: adapter, base_url, entities, \
             per_page_param, offset_param, max_per_page, default_per_page, delta_filter",
            "`adapter` is given twice",
            "`base_url` takes a string literal",
            "`Song` is listed twice",
            "expected the path of a type implementing `Entity`",
            "`default_per_page` (20) exceeds `max_per_page` (10)",
        ]
    );
}

#[test]
fn manifest_requires_keys_and_entities() {
    let errs = manifest_errors(quote!(static M = { entities: [] };));
    assert_eq!(
        errs,
        [
            "a manifest needs at least one entity",
            "missing manifest key `adapter`",
            "missing manifest key `base_url`",
        ]
    );
}

#[test]
fn manifest_syntax_errors_are_errors() {
    let errs = manifest_errors(quote!(static M { adapter: "a" }));
    assert_eq!(errs, ["expected `=`"]);
    let errs = manifest_errors(quote!(static M = {}; static N = {};));
    assert_eq!(
        errs,
        ["expected one `static NAME = { ... };` per `entity_manifest!`"]
    );
}

#[test]
fn entry_points_turn_errors_into_compile_errors() {
    let out = super::derive_entity(quote!(
        enum E {}
    ))
    .to_string();
    assert!(out.starts_with(":: core :: compile_error !"), "{out}");
    let out = super::entity_manifest(quote!(static M = {};)).to_string();
    assert!(out.contains("compile_error"), "{out}");
}
