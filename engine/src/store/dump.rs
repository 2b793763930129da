//! Reading canonical rows back as JSON, identically on both dialects (for `status`, tests and
//! comparisons between databases).

use serde_json::{Map, Value};
use sqlx::Row;

use super::{Dialect, Store, sql};
use crate::canonical::{COMMON_COLUMNS, ColumnType, TableDef};
use crate::error::StoreError;
use crate::workflow::normalize_instant;

fn normalize(ty: ColumnType, v: Value) -> Value {
    match (ty, v) {
        (ColumnType::Boolean, Value::Number(n)) => Value::Bool(n.as_i64() != Some(0)),
        (ColumnType::Timestamp, Value::String(s)) => {
            Value::String(normalize_instant(&s).unwrap_or(s))
        }
        (ColumnType::Json, Value::String(s)) => {
            serde_json::from_str(&s).unwrap_or(Value::String(s))
        }
        (_, v) => v,
    }
}

impl Store {
    /// Every row of `table` for `org`, ordered by id, as JSON objects of the record's columns
    /// (common and the table's fields); where a row came from and when it was seen (the link
    /// columns) is [`Store::links`]' business.
    pub async fn rows(
        &self,
        org: &str,
        table: &TableDef,
    ) -> Result<Vec<Map<String, Value>>, StoreError> {
        let columns: Vec<(&str, ColumnType)> = COMMON_COLUMNS
            .iter()
            .chain(table.fields)
            .map(|c| (c.name, c.ty))
            .collect();
        let q = match self.dialect {
            Dialect::Postgres => format!(
                "SELECT CAST(row_to_json(t) AS TEXT) FROM \"{}\" t WHERE org_id = $1 ORDER BY id",
                table.table
            ),
            Dialect::Sqlite => {
                let pairs: Vec<String> = columns
                    .iter()
                    .map(|(n, ty)| match ty {
                        ColumnType::Json => format!("'{n}', json(\"{n}\")"),
                        _ => format!("'{n}', \"{n}\""),
                    })
                    .collect();
                format!(
                    "SELECT json_object({}) FROM \"{}\" WHERE org_id = $1 ORDER BY id",
                    pairs.join(", "),
                    table.table
                )
            }
        };
        let rows = sqlx::query(sql(q))
            .bind(org.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get(0)?;
                let Value::Object(mut all) =
                    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?
                else {
                    return Err(StoreError::Corrupt("row is not an object".into()));
                };
                let mut obj = Map::new();
                for (n, ty) in &columns {
                    if let Some(v) = all.remove(*n) {
                        obj.insert((*n).to_owned(), normalize(*ty, v));
                    }
                }
                Ok(obj)
            })
            .collect()
    }

    /// Rows of `table` for `org`.
    pub async fn count(&self, org: &str, table: &str) -> Result<i64, StoreError> {
        let q = format!("SELECT COUNT(*) FROM \"{table}\" WHERE org_id = $1");
        let row = sqlx::query(sql(q))
            .bind(org.to_owned())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Every relationship of `org` as `(source, relationship, target)`, sorted: the stored
    /// edges and each owned row's owner (the `relationships` view).
    pub async fn edges(&self, org: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT source_id, relationship, target_id FROM relationships WHERE org_id = $1 \
             ORDER BY source_id, relationship, target_id",
        )
        .bind(org.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Every external link of `org` as `(adapter, entity, external id, canonical id)`, sorted.
    pub async fn links(
        &self,
        org: &str,
    ) -> Result<Vec<(String, String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT adapter, entity, external_id, canonical_id FROM external_links \
             WHERE org_id = $1 ORDER BY adapter, entity, external_id",
        )
        .bind(org.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
            .collect()
    }

    /// Quarantined records of `org` as `(entity, external id, reason)`.
    pub async fn quarantine(&self, org: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT entity, external_id, reason FROM quarantine WHERE org_id = $1 \
             ORDER BY entity, external_id",
        )
        .bind(org.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }
}
