//! The `impl Entity` block, shared by the generator and `#[derive(Entity)]` so that generated
//! and hand-written entities describe themselves identically.

use proc_macro2::TokenStream;
use quote::quote;

/// The pieces of one `impl ::tributary_core::Entity`.
pub(crate) struct EntityImpl<'a> {
    /// The implementing type.
    pub ty: TokenStream,
    /// `type Relationships = ...`.
    pub relationships_ty: TokenStream,
    /// `EntityDef::name`.
    pub name: &'a str,
    /// `EntityDef::json_type`.
    pub json_type: &'a str,
    /// `EntityDef::doc`.
    pub doc: &'a str,
    /// `RelationshipDef { .. },` items (see [`relationship_def`]).
    pub relationships: Vec<TokenStream>,
    /// `EndpointDef { .. },` items (see [`endpoint_def`]).
    pub endpoints: Vec<TokenStream>,
    /// `EntityDef::includes`.
    pub includes: &'a [String],
    /// `EntityDef::order_by`.
    pub order_by: &'a [String],
    /// `EntityDef::query_by`.
    pub query_by: &'a [String],
    /// `EntityDef::webhook_events`.
    pub webhooks: &'a [String],
    /// A `&'static CanonicalMapping` expression, if any.
    pub canonical: Option<TokenStream>,
}

/// `Option<&str>` as tokens.
pub(crate) fn option_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(::std::option::Option::Some(#s)),
        None => quote!(::std::option::Option::None),
    }
}

/// One `RelationshipDef { .. },` item; `dependency` is a `::tributary_core::Dependency` path.
pub(crate) fn relationship_def(
    name: &str,
    target: &str,
    to_many: bool,
    dependency: TokenStream,
) -> TokenStream {
    quote!(::tributary_core::RelationshipDef { name: #name, target: #target, to_many: #to_many, dependency: #dependency },)
}

/// One `EndpointDef { .. },` item; `kind` is a `::tributary_core::EndpointKind` path.
pub(crate) fn endpoint_def(
    operation_id: &str,
    kind: TokenStream,
    path: &str,
    parent: Option<&str>,
) -> TokenStream {
    let parent = option_str(parent);
    quote!(::tributary_core::EndpointDef { operation_id: #operation_id, kind: #kind, path: #path, parent: #parent },)
}

/// The `impl ::tributary_core::Entity` block.
pub(crate) fn entity_impl(e: EntityImpl<'_>) -> TokenStream {
    let EntityImpl {
        ty,
        relationships_ty,
        name,
        json_type,
        doc,
        relationships,
        endpoints,
        includes,
        order_by,
        query_by,
        webhooks,
        canonical,
    } = e;
    let canonical = match canonical {
        Some(m) => quote!(::std::option::Option::Some(&#m)),
        None => quote!(::std::option::Option::None),
    };
    quote! {
        impl ::tributary_core::Entity for #ty {
            type Relationships = #relationships_ty;
            const DEF: ::tributary_core::EntityDef = ::tributary_core::EntityDef {
                name: #name,
                json_type: #json_type,
                doc: #doc,
                relationships: &[#(#relationships)*],
                endpoints: &[#(#endpoints)*],
                includes: &[#(#includes),*],
                order_by: &[#(#order_by),*],
                query_by: &[#(#query_by),*],
                canonical: #canonical,
                webhook_events: &[#(#webhooks),*],
            };
        }
    }
}
