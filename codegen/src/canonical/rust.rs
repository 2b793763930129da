//! Rust types for the canonical model: table descriptions the engine builds queries from, and
//! one serde struct per entity for readers of the canonical database.

use heck::{ToShoutySnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::spec::{COMMON_COLUMNS, ColumnType, LINK_COLUMNS, Spec, common_default};

fn field_ident(name: &str) -> proc_macro2::Ident {
    const KEYWORDS: &[&str] = &[
        "type", "match", "ref", "mod", "use", "fn", "loop", "move", "self", "static", "struct",
        "trait", "where", "impl", "in", "for", "if", "else", "as", "box", "const", "crate",
    ];
    if KEYWORDS.contains(&name) {
        proc_macro2::Ident::new_raw(name, proc_macro2::Span::call_site())
    } else {
        format_ident!("{}", name)
    }
}

fn rust_type(ty: ColumnType, nullable: bool) -> TokenStream {
    let inner = match ty {
        ColumnType::Text | ColumnType::Date | ColumnType::Timestamp => quote!(String),
        ColumnType::Integer => quote!(i64),
        ColumnType::Decimal => quote!(f64),
        ColumnType::Boolean => quote!(bool),
        ColumnType::Json => quote!(serde_json::Value),
    };
    if nullable {
        quote!(Option<#inner>)
    } else {
        inner
    }
}

fn column_def(name: &str, ty: ColumnType, default: Option<&str>) -> TokenStream {
    let variant = format_ident!("{}", ty.variant());
    let default = match default {
        Some(d) => quote!(Some(#d)),
        None => quote!(None),
    };
    quote!(ColumnDef { name: #name, ty: ColumnType::#variant, default: #default })
}

/// The Rust source (formatted) for the spec.
pub fn source(spec: &Spec) -> Result<String, syn::Error> {
    let common = COMMON_COLUMNS
        .iter()
        .map(|(n, t, _)| column_def(n, *t, common_default(n)));
    let link = LINK_COLUMNS.iter().map(|(n, t, _)| column_def(n, *t, None));
    let mut consts = Vec::new();
    let mut const_names = Vec::new();
    let mut structs = Vec::new();
    for (name, e) in &spec.entities {
        let const_name = format_ident!("{}", name.to_shouty_snake_case());
        let (table, prefix, doc) = (&e.table, &e.prefix, &e.doc);
        let fields = e.columns().map(|(f, t)| column_def(&f, t, None));
        let refs = e.refs.iter().map(|(rel, target)| {
            let column = super::spec::ref_column(rel);
            quote!(RefDef { relationship: #rel, column: #column, target: #target })
        });
        consts.push(quote! {
            #[doc = #doc]
            pub const #const_name: TableDef = TableDef {
                entity: #name,
                table: #table,
                prefix: #prefix,
                doc: #doc,
                fields: &[#(#fields),*],
                refs: &[#(#refs),*],
            };
        });
        const_names.push(const_name);
        let struct_name = format_ident!("{}", name.to_upper_camel_case());
        let common_fields = COMMON_COLUMNS.iter().map(|(n, t, nullable)| {
            let id = field_ident(n);
            let ty = rust_type(*t, *nullable);
            quote!(#[doc = concat!("Common column `", #n, "`.")] pub #id: #ty)
        });
        let own_fields = e.fields.iter().map(|(n, t)| {
            let id = field_ident(n);
            let ty = rust_type(*t, true);
            quote!(#[doc = concat!("Field `", #n, "`.")] pub #id: #ty)
        });
        let ref_fields = e.refs.iter().map(|(rel, target)| {
            let n = super::spec::ref_column(rel);
            let id = field_ident(&n);
            let ty = rust_type(ColumnType::Text, true);
            let doc = format!("Relationship `{rel}`: the canonical id of a `{target}`.");
            quote!(#[doc = #doc] pub #id: #ty)
        });
        let link_fields = LINK_COLUMNS.iter().map(|(n, t, nullable)| {
            let id = field_ident(n);
            let ty = rust_type(*t, *nullable);
            quote!(#[doc = concat!("Link column `", #n, "`.")] pub #id: #ty)
        });
        structs.push(quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
            pub struct #struct_name {
                #(#common_fields,)*
                #(#own_fields,)*
                #(#ref_fields,)*
                #(#link_fields,)*
            }
        });
    }
    let system = spec.system.keys();
    let tokens = quote! {
        /// The type of a canonical column, independent of the SQL dialect.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ColumnType {
            /// A string.
            Text,
            /// A 64-bit integer.
            Integer,
            /// A floating-point number.
            Decimal,
            /// `true` / `false`.
            Boolean,
            /// A calendar date `YYYY-MM-DD`.
            Date,
            /// An instant, RFC 3339.
            Timestamp,
            /// Any JSON value.
            Json,
        }

        /// One column of a canonical table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct ColumnDef {
            /// The column name.
            pub name: &'static str,
            /// Its type.
            pub ty: ColumnType,
            /// Its default, as text, where the schema gives one (`'[]'` is `Some("[]")`).
            pub default: Option<&'static str>,
        }

        /// A canonical entity table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct TableDef {
            /// The entity name adapters map onto, e.g. `person`.
            pub entity: &'static str,
            /// The table name.
            pub table: &'static str,
            /// The id prefix (`person` for `person_…`).
            pub prefix: &'static str,
            /// Documentation.
            pub doc: &'static str,
            /// The entity's own columns, after [`COMMON_COLUMNS`] and before [`LINK_COLUMNS`]:
            /// its fields, then its refs' columns.
            pub fields: &'static [ColumnDef],
            /// Its to-one relationships held in columns (their columns end `fields`).
            pub refs: &'static [RefDef],
        }

        /// A to-one relationship held in a column of its row, not in `edges`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct RefDef {
            /// The relationship's name, as edges and the `relationships` view name it.
            pub relationship: &'static str,
            /// The column holding the target's canonical id (`<relationship>_id`).
            pub column: &'static str,
            /// The target canonical entity.
            pub target: &'static str,
        }

        /// The columns every entity table starts with.
        pub const COMMON_COLUMNS: &[ColumnDef] = &[#(#common),*];

        /// The columns every entity table ends with: where the row came from and its sync
        /// bookkeeping (the `external_links` view shows them).
        pub const LINK_COLUMNS: &[ColumnDef] = &[#(#link),*];

        #(#consts)*

        /// Every canonical entity, in spec order.
        pub const ENTITIES: &[TableDef] = &[#(#const_names),*];

        /// Bookkeeping tables.
        pub const SYSTEM_TABLES: &[&str] = &[#(#system),*];

        /// The entity with this name.
        pub fn entity(name: &str) -> Option<&'static TableDef> {
            ENTITIES.iter().find(|t| t.entity == name)
        }

        #(#structs)*
    };
    let file = syn::parse2::<syn::File>(tokens)?;
    Ok(prettyplease::unparse(&file))
}
