//! Prints the generated code of a spec folder, or its problems: `cargo run -p tributary-codegen
//! --example generate -- specs/pco`.

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "specs/pco".into());
    match tributary_codegen::generate(std::path::Path::new(&dir)) {
        Ok(g) => {
            for w in &g.warnings {
                eprintln!("warning: {w}");
            }
            print!("{}", g.code);
        }
        Err(d) => {
            eprint!("{d}");
            std::process::exit(1);
        }
    }
}
