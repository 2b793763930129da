//! OpenAPI schemas → IR types, with `$ref` resolution and named types.

use std::collections::HashMap;
use std::path::Path;

use openapiv3::{
    OpenAPI, ReferenceOr, Schema, SchemaKind, StringFormat, Type as OaType, VariantOrUnknownOrEmpty,
};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::{Field, NamedKind, NamedType, Type};
use crate::naming;

/// Generated-field names that attribute names must not take.
pub const RESERVED_FIELDS: &[&str] = &["extra"];

/// A schema reference, boxed or not (properties box theirs).
pub enum SchemaRef<'d> {
    /// From a `properties` map or `items`.
    Boxed(&'d ReferenceOr<Box<Schema>>),
    /// From `oneOf` and friends.
    Plain(&'d ReferenceOr<Schema>),
}

impl<'d> SchemaRef<'d> {
    fn reference(&self) -> Option<&'d str> {
        match self {
            SchemaRef::Boxed(ReferenceOr::Reference { reference })
            | SchemaRef::Plain(ReferenceOr::Reference { reference }) => Some(reference),
            _ => None,
        }
    }
    fn item(&self) -> Option<&'d Schema> {
        match self {
            SchemaRef::Boxed(ReferenceOr::Item(s)) => Some(s),
            SchemaRef::Plain(ReferenceOr::Item(s)) => Some(s),
            _ => None,
        }
    }
}

/// Follows `$ref`s (within the document) to a schema: `(name of the last ref, schema)`.
pub fn deref<'d>(
    doc: &'d OpenAPI,
    schema: SchemaRef<'d>,
) -> Result<(Option<&'d str>, &'d Schema), String> {
    let mut current = schema;
    let mut name = None;
    for _ in 0..32 {
        if let Some(s) = current.item() {
            return Ok((name, s));
        }
        let reference = current.reference().unwrap_or_default();
        let Some(short) = reference.strip_prefix("#/components/schemas/") else {
            return Err(format!(
                "unsupported reference `{reference}` (only `#/components/schemas/...` within the same document)"
            ));
        };
        let found = doc
            .components
            .as_ref()
            .and_then(|c| c.schemas.get_key_value(short));
        let Some((key, next)) = found else {
            return Err(format!("unknown reference `{reference}`"));
        };
        name = Some(key.as_str());
        current = SchemaRef::Plain(next);
    }
    Err("reference chain is too long (a `$ref` loop?)".into())
}

/// The `properties` map of an object schema.
pub type Properties = indexmap::IndexMap<String, ReferenceOr<Box<Schema>>>;

/// Properties of an object schema (typed `object` or untyped with `properties`).
pub fn properties(schema: &Schema) -> Option<(&Properties, &[String])> {
    match &schema.schema_kind {
        SchemaKind::Type(OaType::Object(o)) => Some((&o.properties, &o.required)),
        SchemaKind::Any(a) if !a.properties.is_empty() => Some((&a.properties, &a.required)),
        _ => None,
    }
}

/// The single string of an `enum`/`const` schema (`type: {const: Person}`).
pub fn single_string(schema: &Schema) -> Option<String> {
    match &schema.schema_kind {
        SchemaKind::Type(OaType::String(s)) if s.enumeration.len() == 1 => s.enumeration[0].clone(),
        SchemaKind::Any(a) if a.enumeration.len() == 1 => {
            a.enumeration[0].as_str().map(str::to_owned)
        }
        _ => None,
    }
}

/// Resolves schemas of one document into IR types, collecting named types and problems.
pub struct SchemaResolver<'a> {
    /// The document.
    pub doc: &'a OpenAPI,
    /// Its path.
    pub file: &'a Path,
    /// Named types produced so far.
    pub types: &'a mut Vec<NamedType>,
    /// Rust type names taken, with what took them.
    pub taken: &'a mut HashMap<String, String>,
    /// Named types already made for component schemas of this document.
    pub by_ref: &'a mut HashMap<String, String>,
    /// Problems.
    pub diags: &'a mut Diagnostics,
}

