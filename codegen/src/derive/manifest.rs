//! `entity_manifest!`: a `tributary_core::Manifest` assembled from hand-written and generated
//! entities, with the sync order (and the hard-cycle check) computed at compile time.
//!
//! ```text
//! entity_manifest! {
//!     /// Docs and attributes are kept.
//!     pub static MANIFEST = {
//!         adapter: "church_tools",
//!         base_url: "https://api.example.org",
//!         entities: [Song, Arrangement, tributary_pco::Person],
//!         // Optional, with these defaults:
//!         per_page_param: "per_page",
//!         offset_param: "offset",
//!         max_per_page: 100,
//!         default_per_page: 25,
//!         delta_filter: "where[{attr}][gte]",   // default: none
//!     };
//! }
//! ```
//!
//! The expansion is one `static` whose initializer block holds the helper items (so nothing
//! leaks into the caller's namespace): the `EntityDef` array, the `Levels` computed by the
//! `const fn` `tributary_core::graph::levels` (a hard cycle or a hard dependency on an entity
//! missing from the list fails const evaluation with a message naming it), the level slices, a
//! duplicate-name check, and the `validate` function.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, Ident, LitStr, Token, Visibility, token};

use super::Errors;

// ---------------------------------------------------------------------------------------------
// Parse
// ---------------------------------------------------------------------------------------------

/// `key: value` inside the manifest's braces.
#[derive(Debug, Clone)]
pub struct Field {
    /// The key.
    pub key: Ident,
    /// The value, checked against the key by [`validate`].
    pub value: Expr,
}

impl Parse for Field {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        // Keywords too, so that `type: ...` gets the "unknown key" error.
        let key = input.call(syn::ext::IdentExt::parse_any)?;
        input.parse::<Token![:]>()?;
        let value = input.parse()?;
        Ok(Field { key, value })
    }
}

/// The macro input as written: `#[attrs] vis static NAME = { key: value, ... };`.
#[derive(Debug, Clone)]
pub struct ManifestInput {
    /// Attributes (doc comments, `#[allow]`, ...) for the static.
    pub attrs: Vec<Attribute>,
    /// The static's visibility.
    pub vis: Visibility,
    /// The static's name.
    pub ident: Ident,
    /// The braces around the fields.
    pub brace: token::Brace,
    /// The fields, in order.
    pub fields: Punctuated<Field, Token![,]>,
}

impl Parse for ManifestInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<Token![static]>()?;
        let ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let content;
        let brace = syn::braced!(content in input);
        let fields = content.parse_terminated(Field::parse, Token![,])?;
        input.parse::<Option<Token![;]>>()?;
        if !input.is_empty() {
            return Err(input.error("expected one `static NAME = { ... };` per `entity_manifest!`"));
        }
        Ok(ManifestInput {
            attrs,
            vis,
            ident,
            brace,
            fields,
        })
    }
}

/// Parses the macro input.
pub fn parse(input: TokenStream) -> syn::Result<ManifestInput> {
    syn::parse2(input)
}

// ---------------------------------------------------------------------------------------------
// Validate
// ---------------------------------------------------------------------------------------------

/// A checked manifest, ready to expand.
#[derive(Debug, Clone)]
pub struct ManifestModel {
    /// Attributes for the static.
    pub attrs: Vec<Attribute>,
    /// The static's visibility.
    pub vis: Visibility,
    /// The static's name.
    pub ident: Ident,
    /// `adapter`.
    pub adapter: LitStr,
    /// `base_url`.
    pub base_url: LitStr,
    /// The entity types, in manifest order.
    pub entities: Vec<syn::Path>,
    /// The span of the entity list (const-evaluation errors point at it).
    pub entities_span: Span,
    /// `per_page_param`.
    pub per_page_param: LitStr,
    /// `offset_param`.
    pub offset_param: LitStr,
    /// `max_per_page`.
    pub max_per_page: u32,
    /// `default_per_page`.
    pub default_per_page: u32,
    /// `delta_filter`.
    pub delta_filter: Option<LitStr>,
}

/// Every key the manifest accepts.
const KEYS: &[&str] = &[
    "adapter",
    "base_url",
    "entities",
    "per_page_param",
    "offset_param",
    "max_per_page",
    "default_per_page",
    "delta_filter",
];

