//! `#[derive(Entity)]` for hand-written entity attribute structs.
//!
//! ```text
//! #[derive(Debug, Clone, Serialize, Deserialize, Entity)]
//! #[entity(
//!     name = "Song",                 // default: the struct name
//!     json_type = "Song",            // default: the name
//!     doc = "A song.",               // default: first line of the doc comment
//!     relationships(
//!         arrangement(target = "Arrangement", dependency = "hard"),
//!         author(target = "Person", dependency = "soft", to_many),
//!         kind_(target = "Kind", dependency = "ignore", rename = "type"),
//!     ),
//!     endpoint(kind = "list", path = "/songs"),
//!     endpoint(kind = "get", path = "/songs/{id}", operation_id = "get_song"),
//!     includes("arrangement"),
//!     order_by("title"), query_by("title"), webhook_events("song.updated"),
//!     canonical = crate::mapping::SONG,
//! )]
//! struct Song { title: Option<String> }
//! ```
//!
//! implements `::tributary_core::Entity` exactly as the generator does for spec-driven entities:
//! a `SongRelationships` struct with one `Option<ToOne | ToMany>` per declared relationship plus
//! a flattened `extra` map (or `UntypedRelationships` when none are declared), and a `const DEF`.

use darling::{FromDeriveInput, FromMeta, ast::NestedMeta};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ext::IdentExt as _;
use syn::{DeriveInput, Ident, LitStr, Visibility};

use super::Errors;

// ---------------------------------------------------------------------------------------------
// Parse
// ---------------------------------------------------------------------------------------------

/// The derive input as written: the struct and its `#[entity(...)]` attribute.
#[derive(Debug, FromDeriveInput)]
#[darling(attributes(entity), forward_attrs(doc))]
pub struct EntityInput {
    /// The struct's name.
    pub ident: Ident,
    /// The struct's visibility (the relationships struct gets the same).
    pub vis: Visibility,
    /// Generic parameters (rejected by validation).
    pub generics: syn::Generics,
    /// The struct's doc attributes.
    pub attrs: Vec<syn::Attribute>,
    /// `name = "..."`: the entity's unique name in its manifest.
    #[darling(default)]
    pub name: Option<LitStr>,
    /// `json_type = "..."`: the JSON:API type name.
    #[darling(default)]
    pub json_type: Option<LitStr>,
    /// `doc = "..."`: one line of documentation.
    #[darling(default)]
    pub doc: Option<LitStr>,
    /// `relationships(name(target = "...", dependency = "..."), ...)`.
    #[darling(default)]
    pub relationships: Option<Relationships>,
    /// `endpoint(kind = "...", path = "...")`, repeatable.
    #[darling(default, multiple, rename = "endpoint")]
    pub endpoints: Vec<EndpointInput>,
    /// `includes("rel", ...)`: relationships that may be side-loaded.
    #[darling(default)]
    pub includes: Vec<LitStr>,
    /// `order_by("attr", ...)`.
    #[darling(default)]
    pub order_by: Vec<LitStr>,
    /// `query_by("attr", ...)`.
    #[darling(default)]
    pub query_by: Vec<LitStr>,
    /// `webhook_events("event", ...)`.
    #[darling(default)]
    pub webhook_events: Vec<LitStr>,
    /// `canonical = path::TO::MAPPING`: a `static` or `const` `CanonicalMapping`.
    #[darling(default)]
    pub canonical: Option<syn::Path>,
}

/// The list inside `relationships(...)`.
#[derive(Debug, Default)]
pub struct Relationships(pub Vec<RelationshipInput>);

/// One relationship as written: `author(target = "Person", dependency = "soft", to_many)`.
#[derive(Debug)]
pub struct RelationshipInput {
    /// The relationship's field name (and JSON name unless renamed).
    pub ident: Ident,
    /// Its options.
    pub opts: RelationshipOpts,
}

/// The options of one relationship.
#[derive(Debug, FromMeta)]
pub struct RelationshipOpts {
    /// The target entity's name in the manifest.
    pub target: LitStr,
    /// `hard`, `soft` or `ignore`.
    pub dependency: LitStr,
    /// Whether the relationship holds many resources.
    #[darling(default)]
    pub to_many: bool,
    /// The JSON:API name when it differs from the field name.
    #[darling(default)]
    pub rename: Option<LitStr>,
}

