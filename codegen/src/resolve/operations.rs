//! GET operations: which entity they return, their path and query parameters.

use openapiv3::{
    OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, StatusCode,
    Type as OaType,
};

use super::schemas::{SchemaRef, deref, properties};

/// A GET operation as found in a document, before entities are known.
pub struct RawOperation<'d> {
    /// Index of the document.
    pub doc: usize,
    /// JSON pointer of the operation.
    pub pointer: String,
    /// operationId.
    pub id: String,
    /// Summary.
    pub summary: Option<String>,
    /// Path template.
    pub path: String,
    /// Path parameter names.
    pub path_params: Vec<String>,
    /// Query parameters: (name, schema).
    pub query: Vec<(String, &'d ReferenceOr<Schema>)>,
    /// The component schema name of the primary data, and whether it is a list.
    pub returns: Option<(String, bool)>,
}

fn parameter<'d>(doc: &'d OpenAPI, p: &'d ReferenceOr<Parameter>) -> Option<&'d Parameter> {
    match p {
        ReferenceOr::Item(p) => Some(p),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/parameters/")?;
            match doc.components.as_ref()?.parameters.get(name)? {
                ReferenceOr::Item(p) => Some(p),
                ReferenceOr::Reference { .. } => None,
            }
        }
    }
}

/// What the `data` of the operation's 200 document holds: (schema name, is list).
fn returns(doc: &OpenAPI, op: &openapiv3::Operation) -> Option<(String, bool)> {
    let response = op.responses.responses.get(&StatusCode::Code(200))?;
    let response = match response {
        ReferenceOr::Item(r) => r,
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/responses/")?;
            match doc.components.as_ref()?.responses.get(name)? {
                ReferenceOr::Item(r) => r,
                ReferenceOr::Reference { .. } => return None,
            }
        }
    };
    let media = response
        .content
        .iter()
        .find(|(k, _)| k.contains("json"))
        .map(|(_, m)| m)?;
    let (_, document) = deref(doc, SchemaRef::Plain(media.schema.as_ref()?)).ok()?;
    let (props, _) = properties(document)?;
    let data = props.get("data")?;
    let (name, data_schema) = deref(doc, SchemaRef::Boxed(data)).ok()?;
    if let Some(name) = name {
        return Some((name.to_owned(), false));
    }
    if let SchemaKind::Type(OaType::Array(a)) = &data_schema.schema_kind {
        let (name, _) = deref(doc, SchemaRef::Boxed(a.items.as_ref()?)).ok()?;
        return Some((name?.to_owned(), true));
    }
    None
}

/// Every GET operation with an operationId in the document.
pub fn collect(doc_index: usize, doc: &OpenAPI) -> Vec<RawOperation<'_>> {
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let Some(op) = &item.get else { continue };
        let Some(id) = &op.operation_id else { continue };
        let mut path_params = Vec::new();
        let mut query = Vec::new();
        for p in item.parameters.iter().chain(&op.parameters) {
            match parameter(doc, p) {
                Some(Parameter::Path { parameter_data, .. }) => {
                    path_params.push(parameter_data.name.clone())
                }
                Some(Parameter::Query { parameter_data, .. }) => {
                    if let ParameterSchemaOrContent::Schema(s) = &parameter_data.format {
                        query.push((parameter_data.name.clone(), s));
                    }
                }
                _ => {}
            }
        }
        out.push(RawOperation {
            doc: doc_index,
            pointer: format!("/paths/{}/get", crate::diagnostic::pointer_token(path)),
            id: id.clone(),
            summary: op.summary.clone(),
            path: path.clone(),
            path_params,
            query,
            returns: returns(doc, op),
        });
    }
    out
}

/// String values of an enum schema, or of an array-of-enum schema's items.
pub fn enum_values(doc: &OpenAPI, schema: &ReferenceOr<Schema>) -> Vec<String> {
    let Ok((_, s)) = deref(doc, SchemaRef::Plain(schema)) else {
        return Vec::new();
    };
    let from = |s: &Schema| -> Vec<String> {
        match &s.schema_kind {
            SchemaKind::Type(OaType::String(st)) => {
                st.enumeration.iter().flatten().cloned().collect()
            }
            SchemaKind::Any(a) => a
                .enumeration
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    match &s.schema_kind {
        SchemaKind::Type(OaType::Array(a)) => a
            .items
            .as_ref()
            .and_then(|i| deref(doc, SchemaRef::Boxed(i)).ok())
            .map(|(_, i)| from(i))
            .unwrap_or_default(),
        _ => from(s),
    }
}

/// The `maximum` of an integer schema.
pub fn maximum(doc: &OpenAPI, schema: &ReferenceOr<Schema>) -> Option<u32> {
    let (_, s) = deref(doc, SchemaRef::Plain(schema)).ok()?;
    match &s.schema_kind {
        SchemaKind::Type(OaType::Integer(i)) => i.maximum.and_then(|m| u32::try_from(m).ok()),
        _ => None,
    }
}
