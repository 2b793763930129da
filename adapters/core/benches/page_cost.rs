//! Client-side cost of one page: parse a synthetic PCO people page (100 people, each with an
//! address, two emails and a phone number side-loaded) and resolve its includes to typed
//! values. Prints microseconds per page. Run: `cargo bench -p tributary-core --bench page_cost`.

use std::hint::black_box;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tributary_core::{Document, Entity, EntityDef, Included, RawResource, Resource, ToMany, ToOne};

macro_rules! entity {
    ($name:ident, $rels:ty, { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Clone, Serialize, Deserialize)]
        struct $name {
            $($field: $ty,)*
            #[serde(flatten)]
            extra: Map<String, Value>,
        }
        impl Entity for $name {
            type Relationships = $rels;
            const DEF: EntityDef = EntityDef {
                name: stringify!($name),
                json_type: stringify!($name),
                doc: "",
                relationships: &[],
                endpoints: &[],
                includes: &[],
                order_by: &[],
                query_by: &[],
                canonical: None,
                webhook_events: &[],
            };
        }
    };
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PersonRels {
    #[serde(default)]
    addresses: ToMany,
    #[serde(default)]
    emails: ToMany,
    #[serde(default)]
    phone_numbers: ToMany,
    #[serde(default)]
    primary_campus: ToOne,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

type Untyped = Map<String, Value>;

entity!(Person, PersonRels, {
    first_name: String, last_name: String, birthdate: Option<String>, gender: Option<String>,
    membership: Option<String>, status: String, created_at: String, updated_at: String,
});
entity!(Address, Untyped, {
    street_line_1: Option<String>, city: Option<String>, state: Option<String>, zip: Option<String>,
    location: Option<String>, primary: bool,
});
entity!(Email, Untyped, { address: String, location: Option<String>, primary: bool });
entity!(PhoneNumber, Untyped, { number: String, carrier: Option<String>, location: Option<String>, primary: bool });

fn rel(kind: &str, ids: &[u64]) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|i| json!({"type": kind, "id": i.to_string()}))
        .collect();
    json!({"data": data, "links": {"related": format!("https://api.planningcenteronline.com/x/{kind}")}})
}

fn page() -> Vec<u8> {
    let (mut data, mut included) = (vec![], vec![]);
    let ts = "2024-03-04T05:06:07Z";
    for p in 0..100u64 {
        let (a, e, ph) = (p, p * 2, p);
        data.push(json!({
            "type": "Person", "id": (1000 + p).to_string(),
            "attributes": {"first_name": format!("First{p}"), "last_name": format!("Last{p}"),
                "birthdate": "1980-01-02", "gender": "F", "membership": "Member", "status": "active",
                "created_at": ts, "updated_at": ts, "avatar": "https://avatars/x.png", "child": false,
                "given_name": null, "grade": null, "anniversary": null, "medical_notes": null,
                "inactivated_at": null, "passed_background_check": true, "site_administrator": false},
            "relationships": {"addresses": rel("Address", &[a]), "emails": rel("Email", &[e, e + 1]),
                "phone_numbers": rel("PhoneNumber", &[ph]),
                "primary_campus": {"data": {"type": "Campus", "id": "1"}}},
            "links": {"self": format!("https://api.planningcenteronline.com/people/v2/people/{}", 1000 + p)}
        }));
        included.push(json!({"type": "Address", "id": a.to_string(), "attributes": {
            "street_line_1": format!("{p} Main St"), "city": "Springfield", "state": "IL",
            "zip": "62701", "location": "Home", "primary": true, "created_at": ts, "updated_at": ts},
            "relationships": {}, "links": {}}));
        for i in [e, e + 1] {
            included.push(json!({"type": "Email", "id": i.to_string(), "attributes": {
                "address": format!("person{i}@example.org"), "location": "Home", "primary": i == e,
                "blocked": false, "created_at": ts, "updated_at": ts}, "relationships": {}, "links": {}}));
        }
        included.push(json!({"type": "PhoneNumber", "id": ph.to_string(), "attributes": {
            "number": "(555) 555-0100", "carrier": null, "location": "Mobile", "primary": true,
            "e164": "+15555550100", "international": "+1 555-555-0100", "national": "(555) 555-0100",
            "country_code": "US", "created_at": ts, "updated_at": ts}, "relationships": {}, "links": {}}));
    }
    let doc = json!({"links": {"self": "https://api.planningcenteronline.com/people/v2/people?include=addresses,emails,phone_numbers&per_page=100",
            "next": "https://api.planningcenteronline.com/people/v2/people?include=addresses,emails,phone_numbers&offset=100&per_page=100"},
        "data": data, "included": included,
        "meta": {"total_count": 5000, "count": 100, "next": {"offset": 100},
            "can_include": ["addresses", "emails", "phone_numbers"], "parent": {"id": "1", "type": "Organization"}}});
    serde_json::to_vec(&doc).unwrap()
}

