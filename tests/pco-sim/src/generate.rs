//! Deterministic, seeded generation of a whole organisation.
//!
//! Every table gets schema-driven values by declared type ([`fallback`]); tables where realism
//! matters (people, contact data, households, campuses, groups, events) get hand-tuned values on
//! top. The same seed and size always produce the same organisation.

use crate::names::*;
use crate::schema::{AttrType, Schema, TableSchema};
use crate::store::Org;
use crate::value::{Val, parse_ts};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Size and seed of a generated organisation.
#[derive(Debug, Clone)]
pub struct OrgSpec {
    /// Number of people.
    pub people: usize,
    /// Seed for every random choice.
    pub seed: u64,
}

/// Earliest generated `created_at` (2015-01-01).
const EPOCH_START: i64 = 1_420_070_400;
/// Latest generated timestamp (2024-06-01).
const EPOCH_END: i64 = 1_717_200_000;
const DAY: i64 = 86_400;

/// Attribute values for one record, pre-filled by type and overridable by name.
pub struct Attrs<'a> {
    schema: &'a TableSchema,
    vals: Vec<Val>,
}

impl<'a> Attrs<'a> {
    /// Start from schema-driven fallback values.
    pub fn new(schema: &'a TableSchema, rng: &mut StdRng) -> Self {
        let created = rng.random_range(EPOCH_START..EPOCH_END - 400 * DAY);
        let updated = created + rng.random_range(0..400 * DAY);
        let vals = schema
            .attributes
            .iter()
            .map(|(name, ty)| match name.as_str() {
                "created_at" => Val::Ts(created),
                "updated_at" => Val::Ts(updated),
                _ => fallback(name, *ty, rng),
            })
            .collect();
        Attrs { schema, vals }
    }

    /// Set an attribute if the schema has it.
    pub fn set(&mut self, name: &str, v: Val) -> &mut Self {
        if let Some(i) = self.schema.attr(name) {
            self.vals[i] = v;
        }
        self
    }

    /// Set a string attribute.
    pub fn s(&mut self, name: &str, v: impl Into<String>) -> &mut Self {
        self.set(name, Val::str(v))
    }

    /// The `created_at` timestamp chosen for this record.
    pub fn created(&self) -> i64 {
        match self.schema.attr("created_at").map(|i| &self.vals[i]) {
            Some(Val::Ts(t)) => *t,
            _ => EPOCH_START,
        }
    }

    /// Finish.
    pub fn done(self) -> Vec<Val> {
        self.vals
    }
}

/// A value of the declared type, shaped a little by the attribute's name.
pub fn fallback(name: &str, ty: AttrType, rng: &mut StdRng) -> Val {
    match ty {
        AttrType::Bool => Val::Bool(rng.random_bool(0.2)),
        AttrType::Int => Val::Int(rng.random_range(0..50)),
        AttrType::Decimal => Val::Float((rng.random_range(-9000..9000) as f64) / 100.0),
        AttrType::DateTime if name.ends_with("_at") && name != "starts_at" && name != "ends_at" => {
            Val::Null
        }
        AttrType::DateTime => Val::Ts(rng.random_range(EPOCH_START..EPOCH_END)),
        AttrType::Date => Val::Null,
        AttrType::Object | AttrType::Array => Val::Null,
        AttrType::String => {
            if name.ends_with("url") || name == "avatar" {
                Val::str(
                    "https://people.planningcenteronline.com/static/no_photo_thumbnail_gray.png",
                )
            } else if name.contains("email") {
                Val::str(format!("info{}@example.org", rng.random_range(1..999)))
            } else if name == "time_zone" {
                Val::str("America/New_York")
            } else if name == "color" {
                Val::str(format!("#{:06x}", rng.random_range(0..0xffffff)))
            } else if name.contains("description") || name == "summary" || name == "note" {
                Val::str(sentence(rng))
            } else if name == "name" {
                Val::str(title(rng))
            } else {
                Val::Null
            }
        }
    }
}

fn sentence(rng: &mut StdRng) -> String {
    let n = rng.random_range(4..10);
    let mut s: Vec<&str> = (0..n).map(|_| *WORDS.choose(rng).unwrap()).collect();
    let first = s[0][..1].to_uppercase() + &s[0][1..];
    s[0] = "";
    format!("{first}{}.", s.join(" "))
}

