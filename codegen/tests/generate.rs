//! Generated code is reviewed through insta snapshots (`cargo insta review`), and the generator's
//! behaviour on the real PCO spec is pinned here.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn generate(dir: &Path) -> tributary_codegen::Generated {
    tributary_codegen::generate(dir).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn pco_snapshot() {
    let g = generate(&workspace().join("specs/pco"));
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
    insta::assert_snapshot!("pco", g.code);
}

#[test]
fn kitchen_sink_snapshot() {
    let g = generate(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kitchen_sink"));
    insta::assert_snapshot!("kitchen_sink", g.code);
    // Tag ~> Widget ~> Tag is a soft cycle: broken at Tag (first by name with hard deps met)...
    assert_eq!(g.warnings.len(), 1);
    assert!(
        g.warnings[0].contains("soft dependency Tag -> Widget"),
        "{:?}",
        g.warnings
    );
    assert_eq!(
        g.adapter.sync_order,
        vec![vec!["Tag"], vec!["Widget"], vec!["Part"]]
    );
}

#[test]
fn openapi30_snapshot() {
    let g = generate(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openapi30"));
    insta::assert_snapshot!("openapi30", g.code);
}

#[test]
fn pco_sync_order_follows_the_manifest() {
    let g = generate(&workspace().join("specs/pco"));
    assert_eq!(
        g.adapter.sync_order,
        vec![
            vec![
                "CalendarEvent",
                "Campus",
                "GroupType",
                "Household",
                "List",
                "Tab",
                "WebhookSubscription"
            ],
            vec!["EventInstance", "FieldDefinition", "Group", "Person"],
            vec![
                "Address",
                "Email",
                "FieldDatum",
                "GroupEvent",
                "GroupMembership",
                "HouseholdMembership",
                "Note",
                "PhoneNumber",
            ],
        ]
    );
    // Every spec file read is reported, so build.rs can watch it.
    let names: Vec<String> = g
        .inputs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "manifest.yaml",
            "people.yaml",
            "groups.yaml",
            "calendar.yaml",
            "webhooks.yaml"
        ]
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn adding_an_attribute_to_the_spec_changes_the_generated_struct() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("specs/pco"), tmp.path());
    let before = generate(tmp.path()).code;
    assert!(!before.contains("pub favourite_hymn:"));

    // The edit a user makes: one attribute under Person's attributes, nothing else.
    let people = tmp.path().join("openapi/people.yaml");
    let text = std::fs::read_to_string(&people).unwrap();
    let anchor = "            accounting_administrator:\n";
    assert_eq!(
        text.matches(anchor).count(),
        1,
        "the anchor must be Person's attribute only"
    );
    assert!(
        text.contains(anchor),
        "Person's first attribute moved; update this test"
    );
    let edited = text.replacen(
        anchor,
        &format!("            favourite_hymn:\n              type:\n              - string\n              - 'null'\n              description: The hymn they ask for.\n{anchor}"),
        1,
    );
    std::fs::write(&people, edited).unwrap();

    let after = generate(tmp.path()).code;
    assert!(after.contains("/// The hymn they ask for.\n    #[serde(rename = \"favourite_hymn\", default)]\n    pub favourite_hymn: ::std::option::Option<::std::string::String>,"), "new field missing");
}
