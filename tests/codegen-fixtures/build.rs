//! Generates every fixture under `codegen/tests/fixtures` that is meant to be valid.

fn main() {
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../codegen/tests/fixtures");
    for name in ["kitchen_sink", "openapi30"] {
        tributary_codegen::build_script(&fixtures.join(name), &format!("{name}.rs"));
    }
}
