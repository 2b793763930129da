//! A hand-written manifest for the simulator's People subset, shaped like the generated one.
//! The engine sees adapters only through `Manifest`, so this exercises the same code paths.

use tributary_core::mapping::{CanonicalMapping, EdgeMapping, FieldMapping, Transform};
use tributary_core::{
    Dependency, EndpointDef, EndpointKind, EntityDef, Manifest, Paging, RawResource,
    RelationshipDef,
};

const fn field(from: &'static str, to: &'static str, transform: Transform) -> FieldMapping {
    FieldMapping {
        from,
        to,
        transform,
    }
}

const fn list(path: &'static str) -> EndpointDef {
    EndpointDef {
        operation_id: "list",
        kind: EndpointKind::List,
        path,
        parent: None,
    }
}

const fn nested(path: &'static str, parent: &'static str) -> EndpointDef {
    EndpointDef {
        operation_id: "nested",
        kind: EndpointKind::NestedList,
        path,
        parent: Some(parent),
    }
}

const fn rel(
    name: &'static str,
    target: &'static str,
    to_many: bool,
    d: Dependency,
) -> RelationshipDef {
    RelationshipDef {
        name,
        target,
        to_many,
        dependency: d,
    }
}

const fn entity(
    name: &'static str,
    relationships: &'static [RelationshipDef],
    endpoints: &'static [EndpointDef],
    includes: &'static [&'static str],
    canonical: &'static CanonicalMapping,
) -> EntityDef {
    EntityDef {
        name,
        json_type: name,
        doc: "",
        relationships,
        endpoints,
        includes,
        order_by: &["created_at"],
        query_by: &[],
        canonical: Some(canonical),
        webhook_events: &[],
    }
}

const OWNER: Option<EdgeMapping> = Some(EdgeMapping {
    relationship: "person",
    target: "Person",
    edge: "owned_by",
});

static CAMPUS: CanonicalMapping = CanonicalMapping {
    target: "campus",
    fields: &[
        field("name", "name", Transform::Trim),
        field("city", "city", Transform::Copy),
        field("zip", "zip", Transform::Copy),
    ],
    owner: None,
    edges: &[],
    updated_at: Some("updated_at"),
    ignore: &[],
    hook: None,
};

static HOUSEHOLD: CanonicalMapping = CanonicalMapping {
    target: "household",
    fields: &[
        field("name", "name", Transform::Trim),
        field("member_count", "member_count", Transform::Copy),
    ],
    owner: None,
    edges: &[],
    updated_at: Some("updated_at"),
    ignore: &["avatar"],
    hook: None,
};

static PERSON: CanonicalMapping = CanonicalMapping {
    target: "person",
    fields: &[
        field("first_name", "first_name", Transform::Trim),
        field("last_name", "last_name", Transform::Trim),
        field("gender", "gender", Transform::Gender),
        field("birthdate", "birthdate", Transform::Date),
        field("child", "child", Transform::Copy),
        field("grade", "grade", Transform::Copy),
        field("status", "status", Transform::Copy),
        field("created_at", "created_at", Transform::Copy),
    ],
    owner: None,
    edges: &[
        EdgeMapping {
            relationship: "primary_campus",
            target: "Campus",
            edge: "primary_campus",
        },
        EdgeMapping {
            relationship: "households",
            target: "Household",
            edge: "member_of",
        },
    ],
    updated_at: Some("updated_at"),
    ignore: &["name", "avatar", "demographic_avatar_url"],
    hook: None,
};

static ADDRESS: CanonicalMapping = CanonicalMapping {
    target: "address",
    fields: &[
        field("street_line_1", "street_line_1", Transform::Trim),
        field("city", "city", Transform::Trim),
        field("zip", "postal_code", Transform::Trim),
        field("primary", "primary", Transform::Copy),
    ],
    owner: OWNER,
    edges: &[],
    updated_at: Some("updated_at"),
    ignore: &[],
    hook: None,
};

static EMAIL: CanonicalMapping = CanonicalMapping {
    target: "email",
    fields: &[
        field("address", "address", Transform::Lowercase),
        field("primary", "primary", Transform::Copy),
    ],
    owner: OWNER,
    edges: &[],
    updated_at: Some("updated_at"),
    ignore: &[],
    hook: None,
};

