//! Protocol semantics: paging completeness, where/order/include, nested paths, single resources,
//! error documents and content types.

mod common;

use common::{get, start};
use serde_json::Value;
use std::collections::HashSet;

#[tokio::test]
async fn paging_by_next_links_returns_every_person_exactly_once() {
    let sim = start(230).await;
    let truth: Vec<String> = sim
        .org()
        .records("Person")
        .map(|r| r.id.to_string())
        .collect();
    let mut seen = Vec::new();
    let mut url = "/people/v2/people?per_page=100".to_string();
    loop {
        let (status, headers, doc) = get(&sim, &url).await;
        assert_eq!(status, 200);
        assert_eq!(
            headers["content-type"],
            "application/vnd.api+json; charset=utf-8"
        );
        assert_eq!(doc["meta"]["total_count"], truth.len());
        assert_eq!(doc["meta"]["count"], doc["data"].as_array().unwrap().len());
        seen.extend(
            doc["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_string()),
        );
        match doc["links"]["next"].as_str() {
            Some(next) => url = next.strip_prefix(&sim.base_url()).unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(seen, truth);
    let (_, _, last) = get(&sim, "/people/v2/people?per_page=100&offset=200").await;
    assert_eq!(last["meta"]["prev"]["offset"], 100);
    assert!(last["meta"].get("next").is_none());
    let (_, _, big) = get(&sim, "/people/v2/people?per_page=500").await;
    assert_eq!(
        big["data"].as_array().unwrap().len(),
        100,
        "per_page is capped at 100"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn order_is_stable_and_where_filters_timestamps() {
    let sim = start(120).await;
    let (_, _, doc) = get(&sim, "/people/v2/people?per_page=100&order=-last_name").await;
    let rows: Vec<(String, u64)> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["attributes"]["last_name"]
                    .as_str()
                    .unwrap()
                    .to_lowercase(),
                d["id"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    for w in rows.windows(2) {
        assert!(
            w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1),
            "order broken at {w:?}"
        );
    }
    let (_, _, all) = get(&sim, "/people/v2/people?per_page=100&order=updated_at").await;
    let ts: Vec<String> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["attributes"]["updated_at"].as_str().unwrap().to_string())
        .collect();
    let pivot = &ts[ts.len() / 2];
    let (_, _, after) = get(
        &sim,
        &format!("/people/v2/people?per_page=100&where[updated_at][gt]={pivot}"),
    )
    .await;
    let expected = sim
        .org()
        .records("Person")
        .filter(|r| {
            let t = sim.org().table("Person").unwrap().schema.clone();
            r.get(&t, "updated_at").unwrap().to_json().as_str().unwrap() > pivot.as_str()
        })
        .count();
    assert_eq!(after["meta"]["total_count"], expected);
    assert!(
        after["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["attributes"]["updated_at"].as_str().unwrap() > pivot.as_str())
    );
    let name = doc["data"][0]["attributes"]["first_name"]
        .as_str()
        .unwrap()
        .to_uppercase();
    let (_, _, eq) = get(&sim, &format!("/people/v2/people?where[first_name]={name}")).await;
    assert!(
        eq["meta"]["total_count"].as_u64().unwrap() >= 1,
        "where is case-insensitive"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn includes_are_complete_and_deduplicated() {
    let sim = start(150).await;
    let (_, _, doc) = get(&sim, "/people/v2/people?per_page=100&include=addresses,emails,phone_numbers,households,primary_campus").await;
    let included = doc["included"].as_array().unwrap();
    let keys: Vec<(String, String)> = included
        .iter()
        .map(|i| {
            (
                i["type"].as_str().unwrap().into(),
                i["id"].as_str().unwrap().into(),
            )
        })
        .collect();
    let unique: HashSet<_> = keys.iter().cloned().collect();
    assert_eq!(unique.len(), keys.len(), "included has duplicates");
    for p in doc["data"].as_array().unwrap() {
        for rel in ["addresses", "emails", "phone_numbers", "households"] {
            for r in p["relationships"][rel]["data"].as_array().unwrap() {
                assert!(
                    unique.contains(&(
                        r["type"].as_str().unwrap().into(),
                        r["id"].as_str().unwrap().into()
                    )),
                    "{rel} {r} not included"
                );
            }
        }
        assert_eq!(
            p["relationships"]["primary_campus"]["data"]["type"],
            "Campus"
        );
    }
    let emails = included.iter().filter(|i| i["type"] == "Email").count();
    let people: HashSet<u64> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let truth = sim
        .org()
        .records("Email")
        .filter(|e| people.contains(&e.links[0].unwrap()))
        .count();
    assert_eq!(emails, truth);
    let (status, _, bad) = get(&sim, "/people/v2/people?include=bogus").await;
    assert_eq!(status, 400);
    assert_eq!(bad["errors"][0]["status"], "400");
    sim.shutdown().await;
}

#[tokio::test]
async fn nested_and_single_resources() {
    let sim = start(60).await;
    let (pid, email_ids) = {
        let org = sim.org();
        let e = org.records("Email").next().unwrap();
        let pid = e.links[0].unwrap();
        let ids: Vec<String> = org
            .records("Email")
            .filter(|x| x.links[0] == Some(pid))
            .map(|x| x.id.to_string())
            .collect();
        (pid, ids)
    };
    let (status, _, doc) = get(&sim, &format!("/people/v2/people/{pid}/emails")).await;
    assert_eq!(status, 200);
    let got: Vec<String> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, email_ids);
    assert_eq!(
        doc["meta"]["parent"],
        serde_json::json!({"id": pid.to_string(), "type": "Person"})
    );
    assert_eq!(
        doc["data"][0]["relationships"]["person"]["data"]["id"],
        pid.to_string()
    );
    let (status, _, one) = get(&sim, &format!("/people/v2/people/{pid}")).await;
    assert_eq!(status, 200);
    assert_eq!(common::keys(&one), ["data", "included", "meta"]);
    assert_eq!(
        one["data"]["links"]["self"],
        format!("{}/people/v2/people/{pid}", sim.base_url())
    );
    let (status, _, hh) = get(&sim, "/people/v2/households?include=people").await;
    assert_eq!(status, 200);
    let h = &hh["data"][0];
    let hid = h["id"].as_str().unwrap();
    let (_, _, members) = get(&sim, &format!("/people/v2/households/{hid}/people")).await;
    assert_eq!(
        members["data"].as_array().unwrap().len(),
        h["relationships"]["people"]["data"]
            .as_array()
            .unwrap()
            .len()
    );
    for path in [
        "/groups/v2/groups",
        "/groups/v2/group_types",
        "/calendar/v2/events",
        "/calendar/v2/event_instances",
        "/people/v2/campuses",
        "/people/v2",
    ] {
        let (status, _, d) = get(&sim, path).await;
        assert_eq!(status, 200, "{path}: {d}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn errors_are_planning_center_documents() {
    let sim = start(10).await;
    for (path, status) in [
        ("/nope", 404),
        ("/people/v2/people/999999999", 404),
        ("/people/v2/widgets", 404),
        ("/people/v2/people?order=shoe_size", 400),
        ("/people/v2/people?where[updated_at][gt]=yesterday", 400),
        ("/people/v2/people?per_page=abc", 400),
    ] {
        let (s, headers, doc) = get(&sim, path).await;
        assert_eq!(s, status, "{path}");
        let e = &doc["errors"][0];
        assert_eq!(e["status"], status.to_string(), "{path}");
        assert!(
            e["title"].is_string() && e["detail"].is_string(),
            "{path}: {doc}"
        );
        assert!(headers.contains_key("x-pco-api-request-rate-count"));
    }
    let r = reqwest::get(format!("{}/people/v2/people", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["errors"][0]["status"], "401");
    let r = reqwest::Client::new()
        .get(format!("{}/people/v2/people", sim.base_url()))
        .basic_auth("sim-app-id", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(sim.stats().unauthorized, 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn generation_is_deterministic_and_realistic() {
    let a = pco_sim::Simulator::builder()
        .people(300)
        .seed(11)
        .start()
        .await
        .unwrap();
    let b = pco_sim::Simulator::builder()
        .people(300)
        .seed(11)
        .start()
        .await
        .unwrap();
    let (_, _, da) = get(&a, "/people/v2/people?per_page=50&include=emails").await;
    let (_, _, db) = get(&b, "/people/v2/people?per_page=50&include=emails").await;
    let strip = |v: &Value, base: &str| v["data"].to_string().replace(base, "");
    assert_eq!(strip(&da, &a.base_url()), strip(&db, &b.base_url()));
    {
        let org = a.org();
        assert_eq!(org.count("Person"), 300);
        let campuses = org.count("Campus");
        assert!((1..=10).contains(&campuses));
        // Every record was updated at or after its creation, and created in id order.
        for table in ["Person", "Email", "Address", "PhoneNumber", "Household"] {
            let schema = org.table(table).unwrap().schema.clone();
            let ts = |r: &pco_sim::Record, a: &str| {
                r.get(&schema, a)
                    .unwrap_or_else(|| panic!("{table}.{a}"))
                    .to_json()
                    .to_string()
            };
            let records = org.table(table).unwrap().records();
            assert!(
                records
                    .iter()
                    .all(|r| ts(r, "updated_at") >= ts(r, "created_at")),
                "{table}"
            );
            assert!(
                records
                    .windows(2)
                    .all(|w| ts(&w[0], "created_at") <= ts(&w[1], "created_at")),
                "{table}"
            );
        }
        let hh = org.table("Household").unwrap();
        for h in hh.records() {
            let n = org
                .related(org.schema.index("Household").unwrap(), h, "people")
                .len();
            assert!((1..=6).contains(&n), "household of {n}");
        }
        assert!(
            org.count("Email") >= 200
                && org.count("GroupMembership") > 0
                && org.count("EventInstance") > 0
        );
    }
    a.shutdown().await;
    b.shutdown().await;
}

/// Ascending `order=` pages come from a cached sort; it must equal a fresh sort of the table
/// and follow changes (an update that moves a record, a delete).
#[tokio::test]
async fn ascending_order_pages_follow_changes() {
    async fn ids_by(sim: &pco_sim::RunningSim, attr: &str) -> Vec<u64> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let path = format!("/people/v2/people?per_page=100&order={attr}&offset={offset}");
            let (_, _, doc) = get(sim, &path).await;
            let data = doc["data"].as_array().unwrap();
            out.extend(
                data.iter()
                    .map(|d| d["id"].as_str().unwrap().parse::<u64>().unwrap()),
            );
            match doc["meta"]["next"]["offset"].as_u64() {
                Some(n) => offset = n,
                None => return out,
            }
        }
    }
    fn truth(sim: &pco_sim::RunningSim, attr: &str) -> Vec<u64> {
        let org = sim.org();
        let schema = org.table("Person").unwrap().schema.clone();
        let mut rows: Vec<(String, u64)> = org
            .records("Person")
            .map(|r| (r.get(&schema, attr).unwrap().to_json().to_string(), r.id))
            .collect();
        rows.sort();
        rows.into_iter().map(|(_, id)| id).collect()
    }
    let sim = start(230).await;
    let first = ids_by(&sim, "created_at").await;
    assert_eq!(first, truth(&sim, "created_at"));
    // As in a real account (recorded responses), ids rise with creation time.
    assert!(first.windows(2).all(|w| w[0] < w[1]), "{first:?}");
    assert_eq!(first.len(), 230);
    // Move the first person to the end, delete the second: the cached order must follow.
    let mut attrs = serde_json::Map::new();
    attrs.insert("created_at".into(), Value::from("2099-01-01T00:00:00Z"));
    sim.update("Person", first[0], attrs).unwrap();
    sim.delete("Person", first[1]).unwrap();
    let after = ids_by(&sim, "created_at").await;
    assert_eq!(after, truth(&sim, "created_at"));
    assert_eq!(after.last(), Some(&first[0]));
    assert!(!after.contains(&first[1]));
    sim.shutdown().await;
}

/// A GET's body as text, with the simulator's base URL written `http://sim`.
async fn raw_body(sim: &pco_sim::RunningSim, path: &str) -> String {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", sim.base_url()))
        .basic_auth(pco_sim::DEFAULT_APP_ID, Some(pco_sim::DEFAULT_SECRET))
        .send()
        .await
        .expect("request");
    let body = r.text().await.expect("body");
    body.replace(&sim.base_url(), "http://sim")
}

/// The exact bytes of a list page with side-loaded records and of a single resource with its
/// detail links, pinned: documents are serialized straight from the records, and a change of
/// key order, escaping or number format shows here first.
#[tokio::test]
async fn rendered_documents_are_pinned_byte_for_byte() {
    let sim = start(3).await;
    let list = raw_body(
        &sim,
        "/people/v2/people?per_page=1&include=addresses,emails,phone_numbers,households",
    )
    .await;
    insta::assert_snapshot!("people_page_with_includes", list);
    let id = sim.org().records("Person").next().unwrap().id;
    let one = raw_body(&sim, &format!("/people/v2/people/{id}?include=addresses")).await;
    insta::assert_snapshot!("one_person", one);
    sim.shutdown().await;
}

/// An organisation without people (a new account) is served: empty lists with a total of 0,
/// not a simulator that fails to start.
#[tokio::test]
async fn an_organisation_without_people_serves_empty_lists() {
    let sim = common::start(0).await;
    let (status, _, body) = common::get(&sim, "/people/v2/people?per_page=100").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(0), "{body}");
    assert_eq!(body["meta"]["total_count"], 0, "{body}");
    let (status, _, body) = common::get(&sim, "/calendar/v2/events").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(0), "{body}");
}