impl<'a> SchemaResolver<'a> {
    fn problem(&mut self, pointer: &str, message: String) {
        self.diags
            .push(Diagnostic::new(self.file, message).at(pointer.to_owned()));
    }

    /// A fresh Rust type name based on `hint`.
    pub fn claim(&mut self, hint: &str, owner: &str) -> String {
        let base = naming::type_name(hint);
        let mut name = base.clone();
        let mut i = 2;
        while self.taken.contains_key(&name) {
            name = format!("{base}{i}");
            i += 1;
        }
        self.taken.insert(name.clone(), owner.to_owned());
        name
    }

    /// Fields of an object's `properties`.
    pub fn fields(
        &mut self,
        props: &'a Properties,
        required: &[String],
        owner: &str,
        pointer: &str,
    ) -> Vec<Field> {
        let mut fields: Vec<Field> = props
            .iter()
            .map(|(json, s)| {
                let here = format!("{pointer}/{}", crate::diagnostic::pointer_token(json));
                let hint = format!("{owner}_{json}");
                let (ty, nullable, doc) = self.ty(SchemaRef::Boxed(s), &hint, &here);
                Field {
                    json_name: json.clone(),
                    rust_name: naming::field(json, RESERVED_FIELDS),
                    doc,
                    ty,
                    optional: nullable || !required.contains(json),
                    secret: false,
                }
            })
            .collect();
        let mut names: Vec<String> = fields.iter().map(|f| f.rust_name.clone()).collect();
        naming::dedupe(&mut names);
        for (f, n) in fields.iter_mut().zip(names) {
            f.rust_name = n;
        }
        fields
    }

    /// The IR type of a schema: `(type, nullable, description)`.
    pub fn ty(
        &mut self,
        schema: SchemaRef<'a>,
        hint: &str,
        pointer: &str,
    ) -> (Type, bool, Option<String>) {
        let (ref_name, s) = match deref(self.doc, schema) {
            Ok(x) => x,
            Err(msg) => {
                self.problem(pointer, msg);
                return (Type::Json, true, None);
            }
        };
        let nullable = s.schema_data.nullable;
        let doc = s.schema_data.description.clone();
        if let Some(r) = ref_name
            && let Some(existing) = self.by_ref.get(r)
        {
            return (Type::Named(existing.clone()), nullable, doc);
        }
        let hint = ref_name.unwrap_or(hint);
        let ty = match &s.schema_kind {
            SchemaKind::Type(OaType::String(st)) => {
                let values: Vec<&String> = st.enumeration.iter().flatten().collect();
                if !values.is_empty() {
                    let name = self.claim(hint, pointer);
                    let mut variants: Vec<String> =
                        values.iter().map(|v| naming::type_name(v)).collect();
                    variants.iter_mut().for_each(|v| {
                        if v == "Unknown" {
                            v.push('_');
                        }
                    });
                    naming::dedupe(&mut variants);
                    let kind = NamedKind::Enum(values.into_iter().cloned().zip(variants).collect());
                    self.push_named(name, doc.clone(), kind, ref_name)
                } else {
                    match &st.format {
                        VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => Type::DateTime,
                        VariantOrUnknownOrEmpty::Item(StringFormat::Date) => Type::Date,
                        _ => Type::String,
                    }
                }
            }
            SchemaKind::Type(OaType::Integer(_)) => Type::Integer,
            SchemaKind::Type(OaType::Number(_)) => Type::Number,
            SchemaKind::Type(OaType::Boolean(_)) => Type::Boolean,
            SchemaKind::Type(OaType::Array(a)) => match &a.items {
                Some(items) => {
                    let (t, _, _) = self.ty(
                        SchemaRef::Boxed(items),
                        &format!("{hint}_item"),
                        &format!("{pointer}/items"),
                    );
                    Type::Array(Box::new(t))
                }
                None => Type::Array(Box::new(Type::Json)),
            },
            SchemaKind::Type(OaType::Object(_)) | SchemaKind::Any(_) => match properties(s) {
                Some((props, required)) if !props.is_empty() => {
                    let name = self.claim(hint, pointer);
                    if let Some(r) = ref_name {
                        self.by_ref.insert(r.to_owned(), name.clone());
                    }
                    let fields =
                        self.fields(props, required, hint, &format!("{pointer}/properties"));
                    self.push_named(name, doc.clone(), NamedKind::Object(fields), None)
                }
                _ => Type::Json,
            },
            SchemaKind::OneOf { one_of: branches } | SchemaKind::AnyOf { any_of: branches } => {
                let key = if matches!(s.schema_kind, SchemaKind::OneOf { .. }) {
                    "oneOf"
                } else {
                    "anyOf"
                };
                self.union(
                    branches,
                    hint,
                    &format!("{pointer}/{key}"),
                    doc.clone(),
                    ref_name,
                )
            }
            SchemaKind::AllOf { all_of } => self.all_of(
                all_of,
                hint,
                &format!("{pointer}/allOf"),
                doc.clone(),
                ref_name,
            ),
            SchemaKind::Not { .. } => {
                self.problem(pointer, "unsupported schema construct `not`".into());
                Type::Json
            }
        };
        (ty, nullable, doc)
    }

