//! Reads an adapter's spec folder: `manifest.yaml` and the OpenAPI documents it lists.

mod normalize;

use std::path::{Path, PathBuf};

use serde_norway::Value;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::manifest::ManifestFile;

/// One parsed OpenAPI document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Where it was read from.
    pub path: PathBuf,
    /// The document, normalised to OpenAPI 3.0 and parsed by `openapiv3`.
    pub openapi: openapiv3::OpenAPI,
}

/// Everything read from one spec folder.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The manifest's path.
    pub manifest_path: PathBuf,
    /// The manifest.
    pub manifest: ManifestFile,
    /// The OpenAPI documents, in manifest order.
    pub documents: Vec<Document>,
}

impl Loaded {
    /// Every file read (for `cargo:rerun-if-changed`).
    pub fn inputs(&self) -> Vec<PathBuf> {
        std::iter::once(self.manifest_path.clone())
            .chain(self.documents.iter().map(|d| d.path.clone()))
            .collect()
    }
}

/// Reads a spec file's text: from the file system ([`load`]), or from texts a binary carries
/// ([`load_with`]). A path with no file behind it is [`std::io::ErrorKind::NotFound`].
pub type ReadFile<'a> = &'a dyn Fn(&Path) -> std::io::Result<String>;

/// [`ReadFile`] over the file system.
fn read_fs(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

/// Reads a YAML (or JSON) file into YAML's own value: it rejects duplicate keys, which a JSON
/// map would silently collapse (two entities with one name must be an error, not the last one
/// winning), and its maps keep the file's order, which the generated code follows.
fn read_yaml(path: &Path, read: ReadFile<'_>) -> Result<Value, Diagnostic> {
    let text =
        read(path).map_err(|e| Diagnostic::new(path, format!("cannot read the file: {e}")))?;
    parse_yaml(path, &text)
}

/// [`read_yaml`] of text already read from `path`.
fn parse_yaml(path: &Path, text: &str) -> Result<Value, Diagnostic> {
    let mut value = serde_norway::from_str::<Value>(text).map_err(|e| {
        let d = Diagnostic::new(path, format!("malformed YAML: {e}"));
        match e.location() {
            Some(l) => d.at(format!("line {} column {}", l.line(), l.column())),
            None => d,
        }
    })?;
    normalize::string_keys(&mut value);
    Ok(value)
}

/// Reads `dir/manifest.yaml` and its OpenAPI documents, reporting every problem found.
pub fn load(dir: &Path) -> Result<Loaded, Diagnostics> {
    load_with(dir, &read_fs)
}

/// [`load`] through `read`: the spec folder `dir` need not exist on this machine (a binary
/// may carry its files), and diagnostics still name `dir`'s files.
pub fn load_with(dir: &Path, read: ReadFile<'_>) -> Result<Loaded, Diagnostics> {
    let manifest_path = dir.join("manifest.yaml");
    let raw = read_yaml(&manifest_path, read)?;
    let manifest: ManifestFile = serde_norway::from_value(raw)
        .map_err(|e| Diagnostic::new(&manifest_path, format!("invalid manifest: {e}")))?;
    let mut diags = Diagnostics::default();
    let mut documents = Vec::new();
    for (i, rel) in manifest.openapi.iter().enumerate() {
        let path = dir.join(rel);
        let text = match read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                diags.push(
                    Diagnostic::new(
                        &manifest_path,
                        format!("OpenAPI document `{rel}` does not exist"),
                    )
                    .at(format!("/openapi/{i}")),
                );
                continue;
            }
            Err(e) => {
                diags.push(Diagnostic::new(&path, format!("cannot read the file: {e}")));
                continue;
            }
        };
        match parse_document(&path, &text) {
            Ok(openapi) => documents.push(Document { path, openapi }),
            Err(mut d) => diags.0.append(&mut d.0),
        }
    }
    diags.into_result(Loaded {
        manifest_path,
        manifest,
        documents,
    })
}

/// Parses one OpenAPI document (3.0.x or 3.1.x) read from `path`.
fn parse_document(path: &Path, text: &str) -> Result<openapiv3::OpenAPI, Diagnostics> {
    let mut value = parse_yaml(path, text)?;
    let version = value
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut diags = Diagnostics::default();
    if version.starts_with("3.1") {
        normalize::from_3_1(&mut value, path, &mut diags);
    } else if !version.starts_with("3.0") {
        diags.push(
            Diagnostic::new(
                path,
                format!("unsupported OpenAPI version `{version}` (3.0.x and 3.1.x are supported)"),
            )
            .at("/openapi"),
        );
    }
    normalize::untyped_enums(&mut value);
    if !diags.is_empty() {
        return Err(diags);
    }
    serde_norway::from_value(value)
        .map_err(|e| Diagnostic::new(path, format!("not a valid OpenAPI document: {e}")).into())
}