/// One endpoint as written: `endpoint(kind = "nested_list", path = "...", parent = "Person")`.
#[derive(Debug, FromMeta)]
pub struct EndpointInput {
    /// `list`, `nested_list` or `get`.
    pub kind: LitStr,
    /// The path template.
    pub path: LitStr,
    /// The operation id (default: `<name>.<kind>`).
    #[darling(default)]
    pub operation_id: Option<LitStr>,
    /// For nested lists: the parent entity's name.
    #[darling(default)]
    pub parent: Option<LitStr>,
}

impl FromMeta for Relationships {
    fn from_list(items: &[NestedMeta]) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let NestedMeta::Meta(syn::Meta::List(list)) = item else {
                errors.push(
                    darling::Error::custom(
                        "expected a relationship like `author(target = \"Person\", dependency = \"soft\")`",
                    )
                    .with_span(item),
                );
                continue;
            };
            let Some(ident) = list.path.get_ident() else {
                errors.push(
                    darling::Error::custom("a relationship name must be a single identifier")
                        .with_span(&list.path),
                );
                continue;
            };
            let opts = NestedMeta::parse_meta_list(list.tokens.clone())
                .map_err(darling::Error::from)
                .and_then(|nested| RelationshipOpts::from_list(&nested))
                .map_err(|e| e.at(ident.to_string()).with_span(&list.path));
            if let Some(opts) = errors.handle(opts) {
                out.push(RelationshipInput {
                    ident: ident.clone(),
                    opts,
                });
            }
        }
        errors.finish_with(Relationships(out))
    }
}

/// Parses a derive input. Enums and unions are rejected here, pointing at their keyword.
pub fn parse(input: &DeriveInput) -> syn::Result<EntityInput> {
    let (span, kind) = match &input.data {
        syn::Data::Struct(_) => {
            return EntityInput::from_derive_input(input).map_err(syn::Error::from);
        }
        syn::Data::Enum(e) => (e.enum_token.span, "enum"),
        syn::Data::Union(u) => (u.union_token.span, "union"),
    };
    Err(syn::Error::new(
        span,
        format!(
            "`#[derive(Entity)]` only supports structs, not {kind}s: an entity's JSON:API \
             attributes are an object"
        ),
    ))
}

// ---------------------------------------------------------------------------------------------
// Validate
// ---------------------------------------------------------------------------------------------

/// How a relationship orders the sync (mirrors `tributary_core::Dependency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    /// `hard`: the target syncs first; a cycle is a compile error.
    Hard,
    /// `soft`: the target syncs first when that does not block.
    Soft,
    /// `ignore`: recorded only.
    Ignore,
}

impl Dependency {
    /// Parses `hard`, `soft` or `ignore`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hard" => Some(Self::Hard),
            "soft" => Some(Self::Soft),
            "ignore" => Some(Self::Ignore),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Hard => "hard",
            Self::Soft => "soft",
            Self::Ignore => "ignore",
        }
    }
}

/// A checked relationship.
#[derive(Debug, Clone)]
pub struct Relationship {
    /// The field of the relationships struct.
    pub field: Ident,
    /// The JSON:API relationship name.
    pub json_name: String,
    /// The target entity's name.
    pub target: String,
    /// Whether it holds many resources.
    pub to_many: bool,
    /// How it orders the sync.
    pub dependency: Dependency,
}

/// The shape of an endpoint (mirrors `tributary_core::EndpointKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// `list`
    List,
    /// `nested_list`
    NestedList,
    /// `get`
    Get,
}

/// A checked endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The operation id.
    pub operation_id: String,
    /// Its shape.
    pub kind: EndpointKind,
    /// The path template.
    pub path: String,
    /// The parent entity of a nested list.
    pub parent: Option<String>,
}

/// A checked entity, ready to expand.
#[derive(Debug, Clone)]
pub struct EntityModel {
    /// The struct's name.
    pub ident: Ident,
    /// The struct's visibility.
    pub vis: Visibility,
    /// The entity's name in its manifest.
    pub name: String,
    /// The JSON:API type name.
    pub json_type: String,
    /// One line of documentation.
    pub doc: String,
    /// `Some` when `relationships(...)` declared at least one relationship.
    pub relationships: Option<Vec<Relationship>>,
    /// Endpoints.
    pub endpoints: Vec<Endpoint>,
    /// Side-loadable relationships.
    pub includes: Vec<String>,
    /// Orderable attributes.
    pub order_by: Vec<String>,
    /// Queryable attributes.
    pub query_by: Vec<String>,
    /// Webhook events.
    pub webhook_events: Vec<String>,
    /// The canonical mapping, if any.
    pub canonical: Option<syn::Path>,
}

