//! Query-string parsing: paging, `order`, `where[...]`, `include`, `filter`, and link building.

use crate::schema::{AttrType, TableSchema};
use crate::value::Val;

/// Default page size.
pub const DEFAULT_PER_PAGE: usize = 25;
/// Largest page size Planning Center serves.
pub const MAX_PER_PAGE: usize = 100;

/// A comparison in a `where[attr][op]=value` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal (case-insensitive for strings).
    Eq,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
}

/// One `where` clause.
#[derive(Debug, Clone)]
pub struct Where {
    /// Queried name (an attribute, `id`, `<relation>_id` or a `search_*` query).
    pub field: String,
    /// Comparison.
    pub op: Op,
    /// Parsed value.
    pub value: Val,
}

/// A parsed request query.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Decoded `(key, value)` pairs as sent, used to build links.
    pub pairs: Vec<(String, String)>,
    /// Page size (1..=100).
    pub per_page: usize,
    /// Offset of the first record.
    pub offset: usize,
    /// Order attribute and whether descending.
    pub order: Option<(String, bool)>,
    /// `where` clauses.
    pub wheres: Vec<Where>,
    /// Requested includes.
    pub include: Vec<String>,
    /// Requested filters.
    pub filter: Vec<String>,
}

/// Parse the raw query string. Schema-dependent checks happen in [`ListQuery::validate`].
pub fn parse(raw: Option<&str>) -> Result<ListQuery, String> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut q = ListQuery {
        per_page: DEFAULT_PER_PAGE,
        ..Default::default()
    };
    for (k, v) in &pairs {
        match k.as_str() {
            "per_page" => {
                let n: i64 = v
                    .parse()
                    .map_err(|_| format!("per_page must be a number, got {v:?}"))?;
                q.per_page = n.clamp(1, MAX_PER_PAGE as i64) as usize;
            }
            "offset" => {
                let n: i64 = v
                    .parse()
                    .map_err(|_| format!("offset must be a number, got {v:?}"))?;
                q.offset = n.max(0) as usize;
            }
            "order" => {
                let (name, desc) = match v.strip_prefix('-') {
                    Some(n) => (n, true),
                    None => (v.as_str(), false),
                };
                q.order = Some((name.to_string(), desc));
            }
            "include" => q.include.extend(split_list(v)),
            "filter" => q.filter.extend(split_list(v)),
            _ => {}
        }
    }
    q.pairs = pairs;
    Ok(q)
}

fn split_list(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

impl ListQuery {
    /// Check `order`, `where`, `include` and `filter` against the table and parse `where` values.
    pub fn validate(&mut self, t: &TableSchema, list: bool) -> Result<(), String> {
        for inc in &self.include {
            if !t.can_include.contains(inc) {
                return Err(format!("{inc} is not a valid include for {}", t.wire_type));
            }
        }
        if !list {
            return Ok(());
        }
        if let Some((name, _)) = &self.order
            && !t.can_order_by.contains(name)
        {
            return Err(format!("{name} is not a valid order for {}", t.wire_type));
        }
        for f in &self.filter {
            if !t.can_filter.contains(f) {
                return Err(format!("{f} is not a valid filter for {}", t.wire_type));
            }
        }
        for (k, v) in &self.pairs {
            let Some(rest) = k.strip_prefix("where[") else {
                continue;
            };
            let (field, op) = match rest.split_once("][") {
                Some((f, op)) => (f, op.trim_end_matches(']')),
                None => (rest.trim_end_matches(']'), ""),
            };
            let op = match op {
                "" => Op::Eq,
                "gt" => Op::Gt,
                "gte" => Op::Gte,
                "lt" => Op::Lt,
                "lte" => Op::Lte,
                other => return Err(format!("{other} is not a valid where operator")),
            };
            let Some((_, ty)) = t.can_query_by.iter().find(|(n, _)| n == field) else {
                return Err(format!("{field} is not a valid where for {}", t.wire_type));
            };
            let ty = t.attr(field).map_or(*ty, |i| t.attributes[i].1);
            let ty = if field == "id" || field.ends_with("_id") {
                AttrType::Int
            } else {
                ty
            };
            if op != Op::Eq
                && !matches!(
                    ty,
                    AttrType::DateTime | AttrType::Date | AttrType::Int | AttrType::Decimal
                )
            {
                return Err(format!(
                    "where[{field}] does not support comparison operators"
                ));
            }
            let value = Val::parse_query(v, ty)
                .ok_or_else(|| format!("where[{field}]: {v:?} is not a valid {ty:?}"))?;
            self.wheres.push(Where {
                field: field.to_string(),
                op,
                value,
            });
        }
        Ok(())
    }

    /// Build `{base}{path}?{sorted query}` with `offset` replaced (keys unescaped, values escaped).
    pub fn link(&self, base: &str, path: &str, offset: Option<usize>) -> String {
        let mut pairs: Vec<(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| offset.is_none() || k != "offset")
            .cloned()
            .collect();
        if let Some(o) = offset {
            pairs.push(("offset".into(), o.to_string()));
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        if pairs.is_empty() {
            return format!("{base}{path}");
        }
        let q: Vec<String> = pairs
            .iter()
            .map(|(k, v)| {
                let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
                format!("{k}={v}")
            })
            .collect();
        format!("{base}{path}?{}", q.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_sorted_and_keep_brackets() {
        let q = parse(Some("offset=0&per_page=25&include=emails%2Corganization&where%5Bsite_administrator%5D=false")).unwrap();
        assert_eq!(
            q.link("https://x", "/people/v2/people", Some(25)),
            "https://x/people/v2/people?include=emails%2Corganization&offset=25&per_page=25&where[site_administrator]=false"
        );
        assert_eq!(q.include, vec!["emails", "organization"]);
        assert_eq!(q.per_page, 25);
    }
}
