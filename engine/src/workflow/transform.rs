//! From a raw remote record to a [`PreparedRecord`]: validate against the adapter's schema,
//! apply the manifest's canonical mapping, coerce values to column types. Any failure is a
//! readable reason for quarantine, never a panic.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tributary_core::{EntityDef, Manifest, RawResource};

use crate::canonical::{COMMON_COLUMNS, ColumnType, TableDef};
use crate::store::{Bind, PreparedRecord, Quarantined};

/// The canonical id of a remote record: the table's prefix, a hash naming where it came from
/// (organisation, adapter, entity) and the remote id.
///
/// Deterministic so that an edge can name its target before the target is synced (soft
/// dependencies), and so that a re-run or a resumed run yields identical rows. The remote id
/// is kept readable and, when numeric, zero-padded so ids sort like the API's: consecutive
/// records then land in the same B-tree pages, where a hash of the whole id scattered every
/// insert over the index (measured: most of the sync's write I/O). Remote ids that are not
/// short and alphanumeric are hashed, behind a different separator so the two forms never meet.
pub fn canonical_id(
    prefix: &str,
    org: &str,
    adapter: &str,
    entity: &str,
    external_id: &str,
) -> String {
    let readable = !external_id.is_empty()
        && external_id.len() <= 64
        && external_id.bytes().all(|b| b.is_ascii_alphanumeric());
    let numeric = readable
        && external_id.len() <= 20
        && external_id.bytes().all(|b| b.is_ascii_digit())
        && (external_id == "0" || !external_id.starts_with('0'));
    // One separator per form (`_` padded number, `.` other readable id, `-` hash), so two
    // different remote ids never give one canonical id. Built by hand: `format!` with its
    // padding cost 3 % of a sync's instructions (three ids per owned record).
    let mut id = id_head(prefix, org, adapter, entity, 22 + external_id.len());
    if numeric {
        id.push('_');
        id.extend(std::iter::repeat_n('0', 20 - external_id.len()));
        id.push_str(external_id);
    } else if readable {
        id.push('.');
        id.push_str(external_id);
    } else {
        let digest = hex::encode(Sha256::digest(external_id.as_bytes()));
        id.push('-');
        id.push_str(&digest[..32]);
    }
    id
}

/// Bounds that every [`canonical_id`] of (`prefix`, `org`, `adapter`, `entity`) lies strictly
/// between, in byte order: each is `<prefix>_<namespace>` followed by `_`, `.` or `-`, all
/// below `~`. The nested lists' walk over an entity's parents reads this range of its
/// canonical table's key.
pub fn canonical_id_bounds(
    prefix: &str,
    org: &str,
    adapter: &str,
    entity: &str,
) -> (String, String) {
    let low = id_head(prefix, org, adapter, entity, 0);
    let high = format!("{low}~");
    (low, high)
}

/// `<prefix>_<namespace>`, what every canonical id of (`org`, `adapter`, `entity`) starts
/// with, with room for `more` bytes.
fn id_head(prefix: &str, org: &str, adapter: &str, entity: &str, more: usize) -> String {
    let namespace = namespace(org, adapter, entity);
    let mut head = String::with_capacity(prefix.len() + 1 + namespace.len() + more);
    head.push_str(prefix);
    head.push('_');
    head.push_str(std::str::from_utf8(&namespace).expect("hex digits"));
    head
}

/// The first 12 hex digits of SHA-256 over (organisation, adapter, entity).
fn namespace_of(org: &str, adapter: &str, entity: &str) -> [u8; 12] {
    let mut h = Sha256::new();
    for part in [org, adapter, entity] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let mut out = [0u8; 12];
    hex::encode_to_slice(&h.finalize()[..6], &mut out).expect("6 bytes are 12 hex digits");
    out
}

/// A cached namespace: organisation, adapter, entity and its hash digits.
type Namespace = (String, String, String, [u8; 12]);

