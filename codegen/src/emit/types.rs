//! Named types and entity structs.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::{Adapter, DependencyKind, Entity, Field, NamedKind, NamedType, Type};

use super::{ident, lit_doc};

/// The Rust type of an IR type.
pub fn rust_type(t: &Type) -> TokenStream {
    match t {
        Type::String => quote!(::std::string::String),
        Type::DateTime => {
            quote!(
                ::tributary_core::__private::chrono::DateTime<
                    ::tributary_core::__private::chrono::FixedOffset,
                >
            )
        }
        Type::Date => quote!(::tributary_core::__private::chrono::NaiveDate),
        Type::Integer => quote!(i64),
        Type::Number => quote!(f64),
        Type::Boolean => quote!(bool),
        Type::Json => quote!(::tributary_core::__private::serde_json::Value),
        Type::Array(inner) => {
            let inner = rust_type(inner);
            quote!(::std::vec::Vec<#inner>)
        }
        Type::Named(n) => {
            let n = format_ident!("{}", n);
            quote!(#n)
        }
    }
}

fn serde_attrs() -> TokenStream {
    quote! {
        #[derive(
            Debug, Clone, PartialEq,
            ::tributary_core::__private::serde::Serialize,
            ::tributary_core::__private::serde::Deserialize,
            ::tributary_core::__private::schemars::JsonSchema,
        )]
        #[serde(crate = "::tributary_core::__private::serde")]
        #[schemars(crate = "::tributary_core::__private::schemars")]
    }
}

/// Struct fields plus the `extra` map that keeps unknown attributes.
fn fields(fields: &[Field]) -> TokenStream {
    let fs = fields.iter().map(|f| {
        let name = ident(&f.rust_name);
        let json = &f.json_name;
        let mut ty = rust_type(&f.ty);
        if f.secret {
            ty = quote!(::tributary_core::Redacted<#ty>);
        }
        let doc = lit_doc(f.doc.as_deref().unwrap_or(&format!("`{json}`")));
        if f.optional {
            quote! {
                #doc
                #[serde(rename = #json, default)]
                pub #name: ::std::option::Option<#ty>,
            }
        } else {
            quote! {
                #doc
                #[serde(rename = #json)]
                pub #name: #ty,
            }
        }
    });
    quote! {
        #(#fs)*
        /// Attributes the spec does not describe, kept so that API drift loses no data.
        #[serde(flatten)]
        pub extra: ::std::collections::BTreeMap<::std::string::String, ::tributary_core::__private::serde_json::Value>,
    }
}

/// One named type.
pub fn named(t: &NamedType) -> TokenStream {
    let name = format_ident!("{}", t.name);
    let doc = lit_doc(
        t.doc
            .as_deref()
            .unwrap_or(&format!("`{}` (generated).", t.name)),
    );
    let derive = serde_attrs();
    match &t.kind {
        NamedKind::Object(fs) => {
            let body = fields(fs);
            quote! { #doc #derive pub struct #name { #body } }
        }
        NamedKind::Union(variants) => {
            let vs = variants.iter().map(|(v, ty)| {
                let d = lit_doc(&format!("The value in its `{v}` form."));
                let v = format_ident!("{}", v);
                let ty = rust_type(ty);
                quote!(#d #v(#ty),)
            });
            quote! { #doc #derive #[serde(untagged)] pub enum #name { #(#vs)* } }
        }
        NamedKind::Enum(values) => enumeration(&name, &doc, values),
    }
}

fn enumeration(
    name: &proc_macro2::Ident,
    doc: &TokenStream,
    values: &[(String, String)],
) -> TokenStream {
    let variants: Vec<_> = values.iter().map(|(_, v)| format_ident!("{}", v)).collect();
    let jsons: Vec<_> = values.iter().map(|(j, _)| j).collect();
    let docs = jsons.iter().map(|j| lit_doc(&format!("`{j}`")));
    let schema_name = name.to_string();
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #name {
            #( #docs #variants, )*
            /// A value this spec does not list, kept verbatim.
            Unknown(::std::string::String),
        }

        impl #name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #jsons, )*
                    Self::Unknown(other) => other,
                }
            }
        }

        impl ::tributary_core::__private::serde::Serialize for #name {
            fn serialize<S: ::tributary_core::__private::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::tributary_core::__private::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::tributary_core::__private::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::string::String as ::tributary_core::__private::serde::Deserialize>::deserialize(d)?;
                Ok(match s.as_str() {
                    #( #jsons => Self::#variants, )*
                    _ => Self::Unknown(s),
                })
            }
        }

        impl ::tributary_core::__private::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(#schema_name)
            }
            fn json_schema(_: &mut ::tributary_core::__private::schemars::SchemaGenerator) -> ::tributary_core::__private::schemars::Schema {
                // Unknown values are accepted, so the listed ones are examples, not a constraint.
                ::tributary_core::__private::schemars::json_schema!({
                    "type": "string",
                    "examples": [#(#jsons),*]
                })
            }
        }
    }
}