static PHONE: CanonicalMapping = CanonicalMapping {
    target: "phone_number",
    fields: &[
        field("number", "number", Transform::Trim),
        field("e164", "e164", Transform::Copy),
    ],
    owner: OWNER,
    edges: &[],
    updated_at: Some("updated_at"),
    ignore: &["national", "international"],
    hook: None,
};

const PERSON_RELS: &[RelationshipDef] = &[
    rel("primary_campus", "Campus", false, Dependency::Soft),
    rel("households", "Household", true, Dependency::Soft),
    rel("addresses", "Address", true, Dependency::Ignore),
    rel("emails", "Email", true, Dependency::Ignore),
    rel("phone_numbers", "PhoneNumber", true, Dependency::Ignore),
];
const OWNED: &[RelationshipDef] = &[rel("person", "Person", false, Dependency::Hard)];

/// Validation: what a generated validator would refuse for these fields.
fn validate(entity: &str, r: &RawResource) -> Result<(), String> {
    if r.id.parse::<u64>().is_err() {
        return Err(format!("id `{}` is not numeric", r.id));
    }
    if entity == "Person" {
        for k in ["first_name", "last_name"] {
            match r.attributes.get(k) {
                None | Some(serde_json::Value::String(_)) | Some(serde_json::Value::Null) => {}
                Some(v) => return Err(format!("attribute `{k}`: expected a string, got {v}")),
            }
        }
    }
    Ok(())
}

const PAGING: Paging = Paging {
    per_page_param: "per_page",
    offset_param: "offset",
    max_per_page: 100,
    default_per_page: 25,
};

/// As PCO's: people's addresses, emails and phone numbers side-loaded with `include=` (their
/// own lists exist but are not needed); campuses, households, people on top-level lists.
pub static MANIFEST: Manifest = BASE;

const BASE: Manifest = Manifest {
    adapter: "pco",
    base_url: "http://127.0.0.1:1",
    entities: &[
        entity("Campus", &[], &[list("/people/v2/campuses")], &[], &CAMPUS),
        entity(
            "Household",
            &[],
            &[list("/people/v2/households")],
            &[],
            &HOUSEHOLD,
        ),
        entity(
            "Person",
            PERSON_RELS,
            &[list("/people/v2/people")],
            &["households", "addresses", "emails", "phone_numbers"],
            &PERSON,
        ),
        entity(
            "Address",
            OWNED,
            &[list("/people/v2/addresses")],
            &[],
            &ADDRESS,
        ),
        entity("Email", OWNED, &[list("/people/v2/emails")], &[], &EMAIL),
        entity(
            "PhoneNumber",
            OWNED,
            &[list("/people/v2/phone_numbers")],
            &[],
            &PHONE,
        ),
    ],
    sync_order: &[
        &["Campus", "Household"],
        &["Person"],
        &["Address", "Email", "PhoneNumber"],
    ],
    paging: PAGING,
    delta_filter: None,
    validate,
};

/// Nothing side-loaded: addresses on their top-level list, emails and phone numbers through
/// their nested per-person endpoints.
pub static NESTED: Manifest = Manifest {
    entities: &[
        entity("Campus", &[], &[list("/people/v2/campuses")], &[], &CAMPUS),
        entity(
            "Household",
            &[],
            &[list("/people/v2/households")],
            &[],
            &HOUSEHOLD,
        ),
        entity(
            "Person",
            PERSON_RELS,
            &[list("/people/v2/people")],
            &["households"],
            &PERSON,
        ),
        entity(
            "Address",
            OWNED,
            &[list("/people/v2/addresses")],
            &[],
            &ADDRESS,
        ),
        entity(
            "Email",
            OWNED,
            &[nested("/people/v2/people/{person_id}/emails", "Person")],
            &[],
            &EMAIL,
        ),
        entity(
            "PhoneNumber",
            OWNED,
            &[nested(
                "/people/v2/people/{person_id}/phone_numbers",
                "Person",
            )],
            &[],
            &PHONE,
        ),
    ],
    ..BASE
};