thread_local! {
    /// Recently used namespaces. A page asks for the same few (organisation, adapter, entity)
    /// triples thousands of times (every record and every edge target), and hashing each
    /// was 3 % of a sync's CPU.
    static NAMESPACES: std::cell::RefCell<Vec<Namespace>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn namespace(org: &str, adapter: &str, entity: &str) -> [u8; 12] {
    NAMESPACES.with_borrow_mut(|cache| {
        let hit = cache
            .iter()
            .find(|(o, a, e, _)| o == org && a == adapter && e == entity);
        if let Some((.., ns)) = hit {
            return *ns;
        }
        let ns = namespace_of(org, adapter, entity);
        if cache.len() >= 16 {
            cache.remove(0);
        }
        cache.push((org.to_owned(), adapter.to_owned(), entity.to_owned(), ns));
        ns
    })
}

/// The canonical table an adapter entity maps onto, if any.
pub fn table_of(manifest: &Manifest, entity: &str) -> Option<&'static TableDef> {
    let mapping = manifest.entity(entity)?.canonical?;
    crate::canonical::entity(mapping.target)
}

/// [`coerce`] for an owned value: text moves into the bind instead of being copied.
fn coerce_owned(field: &str, ty: ColumnType, v: Value) -> Result<Bind, String> {
    match (ty, v) {
        (ColumnType::Text, Value::String(s)) => Ok(Bind::Text(s)),
        (ty, v) => coerce(field, ty, &v),
    }
}

/// Coerces a JSON value to a column type.
pub fn coerce(field: &str, ty: ColumnType, v: &Value) -> Result<Bind, String> {
    let bad = |what: &str| format!("field `{field}`: {v} is not {what}");
    Ok(match (ty, v) {
        (_, Value::Null) => Bind::Null(ty),
        (ColumnType::Text, Value::String(s)) => Bind::Text(s.clone()),
        (ColumnType::Text, Value::Number(_) | Value::Bool(_)) => Bind::Text(v.to_string()),
        (ColumnType::Text, _) => return Err(bad("text")),
        (ColumnType::Integer, Value::Number(n)) => match n.as_i64() {
            Some(i) => Bind::Int(i),
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Bind::Int(f as i64),
                _ => return Err(bad("an integer")),
            },
        },
        (ColumnType::Integer, Value::String(s)) => {
            Bind::Int(s.trim().parse().map_err(|_| bad("an integer"))?)
        }
        (ColumnType::Decimal, Value::Number(n)) => {
            Bind::Float(n.as_f64().ok_or_else(|| bad("a number"))?)
        }
        (ColumnType::Decimal, Value::String(s)) => {
            Bind::Float(s.trim().parse().map_err(|_| bad("a number"))?)
        }
        (ColumnType::Boolean, Value::Bool(b)) => Bind::Bool(*b),
        (ColumnType::Boolean, Value::String(s)) => match s.trim() {
            "true" | "1" => Bind::Bool(true),
            "false" | "0" => Bind::Bool(false),
            _ => return Err(bad("a boolean")),
        },
        (ColumnType::Boolean, Value::Number(n)) => Bind::Bool(n.as_f64() != Some(0.0)),
        (ColumnType::Date, Value::String(s)) => {
            let d = s.trim().get(..10).unwrap_or(s);
            // chrono's format-string parser only for what the digit check leaves undecided.
            if !tributary_core::check::plain_date(d) {
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| bad("a date"))?;
            }
            Bind::Text(d.to_owned())
        }
        (ColumnType::Timestamp, Value::String(s)) => {
            Bind::Text(normalize_instant(s).ok_or_else(|| bad("a timestamp"))?)
        }
        (ColumnType::Json, v) => Bind::Text(v.to_string()),
        _ => return Err(bad(&format!("{ty:?}").to_lowercase())),
    })
}