fn dependency(d: DependencyKind) -> TokenStream {
    match d {
        DependencyKind::Hard => quote!(::tributary_core::Dependency::Hard),
        DependencyKind::Soft => quote!(::tributary_core::Dependency::Soft),
        DependencyKind::Ignore => quote!(::tributary_core::Dependency::Ignore),
    }
}

/// The attributes struct, the relationships struct and the `Entity` impl of one entity.
pub fn entity(adapter: &Adapter, e: &Entity) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let rel_name = format_ident!("{}Relationships", e.name);
    let doc = lit_doc(if e.doc.is_empty() { &e.name } else { &e.doc });
    let derive = serde_attrs();
    let body = fields(&e.attributes);
    let rel_fields = e.relationships.iter().map(|r| {
        let f = ident(&r.rust_name);
        let json = &r.json_name;
        let ty = if r.to_many { quote!(::tributary_core::ToMany) } else { quote!(::tributary_core::ToOne) };
        let doc = lit_doc(&format!(
            "`{json}`: {} {} ({} dependency).",
            if r.to_many { "to-many" } else { "to-one" },
            r.target_type,
            match r.dependency {
                DependencyKind::Hard => "hard",
                DependencyKind::Soft => "soft",
                DependencyKind::Ignore => "no",
            }
        ));
        quote! {
            #doc
            #[serde(rename = #json, default, skip_serializing_if = "::std::option::Option::is_none")]
            pub #f: ::std::option::Option<#ty>,
        }
    });
    let rel_defs = e
        .relationships
        .iter()
        .map(|r| {
            let target = r.target_entity.as_deref().unwrap_or(&r.target_type);
            super::def::relationship_def(&r.json_name, target, r.to_many, dependency(r.dependency))
        })
        .collect();
    // The operations the manifest chose (list, nested, get) come first, so that
    // `EntityDef::endpoint(kind)` finds the chosen one; the others follow for completeness.
    let chosen = [&e.list, &e.nested, &e.get];
    let mut ops: Vec<_> = adapter
        .operations
        .iter()
        .filter(|o| o.entity == e.name)
        .collect();
    ops.sort_by_key(|o| !chosen.iter().any(|c| c.as_deref() == Some(o.id.as_str())));
    let endpoints = ops
        .into_iter()
        .map(|o| {
            let kind = match o.kind {
                crate::ir::OperationKind::List => quote!(::tributary_core::EndpointKind::List),
                crate::ir::OperationKind::NestedList => {
                    quote!(::tributary_core::EndpointKind::NestedList)
                }
                crate::ir::OperationKind::Get => quote!(::tributary_core::EndpointKind::Get),
            };
            super::def::endpoint_def(&o.id, kind, &o.path, o.parent.as_deref())
        })
        .collect();
    let entity_impl = super::def::entity_impl(super::def::EntityImpl {
        ty: quote!(#name),
        relationships_ty: quote!(#rel_name),
        name: &e.name,
        json_type: &e.json_type,
        doc: e.doc.lines().next().unwrap_or(""),
        relationships: rel_defs,
        endpoints,
        includes: &e.include,
        order_by: &e.order_by,
        query_by: &e.query_by,
        webhooks: &e.webhooks,
        canonical: e.canonical.as_ref().map(super::mapping::mapping),
    });
    let rel_doc = lit_doc(&format!("Relationships of [`{}`].", e.name));
    quote! {
        #doc
        #derive
        pub struct #name { #body }

        #rel_doc
        #[derive(
            Debug, Clone, Default, PartialEq,
            ::tributary_core::__private::serde::Serialize,
            ::tributary_core::__private::serde::Deserialize,
        )]
        #[serde(crate = "::tributary_core::__private::serde")]
        pub struct #rel_name {
            #(#rel_fields)*
            /// Relationships the spec does not describe.
            #[serde(flatten)]
            pub extra: ::tributary_core::__private::serde_json::Map<::std::string::String, ::tributary_core::__private::serde_json::Value>,
        }

        #entity_impl
    }
}

