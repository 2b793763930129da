//! What a page write does, whichever database it goes to: repeats within a write, created /
//! updated / unchanged, which edges go, and the text of the statements. PostgreSQL's path
//! ([`super::page`]) and SQLite's writer thread ([`super::writer`]) both follow these.

use std::collections::{HashMap, HashSet};

use super::Bind;
use super::Dialect;
use super::page::{PageCounts, PreparedRecord};
use crate::canonical::{COMMON_COLUMNS, ColumnType, LINK_COLUMNS, TableDef};
use crate::lease::Fence;

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
pub(crate) const FENCE_SELECT: &str =
    "SELECT epoch, lease_owner, state FROM entity_runs WHERE id = $1 AND org_id = $2";

/// Every column of `table`, in table order: the common columns, its fields, the link
/// columns (a row's values are [`PreparedRecord::values`] followed by [`link_row`]).
pub(super) fn all_columns(
    table: &TableDef,
) -> impl Iterator<Item = &'static crate::canonical::ColumnDef> {
    COMMON_COLUMNS
        .iter()
        .chain(table.fields)
        .chain(LINK_COLUMNS)
}

/// Which of `table`'s columns a `COPY` of `records` sends, in table order: all but those
/// with a default ([`ColumnDef::default`](crate::canonical::ColumnDef)) that every record's
/// value equals, which the server then fills in itself.
/// Most records have no tags and many no custom fields, and each `jsonb` value sent is parsed
/// by the server (`jsonb_recv`: 7 % of its CPU in a 50,000-person first sync) even when it is
/// `[]` or `{}`.
pub(super) fn copied_columns(table: &TableDef, records: &[&PreparedRecord]) -> Vec<bool> {
    all_columns(table)
        .enumerate()
        .map(|(i, c)| {
            let Some(default) = c.default else {
                return true;
            };
            !records
                .iter()
                .all(|r| matches!(r.values.get(i), Some(Bind::Text(v)) if v == default))
        })
        .collect()
}

/// A link column's value, borrowed from the record and the run that writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum LinkValue<'a> {
    Text(&'a str),
    Null,
    Int(i64),
}

impl LinkValue<'_> {
    /// The value as an owned bind (for the `sqlx` path's arrays).
    pub(super) fn to_bind(self) -> Bind {
        match self {
            LinkValue::Text(s) => Bind::Text(s.to_owned()),
            LinkValue::Null => Bind::Null(ColumnType::Text),
            LinkValue::Int(i) => Bind::Int(i),
        }
    }
}

/// Positions in [`link_row`] whose value depends on the record; the others are the same for a
/// whole write (adapter, entity, seen times, run), which SQLite's writer binds once.
pub(super) const LINK_PER_RECORD: [usize; 3] = [2, 3, 4];

/// The values of the [`LINK_COLUMNS`] of `r`, in their order: of the adapter's `entity`,
/// seen `now` by the run `fence` names (first and last seen: a row stored already keeps its
/// first, see [`row_upsert`]). The one place that knows the link columns' order.
pub(super) fn link_row<'a>(
    r: &'a PreparedRecord,
    fence: &'a Fence,
    entity: &'a str,
    now: i64,
) -> [LinkValue<'a>; 8] {
    [
        LinkValue::Text(&fence.adapter),
        LinkValue::Text(entity),
        LinkValue::Text(&r.external_id),
        LinkValue::Text(&r.content_hash),
        r.remote_updated_at
            .as_deref()
            .map_or(LinkValue::Null, LinkValue::Text),
        LinkValue::Int(now),
        LinkValue::Int(now),
        LinkValue::Text(&fence.run_id),
    ]
}

/// Inserts rows of `table` (all its columns, in table order: [`all_columns`]) from `rows`;
/// a row stored already is an error.
pub(super) fn row_insert(table: &TableDef, rows: &str) -> String {
    let names: Vec<String> = all_columns(table)
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    format!(
        "INSERT INTO \"{}\" ({}) {rows}",
        table.table,
        names.join(", ")
    )
}

/// Upserts rows of `table` (all its columns, in table order) from `rows` (`VALUES …` or a
/// `SELECT`); a row of another organisation with the same id is left alone, a row stored
/// already keeps its first-seen time.
pub(super) fn row_upsert(table: &TableDef, rows: &str) -> String {
    let updates: Vec<String> = all_columns(table)
        .map(|c| c.name)
        .filter(|n| !matches!(*n, "id" | "org_id" | "created_at" | "first_seen_ms"))
        .map(|n| format!("\"{n}\" = excluded.\"{n}\""))
        .collect();
    format!(
        "{} ON CONFLICT (\"id\") DO UPDATE SET {} WHERE \"{t}\".\"org_id\" = excluded.\"org_id\"",
        row_insert(table, rows),
        updates.join(", "),
        t = table.table
    )
}

/// The columns of an edge, in the order [`edge_insert`] and `COPY` take them.
pub(super) const EDGE_COLUMNS: [&str; 6] = [
    "org_id",
    "adapter",
    "source_id",
    "relationship",
    "target_id",
    "last_seen_ms",
];