fn lit_str(errors: &mut Errors, key: &Ident, e: &Expr) -> Option<LitStr> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => {
            if s.value().is_empty() {
                errors.at(s, format!("`{key}` must not be empty"));
            }
            Some(s.clone())
        }
        other => {
            errors.at(other, format!("`{key}` takes a string literal"));
            None
        }
    }
}

fn lit_u32(errors: &mut Errors, key: &Ident, e: &Expr) -> Option<(u32, Span)> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => match i.base10_parse::<u32>() {
            Ok(0) => {
                errors.at(i, format!("`{key}` must be at least 1"));
                None
            }
            Ok(v) => Some((v, i.span())),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        other => {
            errors.at(other, format!("`{key}` takes an integer literal"));
            None
        }
    }
}

fn entity_paths(errors: &mut Errors, e: &Expr) -> Option<Vec<syn::Path>> {
    let Expr::Array(array) = e else {
        errors.at(
            e,
            "`entities` takes a list of entity types: `[Song, other::Person]`",
        );
        return None;
    };
    if array.elems.is_empty() {
        errors.at(array, "a manifest needs at least one entity");
    }
    let mut paths: Vec<syn::Path> = Vec::new();
    for elem in &array.elems {
        match elem {
            Expr::Path(p) if p.qself.is_none() => {
                let written = p.path.to_token_stream().to_string();
                if paths
                    .iter()
                    .any(|o| o.to_token_stream().to_string() == written)
                {
                    errors.at(&p.path, format!("`{written}` is listed twice"));
                }
                paths.push(p.path.clone());
            }
            other => errors.at(other, "expected the path of a type implementing `Entity`"),
        }
    }
    Some(paths)
}

/// Checks a parsed manifest: known keys, each once, of the right kind; required keys present.
pub fn validate(input: ManifestInput) -> syn::Result<ManifestModel> {
    let mut errors = Errors::default();
    let mut seen: Vec<&Ident> = Vec::new();
    let (mut adapter, mut base_url, mut entities, mut entities_span) =
        (None, None, None, Span::call_site());
    let (mut per_page_param, mut offset_param, mut delta_filter) = (None, None, None);
    let (mut max_per_page, mut default_per_page) = (None, None);
    for Field { key, value } in &input.fields {
        let k = key.to_string();
        if !KEYS.contains(&k.as_str()) {
            errors.at(
                key,
                format!(
                    "unknown manifest key `{k}`; expected one of: {}",
                    KEYS.join(", ")
                ),
            );
            continue;
        }
        if seen.contains(&key) {
            errors.at(key, format!("`{k}` is given twice"));
            continue;
        }
        seen.push(key);
        match k.as_str() {
            "adapter" => adapter = lit_str(&mut errors, key, value),
            "base_url" => base_url = lit_str(&mut errors, key, value),
            "per_page_param" => per_page_param = lit_str(&mut errors, key, value),
            "offset_param" => offset_param = lit_str(&mut errors, key, value),
            "delta_filter" => delta_filter = lit_str(&mut errors, key, value),
            "max_per_page" => max_per_page = lit_u32(&mut errors, key, value),
            "default_per_page" => default_per_page = lit_u32(&mut errors, key, value),
            _ => {
                entities = entity_paths(&mut errors, value);
                entities_span = value.span();
            }
        }
    }
    for (present, key) in [
        (adapter.is_some(), "adapter"),
        (base_url.is_some(), "base_url"),
        (entities.is_some(), "entities"),
    ] {
        if !present && !seen.iter().any(|s| *s == key) {
            errors.push(syn::Error::new(
                input.brace.span.join(),
                format!("missing manifest key `{key}`"),
            ));
        }
    }
    let max = max_per_page.map_or(100, |(v, _)| v);
    let default = default_per_page.map_or(25.min(max), |(v, _)| v);
    if let Some((v, span)) = default_per_page
        && v > max
    {
        errors.push(syn::Error::new(
            span,
            format!("`default_per_page` ({v}) exceeds `max_per_page` ({max})"),
        ));
    }
    let span = input.ident.span();
    let model = ManifestModel {
        attrs: input.attrs,
        vis: input.vis,
        ident: input.ident,
        adapter: adapter.unwrap_or_else(|| LitStr::new("", span)),
        base_url: base_url.unwrap_or_else(|| LitStr::new("", span)),
        entities: entities.unwrap_or_default(),
        entities_span,
        per_page_param: per_page_param.unwrap_or_else(|| LitStr::new("per_page", span)),
        offset_param: offset_param.unwrap_or_else(|| LitStr::new("offset", span)),
        max_per_page: max,
        default_per_page: default,
        delta_filter,
    };
    errors.finish(model)
}

