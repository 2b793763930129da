//! A typed request builder per GET operation.

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::{Adapter, Operation, OperationKind, Type};
use crate::naming;

use super::{ident, lit_doc};

fn value_enum(name: &proc_macro2::Ident, doc: &str, values: &[String]) -> TokenStream {
    let mut variants: Vec<String> = values.iter().map(|v| naming::type_name(v)).collect();
    naming::dedupe(&mut variants);
    let vs: Vec<_> = variants.iter().map(|v| format_ident!("{}", v)).collect();
    let docs = values.iter().map(|v| lit_doc(&format!("`{v}`")));
    let doc = lit_doc(doc);
    quote! {
        #doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum #name { #( #docs #vs, )* }

        impl #name {
            /// The value as sent on the wire.
            pub fn as_str(self) -> &'static str {
                match self { #( Self::#vs => #values, )* }
            }
        }
    }
}

/// The builder of one operation.
pub fn operation(adapter: &Adapter, op: &Operation) -> TokenStream {
    let builder = format_ident!("{}", op.builder);
    let entity = format_ident!("{}", op.entity);
    let path = &op.path;
    let doc = lit_doc(&format!(
        "`GET {}` (`{}`){}",
        op.path,
        op.id,
        op.doc
            .as_ref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    ));
    let params: Vec<_> = op.path_params.iter().map(|(_, r)| ident(r)).collect();
    let mut template = op.path.clone();
    for (json, _) in &op.path_params {
        template = template.replace(&format!("{{{json}}}"), "{}");
    }
    let path_expr = if params.is_empty() {
        quote!(::std::string::String::from(#path))
    } else {
        quote!(::std::format!(#template, #(::tributary_core::query::encode_segment(#params)),*))
    };
    let mut extra_items = Vec::new();
    let mut methods = Vec::new();
    if !op.includes.is_empty() {
        let inc = format_ident!("{}Include", op.builder);
        extra_items.push(value_enum(
            &inc,
            &format!("Relationships [`{}`] can side-load.", op.builder),
            &op.includes,
        ));
        methods.push(quote! {
            /// Side-loads a relationship (`include=`); repeated calls accumulate.
            pub fn include(mut self, include: #inc) -> Self {
                self.query.append_list("include", include.as_str());
                self
            }
        });
    }
    if op.kind != OperationKind::Get {
        if !op.order_by.is_empty() {
            let ord = format_ident!("{}Order", op.builder);
            extra_items.push(value_enum(
                &ord,
                &format!("Attributes [`{}`] can sort by.", op.builder),
                &op.order_by,
            ));
            methods.push(quote! {
                /// Sorts the collection (`order=attr` or `order=-attr`).
                pub fn order(mut self, by: #ord, direction: ::tributary_core::Direction) -> Self {
                    self.query.set("order", direction.value(by.as_str()));
                    self
                }
            });
        }
        let mut names: Vec<String> = op
            .filters
            .iter()
            .map(|(a, _)| format!("where_{}", a.to_snake_case()))
            .collect();
        naming::dedupe(&mut names);
        for ((attr, ty), name) in op.filters.iter().zip(names) {
            let m = format_ident!("{}", name);
            methods.push(if *ty == Type::DateTime {
                let d = lit_doc(&format!("Filters on `{attr}` (`where[{attr}]`, `where[{attr}][gte]`, …)."));
                quote! {
                    #d
                    pub fn #m(mut self, compare: ::tributary_core::Compare, value: impl ::std::fmt::Display) -> Self {
                        self.query.set(compare.key(#attr), value.to_string());
                        self
                    }
                }
            } else {
                let d = lit_doc(&format!("Filters on `where[{attr}]`."));
                let key = format!("where[{attr}]");
                quote! {
                    #d
                    pub fn #m(mut self, value: impl ::std::fmt::Display) -> Self {
                        self.query.set(#key, value.to_string());
                        self
                    }
                }
            });
        }
        let max = op.max_per_page.unwrap_or(adapter.paging.max_per_page);
        let (pp, off) = (&adapter.paging.per_page_param, &adapter.paging.offset_param);
        let json_type = adapter
            .entities
            .iter()
            .find(|e| e.name == op.entity)
            .map(|e| e.json_type.clone())
            .unwrap_or_default();
        let fields_key = format!("fields[{json_type}]");
        let max_doc = lit_doc(&format!("Page size, clamped to 1..={max}."));
        methods.push(quote! {
            #max_doc
            pub fn per_page(mut self, per_page: u32) -> Self {
                self.query.set(#pp, per_page.clamp(1, #max).to_string());
                self
            }
            /// Starts at this offset.
            pub fn offset(mut self, offset: u64) -> Self {
                self.query.set(#off, offset.to_string());
                self
            }
            /// Sparse fieldset: only these attributes are returned.
            pub fn fields(mut self, fields: &[&str]) -> Self {
                self.query.set(#fields_key, fields.join(","));
                self
            }
            /// Streams every page from the current offset, typed.
            pub fn stream(self) -> ::tributary_core::__private::futures::stream::BoxStream<'static, ::std::result::Result<::tributary_core::Page<#entity>, ::tributary_core::Error>> {
                self.client.pages(self.path, self.query)
            }
            /// Streams every page from the current offset, undecoded.
            pub fn raw_pages(self) -> ::tributary_core::__private::futures::stream::BoxStream<'static, ::std::result::Result<::tributary_core::RawPage, ::tributary_core::Error>> {
                self.client.raw_pages(self.path, self.query)
            }
            /// Fetches one page.
            pub async fn page(&self) -> ::std::result::Result<::tributary_core::Document<::std::vec::Vec<::tributary_core::Resource<#entity>>>, ::tributary_core::Error> {
                self.client.get(&self.path, &self.query).await
            }
        });
    } else {
        methods.push(quote! {
            /// Fetches the resource.
            pub async fn send(&self) -> ::std::result::Result<::tributary_core::Document<::tributary_core::Resource<#entity>>, ::tributary_core::Error> {
                self.client.get(&self.path, &self.query).await
            }
        });
    }
    quote! {
        #doc
        #[derive(Debug, Clone)]
        pub struct #builder {
            client: ::tributary_core::Client,
            path: ::std::string::String,
            query: ::tributary_core::Query,
        }

        impl #builder {
            /// Starts the request.
            pub fn new(client: &::tributary_core::Client #(, #params: &str)*) -> Self {
                Self { client: client.clone(), path: #path_expr, query: ::tributary_core::Query::new() }
            }
            /// The path, with parameters substituted.
            pub fn path(&self) -> &str {
                &self.path
            }
            /// The query built so far.
            pub fn query(&self) -> &::tributary_core::Query {
                &self.query
            }
            #(#methods)*
        }

        #(#extra_items)*
    }
}