/// Inserts edges ([`EDGE_COLUMNS`]) from `rows`, each once; an edge stored already stays.
pub(super) fn edge_insert(rows: &str) -> String {
    format!(
        "INSERT INTO edges ({}) {rows} ON CONFLICT DO NOTHING",
        EDGE_COLUMNS.join(", ")
    )
}

/// The columns of a seen mark, in the order [`mark_upsert`] takes them.
pub(super) const MARK_COLUMNS: [&str; 4] =
    ["canonical_id", "org_id", "last_seen_ms", "last_run_id"];

/// Marks records ([`MARK_COLUMNS`], from `rows`) as seen again unchanged: a narrow row per
/// record in `seen_marks`, not a new version of the wide canonical row.
pub(super) fn mark_upsert(rows: &str) -> String {
    format!(
        "INSERT INTO seen_marks ({}) {rows} ON CONFLICT (canonical_id) DO UPDATE SET \
         last_seen_ms = excluded.last_seen_ms, last_run_id = excluded.last_run_id",
        MARK_COLUMNS.join(", ")
    )
}

/// The content hash of the row of `table` with id `$1`, if stored.
pub(super) fn hash_select(table: &TableDef) -> String {
    format!(
        "SELECT \"content_hash\" FROM \"{}\" WHERE \"id\" = $1",
        table.table
    )
}

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

/// `items` grouped by canonical table (`table` tells an item's), in order of first
/// appearance. An entity's records all map to one table, as far as the store knows only by
/// looking: one group, no copy of the list's order.
pub(super) fn by_table<T: Copy>(
    items: &[T],
    table: impl Fn(T) -> &'static TableDef,
) -> Vec<(&'static TableDef, Vec<T>)> {
    let mut groups: Vec<(&'static TableDef, Vec<T>)> = Vec::new();
    for &item in items {
        let t = table(item);
        match groups.iter_mut().find(|(g, _)| std::ptr::eq(*g, t)) {
            Some((_, list)) => list.push(item),
            None => groups.push((t, vec![item])),
        }
    }
    groups
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
pub(super) fn dedupe(page_records: &[PreparedRecord]) -> (Vec<&PreparedRecord>, PageCounts) {
    let (keep, counts) = repeats(page_records);
    let records = match keep {
        None => page_records.iter().collect(),
        Some(keep) => keep.iter().map(|&i| &page_records[i]).collect(),
    };
    (records, counts)
}

/// Which records [`dedupe`] keeps (positions, in order; None: all) and the counts of the
/// repeats.
fn repeats(page_records: &[PreparedRecord]) -> (Option<Vec<usize>>, PageCounts) {
    let mut counts = PageCounts::default();
    // Most writes repeat nothing: tell without a map of positions.
    let unique = {
        let mut seen: HashSet<&str> = HashSet::with_capacity(page_records.len());
        page_records
            .iter()
            .all(|r| seen.insert(r.external_id.as_str()))
    };
    if unique {
        return (None, counts);
    }
    let mut keep: Vec<usize> = Vec::with_capacity(page_records.len());
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, r) in page_records.iter().enumerate() {
        match index.get(r.external_id.as_str()) {
            Some(&k) => {
                if page_records[keep[k]].content_hash == r.content_hash {
                    counts.unchanged += 1;
                } else {
                    counts.updated += 1;
                }
                keep[k] = i;
            }
            None => {
                index.insert(&r.external_id, keep.len());
                keep.push(i);
            }
        }
    }
    (Some(keep), counts)
}

/// Sorts `records` into created, updated and unchanged (`same` says whether a record is
/// stored already and with the same content hash) and counts them.
pub(super) fn classify<'r, E>(
    records: impl ExactSizeIterator<Item = &'r PreparedRecord>,
    counts: &mut PageCounts,
    mut same: impl FnMut(&PreparedRecord) -> Result<Option<bool>, E>,
) -> Result<Classified<'r>, E> {
    let mut sorted = Classified {
        changed: Vec::with_capacity(records.len()),
        ..Classified::default()
    };
    for r in records {
        match same(r)? {
            None => counts.created += 1,
            Some(true) => {
                counts.unchanged += 1;
                sorted.unchanged.push(r);
                continue;
            }
            Some(false) => {
                counts.updated += 1;
                sorted.stale_edges.push(r);
            }
        }
        sorted.changed.push(r);
    }
    Ok(sorted)
}

/// A write's records as [`classify`] sorts them.
#[derive(Debug, Default)]
pub(super) struct Classified<'r> {
    /// The records to write: created and updated.
    pub changed: Vec<&'r PreparedRecord>,
    /// Those among them whose old edges must go: only updated records can have edges
    /// already, since edges commit with their record's row.
    pub stale_edges: Vec<&'r PreparedRecord>,
    /// Records stored already with the same content: they are only marked seen.
    pub unchanged: Vec<&'r PreparedRecord>,
}

