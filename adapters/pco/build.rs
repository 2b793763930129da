//! Generates the PCO adapter from `specs/pco` on every build that touches a spec file.

fn main() {
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/pco");
    tributary_codegen::build_script(&spec, "pco.rs");
}
