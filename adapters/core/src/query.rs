//! Query strings of JSON:API requests.

use std::fmt::Write as _;

/// An ordered list of query parameters.
///
/// Generated endpoint builders fill it (`where[...]`, `order`, `include`, `per_page`, `offset`,
/// `fields[...]`); the client appends it to the path, percent-encoding values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`, replacing an earlier value of the same key.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let (key, value) = (key.into(), value.into());
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value,
            None => self.pairs.push((key, value)),
        }
        self
    }

    /// Appends `value` to a comma-separated list under `key` (as `include=a,b`).
    pub fn append_list(&mut self, key: &str, value: &str) -> &mut Self {
        match self.pairs.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) if v.split(',').any(|x| x == value) => {}
            Some((_, v)) => {
                v.push(',');
                v.push_str(value);
            }
            None => self.pairs.push((key.to_owned(), value.to_owned())),
        }
        self
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The parameters, in insertion order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Encodes the query as `a=1&b=2` (keys keep their brackets, as PCO writes them).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            encode_into(&mut out, k, true);
            out.push('=');
            encode_into(&mut out, v, false);
        }
        out
    }
}

fn encode_into(out: &mut String, s: &str, key: bool) {
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~' | b',' | b':')
            || (key && matches!(b, b'[' | b']'));
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_pco_style() {
        let mut q = Query::new();
        q.set("where[updated_at][gte]", "2024-01-01T00:00:00Z")
            .append_list("include", "emails")
            .append_list("include", "addresses")
            .append_list("include", "emails")
            .set("per_page", "100")
            .set("per_page", "50");
        assert_eq!(
            q.encode(),
            "where[updated_at][gte]=2024-01-01T00:00:00Z&include=emails,addresses&per_page=50"
        );
        let mut q = Query::new();
        q.set("where[first_name]", "Ann & Bo");
        assert_eq!(q.encode(), "where[first_name]=Ann%20%26%20Bo");
    }
}

/// A comparison in a `where[attr][op]=` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// `where[attr]=v`
    Eq,
    /// `where[attr][gt]=v`
    Gt,
    /// `where[attr][gte]=v`
    Gte,
    /// `where[attr][lt]=v`
    Lt,
    /// `where[attr][lte]=v`
    Lte,
}

impl Compare {
    /// The query key for `attr`.
    pub fn key(self, attr: &str) -> String {
        let op = match self {
            Compare::Eq => return format!("where[{attr}]"),
            Compare::Gt => "gt",
            Compare::Gte => "gte",
            Compare::Lt => "lt",
            Compare::Lte => "lte",
        };
        format!("where[{attr}][{op}]")
    }
}

/// Sort direction of `order=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// `order=attr`
    #[default]
    Ascending,
    /// `order=-attr`
    Descending,
}

impl Direction {
    /// The `order=` value for `attr`.
    pub fn value(self, attr: &str) -> String {
        match self {
            Direction::Ascending => attr.to_owned(),
            Direction::Descending => format!("-{attr}"),
        }
    }
}

/// Percent-encodes one path segment (an id substituted into a path template).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
