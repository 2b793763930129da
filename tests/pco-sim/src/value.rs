//! Compact attribute values (24 bytes each) and their JSON rendering, parsing and comparison.

use crate::schema::AttrType;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::cmp::Ordering;

/// One attribute value of a stored record.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// JSON null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// A string.
    Str(Box<str>),
    /// A timestamp, seconds since the Unix epoch (rendered `2018-08-03T01:13:32Z`).
    Ts(i64),
    /// A date, days since the Unix epoch (rendered `2018-08-03`).
    Date(i32),
    /// Any other JSON (objects, arrays), kept as compact text.
    Json(Box<str>),
}

/// Written as [`Val::to_json`] would be, without building the `Value`.
impl serde::Serialize for Val {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Val::Null => s.serialize_unit(),
            Val::Bool(b) => s.serialize_bool(*b),
            Val::Int(i) => s.serialize_i64(*i),
            // serde_json writes a non-finite float as null, as `Value::from` makes it.
            Val::Float(f) => s.serialize_f64(*f),
            Val::Str(x) => s.serialize_str(x),
            Val::Ts(t) => match Digits::timestamp(*t) {
                Some(d) => s.serialize_str(d.as_str()),
                None => s.serialize_str(&format_ts(*t)),
            },
            Val::Date(d) => match Digits::date(*d) {
                Some(x) => s.serialize_str(x.as_str()),
                None => s.serialize_str(&format_date(*d)),
            },
            Val::Json(_) => self.to_json().serialize(s),
        }
    }
}

impl Val {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Self {
        Val::Str(s.into().into_boxed_str())
    }

