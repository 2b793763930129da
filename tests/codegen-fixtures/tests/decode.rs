//! The generated fixture types decode real-looking documents without losing data.

use codegen_fixtures::kitchen_sink::{
    ListWidgets, ListWidgetsInclude, ListWidgetsOrder, MANIFEST, SYNC_ORDER, Widget, WidgetKind,
    WidgetLabel, WidgetWeight,
};
use serde_json::json;
use tributary_core::{Auth, Client, Compare, Direction, Entity, RawResource, Resource};

fn widget() -> serde_json::Value {
    json!({
        "type": "Widget", "id": "1",
        "attributes": {
            "name": "Sprocket", "kind": "gigantic", "type": "t", "self": true, "extra": "x",
            "match": 3, "weight": 2.5, "label": 7, "colour": null,
            "size": {"width": 1.0, "height": null, "depth": 9},
            "audited": {"created_by": "ann", "at": "2024-01-02T03:04:05Z"},
            "updated_at": "2024-01-02T03:04:05Z", "released_on": "2023-12-25",
            "brand_new_attribute": {"nested": [1, 2]}
        },
        "relationships": {
            "parts": {"data": [{"type": "Part", "id": "9"}]},
            "favourite_tag": {"data": null},
            "surprise": {"data": null}
        }
    })
}

