//! What a page write does, whichever database it goes to: repeats within a write, created /
//! updated / unchanged, which edges go, and the text of the statements. PostgreSQL's path
//! ([`super::page`]) and SQLite's writer thread ([`super::writer`]) both follow these.

use std::collections::{HashMap, HashSet};

use super::Dialect;
use super::page::{PageCounts, PreparedRecord};
use crate::canonical::{COMMON_COLUMNS, ColumnType, TableDef};

/// A page's counts for a side-loaded entity's run (it waits, pending, for the page's entity).
pub(super) const SIDE_RUN_UPDATE: &str = "UPDATE entity_runs SET \
     fetched = fetched + $1, created = created + $2, updated = updated + $3, \
     unchanged = unchanged + $4, quarantined = quarantined + $5, updated_ms = $6 \
     WHERE run_id = $7 AND org_id = $8 AND entity = $9";

/// A page's checkpoint and counts, only while the fence holds (one row changed, or none).
pub(super) const RUN_UPDATE: &str = "UPDATE entity_runs SET \
     cursor_parent = $1, next_offset = $2, pages = pages + $16, fetched = fetched + $3, \
     created = created + $4, updated = updated + $5, unchanged = unchanged + $6, \
     quarantined = quarantined + $7, state = $8, finished_ms = $9, lease_expires_ms = $10, \
     updated_ms = $11 \
     WHERE id = $12 AND org_id = $13 AND epoch = $14 AND lease_owner = $15 \
     AND state = 'running'";

/// The fence's view of an entity run: epoch, lease owner and state.
pub(super) const FENCE_SELECT: &str =
    "SELECT epoch, lease_owner, state FROM entity_runs WHERE id = $1 AND org_id = $2";

/// Upserts rows of `table` (all its columns, in table order) from `rows` (`VALUES …` or a
/// `SELECT`); a row of another organisation with the same id is left alone.
pub(super) fn row_upsert(table: &TableDef, rows: &str) -> String {
    let columns = || COMMON_COLUMNS.iter().chain(table.fields).map(|c| c.name);
    let names: Vec<String> = columns().map(|n| format!("\"{n}\"")).collect();
    let updates: Vec<String> = columns()
        .filter(|n| !matches!(*n, "id" | "org_id" | "created_at"))
        .map(|n| format!("\"{n}\" = excluded.\"{n}\""))
        .collect();
    format!(
        "INSERT INTO \"{t}\" ({}) {rows} ON CONFLICT (\"id\") DO UPDATE SET {} \
         WHERE \"{t}\".\"org_id\" = excluded.\"org_id\"",
        names.join(", "),
        updates.join(", "),
        t = table.table
    )
}

/// Inserts edges (organisation, adapter, source, relationship, target, seen) from `rows`,
/// each once.
pub(super) fn edge_insert(rows: &str) -> String {
    format!("{}{EDGE_ON_CONFLICT}", edge_insert_new(rows))
}

/// What [`edge_insert`] does with an edge stored already: nothing.
pub(super) const EDGE_ON_CONFLICT: &str = " ON CONFLICT DO NOTHING";

/// [`edge_insert`] for edges known to be new: a repeat is an error.
pub(super) fn edge_insert_new(rows: &str) -> String {
    format!(
        "INSERT INTO edges (org_id, adapter, source_id, relationship, target_id, last_seen_ms) \
         {rows}"
    )
}

/// Upserts external links (11 columns, see the statement) from `rows`.
pub(super) fn link_upsert(rows: &str) -> String {
    format!("{}{LINK_ON_CONFLICT}", link_insert(rows))
}

/// Inserts external links (11 columns, see the statement) from `rows`; a link stored already
/// is an error unless [`LINK_ON_CONFLICT`] follows.
pub(super) fn link_insert(rows: &str) -> String {
    format!(
        "INSERT INTO external_links (org_id, adapter, entity, external_id, canonical_id, \
         canonical_entity, content_hash, remote_updated_at, first_seen_ms, last_seen_ms, \
         last_run_id) {rows}"
    )
}

/// What [`link_upsert`] does with a link stored already (the key is the canonical id, which
/// names the remote record): takes the new values, keeps the first-seen time.
pub(super) const LINK_ON_CONFLICT: &str = " ON CONFLICT (canonical_id) DO UPDATE SET \
     canonical_entity = excluded.canonical_entity, content_hash = excluded.content_hash, \
     remote_updated_at = excluded.remote_updated_at, \
     last_seen_ms = excluded.last_seen_ms, last_run_id = excluded.last_run_id";

