//! Manifest entities → IR entities: schemas, relationships, operations, mapping.

use std::collections::HashMap;
use std::path::Path;

use crate::diagnostic::{Diagnostic, Diagnostics, pointer_token};
use crate::ir::{self, Entity, NamedType, Operation, OperationKind, Relationship, Type};
use crate::load::Loaded;
use crate::manifest::{EntitySpec, FieldSpec, RelationshipSpec};
use crate::naming;

use super::operations::{RawOperation, enum_values, maximum};
use super::schemas::{SchemaRef, SchemaResolver, deref, properties, single_string};

/// Where an entity's resource schema lives.
struct Located {
    doc: usize,
    schema: String,
}

pub struct Builder<'a> {
    loaded: &'a Loaded,
    ops: &'a [RawOperation<'a>],
    diags: &'a mut Diagnostics,
    located: HashMap<String, Located>,
    entities: Vec<Entity>,
    types: Vec<NamedType>,
    taken: HashMap<String, String>,
    by_ref: Vec<HashMap<String, String>>,
    operations: Vec<Operation>,
}

fn entity_ptr(name: &str, rest: &str) -> String {
    format!("/entities/{}{rest}", pointer_token(name))
}

impl<'a> Builder<'a> {
    pub fn new(
        loaded: &'a Loaded,
        ops: &'a [RawOperation<'a>],
        diags: &'a mut Diagnostics,
    ) -> Self {
        Self {
            loaded,
            ops,
            diags,
            located: HashMap::new(),
            entities: Vec::new(),
            types: Vec::new(),
            taken: HashMap::new(),
            by_ref: vec![HashMap::new(); loaded.documents.len()],
            operations: Vec::new(),
        }
    }

    fn manifest_problem(&mut self, entity: &str, pointer: String, message: String) {
        let d = Diagnostic::new(&self.loaded.manifest_path, message)
            .subject(format!("entity {entity}"))
            .at(pointer);
        self.diags.push(d);
    }

    pub fn finish(self) -> (Vec<Entity>, Vec<NamedType>, Vec<Operation>) {
        (self.entities, self.types, self.operations)
    }

    pub fn run(&mut self) {
        let manifest = &self.loaded.manifest;
        // Pass 1: find every entity's schema so relationships can resolve targets.
        for (name, spec) in &manifest.entities {
            if let Some(l) = self.locate(name, spec) {
                self.taken
                    .insert(naming::type_name(name), format!("entity {name}"));
                self.located.insert(name.clone(), l);
            }
        }
        for (name, spec) in &manifest.entities {
            if self.located.contains_key(name) {
                self.entity(name, spec);
            }
        }
        self.check_relationship_targets();
        self.operations();
        for (name, spec) in &manifest.entities {
            if let Some(i) = self.entities.iter().position(|e| &e.name == name) {
                self.roles_and_mapping(i, spec);
            }
        }
    }

    fn locate(&mut self, name: &str, spec: &EntitySpec) -> Option<Located> {
        let wanted = spec.schema.clone().unwrap_or_else(|| name.to_owned());
        let (file, schema) = match wanted.split_once('#') {
            Some((f, s)) => (Some(f.to_owned()), s.to_owned()),
            None => (None, wanted.clone()),
        };
        let found: Vec<usize> = self
            .loaded
            .documents
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                file.as_ref().is_none_or(|f| d.path.ends_with(f))
                    && d.openapi
                        .components
                        .as_ref()
                        .is_some_and(|c| c.schemas.contains_key(&schema))
            })
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [doc] => Some(Located { doc: *doc, schema }),
            [] => {
                self.manifest_problem(
                    name,
                    entity_ptr(name, "/schema"),
                    format!(
                        "no OpenAPI document defines the schema `{wanted}` (components.schemas)"
                    ),
                );
                None
            }
            _ => {
                self.manifest_problem(
                    name,
                    entity_ptr(name, "/schema"),
                    format!("schema `{wanted}` is defined in several documents; write `schema: FILE#{schema}`"),
                );
                None
            }
        }
    }

    fn entity(&mut self, name: &str, spec: &EntitySpec) {
        let loaded = self.loaded;
        let l = &self.located[name];
        let (doc_index, schema_name) = (l.doc, l.schema.clone());
        let doc = &loaded.documents[doc_index];
        let oa = &doc.openapi;
        let file: &Path = &doc.path;
        let pointer = format!("/components/schemas/{}", pointer_token(&schema_name));
        let schema = &oa.components.as_ref().expect("located above").schemas[&schema_name];
        let resource = match deref(oa, SchemaRef::Plain(schema)) {
            Ok((_, s)) => s,
            Err(msg) => {
                self.diags.push(
                    Diagnostic::new(file, msg)
                        .subject(format!("entity {name}"))
                        .at(pointer),
                );
                return;
            }
        };
        let Some((props, _)) = properties(resource) else {
            self.diags.push(
                Diagnostic::new(file, "a JSON:API resource schema must be an object with `type`, `id` and `attributes`")
                    .subject(format!("entity {name}"))
                    .at(pointer),
            );
            return;
        };
        let json_type = props
            .get("type")
            .and_then(|t| deref(oa, SchemaRef::Boxed(t)).ok())
            .and_then(|(_, s)| single_string(s));
        let Some(json_type) = json_type else {
            self.diags.push(
                Diagnostic::new(
                    file,
                    "the resource's `type` property must be a single constant (`const: Person`)",
                )
                .subject(format!("entity {name}"))
                .at(format!("{pointer}/properties/type")),
            );
            return;
        };
        let doc_text = resource.schema_data.description.clone().unwrap_or_default();
        let mut diags = std::mem::take(self.diags);
        let mut by_ref = std::mem::take(&mut self.by_ref[doc_index]);
        let attributes = {
            let mut r = SchemaResolver {
                doc: oa,
                file,
                types: &mut self.types,
                taken: &mut self.taken,
                by_ref: &mut by_ref,
                diags: &mut diags,
            };
            match props
                .get("attributes")
                .map(|a| deref(oa, SchemaRef::Boxed(a)))
            {
                Some(Ok((_, a))) => match properties(a) {
                    Some((ap, req)) => r.fields(
                        ap,
                        req,
                        name,
                        &format!("{pointer}/properties/attributes/properties"),
                    ),
                    None => Vec::new(),
                },
                Some(Err(msg)) => {
                    r.diags.push(
                        Diagnostic::new(file, msg).at(format!("{pointer}/properties/attributes")),
                    );
                    Vec::new()
                }
                None => Vec::new(),
            }
        };
        self.by_ref[doc_index] = by_ref;
        *self.diags = diags;
        let mut attributes = attributes;
        for secret in &spec.secrets {
            match attributes.iter_mut().find(|f| &f.json_name == secret) {
                Some(f) => f.secret = true,
                None => self.manifest_problem(
                    name,
                    entity_ptr(name, "/secrets"),
                    format!("`{secret}` is not an attribute of `{name}`"),
                ),
            }
        }
        let relationships =
            self.relationships(name, spec, doc_index, &pointer, props.get("relationships"));
        self.entities.push(Entity {
            name: name.to_owned(),
            json_type,
            doc: doc_text,
            attributes,
            relationships,
            include: spec.include.clone(),
            order_by: Vec::new(),
            query_by: Vec::new(),
            list: None,
            get: None,
            nested: None,
            canonical: None,
            webhooks: spec.webhooks.clone(),
        });
    }

    fn relationships(
        &mut self,
        name: &str,
        spec: &EntitySpec,
        doc_index: usize,
        pointer: &str,
        rels: Option<&openapiv3::ReferenceOr<Box<openapiv3::Schema>>>,
    ) -> Vec<Relationship> {
        let doc = &self.loaded.documents[doc_index];
        let (oa, file) = (&doc.openapi, &doc.path);
        let mut out = Vec::new();
        let rel_props = rels
            .and_then(|r| deref(oa, SchemaRef::Boxed(r)).ok())
            .and_then(|(_, s)| properties(s).map(|(p, _)| p));
        for (rel, schema) in rel_props.into_iter().flatten() {
            let here = format!(
                "{pointer}/properties/relationships/properties/{}",
                pointer_token(rel)
            );
            // A relationship object's `data` is an identifier (to-one, maybe nullable) or an array of them.
            let data = deref(oa, SchemaRef::Boxed(schema))
                .ok()
                .and_then(|(_, s)| properties(s).and_then(|(p, _)| p.get("data")))
                .and_then(|d| deref(oa, SchemaRef::Boxed(d)).ok());
            let target = data.and_then(|(_, d)| identifier_target(oa, d));
            let Some((target_type, to_many)) = target else {
                self.diags.push(
                    Diagnostic::new(file, "a relationship must have `data`: an identifier (`{type: {const: T}, id}`), nullable or in an array")
                        .subject(format!("entity {name}"))
                        .at(format!("{here}/properties/data")),
                );
                continue;
            };
            let Some(class) = spec.relationships.get(rel) else {
                self.manifest_problem(
                    name,
                    entity_ptr(name, "/relationships"),
                    format!("relationship `{rel}` (to {target_type}) is not classified: add `{rel}: hard | soft | ignore`"),
                );
                continue;
            };
            let explicit = match class {
                RelationshipSpec::Full { target, .. } => Some(target.clone()),
                RelationshipSpec::Kind(_) => None,
            };
            out.push(Relationship {
                json_name: rel.clone(),
                rust_name: naming::field(rel, &["extra"]),
                target_type,
                target_entity: explicit,
                to_many,
                dependency: class.kind(),
            });
        }
        for rel in spec.relationships.keys() {
            if !out.iter().any(|r| &r.json_name == rel)
                && !self
                    .diags
                    .0
                    .iter()
                    .any(|d| d.message.contains(&format!("relationship `{rel}`")))
            {
                self.manifest_problem(
                    name,
                    entity_ptr(name, &format!("/relationships/{}", pointer_token(rel))),
                    format!("the schema has no relationship `{rel}`"),
                );
            }
        }
        out
    }

    /// Resolves each relationship's target entity from its JSON:API type.
    fn check_relationship_targets(&mut self) {
        let types: Vec<(String, String)> = self
            .entities
            .iter()
            .map(|e| (e.name.clone(), e.json_type.clone()))
            .collect();
        let mut problems = Vec::new();
        for e in &mut self.entities {
            for r in &mut e.relationships {
                let ptr = entity_ptr(
                    &e.name,
                    &format!("/relationships/{}", pointer_token(&r.json_name)),
                );
                if let Some(t) = &r.target_entity {
                    match types.iter().find(|(n, _)| n == t) {
                        Some((_, jt)) if *jt == r.target_type => {}
                        Some((_, jt)) => problems.push((
                            e.name.clone(),
                            ptr,
                            format!(
                                "target `{t}` has type `{jt}`, but relationship `{}` holds `{}`",
                                r.json_name, r.target_type
                            ),
                        )),
                        None => problems.push((
                            e.name.clone(),
                            ptr,
                            format!(
                                "relationship `{}` targets unknown entity `{t}`",
                                r.json_name
                            ),
                        )),
                    }
                    continue;
                }
                let candidates: Vec<&String> = types
                    .iter()
                    .filter(|(_, jt)| *jt == r.target_type)
                    .map(|(n, _)| n)
                    .collect();
                match candidates.as_slice() {
                    [one] => r.target_entity = Some((*one).clone()),
                    [] if r.dependency == ir::DependencyKind::Ignore => {}
                    [] => problems.push((e.name.clone(), ptr, format!(
                        "relationship `{}` is classified `{}` but its type `{}` is not an entity of this manifest",
                        r.json_name,
                        match r.dependency { ir::DependencyKind::Hard => "hard", _ => "soft" },
                        r.target_type
                    ))),
                    many => problems.push((e.name.clone(), ptr, format!(
                        "relationship `{}` holds type `{}`, which several entities have ({}): write `{{dependency: ..., target: NAME}}`",
                        r.json_name, r.target_type, many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ))),
                }
            }
        }
        for (e, p, m) in problems {
            self.manifest_problem(&e, p, m);
        }
    }

    /// Operations returning an entity's documents, with their parameters.
    fn operations(&mut self) {
        for op in self.ops {
            let Some((schema, is_list)) = &op.returns else {
                continue;
            };
            let Some(entity) = self
                .located
                .iter()
                .find(|(_, l)| l.doc == op.doc && &l.schema == schema)
                .map(|(n, _)| n.clone())
            else {
                continue;
            };
            let doc = &self.loaded.documents[op.doc];
            let oa = &doc.openapi;
            let mut includes = Vec::new();
            let mut order_by = Vec::new();
            let mut filters = Vec::new();
            let mut max_per_page = None;
            for (pname, s) in &op.query {
                match pname.as_str() {
                    "include" => includes = enum_values(oa, s),
                    "order" => {
                        order_by = enum_values(oa, s)
                            .into_iter()
                            .filter(|v| !v.starts_with('-'))
                            .collect()
                    }
                    p if p == self.loaded.manifest.paging.per_page_param => {
                        max_per_page = maximum(oa, s)
                    }
                    p => {
                        if let Some(attr) =
                            p.strip_prefix("where[").and_then(|r| r.strip_suffix(']'))
                        {
                            let ty = match deref(oa, SchemaRef::Plain(s)) {
                                Ok((_, sc)) => match &sc.schema_kind {
                                    openapiv3::SchemaKind::Type(openapiv3::Type::String(st))
                                        if matches!(
                                            st.format,
                                            openapiv3::VariantOrUnknownOrEmpty::Item(
                                                openapiv3::StringFormat::DateTime
                                            )
                                        ) =>
                                    {
                                        Type::DateTime
                                    }
                                    _ => Type::String,
                                },
                                Err(_) => Type::String,
                            };
                            filters.push((attr.to_owned(), ty));
                        }
                    }
                }
            }
            let kind = if !*is_list {
                OperationKind::Get
            } else if op.path_params.is_empty() {
                OperationKind::List
            } else {
                OperationKind::NestedList
            };
            let mut path_params: Vec<(String, String)> = op
                .path_params
                .iter()
                .map(|p| (p.clone(), naming::field(p, &["client"])))
                .collect();
            let mut names: Vec<String> = path_params.iter().map(|p| p.1.clone()).collect();
            naming::dedupe(&mut names);
            for (p, n) in path_params.iter_mut().zip(names) {
                p.1 = n;
            }
            self.operations.push(Operation {
                id: op.id.clone(),
                builder: naming::type_name(&op.id),
                doc: op.summary.clone(),
                path: op.path.clone(),
                path_params,
                entity,
                kind,
                parent: None,
                includes,
                order_by,
                filters,
                max_per_page,
            });
        }
        // A nested list's parent is the entity whose top-level list path prefixes it.
        let lists: Vec<(String, String)> = self
            .operations
            .iter()
            .filter(|o| o.kind == OperationKind::List)
            .map(|o| (o.path.clone(), o.entity.clone()))
            .collect();
        for o in self
            .operations
            .iter_mut()
            .filter(|o| o.kind == OperationKind::NestedList)
        {
            o.parent = lists
                .iter()
                .filter(|(p, _)| o.path.starts_with(&format!("{p}/{{")))
                .max_by_key(|(p, _)| p.len())
                .map(|(_, e)| e.clone());
        }
    }

    fn roles_and_mapping(&mut self, i: usize, spec: &EntitySpec) {
        let name = self.entities[i].name.clone();
        let mut roles = [
            (&spec.list, "list", OperationKind::List),
            (&spec.get, "get", OperationKind::Get),
            (&spec.nested, "nested", OperationKind::NestedList),
        ]
        .into_iter()
        .map(|(id, key, kind)| {
            let id = id.as_ref()?;
            let found = self.operations.iter().find(|o| &o.id == id);
            let problem = match found {
                None if self.ops.iter().any(|o| &o.id == id) => Some(format!(
                    "operation `{id}` does not return `{name}` documents"
                )),
                None => Some(format!(
                    "operation `{id}` does not exist in any OpenAPI document"
                )),
                Some(o) if o.entity != name => Some(format!(
                    "operation `{id}` returns `{}`, not `{name}`",
                    o.entity
                )),
                Some(o) if o.kind != kind => {
                    Some(format!("operation `{id}` is not a {key} operation"))
                }
                Some(_) => None,
            };
            Some((key, id.clone(), problem))
        })
        .collect::<Vec<_>>();
        for (key, id, problem) in roles.iter_mut().flatten() {
            match problem.take() {
                Some(p) => self.manifest_problem(&name, entity_ptr(&name, &format!("/{key}")), p),
                None => {
                    let e = &mut self.entities[i];
                    match *key {
                        "list" => e.list = Some(id.clone()),
                        "get" => e.get = Some(id.clone()),
                        _ => e.nested = Some(id.clone()),
                    }
                }
            }
        }
        if let Some(nested) = &self.entities[i].nested {
            let parent = self
                .operations
                .iter()
                .find(|o| &o.id == nested)
                .and_then(|o| o.parent.clone());
            if parent.is_none() {
                self.manifest_problem(&name, entity_ptr(&name, "/nested"), format!("no entity's list path is a prefix of operation `{nested}`'s path, so its parent is unknown"));
            }
        }
        // Facts from the list operation (or any operation of the entity).
        let primary = self
            .operations
            .iter()
            .find(|o| Some(&o.id) == self.entities[i].list.as_ref())
            .or_else(|| {
                self.operations
                    .iter()
                    .find(|o| o.entity == name && o.kind != OperationKind::Get)
            });
        let (order_by, query_by, can_include) = primary
            .map(|o| {
                (
                    o.order_by.clone(),
                    o.filters.iter().map(|f| f.0.clone()).collect(),
                    o.includes.clone(),
                )
            })
            .unwrap_or_default();
        let e = &mut self.entities[i];
        e.order_by = order_by;
        e.query_by = query_by;
        let includes = e.include.clone();
        for inc in &includes {
            if !can_include.contains(inc) {
                self.manifest_problem(&name, entity_ptr(&name, "/include"), format!("`{inc}` cannot be included: the list operation's `include` accepts {can_include:?}"));
            }
        }
        if let Some(c) = &spec.canonical {
            self.mapping(i, c);
        }
    }

    fn mapping(&mut self, i: usize, c: &crate::manifest::CanonicalSpec) {
        let e = self.entities[i].clone();
        let name = &e.name;
        let has_attr = |a: &str| e.attributes.iter().any(|f| f.json_name == a);
        let rel_target = |r: &str| {
            e.relationships
                .iter()
                .find(|x| x.json_name == r)
                .map(|x| x.target_entity.clone())
        };
        let mut fields = Vec::new();
        for (attr, f) in &c.fields {
            if !has_attr(attr) {
                self.manifest_problem(
                    name,
                    entity_ptr(name, &format!("/canonical/fields/{}", pointer_token(attr))),
                    format!("`{attr}` is not an attribute of `{name}`"),
                );
            }
            let (to, t) = match f {
                FieldSpec::To(to) => (to.clone(), ir::TransformKind::Copy),
                FieldSpec::Full { to, transform } => (to.clone(), *transform),
            };
            fields.push((attr.clone(), to, t));
        }
        for attr in c.ignore.iter().chain(&c.updated_at) {
            if !has_attr(attr) {
                self.manifest_problem(
                    name,
                    entity_ptr(name, "/canonical"),
                    format!("`{attr}` is not an attribute of `{name}`"),
                );
            }
        }
        let relation = |r: &str, key: &str, this: &mut Self| -> Option<String> {
            match rel_target(r) {
                Some(Some(t)) => Some(t),
                Some(None) => {
                    this.manifest_problem(
                        name,
                        entity_ptr(name, key),
                        format!("relationship `{r}` does not point at an entity of this manifest"),
                    );
                    None
                }
                None => {
                    this.manifest_problem(
                        name,
                        entity_ptr(name, key),
                        format!("`{r}` is not a relationship of `{name}`"),
                    );
                    None
                }
            }
        };
        let owner = c
            .owner
            .as_ref()
            .and_then(|o| relation(o, "/canonical/owner", self).map(|t| (o.clone(), t)));
        let edges = c
            .edges
            .iter()
            .filter_map(|(r, spec)| {
                relation(r, "/canonical/edges", self).map(|t| (r.clone(), t, spec.edge.clone()))
            })
            .collect();
        self.entities[i].canonical = Some(ir::Mapping {
            target: c.target.clone(),
            fields,
            owner,
            edges,
            ignore: c.ignore.clone(),
            updated_at: c.updated_at.clone(),
            hook: c.hook.clone(),
        });
    }
}

/// `(json type, to-many)` of a relationship's `data` schema.
fn identifier_target(oa: &openapiv3::OpenAPI, data: &openapiv3::Schema) -> Option<(String, bool)> {
    use openapiv3::{SchemaKind, Type as T};
    let ident = |s: &openapiv3::Schema| -> Option<String> {
        let (p, _) = properties(s)?;
        let (_, t) = deref(oa, SchemaRef::Boxed(p.get("type")?)).ok()?;
        single_string(t)
    };
    match &data.schema_kind {
        SchemaKind::Type(T::Array(a)) => {
            let (_, item) = deref(oa, SchemaRef::Boxed(a.items.as_ref()?)).ok()?;
            Some((ident(item)?, true))
        }
        SchemaKind::OneOf { one_of } | SchemaKind::AnyOf { any_of: one_of }
            if one_of.len() == 1 =>
        {
            let (_, s) = deref(oa, SchemaRef::Plain(&one_of[0])).ok()?;
            Some((ident(s)?, false))
        }
        _ => Some((ident(data)?, false)),
    }
}