/// An RFC 3339 instant (or a bare date, read as midnight UTC) in UTC, `…Z`.
pub fn normalize_instant(s: &str) -> Option<String> {
    let s = s.trim();
    if tributary_core::check::utc_seconds(s) {
        // Already the form chrono would write back (most instants on the wire).
        return Some(s.to_owned());
    }
    let dt = match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(dt) => dt.with_timezone(&chrono::Utc),
        Err(_) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?
            .and_utc(),
    };
    Some(dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// Everything needed to prepare the records of one entity.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The adapter's manifest.
    pub manifest: &'static Manifest,
    /// The entity.
    pub entity: &'static EntityDef,
    /// The canonical table it maps onto.
    pub table: &'static TableDef,
    /// The organisation.
    pub org: &'a str,
}

/// Prepares one raw record, or says why it must be quarantined.
pub fn prepare(cx: &Context<'_>, raw: &RawResource) -> Result<PreparedRecord, Quarantined> {
    let quarantine = |reason: String| Quarantined {
        external_id: if raw.id.is_empty() {
            "(no id)".into()
        } else {
            raw.id.clone()
        },
        raw: serde_json::to_string(raw).unwrap_or_else(|_| "{}".into()),
        reason,
    };
    if raw.id.trim().is_empty() {
        return Err(quarantine("record has no id".into()));
    }
    if raw.kind != cx.entity.json_type {
        return Err(quarantine(format!(
            "type `{}` where `{}` was expected",
            raw.kind, cx.entity.json_type
        )));
    }
    (cx.manifest.validate)(cx.entity.name, raw).map_err(|e| quarantine(format!("invalid: {e}")))?;
    let mapping = cx
        .entity
        .canonical
        .ok_or_else(|| quarantine("entity has no canonical mapping".into()))?;
    let record = mapping
        .apply(raw)
        .map_err(|e| quarantine(format!("mapping: {e}")))?;
    build(cx, record).map_err(quarantine)
}

