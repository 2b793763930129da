//! Many rows, or many ids, in one PostgreSQL statement (the `sqlx` page path; SQLite's pages
//! go through [`super::writer`]).
//!
//! One array parameter per column, unnested. A `VALUES` list's text changes with its row
//! count, so PostgreSQL parsed and planned every page's statements afresh and took thousands
//! of parameters each; with arrays the text depends on the table only, and the statement is
//! prepared once per connection.

use std::borrow::Borrow;
use std::fmt::Write as _;

use super::Bind;
use crate::canonical::ColumnType;

/// One statement's share of a bulk write: SQL that yields the rows, and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Batch {
    /// `SELECT * FROM UNNEST(…)`, or an `= ANY(…)` condition.
    pub sql: String,
    /// Values for the placeholders in `sql`, in order.
    pub binds: Vec<Bind>,
}

/// An `= ANY(CAST($first AS TEXT[]))` condition matching a text column against `ids`. None
/// for no ids.
pub(crate) fn any_text(first: usize, ids: &[&str]) -> Option<Batch> {
    if ids.is_empty() {
        return None;
    }
    let mut array = String::with_capacity(ids.iter().map(|s| s.len() + 3).sum());
    array.push('{');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            array.push(',');
        }
        push_quoted(&mut array, id);
    }
    array.push('}');
    Some(Batch {
        sql: format!(" = ANY(CAST(${first} AS TEXT[]))"),
        binds: vec![Bind::Text(array)],
    })
}

/// The rows of `rows` (each `types.len()` values, in column order) as one array parameter
/// per column, numbered from `$1`. None for no rows.
pub(crate) fn unnest<B: Borrow<Bind>, R: IntoIterator<Item = B>>(
    types: &[ColumnType],
    rows: impl IntoIterator<Item = R>,
) -> Option<Batch> {
    let binds = array_literals(types.len(), rows)?;
    Some(Batch {
        sql: format!("SELECT * FROM UNNEST({})", array_casts(types, 1)),
        binds,
    })
}

/// One array literal per column (`columns` values a row) for `rows`. None for no rows.
fn array_literals<B: Borrow<Bind>, R: IntoIterator<Item = B>>(
    columns: usize,
    rows: impl IntoIterator<Item = R>,
) -> Option<Vec<Bind>> {
    let mut literals: Vec<String> = vec![String::from("{"); columns];
    let mut count = 0;
    for values in rows {
        for (i, v) in values.into_iter().enumerate() {
            let Some(literal) = literals.get_mut(i) else {
                break;
            };
            if count > 0 {
                literal.push(',');
            }
            push_element(literal, v.borrow());
        }
        count += 1;
    }
    if count == 0 {
        return None;
    }
    Some(
        literals
            .into_iter()
            .map(|mut c| {
                c.push('}');
                Bind::Text(c)
            })
            .collect(),
    )
}

/// `CAST($first AS T[]), …`, one per type, numbered on from `first`.
fn array_casts(types: &[ColumnType], first: usize) -> String {
    let casts: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, ty)| format!("CAST(${} AS {}[])", first + i, pg_type(*ty)))
        .collect();
    casts.join(", ")
}

/// A column of a bulk write: one value per row, or one value shared by every row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Column {
    /// Each row has its own value, of this type: an array parameter.
    Each(ColumnType),
    /// Every row has this value, of this type: one scalar parameter. The organisation,
    /// adapter, entity, run and clock of a page's links and edges are the same for all its
    /// rows, and PostgreSQL parses an array's elements one by one (about a third of a µs
    /// each).
    Same(ColumnType, Bind),
}