/// Parse and resolve: what a consumer of a typed page pays. Returns resolved resources.
fn typed(body: &[u8]) -> usize {
    let doc: Document<Vec<Resource<Person>>> = serde_json::from_slice(body).unwrap();
    let inc = Included::new(&doc.included);
    let mut n = 0;
    for p in &doc.data {
        let r = &p.relationships;
        let addresses: Vec<Resource<Address>> =
            inc.many(&r.addresses).collect::<Result<_, _>>().unwrap();
        let emails: Vec<Resource<Email>> = inc.many(&r.emails).collect::<Result<_, _>>().unwrap();
        let phones: Vec<Resource<PhoneNumber>> = inc
            .many(&r.phone_numbers)
            .collect::<Result<_, _>>()
            .unwrap();
        n += black_box(addresses).len() + black_box(emails).len() + black_box(phones).len();
    }
    n
}

/// Parse only, untyped: what `raw_pages` pays.
fn raw(body: &[u8]) -> usize {
    let doc: Document<Vec<RawResource>> = serde_json::from_slice(body).unwrap();
    doc.data.len() + doc.included.len()
}

/// A resource whose attributes stay JSON text, as `relationships` already do: what a page
/// decoder that builds no `Value` per attribute would pay to parse (and drop) a page. Not
/// used by the engine; it prices the lever named in BENCHMARKS.md (session 22). The fields
/// are only parsed and dropped, never read.
#[derive(Deserialize)]
#[allow(dead_code)]
struct TextResource {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    attributes: Box<RawValue>,
    relationships: Option<Box<RawValue>>,
    links: Option<Box<RawValue>>,
}

/// A page of [`TextResource`]s, its links and meta kept as text too (the raw parse reads them
/// into small maps, a negligible part of a page).
#[derive(Deserialize)]
#[allow(dead_code)]
struct TextDocument {
    data: Vec<TextResource>,
    included: Vec<TextResource>,
    links: Option<Box<RawValue>>,
    meta: Option<Box<RawValue>>,
}

/// Parse only, attributes as text.
fn text(body: &[u8]) -> usize {
    let doc: TextDocument = serde_json::from_slice(body).unwrap();
    doc.data.len() + doc.included.len()
}

/// This thread's CPU time in ns (Linux `schedstat`), so a loaded shared machine does not
/// inflate the figure the way wall time does.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn measure(name: &str, body: &[u8], f: fn(&[u8]) -> usize) {
    for _ in 0..50 {
        black_box(f(black_box(body)));
    }
    const ITERS: u32 = 500;
    let (wall, cpu) = (Instant::now(), cpu_ns());
    for _ in 0..ITERS {
        black_box(f(black_box(body)));
    }
    let wall_us = wall.elapsed().as_secs_f64() * 1e6 / f64::from(ITERS);
    match cpu.zip(cpu_ns()) {
        Some((a, b)) => {
            let cpu_us = (b - a) as f64 / 1e3 / f64::from(ITERS);
            println!("{name:<34} {cpu_us:>8.1} µs/page CPU ({wall_us:.1} µs wall)");
        }
        None => println!("{name:<34} {wall_us:>8.1} µs/page wall"),
    }
}

fn main() {
    let body = page();
    assert_eq!(typed(&body), 400);
    println!("page: 100 people + 400 included, {} KiB", body.len() / 1024);
    measure("typed parse + resolve includes", &body, typed);
    measure("raw parse (raw_pages)", &body, raw);
    assert_eq!(text(&body), raw(&body));
    measure("attributes as text (no Value tree)", &body, text);
    measure("baseline: serde_json::Value parse", &body, |b| {
        serde_json::from_slice::<Value>(b)
            .unwrap()
            .as_object()
            .map_or(0, |o| o.len())
    });
}