fn build(
    cx: &Context<'_>,
    record: tributary_core::CanonicalRecord,
) -> Result<PreparedRecord, String> {
    let adapter = cx.manifest.adapter;
    let id = canonical_id(
        cx.table.prefix,
        cx.org,
        adapter,
        cx.entity.name,
        &record.external_id,
    );
    let target_id = |r: &tributary_core::RecordRef| -> Option<String> {
        let table = table_of(cx.manifest, r.entity)?;
        Some(canonical_id(
            table.prefix,
            cx.org,
            adapter,
            r.entity,
            &r.external_id,
        ))
    };
    let mut custom: Map<String, Value> = record.custom_fields;
    // Each mapped value goes to its column's slot, in one pass over the map (it was removed
    // from the map column by column, 2 % of a sync's instructions); fields the table has no
    // column for are kept, in custom_fields.
    let columns = || COMMON_COLUMNS.iter().chain(cx.table.fields);
    let mut slots: Vec<Option<Value>> = columns().map(|_| None).collect();
    for (k, v) in record.fields {
        match columns().position(|c| c.name == k) {
            Some(i) => slots[i] = Some(v),
            None => {
                custom.insert(k, v);
            }
        }
    }
    // The owner is the row's `owner_id`, not also an edge (see the `relationships` view).
    let mut edges: Vec<(String, String)> = record
        .edges
        .iter()
        .filter_map(|r| Some((r.edge.to_owned(), target_id(r)?)))
        .collect();
    edges.sort();
    edges.dedup();
    // A to-one relationship the model holds in a column (`refs`) goes there, not to `edges`
    // (a person's campus was half of all edges, and their key most of their cost). Should a
    // record name several targets, the first (in order) is the column's and the rest stay
    // edges: nothing is lost, and the `relationships` view shows them all.
    for r in cx.table.refs {
        let Some(i) = edges.iter().position(|(rel, _)| rel == r.relationship) else {
            continue;
        };
        let slot = columns().position(|c| c.name == r.column);
        // (A value a field mapping put there stays, and the edge with it.)
        if let Some(slot) = slot.filter(|&j| slots[j].as_ref().is_none_or(Value::is_null)) {
            let (_, target) = edges.remove(i);
            slots[slot] = Some(Value::String(target));
        }
    }
    // A mapped field, if the mapping gave one (even null).
    let field = |name: &str| -> Option<&Value> {
        columns()
            .position(|c| c.name == name)
            .and_then(|i| slots[i].as_ref())
    };
    let take_instant = |name: &str| {
        field(name)
            .or_else(|| custom.get(name))
            .and_then(Value::as_str)
            .and_then(normalize_instant)
    };
    let remote_updated = record
        .remote_updated_at
        .as_deref()
        .and_then(normalize_instant);
    let updated_at = take_instant("updated_at").or_else(|| remote_updated.clone());
    let created_at = take_instant("created_at").or_else(|| updated_at.clone());
    // An instant kept in custom_fields that its column holds verbatim would be stored twice
    // (PCO's `created_at` on every record: for an email or a phone number, all of its custom
    // fields, and JSON the database parses per row); one in another form (an offset, a
    // fraction) stays, since the column holds it normalised.
    for (name, column) in [("created_at", &created_at), ("updated_at", &updated_at)] {
        if column.is_some() && custom.get(name).and_then(Value::as_str) == column.as_deref() {
            custom.remove(name);
        }
    }
    // A null attribute holds no value: absent, it reads the same (`custom_fields->'x'` is
    // null either way). PCO sends every attribute, set or not: a third of a person's custom
    // fields were nulls, parsed by the database on every row.
    custom.retain(|_, v| !v.is_null());
    let epoch = || "1970-01-01T00:00:00Z".to_owned();
    let owner_id = record.owner.as_ref().and_then(target_id);
    let status = match field("status") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_lowercase(),
        _ => "active".to_owned(),
    };
    let tags = match field("tags") {
        Some(v @ Value::Array(_)) => v.to_string(),
        _ => "[]".to_owned(),
    };
    let mut values = Vec::with_capacity(slots.len());
    for (c, value) in columns().zip(slots) {
        values.push(match c.name {
            "id" => Bind::Text(id.clone()),
            "org_id" => Bind::Text(cx.org.to_owned()),
            "owner_id" => owner_id
                .clone()
                .map_or(Bind::Null(ColumnType::Text), Bind::Text),
            "created_at" => Bind::Text(created_at.clone().unwrap_or_else(epoch)),
            "updated_at" => Bind::Text(updated_at.clone().unwrap_or_else(epoch)),
            "status" => Bind::Text(status.clone()),
            "tags" => Bind::Text(tags.clone()),
            "custom_fields" => Bind::Text(
                serde_json::to_string(&custom).map_err(|e| format!("custom fields: {e}"))?,
            ),
            // The mapped values are not needed after this: move them into the row.
            name => coerce_owned(name, c.ty, value.unwrap_or(Value::Null))?,
        });
    }
    let content_hash = hash_content(&values, &edges);
    Ok(PreparedRecord {
        external_id: record.external_id,
        canonical_id: id,
        table: cx.table,
        values,
        edges,
        content_hash,
        remote_updated_at: record.remote_updated_at,
    })
}

/// A digest of everything stored for a record, to tell an updated record from an unchanged
/// one. Every value is fed with a type tag and a length, so different contents never meet
/// by concatenation.
///
/// BLAKE3, not SHA-256: on CPUs without SHA instructions SHA-256 was 7.6 % of a sync's CPU,
/// and a cryptographic digest still means no crafted record can pass for unchanged.
fn hash_content(values: &[Bind], edges: &[(String, String)]) -> String {
    // One contiguous input hashed at once: three `Hasher::update` calls per value cost as
    // much as the hashing itself. Same bytes, same digest.
    HASH_INPUT.with_borrow_mut(|input| {
        input.clear();
        content_bytes(input, values, edges);
        // Hex digits through a fixed buffer: `hex::encode` collects chars one by one.
        let mut digits = [0u8; 32];
        hex::encode_to_slice(&blake3::hash(input).as_bytes()[..16], &mut digits)
            .expect("16 bytes are 32 hex digits");
        let digest = std::str::from_utf8(&digits).expect("hex digits").to_owned();
        // A rare huge record (a long note) must not pin its size on every thread.
        if input.capacity() > 64 * 1024 {
            *input = Vec::new();
        }
        digest
    })
}

