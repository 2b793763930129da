//! The simulator serves what `specs/pco` describes: every operation of the spec is served at its
//! path, and an entity added to a spec is served with values generated from its schema.

mod common;

use serde_json::Value;
use serde_norway::Value as Y;
use std::path::{Path, PathBuf};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn y(text: &str) -> Y {
    serde_norway::from_str(text).unwrap()
}

/// A copy of `specs/pco` with a new `Tag` entity: a list and a get operation, attributes of
/// every scalar type, an enum, and a to-one relationship to `Person`.
fn spec_with_tag() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pco-sim-spec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&common::spec_dir(), &dir);
    let people = dir.join("openapi/people.yaml");
    let mut doc: Y = serde_norway::from_str(&std::fs::read_to_string(&people).unwrap()).unwrap();
    let paths = doc["paths"].as_mapping_mut().unwrap();
    paths.insert(
        Y::from("/people/v2/tags"),
        y(r#"
get:
  operationId: list_tags
  summary: List tags.
  parameters:
  - name: include
    in: query
    style: form
    explode: false
    schema: {type: array, items: {enum: [person]}}
  - name: order
    in: query
    schema: {enum: [name, weight, -name, -weight]}
  - name: where[kind]
    in: query
    schema: {type: string}
  - name: where[created_at]
    in: query
    schema: {type: string, format: date-time}
  - $ref: '#/components/parameters/per_page'
  - $ref: '#/components/parameters/offset'
  responses:
    '200':
      description: A JSON:API document of Tag.
      content:
        application/vnd.api+json:
          schema: {$ref: '#/components/schemas/TagListDocument'}
"#),
    );
    paths.insert(
        Y::from("/people/v2/tags/{id}"),
        y(r#"
get:
  operationId: get_tag
  summary: Get one tag.
  parameters:
  - {name: id, in: path, required: true, schema: {type: string}}
  responses:
    '200':
      description: A JSON:API document of Tag.
      content:
        application/vnd.api+json:
          schema: {$ref: '#/components/schemas/TagDocument'}
"#),
    );
    let schemas = doc["components"]["schemas"].as_mapping_mut().unwrap();
    schemas.insert(
        Y::from("Tag"),
        y(r#"
type: object
description: A label on a person.
required: [type, id, attributes]
properties:
  type: {const: Tag}
  id: {type: string}
  attributes:
    type: object
    properties:
      name: {type: [string, 'null']}
      weight: {type: [number, 'null']}
      uses: {type: [integer, 'null'], format: int64}
      active: {type: [boolean, 'null']}
      starts_on: {type: [string, 'null'], format: date}
      created_at: {type: [string, 'null'], format: date-time}
      kind: {type: [string, 'null'], enum: [ministry, skill, interest, null]}
  relationships:
    type: object
    properties:
      person:
        type: object
        properties:
          data: {$ref: '#/components/schemas/PersonIdentifier'}
"#),
    );
    schemas.insert(
        Y::from("TagListDocument"),
        y(r#"
type: object
required: [data]
properties:
  links: {$ref: '#/components/schemas/Links'}
  data: {type: array, items: {$ref: '#/components/schemas/Tag'}}
  included: {type: array, items: {type: object}}
  meta: {$ref: '#/components/schemas/Meta'}
"#),
    );
    schemas.insert(
        Y::from("TagDocument"),
        y(r#"
type: object
required: [data]
properties:
  links: {$ref: '#/components/schemas/Links'}
  data: {$ref: '#/components/schemas/Tag'}
  included: {type: array, items: {type: object}}
  meta: {$ref: '#/components/schemas/Meta'}
"#),
    );
    std::fs::write(&people, serde_norway::to_string(&doc).unwrap()).unwrap();
    let manifest = dir.join("manifest.yaml");
    let mut m: Y = serde_norway::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    m["entities"].as_mapping_mut().unwrap().insert(
        Y::from("Tag"),
        y("list: list_tags\nget: get_tag\nrelationships:\n  person: soft\nwebhooks: []\n"),
    );
    std::fs::write(&manifest, serde_norway::to_string(&m).unwrap()).unwrap();
    dir
}

#[tokio::test]
async fn an_entity_added_to_the_spec_is_served_with_values_of_its_declared_types() {
    let dir = spec_with_tag();
    let sim = common::builder(60)
        .spec_dir(&dir)
        .no_rate_limit()
        .start()
        .await
        .expect("simulator starts on the extended spec");
    let (truth, people): (usize, Vec<String>) = {
        let org = sim.org();
        let people = org.records("Person").map(|r| r.id.to_string()).collect();
        (org.count("Tag"), people)
    };
    assert!(truth >= 3, "generated tags: {truth}");

    let (status, _, doc) = common::get(&sim, "/people/v2/tags?per_page=100&include=person").await;
    assert_eq!(status, 200, "{doc}");
    let data = doc["data"].as_array().unwrap();
    assert_eq!(data.len(), truth);
    assert_eq!(doc["meta"]["total_count"], truth);
    assert_eq!(doc["meta"]["can_include"], serde_json::json!(["person"]));
    assert_eq!(
        doc["meta"]["can_order_by"],
        serde_json::json!(["name", "weight"])
    );
    let is_ts = |v: &Value| {
        v.as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z'))
    };
    let is_date = |v: &Value| {
        v.as_str()
            .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok())
    };
    for t in data {
        assert_eq!(t["type"], "Tag");
        let a = &t["attributes"];
        assert!(a["name"].as_str().is_some_and(|s| !s.is_empty()), "{t}");
        assert!(a["weight"].is_number(), "{t}");
        assert!(a["uses"].is_i64(), "{t}");
        assert!(a["active"].is_boolean(), "{t}");
        assert!(is_date(&a["starts_on"]), "{t}");
        assert!(is_ts(&a["created_at"]), "{t}");
        assert!(
            ["ministry", "skill", "interest"].contains(&a["kind"].as_str().unwrap_or("")),
            "{t}"
        );
        let person = &t["relationships"]["person"]["data"];
        assert_eq!(person["type"], "Person", "{t}");
        assert!(people.contains(&person["id"].as_str().unwrap().to_string()));
        assert!(
            t["links"]["self"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/people/v2/tags/{}", t["id"].as_str().unwrap()))
        );
    }
    let included = doc["included"].as_array().unwrap();
    assert!(!included.is_empty() && included.iter().all(|r| r["type"] == "Person"));

    // The declared parameters work: where on the enum, order, the single GET.
    let (status, _, skills) =
        common::get(&sim, "/people/v2/tags?per_page=100&where[kind]=skill").await;
    assert_eq!(status, 200);
    let want = data
        .iter()
        .filter(|t| t["attributes"]["kind"] == "skill")
        .count();
    assert_eq!(skills["data"].as_array().unwrap().len(), want);
    let (status, _, _) = common::get(&sim, "/people/v2/tags?order=-weight").await;
    assert_eq!(status, 200);
    let (status, _, _) = common::get(&sim, "/people/v2/tags?order=uses").await;
    assert_eq!(status, 400, "uses is not declared orderable");
    let id = data[0]["id"].as_str().unwrap();
    let (status, _, one) = common::get(&sim, &format!("/people/v2/tags/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["data"], data[0].clone().tap_no_included());

    // The rest of the organisation is unchanged.
    let (status, _, p) = common::get(&sim, "/people/v2/people?per_page=1").await;
    assert_eq!(status, 200);
    assert_eq!(p["meta"]["total_count"], 60);
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

trait NoIncluded {
    fn tap_no_included(self) -> Value;
}

impl NoIncluded for Value {
    /// The resource as a single GET without `include` renders it: no `links.related`.
    fn tap_no_included(mut self) -> Value {
        if let Some(rels) = self["relationships"].as_object_mut() {
            for r in rels.values_mut() {
                if let Some(o) = r.as_object_mut() {
                    o.remove("links");
                }
            }
        }
        self
    }
}

#[tokio::test]
async fn every_operation_of_specs_pco_is_served() {
    let (ir, _) =
        tributary_codegen::resolve_dir(&common::spec_dir()).unwrap_or_else(|e| panic!("{e:?}"));
    let sim = common::builder(120).no_rate_limit().start().await.unwrap();
    let mut served = 0;
    for op in &ir.operations {
        if op.entity == "WebhookSubscription"
            && op.kind != tributary_codegen::ir::OperationKind::List
        {
            continue; // configuration: none exist until a client creates one
        }
        let first = |entity: &str| {
            sim.org()
                .records(entity)
                .next()
                .map(|r| r.id.to_string())
                .unwrap_or_else(|| panic!("{}: no {entity} generated", op.id))
        };
        let id = match op.kind {
            tributary_codegen::ir::OperationKind::List => None,
            tributary_codegen::ir::OperationKind::Get => Some(first(&op.entity)),
            tributary_codegen::ir::OperationKind::NestedList => {
                Some(first(op.parent.as_deref().unwrap()))
            }
        };
        let mut path = op.path.clone();
        for (json, _) in &op.path_params {
            path = path.replace(&format!("{{{json}}}"), id.as_deref().unwrap());
        }
        let (status, _, doc) = common::get(&sim, &format!("{path}?per_page=100")).await;
        assert_eq!(status, 200, "{} {path}: {doc}", op.id);
        let wire = sim
            .org()
            .schema
            .table(&op.entity)
            .unwrap()
            .wire_type
            .clone();
        match op.kind {
            tributary_codegen::ir::OperationKind::Get => assert_eq!(doc["data"]["type"], wire),
            kind => {
                let data = doc["data"].as_array().unwrap();
                assert!(data.iter().all(|r| r["type"] == wire), "{}", op.id);
                if kind == tributary_codegen::ir::OperationKind::List {
                    assert_eq!(
                        doc["meta"]["total_count"],
                        sim.org().count(&op.entity),
                        "{}",
                        op.id
                    );
                }
                // Every include the operation declares is accepted.
                if !op.includes.is_empty() {
                    let q = format!("{path}?per_page=5&include={}", op.includes.join(","));
                    let (status, _, doc) = common::get(&sim, &q).await;
                    assert_eq!(status, 200, "{q}: {doc}");
                }
            }
        }
        served += 1;
    }
    assert!(served >= 45, "served {served} operations");
    sim.shutdown().await;
}

#[test]
fn relationships_of_the_spec_resolve_to_stored_links() {
    use pco_sim::schema::{RelKind, Schema};
    let s = Schema::load_default().expect("specs/pco resolves");
    let kind = |t: &str, r: &str| {
        s.table(t)
            .and_then(|t| t.relation(r))
            .unwrap_or_else(|| panic!("{t}.{r} missing"))
            .kind
            .clone()
    };
    let many = |via: &str| RelKind::Many { via: via.into() };
    assert_eq!(kind("Person", "addresses"), many("person"));
    assert_eq!(kind("Person", "field_data"), many("customizable"));
    assert_eq!(kind("Person", "notes"), many("person"));
    assert_eq!(
        kind("Person", "households"),
        RelKind::Through {
            join: "HouseholdMembership".into(),
            from: "person".into(),
            to: "household".into()
        }
    );
    assert_eq!(kind("Group", "memberships"), many("group"));
    assert_eq!(kind("CalendarEvent", "event_instances"), many("event"));
    assert_eq!(kind("GroupType", "events"), many("group_type"));
    assert_eq!(kind("List", "people"), RelKind::Sampled);
    assert!(matches!(kind("Address", "person"), RelKind::One { .. }));
    assert_eq!(kind("Person", "organization"), RelKind::Org);
    let person = s.table("Person").unwrap();
    assert_eq!(person.enums["status"], ["active", "inactive"]);
    assert!(
        person.attr("directory_shared_info").is_none(),
        "?fields-only"
    );
    assert!(person.can_include.iter().any(|i| i == "organization"));
    let subs = s.table("WebhookSubscription").unwrap();
    assert_eq!(subs.collection.as_deref(), Some("subscriptions"));
    assert_eq!(
        s.collection("webhooks", "webhook_subscriptions"),
        s.index("WebhookSubscription")
    );
}

/// The spec compiled into the simulator (what `pco-sim` and `tributary demo` serve wherever
/// they run) is this workspace's `specs/pco`, every file of it.
#[test]
fn the_compiled_in_spec_is_the_workspace_spec() {
    let dir = common::spec_dir();
    let mut on_disk = Vec::new();
    for sub in ["", "openapi"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = e.unwrap().path();
            if path.is_file() {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let rel = if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                };
                on_disk.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    on_disk.sort();
    let carried: Vec<(String, String)> = pco_sim::schema::spec_files()
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&carried), names(&on_disk));
    assert!(names(&carried).contains(&"manifest.yaml".to_owned()));
    assert!(
        carried == on_disk,
        "a compiled-in file differs from specs/pco"
    );
}
