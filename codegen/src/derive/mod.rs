//! The logic behind `tributary-macros`: `#[derive(Entity)]` and `entity_manifest!`.
//!
//! The proc-macro crate is a thin shell over this module, so everything here is testable as plain
//! functions from tokens to tokens. Each macro is split the way `serde_derive` and
//! `thiserror-impl` are:
//!
//! 1. **parse**: tokens → an input model that mirrors what was written (with spans);
//! 2. **validate**: input model → a checked model, or a [`syn::Error`] pointing at the offending
//!    tokens (all problems are reported at once, never a panic);
//! 3. **expand**: checked model → tokens implementing the same `tributary_core` traits the
//!    generator emits (see [`crate::emit`]), with every path absolute (`::tributary_core::...`).
//!
//! Dependency checks that need the full set of entities (hard cycles, hard dependencies on
//! entities missing from a manifest) cannot run in the macro, which only sees names: the
//! manifest expansion evaluates `tributary_core::graph::levels` in a `static`, so they fail the
//! build as const-evaluation errors that spell out the cycle.

pub mod entity;
pub mod manifest;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

/// Expands `#[derive(Entity)]`; errors become `compile_error!` invocations at their spans.
pub fn derive_entity(input: TokenStream) -> TokenStream {
    entity::derive(input).unwrap_or_else(syn::Error::into_compile_error)
}

/// Expands `entity_manifest! { ... }`; errors become `compile_error!` invocations at their spans.
pub fn entity_manifest(input: TokenStream) -> TokenStream {
    manifest::manifest(input).unwrap_or_else(syn::Error::into_compile_error)
}

/// Joins errors into one, so that every problem is reported in one build.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Records an error.
    pub(crate) fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// Records an error at the span of `tokens`.
    pub(crate) fn at<T: quote::ToTokens>(&mut self, tokens: T, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// `Ok(value)` when nothing was recorded.
    pub(crate) fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }
}
