//! Helpers shared by the integration tests.
#![allow(dead_code)]

use pco_sim::{DEFAULT_APP_ID, DEFAULT_SECRET, RunningSim, Simulator, SimulatorBuilder};
use serde_json::Value;
use std::path::PathBuf;

/// A small simulator with default settings.
pub async fn start(people: usize) -> RunningSim {
    builder(people).start().await.expect("simulator starts")
}

/// A builder for a small org.
pub fn builder(people: usize) -> SimulatorBuilder {
    Simulator::builder().people(people).seed(7)
}

/// GET with the default Personal Access Token; returns status, headers and JSON body.
pub async fn get(
    sim: &RunningSim,
    path_and_query: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path_and_query}", sim.base_url()))
        .basic_auth(DEFAULT_APP_ID, Some(DEFAULT_SECRET))
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await.expect("body");
    let v = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).expect("JSON body")
    };
    (status, headers, v)
}

/// This crate's folder, read at run time: a test binary cargo reuses for another checkout
/// sharing the target directory must read that checkout's files, not the one it was built in.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .expect("cargo sets CARGO_MANIFEST_DIR for tests")
}

/// This workspace's `specs/pco`.
pub fn spec_dir() -> PathBuf {
    crate_dir().join("../../specs/pco")
}

/// `../shared/reference` beside the workspace root.
pub fn shared_reference() -> PathBuf {
    let mut dir = crate_dir();
    loop {
        let toml = dir.join("Cargo.toml");
        if std::fs::read_to_string(&toml).is_ok_and(|t| t.contains("[workspace]")) {
            break;
        }
        assert!(
            dir.pop(),
            "no workspace root above {}",
            crate_dir().display()
        );
    }
    let r = dir.join("../shared/reference");
    assert!(
        r.join("pco-recorded").is_dir(),
        "the fidelity checks need Planning Center's recorded exchanges at {} (the shared/ folder beside the repository); it is missing",
        r.display()
    );
    r
}

/// Top-level keys of a JSON object, in order.
pub fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}
