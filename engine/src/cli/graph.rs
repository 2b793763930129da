//! `tributary graph`: an adapter's sync order as a text tree of levels.

use serde_json::json;
use tributary_core::Dependency;
use tributary_engine::registry;

use super::config::Config;
use super::{Failure, exit};

/// Arguments of `tributary graph`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The adapter (default: every registered one).
    #[arg(long, env = "TRIBUTARY_ADAPTER")]
    adapter: Option<String>,
}

pub fn run(args: Args, config: &Config, json: bool) -> Result<u8, Failure> {
    let wanted = args.adapter.or_else(|| config.adapter.clone());
    let manifests: Vec<_> = registry::adapters()
        .into_iter()
        .filter(|m| wanted.as_deref().is_none_or(|w| w == m.adapter))
        .collect();
    if manifests.is_empty() {
        return Err(Failure::new(
            exit::USAGE,
            anyhow::anyhow!("no adapter `{}` is registered", wanted.unwrap_or_default()),
        ));
    }
    for m in manifests {
        if json {
            let levels: Vec<_> = m
                .sync_order
                .iter()
                .map(|level| {
                    level
                        .iter()
                        .map(|name| {
                            let e = m.entity(name);
                            let deps = |d| e.map(|e| e.dependencies(d).collect::<Vec<_>>()).unwrap_or_default();
                            json!({"entity": name, "hard": deps(Dependency::Hard), "soft": deps(Dependency::Soft),
                                   "canonical": e.and_then(|e| e.canonical).map(|c| c.target)})
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            println!("{}", json!({"adapter": m.adapter, "levels": levels}));
            continue;
        }
        println!("{}", m.adapter);
        let n = m.sync_order.len();
        for (i, level) in m.sync_order.iter().enumerate() {
            let (branch, pad) = if i + 1 == n {
                ("└─", "   ")
            } else {
                ("├─", "│  ")
            };
            println!("{branch} level {i}");
            for (j, name) in level.iter().enumerate() {
                let leaf = if j + 1 == level.len() {
                    "└─"
                } else {
                    "├─"
                };
                let mut line = format!("{pad}{leaf} {name}");
                if let Some(e) = m.entity(name) {
                    let hard: Vec<_> = e.dependencies(Dependency::Hard).collect();
                    let soft: Vec<_> = e.dependencies(Dependency::Soft).collect();
                    if let Some(c) = e.canonical {
                        line.push_str(&format!(" → {}", c.target));
                    }
                    if !hard.is_empty() {
                        line.push_str(&format!("  (after {})", hard.join(", ")));
                    }
                    if !soft.is_empty() {
                        line.push_str(&format!("  (soft: {})", soft.join(", ")));
                    }
                }
                println!("{line}");
            }
        }
    }
    Ok(exit::OK)
}
