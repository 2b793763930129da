//! End to end against the simulator over real HTTP on loopback: every entity of
//! [`tributary_pco::MANIFEST`] with a list endpoint pages completely through the generated client,
//! the counts equal the simulator's ground truth, every record validates against the generated
//! types, and side-loaded contact data on people resolves to typed resources.

use futures::TryStreamExt as _;
use pco_sim::{DEFAULT_APP_ID, DEFAULT_SECRET, RateLimitConfig, RunningSim, Simulator};
use std::collections::{HashMap, HashSet};
use tributary_core::{Auth, Client, EndpointKind, Query};
use tributary_pco::{Address, Email, ListPeople, ListPeopleInclude, MANIFEST, PhoneNumber};

const PEOPLE: usize = 300;

async fn sim() -> RunningSim {
    let sim = Simulator::builder()
        .people(PEOPLE)
        .seed(11)
        // Admit everything and advertise a budget the client's pacing never reaches.
        .rate_limit(RateLimitConfig {
            limit: 1_000_000,
            deep_limit: 1_000_000,
            enabled: false,
            ..RateLimitConfig::default()
        })
        .start()
        .await
        .expect("simulator starts");
    // Webhook subscriptions are configuration: create one so the list is not empty.
    let mut attrs = serde_json::Map::new();
    attrs.insert("name".into(), "people.v2.events.person.updated".into());
    attrs.insert("url".into(), "http://127.0.0.1:9/hook".into());
    attrs.insert("active".into(), true.into());
    sim.create("WebhookSubscription", attrs, HashMap::new())
        .expect("subscription created");
    sim
}

fn client(sim: &RunningSim) -> Client {
    Client::new(&sim.base_url(), Auth::pat(DEFAULT_APP_ID, DEFAULT_SECRET)).expect("client")
}

fn per_page_100() -> Query {
    let mut q = Query::new();
    q.set("per_page", "100");
    q
}

/// Pages `path` completely; returns the ids seen (checking each record validates).
async fn page_all(client: &Client, entity: &str, path: &str) -> Vec<String> {
    let pages: Vec<_> = client
        .raw_pages(path.to_string(), per_page_100())
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{entity}: paging {path}: {e}"));
    let mut ids = Vec::new();
    for page in pages {
        for raw in &page.document.data {
            (MANIFEST.validate)(entity, raw).unwrap_or_else(|e| {
                panic!("{entity} {} at {} does not decode: {e}", raw.id, page.url)
            });
            ids.push(raw.id.clone());
        }
    }
    ids
}

#[tokio::test]
async fn every_list_endpoint_pages_completely_and_decodes() {
    let sim = sim().await;
    let client = client(&sim);
    let started = std::time::Instant::now();
    let mut listed = 0;
    for def in MANIFEST.entities {
        let truth: HashSet<String> = sim
            .org()
            .records(def.name)
            .map(|r| r.id.to_string())
            .collect();
        let ids = if let Some(list) = def.endpoint(EndpointKind::List) {
            listed += 1;
            page_all(&client, def.name, list.path).await
        } else {
            // Nested only (memberships): page the nested list of every parent.
            let nested = def
                .endpoint(EndpointKind::NestedList)
                .unwrap_or_else(|| panic!("{} has neither a list nor a nested list", def.name));
            let parent = nested.parent.expect("nested list names its parent");
            let parents: Vec<String> = sim
                .org()
                .records(parent)
                .map(|r| r.id.to_string())
                .collect();
            let mut ids = Vec::new();
            for pid in parents {
                let path = nested.path.replacen(
                    &nested.path[nested.path.find('{').unwrap()..=nested.path.find('}').unwrap()],
                    &pid,
                    1,
                );
                ids.extend(page_all(&client, def.name, &path).await);
            }
            ids
        };
        let unique: HashSet<String> = ids.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "{}: duplicates while paging",
            def.name
        );
        assert_eq!(
            unique,
            truth,
            "{}: {} paged vs {} in the simulator",
            def.name,
            ids.len(),
            truth.len()
        );
        assert!(
            !truth.is_empty(),
            "{}: the simulator generated none; the check would be vacuous",
            def.name
        );
    }
    assert!(listed >= 17, "entities with a list endpoint: {listed}");
    let stats = sim.stats();
    assert_eq!(stats.over_limit, 0);
    assert_eq!(stats.faults, 0);
    eprintln!(
        "paged {} entities in {:?} with {} requests",
        MANIFEST.entities.len(),
        started.elapsed(),
        stats.requests
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn people_with_included_contact_data_resolve_to_typed_resources() {
    let sim = sim().await;
    let client = client(&sim);
    let (people, addresses, emails, phones) = {
        let org = sim.org();
        (
            org.count("Person"),
            org.count("Address"),
            org.count("Email"),
            org.count("PhoneNumber"),
        )
    };
    let pages: Vec<_> = ListPeople::new(&client)
        .include(ListPeopleInclude::Addresses)
        .include(ListPeopleInclude::Emails)
        .include(ListPeopleInclude::PhoneNumbers)
        .per_page(100)
        .stream()
        .try_collect()
        .await
        .expect("people page");
    assert_eq!(pages.len(), PEOPLE.div_ceil(100));
    let (mut seen, mut a, mut e, mut p) = (0, 0, 0, 0);
    for page in &pages {
        let included = page.included();
        for person in &page.document.data {
            seen += 1;
            let rels = &person.relationships;
            let addrs: Vec<_> = included
                .many::<Address>(rels.addresses.as_ref().expect("addresses relationship"))
                .collect::<Result<_, _>>()
                .expect("addresses decode");
            let mails: Vec<_> = included
                .many::<Email>(rels.emails.as_ref().expect("emails relationship"))
                .collect::<Result<_, _>>()
                .expect("emails decode");
            let nums: Vec<_> = included
                .many::<PhoneNumber>(rels.phone_numbers.as_ref().expect("phones relationship"))
                .collect::<Result<_, _>>()
                .expect("phone numbers decode");
            // Every identifier in the relationship was side-loaded.
            assert_eq!(addrs.len(), rels.addresses.as_ref().unwrap().data.len());
            assert_eq!(mails.len(), rels.emails.as_ref().unwrap().data.len());
            assert_eq!(nums.len(), rels.phone_numbers.as_ref().unwrap().data.len());
            for m in &mails {
                let addr = m.attributes.address.as_deref().expect("email address");
                assert!(addr.contains('@'), "{addr}");
            }
            for n in &nums {
                assert!(
                    n.attributes.number.is_some(),
                    "phone number of {}",
                    person.id
                );
            }
            a += addrs.len();
            e += mails.len();
            p += nums.len();
        }
    }
    assert_eq!(seen, people);
    assert_eq!((a, e, p), (addresses, emails, phones));
    sim.shutdown().await;
}
