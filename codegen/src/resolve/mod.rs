//! Validation and resolution: loaded spec files → [`ir::Adapter`](crate::ir::Adapter).
//!
//! Every check reports into one [`Diagnostics`] so that a user fixes all problems in one pass.

mod entities;
mod operations;
pub(crate) mod schemas;

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::{Adapter, Paging};
use crate::load::Loaded;

/// Validates the loaded spec and resolves it into the IR, with the sync order computed.
pub fn resolve(loaded: &Loaded) -> Result<Adapter, Diagnostics> {
    let m = &loaded.manifest;
    let mp = &loaded.manifest_path;
    let mut diags = Diagnostics::default();
    if m.protocol != "jsonapi" {
        diags.push(
            Diagnostic::new(
                mp,
                format!("unsupported protocol `{}` (only `jsonapi`)", m.protocol),
            )
            .at("/protocol"),
        );
    }
    if m.paging.style != "offset" {
        diags.push(
            Diagnostic::new(
                mp,
                format!(
                    "unsupported paging style `{}` (only `offset`)",
                    m.paging.style
                ),
            )
            .at("/paging/style"),
        );
    }
    if m.paging.max_per_page == 0 || m.paging.default_per_page > m.paging.max_per_page {
        diags.push(
            Diagnostic::new(
                mp,
                "`default_per_page` must be between 1 and `max_per_page`",
            )
            .at("/paging"),
        );
    }
    if let Some(f) = &m.delta_filter
        && !f.contains("{attr}")
    {
        diags.push(Diagnostic::new(mp, "`delta_filter` must contain `{attr}`").at("/delta_filter"));
    }
    let mut raw_ops = Vec::new();
    let mut seen_ops: HashMap<String, usize> = HashMap::new();
    for (i, d) in loaded.documents.iter().enumerate() {
        for op in operations::collect(i, &d.openapi) {
            if let Some(first) = seen_ops.insert(op.id.clone(), i) {
                diags.push(
                    Diagnostic::new(
                        &d.path,
                        format!(
                            "operationId `{}` is also defined in {}",
                            op.id,
                            loaded.documents[first].path.display()
                        ),
                    )
                    .at(op.pointer.clone()),
                );
                continue;
            }
            raw_ops.push(op);
        }
    }
    let mut builder = entities::Builder::new(loaded, &raw_ops, &mut diags);
    builder.run();
    let (entities, types, operations) = builder.finish();
    let mut adapter = Adapter {
        name: m.adapter.clone(),
        manifest_path: mp.clone(),
        base_url: m.base_url.clone(),
        paging: Paging {
            per_page_param: m.paging.per_page_param.clone(),
            offset_param: m.paging.offset_param.clone(),
            default_per_page: m.paging.default_per_page,
            max_per_page: m.paging.max_per_page,
        },
        delta_filter: m.delta_filter.clone(),
        entities,
        types,
        operations,
        sync_order: Vec::new(),
        broken_soft_edges: Vec::new(),
    };
    if diags.is_empty() {
        match crate::graph::order(&adapter.entities) {
            Ok(order) => {
                adapter.sync_order = order.levels;
                adapter.broken_soft_edges = order.broken_soft_edges;
            }
            Err(cycle) => diags.push(
                Diagnostic::new(mp, format!("hard-dependency cycle: {}", cycle.join(" -> ")))
                    .at("/entities"),
            ),
        }
    }
    diags.into_result(adapter)
}