    fn push_named(
        &mut self,
        name: String,
        doc: Option<String>,
        kind: NamedKind,
        ref_name: Option<&str>,
    ) -> Type {
        if let Some(r) = ref_name {
            self.by_ref.insert(r.to_owned(), name.clone());
        }
        self.types.push(NamedType {
            name: name.clone(),
            doc,
            kind,
        });
        Type::Named(name)
    }

    fn union(
        &mut self,
        branches: &'a [ReferenceOr<Schema>],
        hint: &str,
        pointer: &str,
        doc: Option<String>,
        ref_name: Option<&str>,
    ) -> Type {
        let mut variants = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            let (t, _, _) = self.ty(
                SchemaRef::Plain(b),
                &format!("{hint}_variant{i}"),
                &format!("{pointer}/{i}"),
            );
            variants.push(t);
        }
        match variants.len() {
            0 => Type::Json,
            1 => variants.remove(0),
            _ => {
                let name = self.claim(hint, pointer);
                let mut names: Vec<String> = variants.iter().map(variant_name).collect();
                naming::dedupe(&mut names);
                let kind = NamedKind::Union(names.into_iter().zip(variants).collect());
                self.push_named(name, doc, kind, ref_name)
            }
        }
    }

    fn all_of(
        &mut self,
        branches: &'a [ReferenceOr<Schema>],
        hint: &str,
        pointer: &str,
        doc: Option<String>,
        ref_name: Option<&str>,
    ) -> Type {
        let name = self.claim(hint, pointer);
        if let Some(r) = ref_name {
            self.by_ref.insert(r.to_owned(), name.clone());
        }
        let mut fields: Vec<Field> = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            let here = format!("{pointer}/{i}");
            match deref(self.doc, SchemaRef::Plain(b)) {
                Ok((_, s)) => match properties(s) {
                    Some((props, required)) => {
                        for f in self.fields(props, required, hint, &format!("{here}/properties")) {
                            if !fields.iter().any(|g| g.json_name == f.json_name) {
                                fields.push(f);
                            }
                        }
                    }
                    None => self.problem(
                        &here,
                        "`allOf` is supported only over object schemas with properties".into(),
                    ),
                },
                Err(msg) => self.problem(&here, msg),
            }
        }
        self.types.push(NamedType {
            name: name.clone(),
            doc,
            kind: NamedKind::Object(fields),
        });
        Type::Named(name)
    }
}

fn variant_name(t: &Type) -> String {
    match t {
        Type::String => "String".into(),
        Type::DateTime => "DateTime".into(),
        Type::Date => "Date".into(),
        Type::Integer => "Integer".into(),
        Type::Number => "Number".into(),
        Type::Boolean => "Boolean".into(),
        Type::Json => "Json".into(),
        Type::Array(inner) => format!("{}List", variant_name(inner)),
        Type::Named(n) => n.clone(),
    }
}