fn title(rng: &mut StdRng) -> String {
    let w = *WORDS.choose(rng).unwrap();
    format!(
        "{}{} {}",
        w[..1].to_uppercase(),
        &w[1..],
        rng.random_range(1..100)
    )
}

fn pick<'a>(rng: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs.choose(rng).copied().unwrap_or("")
}

/// Build the organisation described by `spec`.
pub fn generate(schema: Arc<Schema>, spec: &OrgSpec) -> Org {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut org = Org::new(schema.clone(), 100_000 + spec.seed % 900_000);
    let church = format!("{} Community Church", pick(&mut rng, LAST));
    for (module, attrs) in &schema.organization {
        let mut m = Map::new();
        for (name, ty) in attrs {
            let v = match name.as_str() {
                "name" => Value::from(church.clone()),
                "time_zone" => Value::from("America/New_York"),
                "date_format" => Value::from("%m/%d/%Y"),
                "country_code" => Value::from("US"),
                "created_at" => Value::from("2014-06-01T12:00:00Z"),
                _ => fallback(name, *ty, &mut rng).to_json(),
            };
            m.insert(name.clone(), v);
        }
        org.org_attrs.insert(module.clone(), m);
    }
    let g = &mut Gen {
        rng: &mut rng,
        schema: &schema,
        org: &mut org,
    };
    let campuses = g.campuses(spec.people);
    let people = g.people(spec.people, &campuses);
    g.custom_fields(&people);
    g.groups(&people, &campuses);
    g.calendar(spec.people, &people);
    org
}

struct Gen<'a> {
    rng: &'a mut StdRng,
    schema: &'a Schema,
    org: &'a mut Org,
}