/// The first non-empty line of the `#[doc]` attributes.
fn doc_line(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|s| s.lines().map(|l| l.trim().to_owned()).collect::<Vec<_>>())
        .find(|l| !l.is_empty())
        .unwrap_or_default()
}

/// Checks a parsed entity, reporting every problem at its span.
pub fn validate(input: EntityInput) -> syn::Result<EntityModel> {
    let mut errors = Errors::default();
    if let Some(p) = input.generics.params.first() {
        errors.at(
            p,
            "`#[derive(Entity)]` does not support generic parameters: an entity has one static \
             description",
        );
    }
    let non_empty = |errors: &mut Errors, lit: &LitStr, what: &str| {
        if lit.value().trim().is_empty() {
            errors.at(lit, format!("{what} must not be empty"));
        }
    };
    let name = match &input.name {
        Some(n) => {
            non_empty(&mut errors, n, "the entity name");
            n.value()
        }
        None => input.ident.unraw().to_string(),
    };
    let json_type = match &input.json_type {
        Some(t) => {
            non_empty(&mut errors, t, "the JSON:API type");
            t.value()
        }
        None => name.clone(),
    };
    let doc = match &input.doc {
        Some(d) => d.value(),
        None => doc_line(&input.attrs),
    };

    let mut relationships: Vec<Relationship> = Vec::new();
    for r in input.relationships.iter().flat_map(|r| &r.0) {
        let json_name = match &r.opts.rename {
            Some(n) => {
                non_empty(&mut errors, n, "a relationship name");
                n.value()
            }
            None => r.ident.unraw().to_string(),
        };
        if r.ident == "extra" {
            errors.at(
                &r.ident,
                "the field `extra` holds relationships that are not declared; name this one \
                 differently and add `rename = \"extra\"`",
            );
        }
        if relationships.iter().any(|o| o.field == r.ident) {
            errors.at(&r.ident, format!("duplicate relationship `{}`", r.ident));
        } else if relationships.iter().any(|o| o.json_name == json_name) {
            let span: &dyn quote::ToTokens = match &r.opts.rename {
                Some(n) => n,
                None => &r.ident,
            };
            errors.at(span, format!("duplicate relationship `{json_name}`"));
        }
        non_empty(&mut errors, &r.opts.target, "the target entity");
        let dependency = Dependency::parse(&r.opts.dependency.value()).unwrap_or_else(|| {
            errors.at(
                &r.opts.dependency,
                format!(
                    "unknown dependency `{}`: expected `hard`, `soft` or `ignore`",
                    r.opts.dependency.value()
                ),
            );
            Dependency::Ignore
        });
        relationships.push(Relationship {
            field: r.ident.clone(),
            json_name,
            target: r.opts.target.value(),
            to_many: r.opts.to_many,
            dependency,
        });
    }

    let mut endpoints = Vec::new();
    for e in &input.endpoints {
        let kind = match e.kind.value().as_str() {
            "list" => EndpointKind::List,
            "nested_list" => EndpointKind::NestedList,
            "get" => EndpointKind::Get,
            other => {
                errors.at(
                    &e.kind,
                    format!(
                        "unknown endpoint kind `{other}`: expected `list`, `nested_list` or `get`"
                    ),
                );
                continue;
            }
        };
        match (&e.parent, kind) {
            (None, EndpointKind::NestedList) => errors.at(
                &e.kind,
                "a `nested_list` endpoint needs `parent = \"Entity\"`",
            ),
            (Some(p), EndpointKind::List | EndpointKind::Get) => {
                errors.at(p, "only a `nested_list` endpoint has a parent")
            }
            _ => {}
        }
        non_empty(&mut errors, &e.path, "an endpoint path");
        endpoints.push(Endpoint {
            operation_id: e
                .operation_id
                .as_ref()
                .map(LitStr::value)
                .unwrap_or_else(|| format!("{name}.{}", e.kind.value())),
            kind,
            path: e.path.value(),
            parent: e.parent.as_ref().map(LitStr::value),
        });
    }

    if !relationships.is_empty() {
        for inc in &input.includes {
            if !relationships.iter().any(|r| r.json_name == inc.value()) {
                errors.at(
                    inc,
                    format!(
                        "`{}` is not a declared relationship of `{name}`",
                        inc.value()
                    ),
                );
            }
        }
    }

    let values = |v: &[LitStr]| v.iter().map(LitStr::value).collect::<Vec<_>>();
    let model = EntityModel {
        ident: input.ident.clone(),
        vis: input.vis.clone(),
        name,
        json_type,
        doc,
        relationships: (!relationships.is_empty()).then_some(relationships),
        endpoints,
        includes: values(&input.includes),
        order_by: values(&input.order_by),
        query_by: values(&input.query_by),
        webhook_events: values(&input.webhook_events),
        canonical: input.canonical.clone(),
    };
    errors.finish(model)
}