/// Upserts one quarantine entry: organisation, adapter, entity, external id, raw JSON,
/// reason, run, seen (`$1`…`$8`).
pub(super) fn quarantine_upsert(dialect: Dialect) -> String {
    format!(
        "INSERT INTO quarantine (org_id, adapter, entity, external_id, raw, reason, \
         run_id, first_seen_ms, last_seen_ms) VALUES ($1, $2, $3, $4, {}, $6, $7, $8, $8) \
         ON CONFLICT (org_id, adapter, entity, external_id) DO UPDATE SET \
         raw = excluded.raw, reason = excluded.reason, run_id = excluded.run_id, \
         last_seen_ms = excluded.last_seen_ms",
        dialect.param(5, ColumnType::Json)
    )
}

/// The edges of `records` as (source, relationship, target), sorted, each once.
pub(super) fn distinct_edges<'r>(
    records: &[&'r PreparedRecord],
) -> Vec<(&'r str, &'r str, &'r str)> {
    let mut edges: Vec<(&str, &str, &str)> = records
        .iter()
        .flat_map(|r| {
            r.edges
                .iter()
                .map(|(rel, t)| (r.canonical_id.as_str(), rel.as_str(), t.as_str()))
        })
        .collect();
    edges.sort_unstable();
    edges.dedup();
    edges
}

/// The records of a write with repeats removed, and the counts the repeats add.
///
/// A write may hold a record twice when the remote list shifts while it is paged (or pages
/// that repeat a record commit together); the last copy wins. A repeat counts as the next page
/// would have counted it: unchanged, or updated if it differs, so the counts add up to the
/// records fetched however pages are grouped.
pub(super) fn dedupe(page_records: Vec<PreparedRecord>) -> (Vec<PreparedRecord>, PageCounts) {
    let mut counts = PageCounts::default();
    // Most writes repeat nothing: tell without copying an id.
    let unique = {
        let mut seen: HashSet<&str> = HashSet::with_capacity(page_records.len());
        page_records
            .iter()
            .all(|r| seen.insert(r.external_id.as_str()))
    };
    if unique {
        return (page_records, counts);
    }
    let mut records: Vec<PreparedRecord> = Vec::with_capacity(page_records.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in page_records {
        match index.get(&r.external_id) {
            Some(&i) => {
                if records[i].content_hash == r.content_hash {
                    counts.unchanged += 1;
                } else {
                    counts.updated += 1;
                }
                records[i] = r;
            }
            None => {
                index.insert(r.external_id.clone(), records.len());
                records.push(r);
            }
        }
    }
    (records, counts)
}

/// Sorts `records` into created, updated and unchanged (`same` says whether a record is
/// stored already and with the same content hash) and counts them. Returns the records to
/// write, and those among them whose old edges must go: only updated records can have edges
/// already, since edges commit with their record's link.
pub(super) fn classify<'r, E>(
    records: &'r [PreparedRecord],
    counts: &mut PageCounts,
    mut same: impl FnMut(&PreparedRecord) -> Result<Option<bool>, E>,
) -> Result<(Vec<&'r PreparedRecord>, Vec<&'r PreparedRecord>), E> {
    let mut changed = Vec::with_capacity(records.len());
    let mut stale_edges = Vec::new();
    for r in records {
        match same(r)? {
            None => counts.created += 1,
            Some(true) => {
                counts.unchanged += 1;
                continue;
            }
            Some(false) => {
                counts.updated += 1;
                stale_edges.push(r);
            }
        }
        changed.push(r);
    }
    Ok((changed, stale_edges))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, hash: &str) -> PreparedRecord {
        PreparedRecord {
            external_id: id.to_owned(),
            canonical_id: format!("person_{id}"),
            table: crate::canonical::entity("person").unwrap(),
            values: Vec::new(),
            edges: Vec::new(),
            content_hash: hash.to_owned(),
            remote_updated_at: None,
        }
    }

    /// A repeat keeps its first place and its last copy, and counts as the next page would
    /// have counted it; a write without repeats passes through unchanged.
    #[test]
    fn repeats_keep_the_last_copy_and_count() {
        let page = vec![
            record("a", "1"),
            record("b", "1"),
            record("a", "2"),
            record("c", "1"),
            record("b", "1"),
        ];
        let (records, counts) = dedupe(page);
        let got: Vec<(&str, &str)> = records
            .iter()
            .map(|r| (r.external_id.as_str(), r.content_hash.as_str()))
            .collect();
        assert_eq!(got, [("a", "2"), ("b", "1"), ("c", "1")]);
        assert_eq!(
            (counts.updated, counts.unchanged, counts.created),
            (1, 1, 0)
        );

        let page = vec![record("x", "1"), record("y", "2")];
        let (records, counts) = dedupe(page.clone());
        assert_eq!(records, page);
        assert_eq!(counts, PageCounts::default());
    }
}
