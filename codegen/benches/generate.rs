//! Generator figures for `specs/pco`: time to load, validate, resolve and emit, and lines
//! generated. Run with `cargo bench -p tributary-codegen --bench generate`.

use std::path::Path;
use std::time::Instant;

fn main() {
    let spec =
        Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("../specs/pco");
    let runs = std::env::var("GENERATE_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20u32);
    let mut best = f64::MAX;
    let mut total = 0.0;
    let mut lines = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let g = tributary_codegen::generate(&spec).unwrap_or_else(|d| panic!("{d}"));
        let s = t.elapsed().as_secs_f64();
        best = best.min(s);
        total += s;
        lines = g.code.lines().count();
    }
    println!(
        "generator on specs/pco: {runs} runs, best {:.1} ms, mean {:.1} ms, {lines} lines generated",
        best * 1e3,
        total / f64::from(runs) * 1e3
    );
}
