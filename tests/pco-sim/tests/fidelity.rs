//! Fidelity: every request recorded from the real Planning Center API (pypco's VCR cassettes in
//! `../shared/reference/pco-recorded`) is replayed against the simulator and the responses are
//! compared structurally: status, top-level keys and order, resource keys, attribute value types,
//! link formats, meta keys and the rate-limit and content-type headers.

mod common;

use base64::Engine;
use common::{keys, shared_reference};
use serde_json::Value;
use serde_norway::Value as Y;
use std::io::Read;

struct Recorded {
    file: String,
    method: String,
    uri: String,
    status: u16,
    headers: serde_json::Map<String, Value>,
    body: Option<Value>,
}

fn ystr(v: &Y) -> String {
    match v {
        Y::String(s) => s.clone(),
        Y::Number(n) => n.to_string(),
        Y::Tagged(t) => ystr(&t.value),
        Y::Sequence(s) => s.first().map(ystr).unwrap_or_default(),
        _ => String::new(),
    }
}

fn body_of(b: &Y) -> Option<Value> {
    // `!!binary` bodies (base64, usually gzip) may arrive tagged or as plain strings.
    let text = ystr(b);
    let compact: String = text.split_whitespace().collect();
    let binary =
        matches!(b, Y::Tagged(_)) || (!text.trim_start().starts_with('{') && !compact.is_empty());
    let raw: Vec<u8> = if binary {
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .expect("base64 body")
    } else {
        text.into_bytes()
    };
    let raw = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .expect("gzip body");
        out
    } else {
        raw
    };
    (!raw.is_empty()).then(|| serde_json::from_slice(&raw).expect("recorded JSON"))
}

fn load() -> Vec<Recorded> {
    let dir = shared_reference().join("pco-recorded");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read cassettes")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let doc: Y =
            serde_norway::from_str(&std::fs::read_to_string(&f).unwrap()).expect("cassette YAML");
        for it in doc["interactions"].as_sequence().expect("interactions") {
            let (rq, rs) = (&it["request"], &it["response"]);
            let mut headers = serde_json::Map::new();
            if let Some(m) = rs["headers"].as_mapping() {
                for (k, v) in m {
                    headers.insert(ystr(k), Value::from(ystr(v)));
                }
            }
            out.push(Recorded {
                file: f.file_name().unwrap().to_string_lossy().into(),
                method: ystr(&rq["method"]),
                uri: ystr(&rq["uri"]),
                status: rs["status"]["code"].as_u64().unwrap() as u16,
                headers,
                body: body_of(&rs["body"]["string"]),
            });
        }
    }
    assert!(
        out.len() > 40,
        "expected the pypco cassettes, found {} interactions",
        out.len()
    );
    out
}

/// Same JSON kind (null on either side matches anything: values differ, types must not).
fn same_kind(a: &Value, b: &Value) -> bool {
    a.is_null()
        || b.is_null()
        || std::mem::discriminant(a) == std::mem::discriminant(b)
            && (a.is_number() == b.is_number())
}

fn strip_base(s: &str) -> String {
    let i = s
        .find("/people/")
        .or_else(|| s.find("/services/"))
        .unwrap_or(0);
    s[i..].to_string()
}

fn check_resource(ctx: &str, rec: &Value, ours: &Value, errs: &mut Vec<String>) {
    let rk: Vec<String> = keys(rec);
    let ok: Vec<String> = keys(ours).into_iter().filter(|k| rk.contains(k)).collect();
    if rk != ok {
        errs.push(format!(
            "{ctx}: resource keys {rk:?} vs ours {:?}",
            keys(ours)
        ));
    }
    if rec["id"].is_string() != ours["id"].is_string() {
        errs.push(format!("{ctx}: id must be a string"));
    }
    let (ra, oa) = (&rec["attributes"], &ours["attributes"]);
    for (k, v) in ra.as_object().into_iter().flatten() {
        if let Some(o) = oa.get(k)
            && !same_kind(v, o)
        {
            errs.push(format!("{ctx}: attribute {k}: recorded {v} vs ours {o}"));
        }
        if let (Some(r), Some(o)) = (v.as_str(), oa.get(k).and_then(Value::as_str))
            && k.ends_with("_at")
            && r.len() != o.len()
        {
            errs.push(format!("{ctx}: timestamp format {k}: {r} vs {o}"));
        }
    }
    for (name, rel) in rec["relationships"].as_object().into_iter().flatten() {
        let Some(o) = ours["relationships"].get(name) else {
            errs.push(format!("{ctx}: relationship {name} missing"));
            continue;
        };
        if keys(rel) != keys(o) || !same_kind(&rel["data"], &o["data"]) {
            errs.push(format!(
                "{ctx}: relationship {name}: recorded {rel} vs ours {o}"
            ));
        }
    }
    if !ours["links"]["self"]
        .as_str()
        .is_some_and(|s| s.starts_with("http"))
    {
        errs.push(format!("{ctx}: links.self must be an absolute URL"));
    }
}

