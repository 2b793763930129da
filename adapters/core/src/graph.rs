//! Sync-order computation that runs in `const` context.
//!
//! `entity_manifest!` evaluates [`levels`] in a `static`, so a hard-dependency cycle among
//! hand-written and generated entities fails the build with the cycle spelled out, e.g.
//! `hard-dependency cycle: Person -> Address -> Person`. The generator computes the same order
//! for spec-driven adapters at build time and emits it as a `const`.

use crate::entity::{Dependency, EntityDef};

/// Topological levels of `N` entities: entities in one level may sync concurrently.
#[derive(Debug, Clone, Copy)]
pub struct Levels<const N: usize> {
    /// `names[i][..lens[i]]` are the entities of level `i`.
    pub names: [[&'static str; N]; N],
    /// How many entities each level holds.
    pub lens: [usize; N],
    /// How many levels there are.
    pub count: usize,
}

impl<const N: usize> Levels<N> {
    /// The entity names of level `i` (empty past [`Levels::count`]).
    pub const fn level(&'static self, i: usize) -> &'static [&'static str] {
        self.names[i].split_at(self.lens[i]).0
    }
}

/// String equality usable in `const` context (`==` on `str` is not `const`).
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn index_of<const N: usize>(entities: &[EntityDef; N], name: &str) -> Option<usize> {
    let mut i = 0;
    while i < N {
        if str_eq(entities[i].name, name) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Whether every dependency of `entity` of the given strength is placed before level `level`.
const fn deps_placed<const N: usize>(
    entities: &[EntityDef; N],
    placed: &[usize; N],
    entity: usize,
    dependency: Dependency,
    level: usize,
) -> bool {
    let rels = entities[entity].relationships;
    let mut r = 0;
    while r < rels.len() {
        if rels[r].dependency as u8 == dependency as u8
            && let Some(t) = index_of(entities, rels[r].target)
            && t != entity
            && placed[t] >= level
        {
            return false;
        }
        r += 1;
    }
    true
}

/// The first hard dependency of `entity` that is not placed yet.
const fn unplaced_hard_dep<const N: usize>(
    entities: &[EntityDef; N],
    placed: &[usize; N],
    entity: usize,
) -> usize {
    let rels = entities[entity].relationships;
    let mut r = 0;
    while r < rels.len() {
        if matches!(rels[r].dependency, Dependency::Hard)
            && let Some(t) = index_of(entities, rels[r].target)
            && placed[t] == usize::MAX
        {
            return t;
        }
        r += 1;
    }
    entity
}

struct Message {
    buf: [u8; 1024],
    len: usize,
}

impl Message {
    const fn push(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < self.buf.len() {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
    }

    const fn fail(&self) -> ! {
        match core::str::from_utf8(self.buf.split_at(self.len).0) {
            Ok(text) => panic!("{}", text),
            Err(_) => panic!("invalid dependency graph"),
        }
    }
}

/// Panics (a compile error in `const` context) when a hard dependency names an entity that is
/// not in the list.
const fn check_targets<const N: usize>(entities: &[EntityDef; N]) {
    let mut e = 0;
    while e < N {
        let rels = entities[e].relationships;
        let mut r = 0;
        while r < rels.len() {
            if matches!(rels[r].dependency, Dependency::Hard)
                && index_of(entities, rels[r].target).is_none()
            {
                let mut m = Message {
                    buf: [0; 1024],
                    len: 0,
                };
                m.push("entity `");
                m.push(entities[e].name);
                m.push("` has a hard dependency on `");
                m.push(rels[r].target);
                m.push("`, which is not in this manifest");
                m.fail();
            }
            r += 1;
        }
        e += 1;
    }
}

/// Spells out a hard cycle reachable from `start` and panics with it.
const fn fail_with_cycle<const N: usize>(
    entities: &[EntityDef; N],
    placed: &[usize; N],
    start: usize,
) -> ! {
    // Every unplaced entity here has an unplaced hard dependency, so walking N steps lands on a
    // cycle; then walk it once more to name it.
    let mut at = start;
    let mut steps = 0;
    while steps < N {
        at = unplaced_hard_dep(entities, placed, at);
        steps += 1;
    }
    let mut m = Message {
        buf: [0; 1024],
        len: 0,
    };
    m.push("hard-dependency cycle: ");
    m.push(entities[at].name);
    let first = at;
    loop {
        at = unplaced_hard_dep(entities, placed, at);
        m.push(" -> ");
        m.push(entities[at].name);
        if at == first {
            break;
        }
    }
    m.fail()
}

/// Computes the topological levels of `entities`.
///
/// An entity's level follows all of its hard and soft dependencies. When only soft dependencies
/// form a cycle, the first entity (in list order) whose hard dependencies are met is placed
/// alone, dropping its pending soft edges. A hard cycle, or a hard dependency on an entity not
/// in the list, panics with a message naming it.
pub const fn levels<const N: usize>(entities: &[EntityDef; N]) -> Levels<N> {
    check_targets(entities);
    let mut out = Levels {
        names: [[""; N]; N],
        lens: [0; N],
        count: 0,
    };
    let mut placed = [usize::MAX; N];
    let mut remaining = N;
    while remaining > 0 {
        let level = out.count;
        let mut ready = [false; N];
        let mut any = false;
        let mut e = 0;
        while e < N {
            if placed[e] == usize::MAX
                && deps_placed(entities, &placed, e, Dependency::Hard, level)
                && deps_placed(entities, &placed, e, Dependency::Soft, level)
            {
                ready[e] = true;
                any = true;
            }
            e += 1;
        }
        if !any {
            // Break a soft cycle: the first entity whose hard dependencies are met goes alone.
            let mut e = 0;
            while e < N {
                if placed[e] == usize::MAX
                    && deps_placed(entities, &placed, e, Dependency::Hard, level)
                {
                    ready[e] = true;
                    any = true;
                    break;
                }
                e += 1;
            }
        }
        if !any {
            let mut e = 0;
            while placed[e] != usize::MAX {
                e += 1;
            }
            fail_with_cycle(entities, &placed, e);
        }
        let mut e = 0;
        while e < N {
            if ready[e] {
                placed[e] = level;
                out.names[level][out.lens[level]] = entities[e].name;
                out.lens[level] += 1;
                remaining -= 1;
            }
            e += 1;
        }
        out.count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::RelationshipDef;

    const fn def(name: &'static str, relationships: &'static [RelationshipDef]) -> EntityDef {
        EntityDef {
            name,
            json_type: name,
            doc: "",
            relationships,
            endpoints: &[],
            includes: &[],
            order_by: &[],
            query_by: &[],
            canonical: None,
            webhook_events: &[],
        }
    }

    const fn rel(target: &'static str, dependency: Dependency) -> RelationshipDef {
        RelationshipDef {
            name: target,
            target,
            to_many: false,
            dependency,
        }
    }

    static ENTITIES: [EntityDef; 4] = [
        def("Address", &[rel("Person", Dependency::Hard)]),
        def(
            "Person",
            &[
                rel("Campus", Dependency::Soft),
                rel("Household", Dependency::Soft),
            ],
        ),
        def("Campus", &[]),
        def("Household", &[rel("Person", Dependency::Soft)]),
    ];
    static LEVELS: Levels<4> = levels(&ENTITIES);

    #[test]
    fn orders_by_dependencies_and_breaks_soft_cycles() {
        // Person ~> Household ~> Person is a soft cycle: after Campus, Person (the first entity
        // whose hard dependencies are met) is placed alone, then Address and Household together.
        let got: Vec<&[&str]> = (0..LEVELS.count).map(|i| LEVELS.level(i)).collect();
        assert_eq!(
            got,
            vec![&["Campus"][..], &["Person"], &["Address", "Household"]]
        );
    }

    #[test]
    #[should_panic(expected = "hard-dependency cycle: Person -> Address -> Person")]
    fn names_a_hard_cycle() {
        const TO_ADDRESS: &[RelationshipDef] = &[rel("Address", Dependency::Hard)];
        const TO_PERSON: &[RelationshipDef] = &[rel("Person", Dependency::Hard)];
        levels(&[def("Person", TO_ADDRESS), def("Address", TO_PERSON)]);
    }

    #[test]
    #[should_panic(expected = "entity `Note` has a hard dependency on `Person`")]
    fn names_a_missing_target() {
        const TO_PERSON: &[RelationshipDef] = &[rel("Person", Dependency::Hard)];
        levels(&[def("Note", TO_PERSON)]);
    }
}
