//! Generates the PCO adapter from `specs/pco` on every build that touches a spec file.

fn main() {
    // Read at run time, not with `env!`: cargo may reuse one compiled build script for two
    // checkouts that share a target directory, and a path baked in at compile time then
    // generates the adapter from the other checkout's specs (seen with a git worktree).
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let spec = std::path::Path::new(&dir).join("../../specs/pco");
    tributary_codegen::build_script(&spec, "pco.rs");
}