#[tokio::test]
async fn recorded_planning_center_exchanges_match_structurally() {
    let recorded = load();
    // 200 people, like the recorded organisation, so paging links line up exactly.
    let sim = common::builder(200).start().await.unwrap();
    let (person, first_name, list) = {
        let org = sim.org();
        let t = org.table("Person").unwrap();
        let p = &t.records()[0];
        let fname = p
            .get(&t.schema, "first_name")
            .and_then(|v| v.as_str())
            .unwrap()
            .to_lowercase();
        (p.id, fname, org.records("List").next().unwrap().id)
    };
    let client = reqwest::Client::new();
    let mut errs = Vec::new();
    let mut compared = 0;
    for r in &recorded {
        let mut pq = strip_base(&r.uri);
        // Recorded ids and names are the recording organisation's; use ours.
        pq = pq
            .replace("/people/45029164", &format!("/people/{person}"))
            .replace("/lists/1097503", &format!("/lists/{list}"));
        pq = pq.replace(
            "%5Bfirst_name%5D=paul",
            &format!("%5Bfirst_name%5D={first_name}"),
        );
        pq = pq.replace(
            "%5Bfirst_name%5D=Paul",
            &format!("%5Bfirst_name%5D={first_name}"),
        );
        let ctx = format!("{} {} {}", r.file, r.method, pq);
        if r.method != "GET" {
            // The Services module is not simulated: a write there must still get a PCO error document.
            let resp = client
                .request(r.method.parse().unwrap(), format!("{}{pq}", sim.base_url()))
                .basic_auth(pco_sim::DEFAULT_APP_ID, Some(pco_sim::DEFAULT_SECRET))
                .send()
                .await
                .unwrap();
            let v: Value = resp.json().await.unwrap();
            assert!(
                v["errors"][0]["status"].is_string(),
                "{ctx}: error document expected, got {v}"
            );
            continue;
        }
        let (status, headers, ours) = common::get(&sim, &pq).await;
        compared += 1;
        if status != r.status {
            errs.push(format!("{ctx}: status {} vs ours {status}", r.status));
            continue;
        }
        for h in [
            "X-PCO-API-Request-Rate-Count",
            "X-PCO-API-Request-Rate-Limit",
            "X-PCO-API-Request-Rate-Period",
            "Content-Type",
        ] {
            let ov = headers.get(h).and_then(|v| v.to_str().ok());
            match (r.headers.get(h).and_then(Value::as_str), ov) {
                (Some(_), None) => errs.push(format!("{ctx}: header {h} missing")),
                (Some(rv), Some(ov)) if h != "X-PCO-API-Request-Rate-Count" && rv != ov => {
                    errs.push(format!("{ctx}: header {h}: recorded {rv} vs ours {ov}"))
                }
                (Some(_), Some(ov)) if ov.parse::<u32>().is_err() && h.contains("Rate") => {
                    errs.push(format!("{ctx}: header {h} not an integer: {ov}"))
                }
                _ => {}
            }
        }
        let Some(rec) = &r.body else {
            if !ours.is_null() {
                errs.push(format!("{ctx}: recorded empty body, ours {ours}"));
            }
            continue;
        };
        if keys(rec) != keys(&ours) {
            errs.push(format!(
                "{ctx}: top-level keys {:?} vs ours {:?}",
                keys(rec),
                keys(&ours)
            ));
        }
        if let Some(e) = rec.get("errors") {
            if keys(&e[0]) != keys(&ours["errors"][0])
                || e[0]["detail"] != ours["errors"][0]["detail"]
            {
                errs.push(format!("{ctx}: error {e} vs ours {}", ours["errors"]));
            }
            continue;
        }
        for (name, link) in rec["links"].as_object().into_iter().flatten() {
            match ours["links"].get(name).and_then(Value::as_str) {
                Some(o)
                    if strip_base(o)
                        == strip_base(link.as_str().unwrap_or(""))
                            .replace("paul", &first_name)
                            .replace("Paul", &first_name) => {}
                Some(o)
                    if name == "self" && pq.contains("first_name") && o.contains(&first_name) => {}
                o => errs.push(format!(
                    "{ctx}: links.{name}: recorded {link} vs ours {o:?}"
                )),
            }
        }
        let rm = keys(&rec["meta"]);
        let om: Vec<String> = keys(&ours["meta"])
            .into_iter()
            .filter(|k| rm.contains(k))
            .collect();
        let rm_common: Vec<String> = rm
            .iter()
            .filter(|k| ours["meta"].get(*k).is_some() || !["next", "prev"].contains(&k.as_str()))
            .cloned()
            .collect();
        if rm_common != om {
            errs.push(format!(
                "{ctx}: meta keys {rm:?} vs ours {:?}",
                keys(&ours["meta"])
            ));
        }
        if let Some(p) = rec["meta"].get("parent")
            && (keys(p) != keys(&ours["meta"]["parent"])
                || p["type"] != ours["meta"]["parent"]["type"])
        {
            errs.push(format!(
                "{ctx}: meta.parent {p} vs ours {}",
                ours["meta"]["parent"]
            ));
        }
        let (rd, od) = (&rec["data"], &ours["data"]);
        if rd.is_array() != od.is_array() {
            errs.push(format!("{ctx}: data shape differs"));
            continue;
        }
        let first = |d: &Value| {
            if d.is_array() {
                d[0].clone()
            } else {
                d.clone()
            }
        };
        if !first(rd).is_null() && !first(od).is_null() {
            check_resource(&ctx, &first(rd), &first(od), &mut errs);
        }
        for ri in rec["included"].as_array().into_iter().flatten() {
            let oi = ours["included"]
                .as_array()
                .and_then(|a| a.iter().find(|o| o["type"] == ri["type"]));
            match oi {
                Some(oi) => {
                    check_resource(&format!("{ctx} included {}", ri["type"]), ri, oi, &mut errs)
                }
                None if od.as_array().is_some_and(|a| a.is_empty()) => {}
                None => errs.push(format!("{ctx}: no included {}", ri["type"])),
            }
        }
    }
    errs.dedup();
    assert!(compared >= 40, "compared only {compared} GETs");
    assert!(
        errs.is_empty(),
        "{} fidelity differences:\n{}",
        errs.len(),
        errs.join("\n")
    );
    sim.shutdown().await;
}