/// The stand-in type checking what `t` would accept (see `tributary_core::check`): strings,
/// enums and instants are checked without being kept, JSON values are skipped, named objects
/// and unions (rare) are the real types.
fn check_type(adapter: &Adapter, t: &Type) -> TokenStream {
    match t {
        Type::String => quote!(::tributary_core::check::Str),
        Type::DateTime => quote!(::tributary_core::check::Instant),
        Type::Json => quote!(::tributary_core::__private::serde::de::IgnoredAny),
        Type::Array(inner) => {
            let inner = check_type(adapter, inner);
            quote!(::std::vec::Vec<#inner>)
        }
        Type::Named(n) => {
            let is_enum = adapter
                .types
                .iter()
                .any(|t| t.name == *n && matches!(t.kind, NamedKind::Enum(_)));
            if is_enum {
                quote!(::tributary_core::check::Str)
            } else {
                let n = format_ident!("{}", n);
                quote!(super::#n)
            }
        }
        other => rust_type(other),
    }
}

/// The stand-ins of one entity's attributes and relationships, for `validate`: the same
/// fields, JSON names and optionality as the entity's structs, keeping nothing.
pub fn check(adapter: &Adapter, e: &Entity) -> TokenStream {
    let name = format_ident!("{}", e.name);
    let rel_name = format_ident!("{}Relationships", e.name);
    let derive = quote! {
        #[derive(::tributary_core::__private::serde::Deserialize)]
        #[serde(crate = "::tributary_core::__private::serde")]
    };
    let attrs = e.attributes.iter().map(|f| {
        let name = ident(&f.rust_name);
        let json = &f.json_name;
        let ty = check_type(adapter, &f.ty);
        if f.optional {
            quote!(#[serde(rename = #json, default)] #name: ::std::option::Option<#ty>,)
        } else {
            quote!(#[serde(rename = #json)] #name: #ty,)
        }
    });
    let rels = e.relationships.iter().map(|r| {
        let f = ident(&r.rust_name);
        let json = &r.json_name;
        let ty = if r.to_many {
            quote!(::tributary_core::check::ToMany)
        } else {
            quote!(::tributary_core::check::ToOne)
        };
        quote!(#[serde(rename = #json, default)] #f: ::std::option::Option<#ty>,)
    });
    let doc = lit_doc(&format!("Checks what [`super::{}`] would accept.", e.name));
    let rel_doc = lit_doc(&format!("Checks what [`super::{rel_name}`] would accept."));
    quote! {
        #doc
        #derive
        pub(super) struct #name { #(#attrs)* }

        #rel_doc
        #derive
        pub(super) struct #rel_name { #(#rels)* }
    }
}
