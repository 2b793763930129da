//! Normalises OpenAPI 3.1 into the 3.0 form `openapiv3` reads.
//!
//! Planning Center now publishes 3.1. The differences that matter for resource schemas are
//! mechanical (`type: [x, "null"]`, `const`, `examples`, numeric `exclusiveMinimum`); anything we
//! cannot express is reported with its JSON pointer instead of being dropped silently.

use std::path::Path;

use serde_norway::{Mapping, Value};

use crate::diagnostic::{Diagnostic, Diagnostics, pointer_token};

const UNSUPPORTED: &[&str] = &[
    "prefixItems",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "unevaluatedItems",
    "patternProperties",
    "$defs",
    "$dynamicRef",
    "contains",
];

/// Rewrites a 3.1 document in place.
pub fn from_3_1(doc: &mut Value, file: &Path, diags: &mut Diagnostics) {
    if let Some(obj) = doc.as_mapping_mut() {
        obj.insert("openapi".into(), Value::String("3.0.3".into()));
        // 3.1-only top-level members with no 3.0 equivalent and no bearing on generation.
        obj.remove("webhooks");
        obj.remove("jsonSchemaDialect");
        if let Some(license) = obj
            .get_mut("info")
            .and_then(|i| i.get_mut("license"))
            .and_then(Value::as_mapping_mut)
        {
            license.remove("identifier");
        }
    }
    walk(doc, "", file, diags);
}

fn walk(v: &mut Value, pointer: &str, file: &Path, diags: &mut Diagnostics) {
    match v {
        Value::Mapping(map) => {
            let is_schema = looks_like_schema(map);
            if is_schema {
                schema(map, pointer, file, diags);
            }
            for (k, child) in map.iter_mut() {
                let k = k.as_str().unwrap_or_default();
                let here = format!("{pointer}/{}", pointer_token(k));
                // The keys of `properties` are attribute names, not keywords: only their values
                // are schemas.
                match child {
                    Value::Mapping(props) if is_schema && k == "properties" => {
                        for (name, prop) in props.iter_mut() {
                            let name = name.as_str().unwrap_or_default();
                            walk(
                                prop,
                                &format!("{here}/{}", pointer_token(name)),
                                file,
                                diags,
                            );
                        }
                    }
                    _ => walk(child, &here, file, diags),
                }
            }
        }
        Value::Sequence(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                walk(child, &format!("{pointer}/{i}"), file, diags);
            }
        }
        _ => {}
    }
}

fn looks_like_schema(map: &Mapping) -> bool {
    [
        "type",
        "const",
        "oneOf",
        "anyOf",
        "allOf",
        "properties",
        "items",
        "enum",
    ]
    .iter()
    .any(|k| map.contains_key(*k))
        || UNSUPPORTED.iter().any(|k| map.contains_key(*k))
}

fn schema(map: &mut Mapping, pointer: &str, file: &Path, diags: &mut Diagnostics) {
    for key in UNSUPPORTED {
        if map.contains_key(*key) {
            diags.push(
                Diagnostic::new(
                    file,
                    format!("unsupported OpenAPI 3.1 construct `{key}` in a schema"),
                )
                .at(format!("{pointer}/{}", pointer_token(key))),
            );
        }
    }
    // type: [x, "null"]  →  type: x, nullable: true
    if let Some(Value::Sequence(types)) = map.get("type").cloned() {
        let all = types.len();
        let mut rest: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        let nullable = rest.len() < all;
        match rest.len() {
            0 => {
                map.remove("type");
            }
            1 => {
                map.insert("type".into(), rest.remove(0));
            }
            _ => {
                // Several non-null types: a union.
                map.remove("type");
                let variants = rest.into_iter().map(|t| {
                    let mut m = Mapping::new();
                    m.insert("type".into(), t);
                    Value::Mapping(m)
                });
                map.insert("oneOf".into(), Value::Sequence(variants.collect()));
            }
        }
        if nullable {
            map.insert("nullable".into(), Value::Bool(true));
        }
    }
    if map.get("type") == Some(&Value::String("null".into())) {
        map.remove("type");
        map.insert("nullable".into(), Value::Bool(true));
    }
    // A `{type: null}` branch of oneOf/anyOf makes the union nullable.
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Sequence(branches)) = map.get_mut(key) {
            let before = branches.len();
            branches.retain(|b| b.get("type") != Some(&Value::String("null".into())));
            if branches.len() < before {
                map.insert("nullable".into(), Value::Bool(true));
            }
        }
    }
    if let Some(c) = map.remove("const") {
        map.insert("enum".into(), Value::Sequence(vec![c]));
    }
    if let Some(Value::Sequence(examples)) = map.remove("examples")
        && let Some(first) = examples.into_iter().next()
    {
        map.entry("example".into()).or_insert(first);
    }
    for (ex, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(n @ Value::Number(_)) = map.get(ex).cloned() {
            map.insert(bound.into(), n);
            map.insert(ex.into(), Value::Bool(true));
        }
    }
    // An enum listing null (3.1 style nullable enum) keeps null out of the variants.
    if let Some(Value::Sequence(values)) = map.get_mut("enum") {
        let before = values.len();
        values.retain(|v| !v.is_null());
        if values.len() < before {
            map.insert("nullable".into(), Value::Bool(true));
        }
    }
}

/// Gives `enum`s without a `type` the type of their values, as `openapiv3` needs one.
pub fn untyped_enums(v: &mut Value) {
    match v {
        Value::Mapping(map) => {
            if !map.contains_key("type")
                && let Some(Value::Sequence(values)) = map.get("enum")
            {
                let ty = if values.iter().all(Value::is_string) {
                    Some("string")
                } else if values.iter().all(Value::is_i64) {
                    Some("integer")
                } else {
                    None
                };
                if let Some(ty) = ty {
                    map.insert("type".into(), Value::String(ty.into()));
                }
            }
            map.values_mut().for_each(untyped_enums);
        }
        Value::Sequence(items) => items.iter_mut().for_each(untyped_enums),
        _ => {}
    }
}

/// Turns keys that YAML reads as numbers or booleans (`200:` under `responses`) into the
/// strings JSON would have, keeping their order.
pub fn string_keys(v: &mut Value) {
    match v {
        Value::Mapping(map) => {
            if map.keys().any(|k| !k.is_string()) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (Value::String(key_text(k)), v))
                    .collect();
            }
            map.values_mut().for_each(string_keys);
        }
        Value::Sequence(items) => items.iter_mut().for_each(string_keys),
        Value::Tagged(t) => string_keys(&mut t.value),
        _ => {}
    }
}

fn key_text(k: Value) -> String {
    match k {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        other => serde_norway::to_string(&other)
            .unwrap_or_default()
            .trim_end()
            .to_owned(),
    }
}
