//! `tributary codegen`: writes what the generator makes of a spec, for review.

use std::path::PathBuf;

use super::{Failure, exit};

/// Arguments of `tributary codegen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The adapter spec directory (`manifest.yaml` + `openapi/`), e.g. `specs/pco`.
    #[arg(long)]
    spec: PathBuf,
    /// Where to write the generated files.
    #[arg(long)]
    out: PathBuf,
    /// Also generate the canonical model from this file (e.g. `specs/canonical.yaml`).
    #[arg(long)]
    canonical: Option<PathBuf>,
}

pub fn run(args: Args, json: bool) -> Result<u8, Failure> {
    std::fs::create_dir_all(&args.out)?;
    let adapter = tributary_codegen::generate_to_dir(&args.spec, &args.out)
        .map_err(|e| Failure::new(exit::USAGE, anyhow::anyhow!("{e}")))?;
    let mut written = vec![adapter.display().to_string()];
    if let Some(spec) = &args.canonical {
        tributary_codegen::canonical::generate_to_dir(spec, &args.out)
            .map_err(|e| Failure::new(exit::USAGE, anyhow::anyhow!("{e}")))?;
        for f in [
            "canonical.rs",
            "canonical.sqlite.sql",
            "canonical.postgres.sql",
        ] {
            written.push(args.out.join(f).display().to_string());
        }
    }
    if json {
        println!("{}", serde_json::json!({ "written": written }));
    } else {
        for w in written {
            println!("wrote {w}");
        }
    }
    Ok(exit::OK)
}
