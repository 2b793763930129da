//! Canonical mappings as `tributary_core::CanonicalMapping` constants.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::{Mapping, TransformKind};

fn transform(t: TransformKind) -> TokenStream {
    match t {
        TransformKind::Copy => quote!(::tributary_core::Transform::Copy),
        TransformKind::Trim => quote!(::tributary_core::Transform::Trim),
        TransformKind::Lowercase => quote!(::tributary_core::Transform::Lowercase),
        TransformKind::Gender => quote!(::tributary_core::Transform::Gender),
        TransformKind::Date => quote!(::tributary_core::Transform::Date),
    }
}

/// A `CanonicalMapping { ... }` expression.
pub fn mapping(m: &Mapping) -> TokenStream {
    let target = &m.target;
    let fields = m.fields.iter().map(|(from, to, t)| {
        let t = transform(*t);
        quote!(::tributary_core::FieldMapping { from: #from, to: #to, transform: #t },)
    });
    let owner = match &m.owner {
        Some((rel, entity)) => {
            let edge = crate::canonical::owner_relationship(target);
            quote!(::std::option::Option::Some(::tributary_core::EdgeMapping { relationship: #rel, target: #entity, edge: #edge }))
        }
        None => quote!(::std::option::Option::None),
    };
    let edges = m.edges.iter().map(|(rel, entity, edge)| {
        quote!(::tributary_core::EdgeMapping { relationship: #rel, target: #entity, edge: #edge },)
    });
    let updated_at = match &m.updated_at {
        Some(u) => quote!(::std::option::Option::Some(#u)),
        None => quote!(::std::option::Option::None),
    };
    let ignore = &m.ignore;
    let hook = match &m.hook {
        Some(path) => {
            let path: TokenStream = path
                .parse()
                .unwrap_or_else(|_| quote!(compile_error!("invalid hook path")));
            quote!(::std::option::Option::Some(#path))
        }
        None => quote!(::std::option::Option::None),
    };
    quote! {
        ::tributary_core::CanonicalMapping {
            target: #target,
            fields: &[#(#fields)*],
            owner: #owner,
            edges: &[#(#edges)*],
            updated_at: #updated_at,
            ignore: &[#(#ignore),*],
            hook: #hook,
        }
    }
}