    /// Render as JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::from(*i),
            Val::Float(f) => Value::from(*f),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Ts(t) => Value::String(format_ts(*t)),
            Val::Date(d) => Value::String(format_date(*d)),
            Val::Json(j) => serde_json::from_str(j).unwrap_or(Value::Null),
        }
    }

    /// Convert a JSON value to an attribute of the declared type (for admin and API writes).
    pub fn from_json(v: &Value, ty: AttrType) -> Result<Self, String> {
        if v.is_null() {
            return Ok(Val::Null);
        }
        let bad = || format!("expected {ty:?}, got {v}");
        Ok(match ty {
            AttrType::String => Val::str(v.as_str().ok_or_else(bad)?),
            AttrType::Bool => Val::Bool(v.as_bool().ok_or_else(bad)?),
            AttrType::Int => Val::Int(v.as_i64().ok_or_else(bad)?),
            AttrType::Decimal => Val::Float(v.as_f64().ok_or_else(bad)?),
            AttrType::DateTime => Val::Ts(parse_ts(v.as_str().ok_or_else(bad)?).ok_or_else(bad)?),
            AttrType::Date => Val::Date(parse_date(v.as_str().ok_or_else(bad)?).ok_or_else(bad)?),
            AttrType::Object | AttrType::Array => Val::Json(v.to_string().into_boxed_str()),
        })
    }

    /// Parse a query-string value for comparison against attributes of the declared type.
    pub fn parse_query(s: &str, ty: AttrType) -> Option<Self> {
        Some(match ty {
            AttrType::Bool => Val::Bool(match s {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return None,
            }),
            AttrType::Int => Val::Int(s.parse().ok()?),
            AttrType::Decimal => Val::Float(s.parse().ok()?),
            AttrType::DateTime => Val::Ts(parse_ts(s)?),
            AttrType::Date => Val::Date(parse_date(s)?),
            _ => Val::str(s),
        })
    }

    /// Order two values of the same attribute (nulls first, strings case-insensitively).
    pub fn compare(&self, other: &Val) -> Ordering {
        use Val::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Null, _) => Ordering::Less,
            (_, Null) => Ordering::Greater,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) | (Ts(a), Ts(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Int(a), Float(b)) => (*a as f64).partial_cmp(b).unwrap_or(Ordering::Equal),
            (Float(a), Int(b)) => a.partial_cmp(&(*b as f64)).unwrap_or(Ordering::Equal),
            (Str(a), Str(b)) => cmp_ci(a, b),
            (a, b) => cmp_ci(&a.to_json().to_string(), &b.to_json().to_string()),
        }
    }

    /// Equality as a `where[attr]=value` filter sees it (strings case-insensitive).
    pub fn matches(&self, wanted: &Val) -> bool {
        match (self, wanted) {
            (Val::Str(a), Val::Str(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a.compare(b) == Ordering::Equal && !matches!(a, Val::Null),
        }
    }

    /// The string content, if a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
}

fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// A timestamp or a date as text on the stack: serving a page of people wrote thousands of
/// them, each through `format!` into a fresh String (a tenth of the simulator's serving CPU
/// with the growth of those Strings).
pub struct Digits {
    buf: [u8; 20],
    len: usize,
}

impl Digits {
    /// `2018-08-03T01:13:32Z`, as [`format_ts`]; None outside years 0–9999.
    pub fn timestamp(t: i64) -> Option<Digits> {
        use chrono::{Datelike, Timelike};
        let dt = DateTime::<Utc>::from_timestamp(t, 0)?;
        let mut d = Digits::ymd(dt.year(), dt.month(), dt.day())?;
        d.push(b'T');
        for (i, part) in [dt.hour(), dt.minute(), dt.second()]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                d.push(b':');
            }
            d.two(part);
        }
        d.push(b'Z');
        Some(d)
    }

    /// `2018-08-03`, as [`format_date`]; None outside years 0–9999.
    pub fn date(days: i32) -> Option<Digits> {
        use chrono::Datelike;
        let date = NaiveDate::default().checked_add_signed(chrono::Duration::days(days as i64))?;
        Digits::ymd(date.year(), date.month(), date.day())
    }

    fn ymd(year: i32, month: u32, day: u32) -> Option<Digits> {
        let year = u32::try_from(year).ok().filter(|y| *y <= 9999)?;
        let mut d = Digits {
            buf: [0; 20],
            len: 0,
        };
        d.two(year / 100);
        d.two(year % 100);
        d.push(b'-');
        d.two(month);
        d.push(b'-');
        d.two(day);
        Some(d)
    }

    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    fn two(&mut self, n: u32) {
        self.push(b'0' + (n / 10 % 10) as u8);
        self.push(b'0' + (n % 10) as u8);
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators were pushed.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// Format a Unix timestamp the way Planning Center does: `2018-08-03T01:13:32Z`.
pub fn format_ts(t: i64) -> String {
    use chrono::{Datelike, Timelike};
    // By field rather than through a strftime pattern, which is parsed on every call (7 % of
    // the simulator's CPU when serving pages). Same text for years 0–9999.
    let dt = DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_default();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Format days since the epoch as `YYYY-MM-DD`.
pub fn format_date(d: i32) -> String {
    (NaiveDate::default() + chrono::Duration::days(d as i64))
        .format("%Y-%m-%d")
        .to_string()
}

/// Parse an RFC 3339 timestamp (or a bare date, meaning midnight UTC).
pub fn parse_ts(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(t.and_utc().timestamp());
    }
    parse_date(s).map(|d| d as i64 * 86_400)
}

/// Parse `YYYY-MM-DD` into days since the epoch.
pub fn parse_date(s: &str) -> Option<i32> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some((d - NaiveDate::default()).num_days() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        let t = parse_ts("2018-08-03T01:13:32Z").unwrap();
        assert_eq!(format_ts(t), "2018-08-03T01:13:32Z");
        assert_eq!(format_date(parse_date("1987-02-28").unwrap()), "1987-02-28");
        assert_eq!(std::mem::size_of::<Val>(), 24);
    }

    /// The stack-built text is the text `format_ts` / `format_date` write, and serializing a
    /// value uses it.
    #[test]
    fn digits_match_the_formatted_text() {
        for t in (-62_000_000_000_i64..253_402_300_799).step_by(999_999_937) {
            let d = Digits::timestamp(t).expect("years 0-9999");
            assert_eq!(d.as_str(), format_ts(t), "{t}");
        }
        assert!(Digits::timestamp(253_402_300_800).is_none(), "year 10000");
        for days in (-719_528..2_932_896).step_by(997) {
            let d = Digits::date(days).expect("years 0-9999");
            assert_eq!(d.as_str(), format_date(days), "{days}");
        }
        assert!(Digits::date(-719_529).is_none(), "year -1");
        let json = serde_json::to_string(&[Val::Ts(1_533_258_812), Val::Date(6_267)]).unwrap();
        assert_eq!(json, r#"["2018-08-03T01:13:32Z","1987-02-28"]"#);
    }

    #[test]
    fn timestamps_read_as_chrono_prints_them() {
        // From before 1970 to past 2100, a step that lands on every second-of-minute.
        for t in (-2_000_000_000_i64..5_000_000_000).step_by(9_999_991) {
            let expected = DateTime::<Utc>::from_timestamp(t, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(format_ts(t), expected);
        }
    }
}