impl Gen<'_> {
    fn table(&self, name: &str) -> &TableSchema {
        self.schema.table(name).expect("generated table exists")
    }

    fn links(&self, table: &str, pairs: &[(&str, u64)]) -> Vec<Option<u64>> {
        let t = self.table(table);
        let mut l = vec![None; t.slot_count()];
        for (name, id) in pairs {
            if let Some(s) = t.slot(name) {
                l[s] = Some(*id);
            }
        }
        l
    }

    fn add(
        &mut self,
        table: &str,
        f: impl FnOnce(&mut Attrs, &mut StdRng),
        links: &[(&str, u64)],
    ) -> u64 {
        let schema = self.schema;
        let t = schema.table(table).expect("generated table exists");
        let mut a = Attrs::new(t, self.rng);
        f(&mut a, self.rng);
        let l = self.links(table, links);
        self.org.insert(table, a.done(), l)
    }

    fn campuses(&mut self, people: usize) -> Vec<u64> {
        let n = self.rng.random_range(1..=(people / 40).clamp(1, 10));
        (0..n)
            .map(|i| {
                let (city, state, zip) = *CITIES.choose(self.rng).unwrap();
                self.add(
                    "Campus",
                    |a, r| {
                        a.s("name", CAMPUSES[i % CAMPUSES.len()])
                            .s("city", city)
                            .s("state", state)
                            .s("zip", format!("{zip}{:02}", r.random_range(0..100)))
                            .s(
                                "street",
                                format!("{} {}", r.random_range(100..9999), pick(r, STREETS)),
                            )
                            .s("country", "US")
                            .s(
                                "phone_number",
                                format!(
                                    "(555) {:03}-{:04}",
                                    r.random_range(200..999),
                                    r.random_range(0..9999)
                                ),
                            )
                            .s("date_format", "%m/%d/%Y")
                            .s("time_zone_raw", "America/New_York")
                            .set("church_center_enabled", Val::Bool(true));
                    },
                    &[],
                )
            })
            .collect()
    }

    /// People in households of 1-6 sharing a family name and home address.
    fn people(&mut self, total: usize, campuses: &[u64]) -> Vec<u64> {
        let mut people = Vec::with_capacity(total);
        while people.len() < total {
            let size = match self.rng.random_range(0..100) {
                0..30 => 1,
                30..60 => 2,
                60..75 => 3,
                75..90 => 4,
                90..96 => 5,
                _ => 6,
            }
            .min(total - people.len());
            let last = pick(self.rng, LAST);
            let campus = *campuses.choose(self.rng).unwrap();
            let (city, state, zip) = *CITIES.choose(self.rng).unwrap();
            let street = format!(
                "{} {}",
                self.rng.random_range(100..9999),
                pick(self.rng, STREETS)
            );
            let zip = format!("{zip}{:02}", self.rng.random_range(0..100));
            let mut members = Vec::new();
            for k in 0..size {
                let adult = k < 2 || size <= 2;
                let id = self.person(people.len(), last, adult, campus);
                people.push(id);
                members.push((id, adult));
                if adult || self.rng.random_bool(0.3) {
                    self.add(
                        "Address",
                        |a, r| {
                            a.s("street_line_1", street.clone())
                                .s("city", city)
                                .s("state", state)
                                .s("zip", zip.clone())
                                .s("country_code", "US")
                                .s("country_name", "United States")
                                .s("location", "Home")
                                .set("primary", Val::Bool(true));
                            if r.random_bool(0.1) {
                                a.s("street_line_2", format!("Apt {}", r.random_range(1..400)));
                            }
                        },
                        &[("person", id)],
                    );
                }
            }
            if size > 1 || self.rng.random_bool(0.5) {
                self.household(last, &members);
            }
        }
        people
    }

    fn person(&mut self, n: usize, last: &str, adult: bool, campus: u64) -> u64 {
        let female = self.rng.random_bool(0.5);
        let first = pick(self.rng, if female { FEMALE } else { MALE });
        let age = if adult {
            self.rng.random_range(19..90)
        } else {
            self.rng.random_range(0..18)
        };
        let birth_ts =
            parse_ts("2024-06-01").unwrap() - age * 365 * DAY - self.rng.random_range(0..365) * DAY;
        let id = self.add(
            "Person",
            |a, r| {
                let created = a.created();
                a.s("first_name", first)
                    .s("last_name", last)
                    .s("name", format!("{first} {last}"))
                    .s("gender", if female { "F" } else { "M" })
                    .set("birthdate", Val::Date((birth_ts / DAY) as i32))
                    .set("child", Val::Bool(!adult))
                    .s(
                        "status",
                        if r.random_bool(0.93) {
                            "active"
                        } else {
                            "inactive"
                        },
                    )
                    .s(
                        "membership",
                        pick(r, &["Member", "Regular Attender", "Visitor", "Participant"]),
                    )
                    .set("site_administrator", Val::Bool(n == 0))
                    .set("accounting_administrator", Val::Bool(n == 0))
                    .set(
                        "passed_background_check",
                        Val::Bool(adult && r.random_bool(0.3)),
                    )
                    .set("remote_id", Val::Null)
                    .set(
                        "grade",
                        if adult || age < 5 {
                            Val::Null
                        } else {
                            Val::Int(age - 5)
                        },
                    )
                    .set(
                        "graduation_year",
                        if adult {
                            Val::Null
                        } else {
                            Val::Int(2024 + 18 - age)
                        },
                    )
                    .set(
                        "people_permissions",
                        if n == 0 {
                            Val::str("Editor")
                        } else {
                            Val::Null
                        },
                    )
                    .s("directory_status", "no_access")
                    .set("can_create_forms", Val::Bool(n == 0))
                    .set("can_email_lists", Val::Bool(n == 0));
                if r.random_bool(0.2) {
                    a.s("middle_name", pick(r, MALE));
                }
                if adult && r.random_bool(0.3) {
                    a.set(
                        "anniversary",
                        Val::Date((created / DAY) as i32 - r.random_range(300..9000)),
                    );
                }
                if let Some(Val::Str(s)) = a.vals.get(a.schema.attr("status").unwrap_or(0))
                    && &**s == "inactive"
                {
                    a.set(
                        "inactivated_at",
                        Val::Ts(created + r.random_range(DAY..300 * DAY)),
                    );
                }
            },
            &[("primary_campus", campus)],
        );
        if adult || self.rng.random_bool(0.2) {
            let emails = if self.rng.random_bool(0.2) { 2 } else { 1 };
            for k in 0..emails {
                let domain = pick(self.rng, &["example.com", "example.org", "example.net"]);
                let addr = format!(
                    "{}.{}{}@{domain}",
                    first.to_lowercase(),
                    last.to_lowercase().replace('\'', ""),
                    n
                );
                self.add(
                    "Email",
                    |a, _| {
                        a.s("address", addr)
                            .s("location", if k == 0 { "Home" } else { "Work" })
                            .set("primary", Val::Bool(k == 0))
                            .set("blocked", Val::Bool(false));
                    },
                    &[("person", id)],
                );
            }
        }
        if adult && self.rng.random_bool(0.75) {
            let (a3, b3, c4) = (
                self.rng.random_range(201..999),
                self.rng.random_range(200..999),
                self.rng.random_range(0..10000),
            );
            self.add(
                "PhoneNumber",
                |a, r| {
                    a.s("number", format!("({a3}) {b3}-{c4:04}"))
                        .s("national", format!("({a3}) {b3}-{c4:04}"))
                        .s("international", format!("+1 {a3}-{b3}-{c4:04}"))
                        .s("formatted_number", format!("{a3}-{b3}-{c4:04}"))
                        .s("e164", format!("+1{a3}{b3}{c4:04}"))
                        .s("country_code", "US")
                        .set("carrier", Val::Null)
                        .s("location", pick(r, &["Mobile", "Home", "Work"]))
                        .set("primary", Val::Bool(true));
                },
                &[("person", id)],
            );
        }
        id
    }

    fn household(&mut self, last: &str, members: &[(u64, bool)]) {
        let contact = members[0].0;
        let contact_name = self
            .org
            .table("Person")
            .and_then(|t| t.get(contact).map(|r| r.get(&t.schema, "name").cloned()))
            .flatten()
            .unwrap_or(Val::Null);
        let hh = self.add(
            "Household",
            |a, _| {
                a.s("name", format!("{last} Household"))
                    .set("member_count", Val::Int(members.len() as i64))
                    .set("primary_contact_name", contact_name.clone())
                    .s("primary_contact_id", contact.to_string())
                    .s("avatar", "https://people.planningcenteronline.com/static/no_photo_thumbnail_gray.png");
            },
            &[("primary_contact", contact)],
        );
        for (pid, _) in members {
            let pname = self
                .org
                .table("Person")
                .and_then(|t| t.get(*pid).map(|r| r.get(&t.schema, "name").cloned()))
                .flatten()
                .unwrap_or(Val::Null);
            self.add(
                "HouseholdMembership",
                |a, _| {
                    a.set("person_name", pname).set("pending", Val::Bool(false));
                },
                &[("household", hh), ("person", *pid)],
            );
        }
    }

    fn custom_fields(&mut self, people: &[u64]) {
        let mut defs = Vec::new();
        for (ti, tab) in ["Personal", "Serving", "Background"].iter().enumerate() {
            let tab_id = self.add(
                "Tab",
                |a, _| {
                    a.s("name", *tab)
                        .set("sequence", Val::Int(ti as i64))
                        .s("slug", tab.to_lowercase());
                },
                &[],
            );
            for (fi, field) in ["Shirt Size", "Spiritual Gifts", "Allergies"]
                .iter()
                .enumerate()
            {
                let name = format!("{tab} {field}");
                defs.push(self.add(
                    "FieldDefinition",
                    |a, _| {
                        a.s("name", name.clone())
                            .s("data_type", "string")
                            .set("sequence", Val::Int(fi as i64))
                            .s("slug", name.to_lowercase().replace(' ', "_"))
                            .set("deleted_at", Val::Null)
                            .set("tab_id", Val::Int(tab_id as i64))
                            .set("config", Val::Null);
                    },
                    &[("tab", tab_id)],
                ));
            }
        }
        for pid in people {
            if self.rng.random_bool(0.3) {
                let def = *defs.choose(self.rng).unwrap();
                self.add(
                    "FieldDatum",
                    |a, r| {
                        a.s(
                            "value",
                            pick(
                                r,
                                &["S", "M", "L", "XL", "Teaching", "Hospitality", "Peanuts"],
                            ),
                        )
                        .set("file", Val::Null)
                        .set("file_content_type", Val::Null)
                        .set("file_name", Val::Null)
                        .set("file_size", Val::Null);
                    },
                    &[("field_definition", def), ("customizable", *pid)],
                );
            }
            if self.rng.random_bool(0.1) {
                self.add(
                    "Note",
                    |a, r| {
                        let s = sentence(r);
                        a.s("note", s).set("display_date", Val::Null);
                    },
                    &[("person", *pid)],
                );
            }
        }
        for name in [
            "Members",
            "Volunteers",
            "First-time Guests",
            "Small Group Leaders",
            "Kids",
        ] {
            self.add(
                "List",
                |a, r| {
                    a.s("name", name).set(
                        "total_people",
                        Val::Int(r.random_range(0..people.len() as i64 + 1)),
                    );
                },
                &[],
            );
        }
    }

    fn groups(&mut self, people: &[u64], _campuses: &[u64]) {
        let types: Vec<u64> = ["Small Groups", "Classes", "Teams", "Support"]
            [..self.rng.random_range(2..=4)]
            .iter()
            .enumerate()
            .map(|(i, n)| {
                self.add(
                    "GroupType",
                    |a, _| {
                        a.s("name", *n)
                            .set("position", Val::Int(i as i64))
                            .set("church_center_visible", Val::Bool(true));
                    },
                    &[],
                )
            })
            .collect();
        let n = (people.len() / 15).max(1);
        for _ in 0..n {
            let gt = *types.choose(self.rng).unwrap();
            let theme = pick(self.rng, GROUP_THEMES);
            let size = self.rng.random_range(3..=15).min(people.len());
            let members: Vec<u64> = people.choose_multiple(self.rng, size).copied().collect();
            let g = self.add(
                "Group",
                |a, r| {
                    a.s("name", format!("{theme} {}", r.random_range(1..50)))
                        .set("memberships_count", Val::Int(size as i64))
                        .s(
                            "schedule",
                            format!(
                                "{}s at {}pm",
                                pick(r, &["Sunday", "Tuesday", "Wednesday", "Thursday"]),
                                r.random_range(5..9)
                            ),
                        )
                        .set("archived_at", Val::Null)
                        .s("events_visibility", "members");
                },
                &[("group_type", gt)],
            );
            for (k, pid) in members.iter().enumerate() {
                self.add(
                    "GroupMembership",
                    |a, r| {
                        let c = a.created();
                        a.s("role", if k == 0 { "leader" } else { "member" })
                            .set("joined_at", Val::Ts(c - r.random_range(0..300) * DAY));
                    },
                    &[("group", g), ("person", *pid)],
                );
            }
            for _ in 0..self.rng.random_range(0..=4) {
                self.add(
                    "GroupEvent",
                    |a, r| {
                        let start = r.random_range(EPOCH_START..EPOCH_END);
                        a.s("name", format!("{theme} meeting"))
                            .set("starts_at", Val::Ts(start))
                            .set("ends_at", Val::Ts(start + 2 * 3600))
                            .set("canceled", Val::Bool(false))
                            .set("canceled_at", Val::Null)
                            .set("image", Val::Null);
                    },
                    &[("group", g), ("group_type", gt)],
                );
            }
        }
    }

    fn calendar(&mut self, total: usize, people: &[u64]) {
        for _ in 0..(total / 50 + 3) {
            let owner = *people.choose(self.rng).unwrap();
            let name = pick(self.rng, EVENTS);
            let ev = self.add(
                "CalendarEvent",
                |a, r| {
                    a.s("name", name)
                        .s("approval_status", pick(r, &["A", "A", "P", "R"]))
                        .set("visible_in_church_center", Val::Bool(r.random_bool(0.7)))
                        .set("percent_approved", Val::Int(100))
                        .set("percent_rejected", Val::Int(0))
                        .set("registration_url", Val::Null)
                        .set("image_url", Val::Null);
                },
                &[("owner", owner)],
            );
            let start0 = self.rng.random_range(EPOCH_START..EPOCH_END);
            for k in 0..self.rng.random_range(1..=8) {
                self.add(
                    "EventInstance",
                    |a, _| {
                        let s = start0 + k * 7 * DAY;
                        a.s("name", name)
                            .set("starts_at", Val::Ts(s))
                            .set("ends_at", Val::Ts(s + 5400))
                            .set("all_day_event", Val::Bool(false))
                            .s("kind", "Standard")
                            .s("recurrence", "Weekly")
                            .set("location", Val::Null)
                            .s("published_starts_at", crate::value::format_ts(s))
                            .s("published_ends_at", crate::value::format_ts(s + 5400));
                    },
                    &[("event", ev)],
                );
            }
        }
    }
}