/// The entities (of an organisation, through an adapter) whose last page in the current run
/// found none of its records stored: during a first sync, every page after the first. Their
/// pages skip the look-up of stored records (an index probe per record) and insert without
/// `ON CONFLICT`: a record stored after all fails the insert on its key, and the page is
/// written again, looking. A guess holds within its run only: the next run (a process may
/// sync again and again) looks on its first page.
#[derive(Debug, Default)]
pub(crate) struct FreshEntities(std::sync::Mutex<HashMap<String, String>>);

impl FreshEntities {
    fn key(fence: &Fence, entity: &str) -> String {
        format!("{}\0{}\0{entity}", fence.org_id, fence.adapter)
    }

    /// Whether `entity`'s last page in this run found none of its records stored.
    pub(super) fn all_new_last_time(&self, fence: &Fence, entity: &str) -> bool {
        let runs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        runs.get(&Self::key(fence, entity)) == Some(&fence.run_id)
    }

    /// Notes whether `entity`'s page found none of its records stored.
    pub(super) fn note(&self, fence: &Fence, entity: &str, all_new: bool) {
        let mut runs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let key = Self::key(fence, entity);
        if all_new {
            runs.insert(key, fence.run_id.clone());
        } else {
            runs.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults the model gives its columns are the schema's: a `COPY` that leaves a
    /// column out gets the value the row would have held.
    #[test]
    fn the_column_defaults_are_the_schemas() {
        let defaulted: Vec<_> = crate::canonical::ENTITIES
            .iter()
            .flat_map(all_columns)
            .filter_map(|c| Some((c.name, c.default?)))
            .collect();
        assert_eq!(
            defaulted.len(),
            3 * crate::canonical::ENTITIES.len(),
            "status, tags and custom_fields of every table: {defaulted:?}"
        );
        for (name, default) in defaulted {
            let declared = crate::canonical::POSTGRES_SCHEMA
                .lines()
                .filter(|l| {
                    l.trim_start().starts_with(&format!("\"{name}\" "))
                        && l.trim_end().ends_with(&format!(" DEFAULT '{default}',"))
                })
                .count();
            assert_eq!(
                declared,
                crate::canonical::ENTITIES.len(),
                "every entity table declares {name} DEFAULT '{default}'"
            );
        }
    }

    #[test]
    fn a_copy_leaves_out_the_columns_every_record_leaves_at_their_default() {
        let table = crate::canonical::entity("person").unwrap();
        let position = |name: &str| all_columns(table).position(|c| c.name == name).unwrap();
        let with = |tags: &str, custom: &str| {
            let mut r = record("1", "h");
            r.values = all_columns(table)
                .take(COMMON_COLUMNS.len() + table.fields.len())
                .map(|c| match c.name {
                    "status" => Bind::Text("active".into()),
                    "tags" => Bind::Text(tags.into()),
                    "custom_fields" => Bind::Text(custom.into()),
                    _ => Bind::Null(c.ty),
                })
                .collect();
            r
        };
        let (plain, tagged) = (with("[]", "{}"), with(r#"["a"]"#, "{}"));
        let sent = copied_columns(table, &[&plain, &plain]);
        assert_eq!(sent.len(), all_columns(table).count());
        for name in ["status", "tags", "custom_fields"] {
            assert!(!sent[position(name)], "{name} left to its default");
        }
        assert!(sent[position("id")] && sent[position("first_name")]);
        let sent = copied_columns(table, &[&plain, &tagged]);
        assert!(
            sent[position("tags")],
            "one record's tags are not the default"
        );
        assert!(!sent[position("custom_fields")] && !sent[position("status")]);
        let sent = copied_columns(table, &[&with(" []", "{}")]);
        assert!(
            sent[position("tags")],
            "only the default's exact text is left out"
        );
    }

    /// A guess holds for its entity, organisation and run only.
    #[test]
    fn fresh_entities_are_guessed_within_their_run() {
        let fence = |org: &str, run: &str| Fence {
            entity_run_id: "er".into(),
            run_id: run.into(),
            org_id: org.into(),
            adapter: "pco".into(),
            owner: "me".into(),
            epoch: 1,
        };
        let fresh = FreshEntities::default();
        let (a, b) = (fence("o1", "r1"), fence("o1", "r2"));
        assert!(!fresh.all_new_last_time(&a, "Person"));
        fresh.note(&a, "Person", true);
        assert!(fresh.all_new_last_time(&a, "Person"));
        assert!(!fresh.all_new_last_time(&a, "Email"));
        assert!(!fresh.all_new_last_time(&fence("o2", "r1"), "Person"));
        assert!(
            !fresh.all_new_last_time(&b, "Person"),
            "another run looks first"
        );
        fresh.note(&a, "Person", false);
        assert!(!fresh.all_new_last_time(&a, "Person"));
    }

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
        let (records, counts) = dedupe(&page);
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
        let (records, counts) = dedupe(&page);
        assert_eq!(records, page.iter().collect::<Vec<_>>());
        assert_eq!(counts, PageCounts::default());
    }
}