// ---------------------------------------------------------------------------------------------
// Expand
// ---------------------------------------------------------------------------------------------

/// The relationships struct (if any) and the `Entity` impl.
pub fn expand(model: &EntityModel) -> TokenStream {
    let EntityModel {
        ident,
        vis,
        name,
        json_type,
        doc,
        ..
    } = model;
    let (rel_struct, rel_type) = match &model.relationships {
        None => (
            TokenStream::new(),
            quote!(::tributary_core::jsonapi::UntypedRelationships),
        ),
        Some(rels) => {
            let rel_name = format_ident!("{}Relationships", ident.unraw());
            let struct_doc = format!(" Relationships of [`{ident}`].");
            let fields = rels.iter().map(|r| {
                let field = &r.field;
                let json = &r.json_name;
                let ty = if r.to_many {
                    quote!(::tributary_core::ToMany)
                } else {
                    quote!(::tributary_core::ToOne)
                };
                let field_doc = format!(
                    " `{json}`: {} {} ({} dependency).",
                    if r.to_many { "to-many" } else { "to-one" },
                    r.target,
                    match r.dependency {
                        Dependency::Ignore => "no",
                        d => d.as_str(),
                    }
                );
                quote! {
                    #[doc = #field_doc]
                    #[serde(rename = #json, default, skip_serializing_if = "::std::option::Option::is_none")]
                    pub #field: ::std::option::Option<#ty>,
                }
            });
            (
                quote! {
                    #[doc = #struct_doc]
                    #[derive(
                        Debug, Clone, Default, PartialEq,
                        ::tributary_core::__private::serde::Serialize,
                        ::tributary_core::__private::serde::Deserialize,
                    )]
                    #[serde(crate = "::tributary_core::__private::serde")]
                    #vis struct #rel_name {
                        #(#fields)*
                        /// Relationships that are not declared.
                        #[serde(flatten)]
                        pub extra: ::tributary_core::__private::serde_json::Map<
                            ::std::string::String,
                            ::tributary_core::__private::serde_json::Value,
                        >,
                    }
                },
                quote!(#rel_name),
            )
        }
    };
    use crate::emit::def;
    let relationships = model
        .relationships
        .iter()
        .flatten()
        .map(|r| {
            let dep = match r.dependency {
                Dependency::Hard => quote!(::tributary_core::Dependency::Hard),
                Dependency::Soft => quote!(::tributary_core::Dependency::Soft),
                Dependency::Ignore => quote!(::tributary_core::Dependency::Ignore),
            };
            def::relationship_def(&r.json_name, &r.target, r.to_many, dep)
        })
        .collect();
    let endpoints = model
        .endpoints
        .iter()
        .map(|e| {
            let kind = match e.kind {
                EndpointKind::List => quote!(::tributary_core::EndpointKind::List),
                EndpointKind::NestedList => quote!(::tributary_core::EndpointKind::NestedList),
                EndpointKind::Get => quote!(::tributary_core::EndpointKind::Get),
            };
            def::endpoint_def(&e.operation_id, kind, &e.path, e.parent.as_deref())
        })
        .collect();
    let entity_impl = def::entity_impl(def::EntityImpl {
        ty: quote!(#ident),
        relationships_ty: rel_type,
        name,
        json_type,
        doc,
        relationships,
        endpoints,
        includes: &model.includes,
        order_by: &model.order_by,
        query_by: &model.query_by,
        webhooks: &model.webhook_events,
        canonical: model.canonical.as_ref().map(|p| quote!(#p)),
    });
    quote! {
        #rel_struct

        #entity_impl
    }
}

/// Parse → validate → expand.
pub fn derive(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let parsed = parse(&input)?;
    let model = validate(parsed)?;
    Ok(expand(&model))
}
