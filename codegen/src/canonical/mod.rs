//! The canonical model: `specs/canonical.yaml` → Rust types and SQL migrations.