thread_local! {
    /// The content of the record being hashed, reused from record to record.
    static HASH_INPUT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Appends what [`hash_content`] digests to `out`.
fn content_bytes(out: &mut Vec<u8>, values: &[Bind], edges: &[(String, String)]) {
    let mut feed = |tag: u8, bytes: &[u8]| {
        out.push(tag);
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    for v in values {
        match v {
            Bind::Null(_) => feed(0, &[]),
            Bind::Text(s) => feed(1, s.as_bytes()),
            Bind::Int(i) => feed(2, &i.to_le_bytes()),
            Bind::Float(f) => feed(3, &f.to_bits().to_le_bytes()),
            Bind::Bool(b) => feed(4, &[u8::from(*b)]),
        }
    }
    for (rel, target) in edges {
        feed(5, rel.as_bytes());
        feed(6, target.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::{
        canonical_id, canonical_id_bounds, coerce, hash_content, namespace, namespace_of,
        normalize_instant,
    };
    use crate::canonical::ColumnType;
    use crate::store::Bind;
    use sha2::Digest;

    #[test]
    fn content_hashes_tell_values_apart() {
        let t = |s: &str| Bind::Text(s.to_owned());
        let h = |v: &[Bind]| hash_content(v, &[]);
        assert_eq!(h(&[t("a"), Bind::Int(1)]), h(&[t("a"), Bind::Int(1)]));
        // Concatenation, types and NULLs stay apart.
        assert_ne!(h(&[t("ab"), t("c")]), h(&[t("a"), t("bc")]));
        assert_ne!(h(&[t("1")]), h(&[Bind::Int(1)]));
        assert_ne!(h(&[t("")]), h(&[Bind::Null(ColumnType::Text)]));
        assert_ne!(h(&[Bind::Bool(true)]), h(&[Bind::Int(1)]));
        let e = |r: &str, x: &str| vec![(r.to_owned(), x.to_owned())];
        assert_ne!(
            hash_content(&[t("a")], &e("owner", "x")),
            hash_content(&[t("a")], &e("owner", "y"))
        );
    }

    /// The digest of the contiguous input is BLAKE3's incremental digest of the same bytes
    /// (what `c7bb9ca` stored), so databases synced since then keep their hashes.
    #[test]
    fn content_hashes_are_blake3_of_tagged_lengths_and_bytes() {
        let values = [
            Bind::Text("Ann".into()),
            Bind::Int(-7),
            Bind::Null(ColumnType::Text),
            Bind::Float(0.5),
            Bind::Bool(true),
        ];
        let edges = vec![("owner".to_owned(), "pers_x".to_owned())];
        let mut h = blake3::Hasher::new();
        let mut feed = |tag: u8, bytes: &[u8]| {
            h.update(&[tag]);
            h.update(&(bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        feed(1, b"Ann");
        feed(2, &(-7i64).to_le_bytes());
        feed(0, &[]);
        feed(3, &0.5f64.to_bits().to_le_bytes());
        feed(4, &[1]);
        feed(5, b"owner");
        feed(6, b"pers_x");
        let expected = hex::encode(&h.finalize().as_bytes()[..16]);
        assert_eq!(hash_content(&values, &edges), expected);
        // The reused buffer starts afresh for every record.
        assert_eq!(hash_content(&values, &edges), expected);
        assert_ne!(hash_content(&values[..1], &[]), expected);
    }

    /// Mapped values land in their columns, a mapped field the table lacks in custom_fields,
    /// status and tags are normalised, and an instant comes from the mapped field, else from
    /// custom_fields (where it stays only if its column does not hold it verbatim), else
    /// from the remote modification time; null attributes are left out of custom_fields.
    #[test]
    fn build_places_each_value() {
        use serde_json::{Value, json};
        let manifest = &tributary_pco::MANIFEST;
        let entity = manifest.entity("Address").unwrap();
        let table = super::table_of(manifest, "Address").unwrap();
        let cx = super::Context {
            manifest,
            entity,
            table,
            org: "o",
        };
        let map = |v: Value| v.as_object().unwrap().clone();
        let record = tributary_core::CanonicalRecord {
            entity: "address",
            external_id: "7".into(),
            fields: map(json!({
                "city": "Springfield", "no_such_column": 3, "status": " Inactive ",
                "tags": ["a"], "postal_code": null, "id": "ignored"
            })),
            custom_fields: map(json!({"created_at": "2024-01-02T03:04:05+01:00", "x": true})),
            owner: None,
            edges: Vec::new(),
            remote_updated_at: Some("2024-02-03T04:05:06Z".into()),
        };
        let built = super::build(&cx, record).unwrap();
        let value = |name: &str| {
            let i = crate::canonical::COMMON_COLUMNS
                .iter()
                .chain(table.fields)
                .position(|c| c.name == name)
                .unwrap();
            built.values[i].clone()
        };
        let text = |s: &str| Bind::Text(s.to_owned());
        assert_eq!(value("city"), text("Springfield"));
        assert_eq!(value("postal_code"), Bind::Null(ColumnType::Text));
        assert_eq!(value("status"), text("inactive"));
        assert_eq!(value("tags"), text(r#"["a"]"#));
        assert_eq!(value("created_at"), text("2024-01-02T02:04:05Z"));
        assert_eq!(value("updated_at"), text("2024-02-03T04:05:06Z"));
        assert_eq!(
            value("custom_fields"),
            text(r#"{"created_at":"2024-01-02T03:04:05+01:00","no_such_column":3,"x":true}"#)
        );
        assert_eq!(value("id"), text(&built.canonical_id));
        assert_eq!(value("org_id"), text("o"));

        // An instant its column holds verbatim is not kept twice, a null attribute not at
        // all; other custom fields stay.
        let record = tributary_core::CanonicalRecord {
            entity: "address",
            external_id: "8".into(),
            fields: map(json!({"city": "Springfield"})),
            custom_fields: map(json!({
                "created_at": "2024-01-02T03:04:05Z",
                "updated_at": "2024-02-03T04:05:06Z",
                "x": true,
                "unset": null
            })),
            owner: None,
            edges: Vec::new(),
            remote_updated_at: Some("2024-02-03T04:05:06Z".into()),
        };
        let built = super::build(&cx, record).unwrap();
        let i = |name: &str| {
            crate::canonical::COMMON_COLUMNS
                .iter()
                .position(|c| c.name == name)
                .unwrap()
        };
        assert_eq!(built.values[i("created_at")], text("2024-01-02T03:04:05Z"));
        assert_eq!(built.values[i("updated_at")], text("2024-02-03T04:05:06Z"));
        assert_eq!(built.values[i("custom_fields")], text(r#"{"x":true}"#));
    }

    /// A to-one relationship the model holds in a column (a person's `primary_campus`) is
    /// stored there, not as an edge; other edges stay edges, and a second target of the same
    /// relationship stays an edge rather than be lost.
    #[test]
    fn a_ref_lands_in_its_column() {
        let manifest = &tributary_pco::MANIFEST;
        let entity = manifest.entity("Person").unwrap();
        let table = super::table_of(manifest, "Person").unwrap();
        let r = table
            .refs
            .iter()
            .find(|r| r.relationship == "primary_campus");
        assert_eq!(r.map(|r| r.column), Some("primary_campus_id"));
        let cx = super::Context {
            manifest,
            entity,
            table,
            org: "o",
        };
        let to = |edge: &'static str, entity: &'static str, id: &str| tributary_core::RecordRef {
            edge,
            entity,
            external_id: id.into(),
        };
        let record = |edges| tributary_core::CanonicalRecord {
            entity: "person",
            external_id: "7".into(),
            fields: serde_json::Map::new(),
            custom_fields: serde_json::Map::new(),
            owner: None,
            edges,
            remote_updated_at: None,
        };
        let campus = |id| canonical_id("campus", "o", "pco", "Campus", id);
        let household = canonical_id("household", "o", "pco", "Household", "5");
        let column = crate::canonical::COMMON_COLUMNS
            .iter()
            .chain(table.fields)
            .position(|c| c.name == "primary_campus_id")
            .unwrap();

        let built = super::build(
            &cx,
            record(vec![
                to("member_of", "Household", "5"),
                to("primary_campus", "Campus", "3"),
            ]),
        )
        .unwrap();
        assert_eq!(built.values[column], Bind::Text(campus("3")));
        assert_eq!(
            built.edges,
            vec![("member_of".to_owned(), household.clone())]
        );

        let built = super::build(
            &cx,
            record(vec![
                to("primary_campus", "Campus", "4"),
                to("primary_campus", "Campus", "3"),
            ]),
        )
        .unwrap();
        let (first, second) = if campus("3") < campus("4") {
            (campus("3"), campus("4"))
        } else {
            (campus("4"), campus("3"))
        };
        assert_eq!(built.values[column], Bind::Text(first));
        assert_eq!(built.edges, vec![("primary_campus".to_owned(), second)]);

        let none = super::build(&cx, record(Vec::new())).unwrap();
        assert_eq!(none.values[column], Bind::Null(ColumnType::Text));
        assert_ne!(none.content_hash, built.content_hash);
    }

    /// An adapter edge that lands in a ref column points at an entity of the ref's target
    /// (a person's `primary_campus` at a campus): the column's ids are of one kind.
    #[test]
    fn edges_that_land_in_refs_point_at_their_target() {
        let manifest = &tributary_pco::MANIFEST;
        let mut checked = 0;
        for e in manifest.entities {
            let Some(table) = super::table_of(manifest, e.name) else {
                continue;
            };
            for edge in e.canonical.map_or(&[][..], |m| m.edges) {
                let Some(r) = table.refs.iter().find(|r| r.relationship == edge.edge) else {
                    continue;
                };
                let target = super::table_of(manifest, edge.target).map(|t| t.entity);
                assert_eq!(target, Some(r.target), "{}.{}", e.name, edge.relationship);
                checked += 1;
            }
        }
        assert!(checked >= 1, "Person.primary_campus is checked");
    }

    /// The parent walk reads one entity's links as the range between these bounds: every
    /// form of id (padded number, readable, hashed) falls inside, another entity's,
    /// organisation's or table's ids outside.
    #[test]
    fn an_entitys_canonical_ids_lie_between_its_bounds() {
        let (low, high) = canonical_id_bounds("group", "org", "pco", "Group");
        let inside = [
            "0",
            "7",
            "10",
            "99999999999999999999",
            "abc",
            "007",
            "a b",
            "x/y",
            "é",
        ];
        for id in inside {
            let c = canonical_id("group", "org", "pco", "Group", id);
            assert!(low < c && c < high, "{id:?}: {c} not in ({low}, {high})");
        }
        let outside = [
            canonical_id("group", "org", "pco", "GroupType", "7"),
            canonical_id("group", "other", "pco", "Group", "7"),
            canonical_id("groups", "org", "pco", "Group", "7"),
            canonical_id("grou", "org", "pco", "Group", "7"),
            canonical_id("group_membership", "org", "pco", "Group", "7"),
        ];
        for c in outside {
            assert!(!(low < c && c < high), "{c} is in ({low}, {high})");
        }
    }

    #[test]
    fn canonical_ids_are_deterministic_distinct_and_ordered_like_remote_ids() {
        let id = |e: &str| canonical_id("person", "org", "pco", "Person", e);
        assert_eq!(id("42"), id("42"));
        // The forms ids have had since the first build: they must never change.
        let ns = String::from_utf8(namespace_of("org", "pco", "Person").to_vec()).unwrap();
        assert_eq!(id("42"), format!("person_{ns}_{:0>20}", "42"));
        assert_eq!(
            id("18446744073709551615"),
            format!("person_{ns}_18446744073709551615")
        );
        assert_eq!(id("abc"), format!("person_{ns}.abc"));
        let digest = hex::encode(sha2::Sha256::digest("a b".as_bytes()));
        assert_eq!(id("a b"), format!("person_{ns}-{}", &digest[..32]));
        assert!(id("42").starts_with("person_"));
        // Numeric ids sort numerically (9 before 10), so inserts stay local.
        assert!(id("9") < id("10") && id("10") < id("12345678901"));
        // Forms that look alike stay apart.
        let forms = [
            "7",
            "007",
            "00000000000000000007",
            "abc",
            "a b",
            "a-b",
            "",
            "0",
        ];
        let ids: std::collections::BTreeSet<String> = forms.iter().map(|f| id(f)).collect();
        assert_eq!(ids.len(), forms.len(), "{ids:?}");
        // Another organisation, adapter or entity never shares an id.
        assert_ne!(
            id("42"),
            canonical_id("person", "org2", "pco", "Person", "42")
        );
        assert_ne!(
            id("42"),
            canonical_id("person", "org", "pco", "Email", "42")
        );
    }

    #[test]
    fn cached_namespaces_equal_fresh_ones() {
        // More triples than the cache holds, asked for twice in different orders.
        let triples: Vec<(String, &str, &str)> = (0..40)
            .map(|i| {
                (
                    format!("org{i}"),
                    "pco",
                    if i % 2 == 0 { "Person" } else { "Email" },
                )
            })
            .collect();
        for pass in 0..2 {
            for (i, (org, adapter, entity)) in triples.iter().enumerate() {
                let (org, adapter, entity) = if pass == 0 {
                    (org.as_str(), *adapter, *entity)
                } else {
                    let (o, a, e) = &triples[triples.len() - 1 - i];
                    (o.as_str(), *a, *e)
                };
                let fresh = namespace_of(org, adapter, entity);
                assert_eq!(namespace(org, adapter, entity), fresh);
                assert_eq!(namespace(org, adapter, entity), fresh, "from the cache");
                let id = canonical_id("p", org, adapter, entity, "1");
                assert_eq!(&id[2..14], std::str::from_utf8(&fresh).unwrap());
            }
        }
        assert_ne!(namespace_of("a", "b", "c"), namespace_of("a", "b", "d"));
    }

    /// Instants and dates read as chrono reads them, whether the digit check or chrono
    /// decided.
    #[test]
    fn instants_and_dates_normalize_as_chrono_does() {
        let by_chrono = |s: &str| {
            let s = s.trim();
            let dt = match chrono::DateTime::parse_from_rfc3339(s) {
                Ok(dt) => dt.with_timezone(&chrono::Utc),
                Err(_) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()?
                    .and_hms_opt(0, 0, 0)?
                    .and_utc(),
            };
            Some(dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        };
        for s in [
            "2015-01-22T22:34:00Z",
            " 2015-01-22T22:34:00Z ",
            "0999-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
            "2023-02-29T23:59:59Z",
            "2015-01-22T22:34:00+02:00",
            "2015-01-22T22:34:00.250Z",
            "2015-01-22",
            "2015-01-22T25:00:00Z",
            "yesterday",
        ] {
            assert_eq!(normalize_instant(s), by_chrono(s), "{s:?}");
        }
        let date = |s: &str| coerce("d", ColumnType::Date, &serde_json::json!(s));
        assert_eq!(date("1987-02-28"), Ok(Bind::Text("1987-02-28".into())));
        assert_eq!(
            date("2024-02-29T10:00:00Z"),
            Ok(Bind::Text("2024-02-29".into()))
        );
        assert!(date("2023-02-29").is_err());
        assert!(date("1987-2-28x").is_err());
    }
}