// ---------------------------------------------------------------------------------------------
// Expand
// ---------------------------------------------------------------------------------------------

/// The manifest `static`, with its helpers scoped inside its initializer.
pub fn expand(model: &ManifestModel) -> TokenStream {
    let ManifestModel {
        attrs,
        vis,
        ident,
        adapter,
        base_url,
        per_page_param,
        offset_param,
        max_per_page,
        default_per_page,
        ..
    } = model;
    let n = model.entities.len();
    let defs = model
        .entities
        .iter()
        .map(|p| quote_spanned!(p.span()=> <#p as ::tributary_core::Entity>::DEF));
    let levels_call = quote_spanned! {model.entities_span=>
        ::tributary_core::graph::levels(&__TRIBUTARY_ENTITIES)
    };
    let level_slices = (0..n).map(|i| quote!(__TRIBUTARY_LEVELS.level(#i)));
    // Two entities with the same name would make `levels` and `validate` ambiguous.
    let mut unique_checks = Vec::new();
    for (i, a) in model.entities.iter().enumerate() {
        for (j, b) in model.entities.iter().enumerate().skip(i + 1) {
            let message = format!(
                "`{}` and `{}` have the same entity name; set a distinct one with \
                 `#[entity(name = \"...\")]`",
                a.to_token_stream(),
                b.to_token_stream()
            )
            .replace(" :: ", "::");
            unique_checks.push(quote! {
                if ::tributary_core::graph::str_eq(__TRIBUTARY_ENTITIES[#i].name, __TRIBUTARY_ENTITIES[#j].name) {
                    ::core::panic!("{}", #message);
                }
            });
        }
    }
    let unique = if unique_checks.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            const _: () = {
                #(#unique_checks)*
            };
        }
    };
    let validate_arms = model.entities.iter().map(|p| {
        quote_spanned! {p.span()=>
            if entity == <#p as ::tributary_core::Entity>::DEF.name {
                return resource.decode::<#p>().map(|_| ()).map_err(|e| e.to_string());
            }
        }
    });
    let delta_filter = match &model.delta_filter {
        Some(f) => quote!(::std::option::Option::Some(#f)),
        None => quote!(::std::option::Option::None),
    };
    quote! {
        #(#attrs)*
        #vis static #ident: ::tributary_core::Manifest = {
            static __TRIBUTARY_ENTITIES: [::tributary_core::EntityDef; #n] = [#(#defs),*];
            static __TRIBUTARY_LEVELS: ::tributary_core::graph::Levels<#n> = #levels_call;
            static __TRIBUTARY_SYNC_ORDER: [&[&str]; #n] = [#(#level_slices),*];

            #unique

            fn __tributary_validate(
                entity: &str,
                resource: &::tributary_core::RawResource,
            ) -> ::std::result::Result<(), ::std::string::String> {
                #(#validate_arms)*
                ::std::result::Result::Err(::std::format!("unknown entity `{entity}`"))
            }

            ::tributary_core::Manifest {
                adapter: #adapter,
                base_url: #base_url,
                entities: &__TRIBUTARY_ENTITIES,
                sync_order: __TRIBUTARY_SYNC_ORDER.split_at(__TRIBUTARY_LEVELS.count).0,
                paging: ::tributary_core::Paging {
                    per_page_param: #per_page_param,
                    offset_param: #offset_param,
                    max_per_page: #max_per_page,
                    default_per_page: #default_per_page,
                },
                delta_filter: #delta_filter,
                validate: __tributary_validate,
            }
        };
    }
}

/// Parse → validate → expand.
pub fn manifest(input: TokenStream) -> syn::Result<TokenStream> {
    Ok(expand(&validate(parse(input)?)?))
}
