//! Rust-safe names for JSON names.

use heck::{ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
    "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn",
    "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
    "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// A snake_case field name, escaped as `r#type` for keywords; `reserved` names (generated
/// fields such as `extra`) get a trailing underscore.
pub fn field(json: &str, reserved: &[&str]) -> String {
    let mut s = json.to_snake_case();
    if s.is_empty() {
        s = "field".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if NOT_RAW.contains(&s.as_str()) || reserved.contains(&s.as_str()) {
        s.push('_');
    } else if KEYWORDS.contains(&s.as_str()) {
        s.insert_str(0, "r#");
    }
    s
}

/// An UpperCamelCase type or variant name.
pub fn type_name(json: &str) -> String {
    let mut s = json.to_upper_camel_case();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    if NOT_RAW.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Makes `names` unique by suffixing repeats with `_2`, `_3`, …
pub fn dedupe(names: &mut [String]) {
    let mut seen = std::collections::HashSet::new();
    for n in names.iter_mut() {
        let base = n.clone();
        let mut i = 2;
        while !seen.insert(n.clone()) {
            *n = format!("{base}_{i}");
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_keywords_and_reserved_names() {
        assert_eq!(field("type", &[]), "r#type");
        assert_eq!(field("self", &[]), "self_");
        assert_eq!(field("extra", &["extra"]), "extra_");
        assert_eq!(field("2fa", &[]), "_2fa");
        assert_eq!(field("streetLine1", &[]), "street_line1");
        assert_eq!(type_name("phone_number"), "PhoneNumber");
        assert_eq!(type_name("-"), "V");
        let mut v = vec!["a".to_string(), "a".into(), "a".into()];
        dedupe(&mut v);
        assert_eq!(v, ["a", "a_2", "a_3"]);
    }
}
