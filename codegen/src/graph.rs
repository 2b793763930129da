//! The sync order: topological levels over hard and soft dependencies.
//!
//! Entities of one level may sync concurrently. Ties are broken by name so that the order is the
//! same on every machine. A hard cycle is an error naming it; a soft cycle is broken by dropping
//! the soft edges of the first (by name) entity whose hard dependencies are met, and reported.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::algo::tarjan_scc;
use petgraph::graphmap::DiGraphMap;

use crate::ir::{DependencyKind, Entity};

/// The computed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Levels of entity names.
    pub levels: Vec<Vec<String>>,
    /// Soft edges (entity, dependency) dropped to break cycles.
    pub broken_soft_edges: Vec<(String, String)>,
}

fn deps(entities: &[Entity], kind: DependencyKind) -> BTreeMap<&str, BTreeSet<&str>> {
    entities
        .iter()
        .map(|e| {
            let targets = e
                .relationships
                .iter()
                .filter(|r| r.dependency == kind)
                .filter_map(|r| r.target_entity.as_deref())
                .filter(|t| *t != e.name)
                .collect();
            (e.name.as_str(), targets)
        })
        .collect()
}

/// A hard cycle, as the list of names with the first repeated at the end.
fn hard_cycle(hard: &BTreeMap<&str, BTreeSet<&str>>) -> Option<Vec<String>> {
    let mut g = DiGraphMap::<&str, ()>::new();
    for (e, ts) in hard {
        g.add_node(e);
        for t in ts {
            g.add_edge(e, t, ());
        }
    }
    let mut sccs: Vec<Vec<&str>> = tarjan_scc(&g).into_iter().filter(|c| c.len() > 1).collect();
    sccs.iter_mut().for_each(|c| c.sort());
    sccs.sort();
    let scc = sccs.into_iter().next()?;
    // Walk inside the component from its smallest name until we return to it.
    let start = scc[0];
    let mut path = vec![start];
    let mut at = start;
    loop {
        let next = hard[at]
            .iter()
            .find(|t| scc.contains(t) && (**t == start || !path.contains(t)))?;
        if *next == start {
            break;
        }
        path.push(next);
        at = next;
    }
    path.push(start);
    Some(path.into_iter().map(str::to_owned).collect())
}

/// Computes the levels, or the hard cycle that prevents them.
pub fn order(entities: &[Entity]) -> Result<Order, Vec<String>> {
    let hard = deps(entities, DependencyKind::Hard);
    if let Some(cycle) = hard_cycle(&hard) {
        return Err(cycle);
    }
    let mut soft = deps(entities, DependencyKind::Soft);
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut remaining: BTreeSet<&str> = entities.iter().map(|e| e.name.as_str()).collect();
    let mut out = Order {
        levels: Vec::new(),
        broken_soft_edges: Vec::new(),
    };
    while !remaining.is_empty() {
        let met = |m: &BTreeMap<&str, BTreeSet<&str>>, e: &str| {
            m[e].iter()
                .all(|d| placed.contains(d) || !m.contains_key(d))
        };
        let mut level: Vec<&str> = remaining
            .iter()
            .copied()
            .filter(|e| met(&hard, e) && met(&soft, e))
            .collect();
        if level.is_empty() {
            // Only soft edges block: break the cycle at the first entity whose hard deps are met.
            // With no hard cycle some entity always qualifies; if not, report what is stuck.
            let Some(e) = remaining.iter().copied().find(|e| met(&hard, e)) else {
                return Err(remaining.iter().map(|s| s.to_string()).collect());
            };
            let pending: Vec<&str> = soft[e]
                .iter()
                .copied()
                .filter(|d| !placed.contains(d))
                .collect();
            for d in pending {
                soft.get_mut(e).map(|s| s.remove(d));
                out.broken_soft_edges.push((e.to_owned(), d.to_owned()));
            }
            level.push(e);
        }
        for e in &level {
            remaining.remove(e);
        }
        placed.extend(level.iter().copied());
        out.levels
            .push(level.into_iter().map(str::to_owned).collect());
    }
    Ok(out)
}
