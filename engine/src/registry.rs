//! The adapters this binary knows. Adding an adapter is one line here.

use tributary_core::Manifest;

/// Every registered adapter's manifest.
pub fn adapters() -> Vec<&'static Manifest> {
    vec![
        // One line per adapter.
        &tributary_pco::MANIFEST,
    ]
}

/// The adapter named `name`.
pub fn adapter(name: &str) -> Option<&'static Manifest> {
    adapters().into_iter().find(|m| m.adapter == name)
}
