//! The canonical model: `specs/canonical.yaml` → Rust types and SQL migrations.
//!
//! [`Spec::parse`] loads and checks the spec; [`sql::migration`] writes the migration for a
//! [`Dialect`]; [`rust::source`] writes the table descriptions and entity structs. The engine
//! calls [`generate`] from its `build.rs`, so the spec is the one place the model lives.

pub mod rust;
pub mod spec;
pub mod sql;

use std::path::Path;

pub use spec::{ColumnType, Spec};
pub use sql::Dialect;

/// Why the canonical spec could not be turned into code.
#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The YAML does not have the spec's shape.
    #[error("specs/canonical.yaml: {0}")]
    Parse(String),
    /// The spec is well-formed but inconsistent; every problem is listed.
    #[error("specs/canonical.yaml is invalid:\n  {}", .0.join("\n  "))]
    Invalid(Vec<String>),
    /// The generated Rust did not parse (a generator bug).
    #[error("generated Rust does not parse: {0}")]
    Rust(String),
}

/// Everything generated from one spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The SQLite migration.
    pub sqlite: String,
    /// The PostgreSQL migration.
    pub postgres: String,
    /// The `relationships` view with the deletion of edges a column now holds, the same in
    /// both dialects (see [`sql::relationships_migration`]).
    pub relationships: String,
    /// The Rust module source.
    pub rust: String,
}

/// The name of the relationship between an owned row of canonical `entity` and its owner
/// (`address_of`): what generated mappings call the owner edge and what the `relationships`
/// view shows, so the two always agree.
pub fn owner_relationship(entity: &str) -> String {
    format!("{entity}_of")
}

/// Generates migrations and Rust from spec text.
pub fn generate(yaml: &str) -> Result<Generated, CanonicalError> {
    let spec = Spec::parse(yaml)?;
    Ok(Generated {
        sqlite: sql::migration(&spec, Dialect::Sqlite),
        postgres: sql::migration(&spec, Dialect::Postgres),
        relationships: sql::relationships_migration(&spec),
        rust: rust::source(&spec).map_err(|e| CanonicalError::Rust(e.to_string()))?,
    })
}

/// Reads `spec_file` and writes `canonical.rs`, `canonical.sqlite.sql`,
/// `canonical.postgres.sql` and `canonical.relationships.sql` into `out_dir`.
pub fn generate_to_dir(spec_file: &Path, out_dir: &Path) -> Result<Generated, CanonicalError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| CanonicalError::Io { path, source }
    };
    let yaml = std::fs::read_to_string(spec_file).map_err(io(spec_file))?;
    let generated = generate(&yaml)?;
    for (name, text) in [
        ("canonical.rs", &generated.rust),
        ("canonical.sqlite.sql", &generated.sqlite),
        ("canonical.postgres.sql", &generated.postgres),
        ("canonical.relationships.sql", &generated.relationships),
    ] {
        let path = out_dir.join(name);
        // Rewriting identical output would needlessly invalidate downstream builds.
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(io(&path))?;
        }
    }
    Ok(generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_text() -> String {
        let path = Path::new(
            &std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
        )
        .join("../specs/canonical.yaml");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn sqlite_migration_snapshot() {
        insta::assert_snapshot!(generate(&spec_text()).unwrap().sqlite);
    }

    #[test]
    fn postgres_migration_snapshot() {
        insta::assert_snapshot!(generate(&spec_text()).unwrap().postgres);
    }

    #[test]
    fn relationships_migration_snapshot() {
        insta::assert_snapshot!(generate(&spec_text()).unwrap().relationships);
    }

    #[test]
    fn rust_snapshot() {
        insta::assert_snapshot!(generate(&spec_text()).unwrap().rust);
    }

    #[test]
    fn reports_every_problem() {
        let yaml = "version: 1\nentities:\n  Bad:\n    table: t\n    prefix: p\n    doc: d\n    fields: {id: text}\n  b:\n    table: t\n    prefix: p\n    doc: d\nsystem: {}\n";
        let CanonicalError::Invalid(problems) = generate(yaml).unwrap_err() else {
            panic!("expected Invalid")
        };
        assert_eq!(problems.len(), 4, "{problems:#?}");
    }

    /// A ref names an entity that exists, and its column collides with nothing.
    #[test]
    fn reports_bad_refs() {
        let yaml = "version: 1\nentities:\n  a:\n    table: a\n    prefix: a\n    doc: d\n    \
                    fields: {b_id: text}\n    refs: {b: a, nowhere: z, owner: a, a_of: a}\n\
                    system: {}\n";
        let CanonicalError::Invalid(problems) = generate(yaml).unwrap_err() else {
            panic!("expected Invalid")
        };
        let want = [
            "entities.a.refs.b: its column `b_id` is also a field",
            "entities.a.refs.nowhere: no canonical entity `z`",
            "entities.a.refs.a_of: the name of an owner relationship",
            "entities.a.refs.owner: its column `owner_id` is a common or link column",
        ];
        for w in want {
            assert!(problems.iter().any(|p| p == w), "{w} in {problems:#?}");
        }
        assert_eq!(problems.len(), want.len(), "{problems:#?}");
        let good = "version: 1\nentities:\n  a:\n    table: a\n    prefix: a\n    doc: d\n    \
                    refs: {best_friend: a}\nsystem: {}\n";
        let generated = generate(good).unwrap();
        assert!(
            generated
                .postgres
                .contains("\"best_friend_id\" TEXT COLLATE \"C\""),
            "{}",
            generated.postgres
        );
    }
}
