//! # tributary-codegen
//!
//! Turns Tributary's declarative spec files into typed Rust. Used from `build.rs` of every
//! adapter crate, from the proc macros, and from `tributary codegen` for reviewing output.
//!
//! The pipeline is a sequence of modules, each with one job:
//! 1. [`load`] reads the OpenAPI documents (3.0 and 3.1) and the adapter manifest;
//! 2. [`validate`] checks them together and reports *every* problem, each naming the file, the
//!    entity or operation and the JSON pointer;
//! 3. [`ir`] is the resolved model the emitters work from (entities, attributes, relationships
//!    with their dependency class, endpoints, mapping);
//! 4. [`graph`] orders entities in topological levels and names hard cycles;
//! 5. [`emit`] writes Rust with `quote` + `prettyplease`, and JSON Schema.
//!
//! [`canonical`] does the same for the canonical model spec.

pub mod canonical;
pub mod derive;
pub mod diagnostic;
pub mod emit;
pub mod graph;
pub mod ir;
pub mod load;
pub mod manifest;
pub mod naming;
pub mod resolve;

use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Diagnostics};

/// The result of generating an adapter.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The formatted Rust source.
    pub code: String,
    /// Every file read (for `cargo:rerun-if-changed`).
    pub inputs: Vec<PathBuf>,
    /// Warnings (soft cycles broken), one line each.
    pub warnings: Vec<String>,
    /// The resolved model.
    pub adapter: ir::Adapter,
}

/// Loads, validates and resolves the spec folder `dir` into the IR.
pub fn resolve_dir(dir: &Path) -> Result<(ir::Adapter, Vec<PathBuf>), Diagnostics> {
    let loaded = load::load(dir)?;
    let adapter = resolve::resolve(&loaded)?;
    Ok((adapter, loaded.inputs()))
}

/// [`resolve_dir`] for a spec folder a binary carries: `files` are (path relative to `dir`,
/// text) pairs, `/`-separated; diagnostics name `dir`'s files as if read from disk.
pub fn resolve_files(dir: &Path, files: &[(&str, &str)]) -> Result<ir::Adapter, Diagnostics> {
    let read = |path: &Path| -> std::io::Result<String> {
        let rel = path.strip_prefix(dir).unwrap_or(path);
        files
            .iter()
            .find(|(name, _)| Path::new(name) == rel)
            .map(|(_, text)| (*text).to_owned())
            .ok_or_else(|| std::io::ErrorKind::NotFound.into())
    };
    let loaded = load::load_with(dir, &read)?;
    resolve::resolve(&loaded)
}

/// Generates the Rust source of the adapter described in `dir`.
pub fn generate(dir: &Path) -> Result<Generated, Diagnostics> {
    let (adapter, inputs) = resolve_dir(dir)?;
    let warnings = adapter
        .broken_soft_edges
        .iter()
        .map(|(e, d)| {
            format!(
                "{}: soft dependency {e} -> {d} is part of a cycle and was dropped from the sync order",
                adapter.manifest_path.display()
            )
        })
        .collect();
    Ok(Generated {
        code: emit::rust(&adapter),
        inputs,
        warnings,
        adapter,
    })
}

/// Generates the adapter in `spec_dir` into `out_dir/<adapter>.rs`, returning the file written.
pub fn generate_to_dir(
    spec_dir: &Path,
    out_dir: &Path,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let generated = generate(spec_dir)?;
    std::fs::create_dir_all(out_dir)?;
    let path = out_dir.join(format!("{}.rs", generated.adapter.name));
    std::fs::write(&path, generated.code)?;
    Ok(path)
}

/// For `build.rs`: generates `spec_dir` into `$OUT_DIR/<file_name>`, prints
/// `cargo:rerun-if-changed` for every input and `cargo:warning` for every warning, and exits the
/// build with every problem listed when the spec is invalid.
pub fn build_script(spec_dir: &Path, file_name: &str) {
    println!("cargo:rerun-if-changed={}", spec_dir.display());
    let generated = match generate(spec_dir) {
        Ok(g) => g,
        Err(diags) => {
            // Inputs may be unreadable; still watch the folder so a fix triggers a rebuild.
            eprintln!(
                "error: the spec in {} is invalid\n{diags}",
                spec_dir.display()
            );
            std::process::exit(1);
        }
    };
    for input in &generated.inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    for w in &generated.warnings {
        println!("cargo:warning={w}");
    }
    let out_dir = std::env::var_os("OUT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let path = out_dir.join(file_name);
    if let Err(e) = std::fs::write(&path, generated.code) {
        eprintln!("error: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
}
