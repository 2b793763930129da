//! Generates the canonical model (Rust types and SQL migrations) from `specs/canonical.yaml`.

use std::path::PathBuf;

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let spec = manifest_dir.join("../specs/canonical.yaml");
    println!("cargo::rerun-if-changed={}", spec.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    if let Err(e) = tributary_codegen::canonical::generate_to_dir(&spec, &out) {
        // A readable build failure beats a panic backtrace.
        println!("cargo::error={e}");
    }
}
