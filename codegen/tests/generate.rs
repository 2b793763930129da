//! Generated code is reviewed through insta snapshots (`cargo insta review`), and the generator's
//! behaviour on the real PCO spec is pinned here.

use std::path::{Path, PathBuf};

/// This crate's folder, read at run time: a test binary cargo reuses for another checkout
/// sharing the target directory must read that checkout's files, not the one it was built in.
fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .expect("cargo sets CARGO_MANIFEST_DIR for tests")
}

fn workspace() -> PathBuf {
    crate_dir().join("..")
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
    let g = generate(&crate_dir().join("tests/fixtures/kitchen_sink"));
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
    let g = generate(&crate_dir().join("tests/fixtures/openapi30"));
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

/// A spec folder's files as a binary carries them (`resolve_files`): the same adapter as read
/// from disk, with no file read (the folder named does not exist), and a missing document
/// reported like a missing file.
#[test]
fn a_spec_carried_in_memory_resolves_like_the_folder() {
    let dir = workspace().join("specs/pco");
    let mut texts = vec![(
        "manifest.yaml".to_owned(),
        std::fs::read_to_string(dir.join("manifest.yaml")).unwrap(),
    )];
    for e in std::fs::read_dir(dir.join("openapi")).unwrap() {
        let path = e.unwrap().path();
        let name = format!("openapi/{}", path.file_name().unwrap().to_string_lossy());
        texts.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    let files: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let nowhere = Path::new("/nowhere/specs/pco");
    assert!(!nowhere.exists());
    let carried =
        tributary_codegen::resolve_files(nowhere, &files).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(carried.manifest_path, nowhere.join("manifest.yaml"));
    assert_eq!(
        tributary_codegen::emit::rust(&carried),
        generate(&dir).code,
        "the same generated code"
    );

    let without_people: Vec<(&str, &str)> = files
        .iter()
        .copied()
        .filter(|(n, _)| *n != "openapi/people.yaml")
        .collect();
    let e = tributary_codegen::resolve_files(nowhere, &without_people)
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nowhere/specs/pco/manifest.yaml"), "{e}");
    assert!(
        e.contains("OpenAPI document `openapi/people.yaml` does not exist"),
        "{e}"
    );
    let e = tributary_codegen::resolve_files(nowhere, &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/nowhere/specs/pco/manifest.yaml") && e.contains("cannot read the file"),
        "{e}"
    );
}

/// A document the manifest lists but the folder lacks is named as missing, on disk too.
#[test]
fn a_missing_document_is_named() {
    let dir = std::env::temp_dir().join(format!("tributary-missing-doc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = std::fs::read_to_string(workspace().join("specs/pco/manifest.yaml")).unwrap();
    std::fs::write(dir.join("manifest.yaml"), manifest).unwrap();
    let e = tributary_codegen::resolve_dir(&dir)
        .unwrap_err()
        .to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(e.contains("manifest.yaml"), "{e}");
    assert!(e.contains("does not exist"), "{e}");
    assert!(e.contains("/openapi/0"), "{e}");
}
