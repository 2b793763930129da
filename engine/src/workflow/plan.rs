//! How an entity's records are fetched: side-loaded with a parent's pages (`include=`), from a
//! top-level list, or from a list nested under each parent. Decided from the manifest alone,
//! so every worker makes the same choice.

use tributary_core::{Dependency, EndpointKind, EntityDef, Manifest};

/// Where an entity's records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Included in the pages of `parent`, under `relationship`; no requests of its own.
    SideLoaded {
        /// The entity whose pages carry the records.
        parent: &'static str,
        /// The parent's relationship naming them.
        relationship: &'static str,
    },
    /// A top-level list.
    List,
    /// A list under each record of `parent`.
    Nested {
        /// The parent entity.
        parent: &'static str,
    },
    /// Nothing to store: the entity maps onto no canonical table.
    Unmapped,
}

/// A child side-loaded with an entity's pages.
#[derive(Debug, Clone, Copy)]
pub struct SideLoad {
    /// The parent's relationship that includes the child.
    pub relationship: &'static str,
    /// The child.
    pub child: &'static EntityDef,
}

/// The children that `parent`'s pages carry in full.
///
/// A relationship is side-loaded when the manifest asks for it (`include:`), it is to-many, and
/// its target is a child *owned* by the parent (its canonical owner relationship points back
/// at the parent, with a hard dependency). Only then is "every child of every parent in the
/// page" the same set as the child's own list, so the child needs no requests of its own.
/// Other includes (such as a person's households) only supply relationship linkage.
pub fn side_loads(manifest: &'static Manifest, parent: &EntityDef) -> Vec<SideLoad> {
    parent
        .relationships
        .iter()
        .filter(|r| r.to_many && parent.includes.contains(&r.name))
        .filter_map(|r| {
            let child = manifest.entity(r.target)?;
            let owner = child.canonical?.owner?;
            let back = child
                .relationships
                .iter()
                .find(|c| c.name == owner.relationship)?;
            (back.target == parent.name && back.dependency == Dependency::Hard).then_some(
                SideLoad {
                    relationship: r.name,
                    child,
                },
            )
        })
        .collect()
}

/// Where `entity`'s records come from.
pub fn source(manifest: &'static Manifest, entity: &EntityDef) -> Source {
    if entity.canonical.is_none() {
        return Source::Unmapped;
    }
    for parent in manifest.entities {
        if parent.name == entity.name || parent.canonical.is_none() {
            continue;
        }
        if let Some(s) = side_loads(manifest, parent)
            .into_iter()
            .find(|s| s.child.name == entity.name)
        {
            return Source::SideLoaded {
                parent: parent.name,
                relationship: s.relationship,
            };
        }
    }
    if entity.endpoint(EndpointKind::List).is_some() {
        return Source::List;
    }
    match entity
        .endpoint(EndpointKind::NestedList)
        .and_then(|n| n.parent)
    {
        Some(parent) => Source::Nested { parent },
        None => Source::Unmapped,
    }
}

/// The entities a sync of `wanted` must also run: everything they wait for (hard
/// dependencies, nested-list parents, the parent they are side-loaded with), transitively,
/// minus entities with nothing to store. `None` selects every mapped entity.
pub fn closure(
    manifest: &'static Manifest,
    wanted: Option<&[String]>,
) -> Result<Vec<&'static str>, String> {
    let mut out: Vec<&'static str> = Vec::new();
    let mut todo: Vec<&'static str> = match wanted {
        None => manifest.entities.iter().map(|e| e.name).collect(),
        Some(names) => names
            .iter()
            .map(|n| {
                manifest
                    .entities
                    .iter()
                    .find(|e| e.name.eq_ignore_ascii_case(n) || snake(e.name) == *n)
                    .map(|e| e.name)
                    .ok_or_else(|| {
                        let known: Vec<&str> = manifest.entities.iter().map(|e| e.name).collect();
                        format!(
                            "unknown entity `{n}` for adapter `{}`; known: {}",
                            manifest.adapter,
                            known.join(", ")
                        )
                    })
            })
            .collect::<Result<_, _>>()?,
    };
    while let Some(name) = todo.pop() {
        if out.contains(&name) {
            continue;
        }
        let Some(e) = manifest.entity(name) else {
            continue;
        };
        let src = source(manifest, e);
        if src == Source::Unmapped {
            continue;
        }
        out.push(name);
        todo.extend(e.dependencies(Dependency::Hard));
        match src {
            Source::SideLoaded { parent, .. } | Source::Nested { parent } => todo.push(parent),
            Source::List | Source::Unmapped => {}
        }
    }
    Ok(out)
}

/// `PhoneNumber` → `phone_number`, so users may name entities either way.
fn snake(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            s.push('_');
        }
        s.push(c.to_ascii_lowercase());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pco() -> &'static Manifest {
        &tributary_pco::MANIFEST
    }

    #[test]
    fn people_children_are_side_loaded_and_households_are_not() {
        let m = pco();
        let person = m.entity("Person").unwrap();
        let mut kids: Vec<&str> = side_loads(m, person).iter().map(|s| s.child.name).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["Address", "Email", "PhoneNumber"]);
        assert_eq!(
            source(m, m.entity("Email").unwrap()),
            Source::SideLoaded {
                parent: "Person",
                relationship: "emails"
            }
        );
        assert_eq!(source(m, m.entity("Household").unwrap()), Source::List);
        assert_eq!(
            source(m, m.entity("HouseholdMembership").unwrap()),
            Source::Nested {
                parent: "Household"
            }
        );
        assert_eq!(source(m, m.entity("GroupType").unwrap()), Source::Unmapped);
    }

    #[test]
    fn closure_adds_what_an_entity_waits_for_and_drops_unmapped() {
        let m = pco();
        let mut got = closure(m, Some(&["email".to_owned()])).unwrap();
        got.sort_unstable();
        assert_eq!(got, ["Email", "Person"]);
        let mut got = closure(m, Some(&["GroupMembership".to_owned()])).unwrap();
        got.sort_unstable();
        assert_eq!(got, ["Group", "GroupMembership", "Person"]);
        let all = closure(m, None).unwrap();
        assert!(!all.contains(&"Tab") && all.contains(&"Note"), "{all:?}");
        let err = closure(m, Some(&["Pets".to_owned()])).unwrap_err();
        assert!(
            err.contains("unknown entity `Pets`") && err.contains("PhoneNumber"),
            "{err}"
        );
    }
}
