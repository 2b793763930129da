//! Compiles `specs/pco` into the simulator, so that `pco-sim` and `tributary demo` serve the
//! spec they were built with wherever the binary runs (an installed binary, a container),
//! not a checkout that may have moved.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    // At run time, not with `env!` (see `adapters/pco/build.rs`).
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let spec = Path::new(&dir).join("../../specs/pco");
    println!("cargo:rerun-if-changed={}", spec.display());
    let mut files = Vec::new();
    collect(&spec, &spec, &mut files);
    files.sort();
    let mut out = String::from(
        "/// `specs/pco` as it was when this crate was built: (path in the folder, text).\n\
         pub const SPEC_FILES: &[(&str, &str)] = &[\n",
    );
    for (rel, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets it")).join("spec.rs");
    std::fs::write(&target, out).expect("write $OUT_DIR/spec.rs");
}

/// The YAML files under `dir`, as (`/`-separated path relative to `root`, path).
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the spec folder {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            let rel = path.strip_prefix(root).expect("under the root");
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((rel.join("/"), path));
        }
    }
}
