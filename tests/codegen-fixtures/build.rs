//! Generates every fixture under `codegen/tests/fixtures` that is meant to be valid.

fn main() {
    // At run time, not with `env!` (see `adapters/pco/build.rs`).
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let fixtures = std::path::Path::new(&dir).join("../../codegen/tests/fixtures");
    for name in ["kitchen_sink", "openapi30"] {
        tributary_codegen::build_script(&fixtures.join(name), &format!("{name}.rs"));
    }
}