#[test]
fn decodes_keywords_enums_unions_and_keeps_unknown_data() {
    let w: Resource<Widget> = serde_json::from_value(widget()).unwrap();
    let a = &w.attributes;
    assert_eq!(a.kind, WidgetKind::Unknown("gigantic".into()));
    assert_eq!(a.r#type.as_deref(), Some("t"));
    assert_eq!(a.self_, Some(true));
    assert_eq!(a.extra_.as_deref(), Some("x"));
    assert_eq!(a.r#match, Some(3));
    assert_eq!(a.weight, Some(WidgetWeight::Number(2.5)));
    assert_eq!(a.label, Some(WidgetLabel::Integer(7)));
    assert_eq!(a.size.as_ref().unwrap().extra["depth"], json!(9));
    assert_eq!(a.extra["brand_new_attribute"], json!({"nested": [1, 2]}));
    assert_eq!(w.relationships.parts.as_ref().unwrap().data[0].id, "9");
    assert!(w.relationships.extra.contains_key("surprise"));
    // Round trip: nothing the server sent is lost.
    let back = serde_json::to_value(&w).unwrap();
    for key in widget()["attributes"].as_object().unwrap().keys() {
        assert!(
            back["attributes"].get(key).is_some(),
            "lost attribute {key}"
        );
    }
}

#[test]
fn validator_reports_what_is_wrong() {
    let mut bad = widget();
    bad["attributes"]["kind"] = json!(42);
    let raw: RawResource = serde_json::from_value(bad).unwrap();
    let err = (MANIFEST.validate)("Widget", &raw).unwrap_err();
    assert!(err.contains("invalid type"), "{err}");
    let good: RawResource = serde_json::from_value(widget()).unwrap();
    assert_eq!((MANIFEST.validate)("Widget", &good), Ok(()));
    assert!(
        (MANIFEST.validate)("Nope", &good)
            .unwrap_err()
            .contains("unknown entity")
    );
}

#[test]
fn manifest_and_builders_follow_the_spec() {
    assert_eq!(SYNC_ORDER, &[&["Tag"][..], &["Widget"], &["Part"]]);
    assert_eq!(Widget::DEF.includes, &["parts"]);
    assert_eq!(MANIFEST.paging.max_per_page, 50);
    let client = Client::new("http://127.0.0.1:9", Auth::None).unwrap();
    let req = ListWidgets::new(&client)
        .include(ListWidgetsInclude::Parts)
        .order(ListWidgetsOrder::UpdatedAt, Direction::Descending)
        .where_updated_at(Compare::Gte, "2024-01-01T00:00:00Z")
        .where_name("a b")
        .per_page(500);
    assert_eq!(
        req.query().encode(),
        "include=parts&order=-updated_at&where[updated_at][gte]=2024-01-01T00:00:00Z&where[name]=a%20b&per_page=50"
    );
    let nested = codegen_fixtures::kitchen_sink::ListWidgetParts::new(&client, "a/b");
    assert_eq!(nested.path(), "/v1/widgets/a%2Fb/parts");
}

/// The validator checks through stand-in types (`tributary_core::check`) instead of decoding:
/// over many broken and valid variations of a record, it must accept exactly what decoding
/// accepts and refuse the rest with the same message.
#[test]
fn validator_agrees_with_decoding() {
    let attribute_values = [
        json!(null),
        json!("text"),
        json!(""),
        json!(7),
        json!(-1.5),
        json!(true),
        json!([]),
        json!(["a", "b"]),
        json!([1, "b"]),
        json!({}),
        json!({"width": 1.0}),
        json!({"width": "wide"}),
        json!({"created_by": "ann", "at": "2024-01-02T03:04:05Z"}),
        json!({"created_by": "ann", "at": "yesterday"}),
        json!("2024-01-02T03:04:05Z"),
        json!("2024-01-02T03:04:05+02:00"),
        json!("2024-13-02T03:04:05Z"),
        json!("2023-12-25"),
        json!("2023-02-30"),
    ];
    let relationship_values = [
        json!(null),
        json!({}),
        json!({"data": null}),
        json!({"data": {"type": "Part", "id": "9"}}),
        json!({"data": {"type": "Part", "id": 9}}),
        json!({"data": {"type": "Part"}}),
        json!({"data": [{"type": "Part", "id": "9"}]}),
        json!({"data": [{"type": "Part", "id": "9"}, "x"]}),
        json!({"data": [], "links": {"related": "http://x"}}),
        json!({"data": [], "links": "http://x"}),
        json!({"meta": {"count": 2}}),
        json!("parts"),
    ];
    let decode = |raw: &RawResource| {
        raw.decode::<Widget>()
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let mut checked = 0;
    let mut refused = 0;
    let attributes: Vec<String> = widget()["attributes"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .chain(["tags".into(), "settings".into(), "score".into()])
        .collect();
    for key in &attributes {
        for value in &attribute_values {
            let mut doc = widget();
            doc["attributes"][key.as_str()] = value.clone();
            let raw: RawResource = serde_json::from_value(doc).unwrap();
            let verdict = (MANIFEST.validate)("Widget", &raw);
            assert_eq!(verdict, decode(&raw), "attribute {key} = {value}");
            refused += usize::from(verdict.is_err());
            checked += 1;
        }
        let mut doc = widget();
        doc["attributes"]
            .as_object_mut()
            .unwrap()
            .remove(key.as_str());
        let raw: RawResource = serde_json::from_value(doc).unwrap();
        assert_eq!(
            (MANIFEST.validate)("Widget", &raw),
            decode(&raw),
            "without {key}"
        );
    }
    for key in ["parts", "favourite_tag", "surprise"] {
        for value in &relationship_values {
            let mut doc = widget();
            doc["relationships"][key] = value.clone();
            let raw: RawResource = serde_json::from_value(doc).unwrap();
            let verdict = (MANIFEST.validate)("Widget", &raw);
            assert_eq!(verdict, decode(&raw), "relationship {key} = {value}");
            refused += usize::from(verdict.is_err());
            checked += 1;
        }
    }
    // Relationships that are not an object at all: refused alike.
    for (whole, refused) in [
        (json!([]), true),
        (json!([{"data": null}]), true),
        (json!("parts"), true),
        (json!(null), true),
        (json!(3), true),
        (json!({}), false),
    ] {
        let mut doc = widget();
        doc["relationships"] = whole.clone();
        let raw: RawResource = serde_json::from_value(doc).unwrap();
        let verdict = (MANIFEST.validate)("Widget", &raw);
        assert_eq!(verdict.is_err(), refused, "relationships = {whole}");
        assert_eq!(verdict, decode(&raw), "relationships = {whole}");
    }
    // Both outcomes were exercised, not just one.
    assert!(
        refused > 50 && refused < checked - 50,
        "{refused} of {checked} refused"
    );
}