/// [`unnest`] where some columns hold one value for every row: `rows` give the values of the
/// [`Column::Each`] columns only, in order. The SQL yields all `columns`, in order; scalar
/// parameters come first (`$1`…), then the arrays. None for no rows.
pub(crate) fn unnest_shared<B: Borrow<Bind>, R: IntoIterator<Item = B>>(
    columns: &[Column],
    rows: impl IntoIterator<Item = R>,
) -> Option<Batch> {
    let each: Vec<ColumnType> = columns
        .iter()
        .filter_map(|c| match c {
            Column::Each(ty) => Some(*ty),
            Column::Same(..) => None,
        })
        .collect();
    let arrays = array_literals(each.len(), rows)?;
    let shared = columns.len() - each.len();
    let (mut scalar, mut array) = (0, 0);
    let mut selected = Vec::with_capacity(columns.len());
    let mut binds = Vec::with_capacity(columns.len());
    for c in columns {
        match c {
            Column::Same(ty, v) => {
                scalar += 1;
                selected.push(format!("CAST(${scalar} AS {})", pg_type(*ty)));
                binds.push(v.clone());
            }
            Column::Each(_) => {
                array += 1;
                selected.push(format!("u.c{array}"));
            }
        }
    }
    let names: Vec<String> = (1..=each.len()).map(|i| format!("c{i}")).collect();
    binds.extend(arrays);
    Some(Batch {
        sql: format!(
            "SELECT {} FROM UNNEST({}) AS u({})",
            selected.join(", "),
            array_casts(&each, shared + 1),
            names.join(", ")
        ),
        binds,
    })
}

fn pg_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text => "TEXT",
        ColumnType::Integer => "BIGINT",
        ColumnType::Decimal => "FLOAT8",
        ColumnType::Boolean => "BOOLEAN",
        ColumnType::Date => "DATE",
        ColumnType::Timestamp => "TIMESTAMPTZ",
        ColumnType::Json => "JSONB",
    }
}

/// Appends `v` as an element of a PostgreSQL array literal.
fn push_element(out: &mut String, v: &Bind) {
    match v {
        Bind::Null(_) => out.push_str("NULL"),
        Bind::Text(s) => push_quoted(out, s),
        Bind::Int(i) => {
            let _ = write!(out, "{i}");
        }
        // Rust prints the shortest text that reads back as the same float.
        Bind::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Bind::Bool(b) => out.push(if *b { 't' } else { 'f' }),
    }
}

