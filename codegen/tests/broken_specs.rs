//! Every folder under `tests/broken/` is an invalid spec with an `expected.txt`: each of its lines
//! must appear in the reported problems. The generator must report, never panic.

use std::path::Path;

#[test]
fn every_broken_spec_is_reported_clearly() {
    let root =
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("tests/broken");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/broken exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the broken-spec corpus, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let expected = std::fs::read_to_string(case.join("expected.txt")).expect("expected.txt");
        let result = std::panic::catch_unwind(|| tributary_codegen::generate(case));
        let message = match result {
            Err(_) => {
                failures.push(format!("{}: the generator panicked", case.display()));
                continue;
            }
            Ok(Ok(_)) => {
                failures.push(format!("{}: accepted an invalid spec", case.display()));
                continue;
            }
            Ok(Err(diags)) => diags.to_string(),
        };
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            if !message.contains(line) {
                failures.push(format!(
                    "{}: missing `{line}` in:\n{message}",
                    case.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