/// Appends `s` double-quoted, so that no content (`NULL`, commas, braces, spaces) is read as
/// array syntax; only `"` and `\` need a backslash inside the quotes.
fn push_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    // Copied in runs between the (rare) characters to escape, not char by char; both are
    // ASCII, so a byte position is a char boundary.
    let mut rest = s;
    while let Some(i) = rest.bytes().position(|b| b == b'"' || b == b'\\') {
        out.push_str(&rest[..i]);
        out.push('\\');
        out.push_str(&rest[i..=i]);
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPES: [ColumnType; 2] = [ColumnType::Text, ColumnType::Integer];

    #[test]
    fn postgres_binds_one_array_per_column() {
        let rows = [
            vec![Bind::Text("a\"b\\c, {d} NULL".into()), Bind::Int(-7)],
            vec![
                Bind::Null(ColumnType::Text),
                Bind::Null(ColumnType::Integer),
            ],
        ];
        let b = unnest(&TYPES, rows).into_iter().collect::<Vec<_>>();
        assert_eq!(
            b,
            [Batch {
                sql: "SELECT * FROM UNNEST(CAST($1 AS TEXT[]), CAST($2 AS BIGINT[]))".into(),
                binds: vec![
                    Bind::Text(r#"{"a\"b\\c, {d} NULL",NULL}"#.into()),
                    Bind::Text("{-7,NULL}".into()),
                ],
            }]
        );
        assert!(unnest(&TYPES, Vec::<Vec<Bind>>::new()).is_none());
    }

    #[test]
    fn postgres_array_elements_keep_floats_and_booleans_exact() {
        let types = [ColumnType::Decimal, ColumnType::Boolean];
        let b: Vec<Batch> = unnest(
            &types,
            [
                vec![Bind::Float(0.1), Bind::Bool(true)],
                vec![Bind::Float(-1e300), Bind::Bool(false)],
            ],
        )
        .into_iter()
        .collect();
        let Bind::Text(floats) = &b[0].binds[0] else {
            panic!("{b:?}")
        };
        let parsed: Vec<f64> = floats
            .trim_matches(['{', '}'])
            .split(',')
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(parsed, [0.1, -1e300]);
        assert_eq!(b[0].binds[1], Bind::Text("{t,f}".into()));
    }

    /// The test server (`TRIBUTARY_TEST_PG`, or the local one).
    async fn postgres() -> sqlx::AnyPool {
        let url = std::env::var("TRIBUTARY_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url} is required for this test: {e}"))
    }

    /// Runs `q` with `batch`'s parameters.
    async fn fetch(pool: &sqlx::AnyPool, q: String, batch: Batch) -> Vec<sqlx::any::AnyRow> {
        let count = batch.binds.len();
        let args: sqlx::any::AnyArguments = super::super::arguments(batch.binds, count).unwrap();
        sqlx::query_with(sqlx::AssertSqlSafe(q), args)
            .fetch_all(pool)
            .await
            .unwrap()
    }

    /// PostgreSQL reads every element back as it was written: quotes, backslashes, braces,
    /// commas, the word NULL, spaces, non-ASCII text, JSON, NULLs of each type.
    #[tokio::test]
    async fn postgres_reads_the_arrays_back_exactly() {
        use sqlx::Row;
        let pool = postgres().await;
        let types = [
            ColumnType::Text,
            ColumnType::Integer,
            ColumnType::Decimal,
            ColumnType::Boolean,
            ColumnType::Date,
            ColumnType::Timestamp,
            ColumnType::Json,
        ];
        let tricky = ["a\"b\\c, {d} NULL", "NULL", "", "  spaced  ", "Zoë 🙂 \\\""];
        let rows: Vec<Vec<Bind>> = tricky
            .iter()
            .enumerate()
            .map(|(i, t)| {
                vec![
                    Bind::Text((*t).into()),
                    Bind::Int(i64::MIN + i as i64),
                    Bind::Float(0.1 * i as f64),
                    Bind::Bool(i % 2 == 0),
                    Bind::Text("2024-02-29".into()),
                    Bind::Text("2024-02-29T23:59:59.123456Z".into()),
                    Bind::Text(serde_json::json!({"k": t, "n": [i]}).to_string()),
                ]
            })
            .chain(std::iter::once(
                types.iter().map(|t| Bind::Null(*t)).collect(),
            ))
            .collect();
        let batch = unnest(&types, rows).unwrap();
        let q = format!(
            "SELECT c1, c2, c3, c4, CAST(c5 AS TEXT), \
             CAST(EXTRACT(EPOCH FROM c6) * 1000000 AS BIGINT), c7 ->> 'k', CAST(c7 -> 'n' AS TEXT) \
             FROM ({}) AS r(c1, c2, c3, c4, c5, c6, c7)",
            batch.sql
        );
        let got = fetch(&pool, q, batch).await;
        assert_eq!(got.len(), tricky.len() + 1);
        for (i, (row, t)) in got.iter().zip(tricky).enumerate() {
            assert_eq!(row.get::<String, _>(0), t);
            assert_eq!(row.get::<i64, _>(1), i64::MIN + i as i64);
            assert_eq!(row.get::<f64, _>(2), 0.1 * i as f64);
            assert_eq!(row.get::<bool, _>(3), i % 2 == 0);
            assert_eq!(row.get::<String, _>(4), "2024-02-29");
            assert_eq!(row.get::<i64, _>(5), 1_709_251_199_123_456);
            assert_eq!(row.get::<String, _>(6), t);
            assert_eq!(row.get::<String, _>(7), format!("[{i}]"));
        }
        let nulls = got.last().unwrap();
        for c in 0..8 {
            assert!(
                nulls
                    .try_get_raw(c)
                    .map(|v| sqlx::ValueRef::is_null(&v))
                    .unwrap(),
                "column {c} of the NULL row"
            );
        }
        pool.close().await;
    }

    #[test]
    fn shared_columns_are_scalars_before_the_arrays() {
        let columns = [
            Column::Same(ColumnType::Text, Bind::Text("org".into())),
            Column::Each(ColumnType::Text),
            Column::Same(ColumnType::Integer, Bind::Int(7)),
            Column::Each(ColumnType::Integer),
        ];
        let b = unnest_shared(
            &columns,
            [
                vec![Bind::Text("a".into()), Bind::Int(1)],
                vec![Bind::Text("b".into()), Bind::Int(2)],
            ],
        )
        .unwrap();
        assert_eq!(
            b.sql,
            "SELECT CAST($1 AS TEXT), u.c1, CAST($2 AS BIGINT), u.c2 FROM \
             UNNEST(CAST($3 AS TEXT[]), CAST($4 AS BIGINT[])) AS u(c1, c2)"
        );
        assert_eq!(
            b.binds,
            [
                Bind::Text("org".into()),
                Bind::Int(7),
                Bind::Text(r#"{"a","b"}"#.into()),
                Bind::Text("{1,2}".into()),
            ]
        );
        assert!(unnest_shared(&columns, Vec::<Vec<Bind>>::new()).is_none());
    }

    /// Shared values (NULL and JSON among them) come back on every row, beside each row's own.
    #[tokio::test]
    async fn postgres_reads_shared_columns_on_every_row() {
        use sqlx::Row;
        let pool = postgres().await;
        let columns = [
            Column::Each(ColumnType::Integer),
            Column::Same(ColumnType::Text, Bind::Text("a\"b, {c}".into())),
            Column::Same(ColumnType::Json, Bind::Text(r#"{"k":[1]}"#.into())),
            Column::Same(ColumnType::Timestamp, Bind::Null(ColumnType::Timestamp)),
            Column::Each(ColumnType::Text),
        ];
        let rows = (0..3).map(|i| [Bind::Int(i), Bind::Text(format!("r{i}"))]);
        let batch = unnest_shared(&columns, rows).unwrap();
        let q = format!(
            "SELECT c1, c2, CAST(c3 -> 'k' AS TEXT), c4 IS NULL, c5 \
             FROM ({}) AS r(c1, c2, c3, c4, c5) ORDER BY c1",
            batch.sql
        );
        let got = fetch(&pool, q, batch).await;
        assert_eq!(got.len(), 3);
        for (i, row) in got.iter().enumerate() {
            assert_eq!(row.get::<i64, _>(0), i as i64);
            assert_eq!(row.get::<String, _>(1), "a\"b, {c}");
            assert_eq!(row.get::<String, _>(2), "[1]");
            assert!(row.get::<bool, _>(3));
            assert_eq!(row.get::<String, _>(4), format!("r{i}"));
        }
        pool.close().await;
    }

    #[test]
    fn quoting_escapes_quotes_and_backslashes_only() {
        let cases = [
            ("", r#""""#),
            ("plain", r#""plain""#),
            (r#"a"b\c"#, r#""a\"b\\c""#),
            (r#""\""#, r#""\"\\\"""#),
            ("Zoë 🙂 {NULL}, x", r#""Zoë 🙂 {NULL}, x""#),
        ];
        for (input, quoted) in cases {
            let mut out = String::from("{");
            push_quoted(&mut out, input);
            assert_eq!(&out[1..], quoted, "{input:?}");
        }
    }

    #[test]
    fn id_lists_are_one_text_array() {
        let p = any_text(4, &["1", "x\"y"]).unwrap();
        assert_eq!(p.sql, " = ANY(CAST($4 AS TEXT[]))");
        assert_eq!(p.binds, [Bind::Text(r#"{"1","x\"y"}"#.into())]);
        assert!(any_text(4, &[]).is_none());
    }
}
