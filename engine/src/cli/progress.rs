//! Live progress: a bar per entity with records/s, or JSON lines with `--json`.

use std::collections::HashMap;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc::UnboundedReceiver;
use tributary_engine::Progress;

struct Bar {
    bar: ProgressBar,
    records: u64,
    started: Instant,
}

/// Renders events until the sender side closes.
pub async fn render(mut rx: UnboundedReceiver<Progress>, json: bool) {
    if json {
        while let Some(p) = rx.recv().await {
            if let Ok(line) = serde_json::to_string(&p) {
                eprintln!("{line}");
            }
        }
        return;
    }
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8));
    let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos:>7}/{len:7} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let mut bars: HashMap<String, Bar> = HashMap::new();
    let mut indexes: Option<ProgressBar> = None;
    while let Some(p) = rx.recv().await {
        match p {
            Progress::BuildingIndexes { indexes: names } => {
                let spinner = multi.add(ProgressBar::new_spinner());
                spinner.set_message(format!(
                    "building {} index{} the first load deferred ({})",
                    names.len(),
                    if names.len() == 1 { "" } else { "es" },
                    names.join(", ")
                ));
                spinner.enable_steady_tick(std::time::Duration::from_millis(120));
                indexes = Some(spinner);
            }
            Progress::IndexesBuilt { elapsed_ms } => {
                if let Some(spinner) = indexes.take() {
                    spinner.finish_with_message(format!(
                        "indexes built in {:.1} s",
                        elapsed_ms as f64 / 1000.0
                    ));
                }
            }
            Progress::Run { entities, .. } => {
                for e in entities {
                    let bar = multi.add(ProgressBar::new(0));
                    bar.set_style(style.clone());
                    bar.set_prefix(e.entity.clone());
                    bar.set_position(e.fetched as u64);
                    bar.set_message(e.state.clone());
                    let records = e.fetched as u64;
                    let started = Instant::now();
                    bars.insert(
                        e.entity,
                        Bar {
                            bar,
                            records,
                            started,
                        },
                    );
                }
            }
            Progress::Waiting { entity, reason } => {
                if let Some(b) = bars.get_mut(entity) {
                    b.bar.set_message(reason);
                }
            }
            Progress::Started { entity } => {
                if let Some(b) = bars.get_mut(entity) {
                    b.started = Instant::now();
                    b.bar.set_message("running");
                }
            }
            Progress::Page {
                entity,
                fetched,
                counts,
                total,
                ..
            } => {
                if let Some(b) = bars.get_mut(entity) {
                    b.records += fetched;
                    if let Some(t) = total {
                        b.bar.set_length(t.max(b.records));
                    } else if b.bar.length().unwrap_or(0) < b.records {
                        b.bar.set_length(b.records);
                    }
                    b.bar.set_position(b.records);
                    let secs = b.started.elapsed().as_secs_f64().max(0.001);
                    let q = if counts.quarantined > 0 {
                        " (quarantine!)"
                    } else {
                        ""
                    };
                    b.bar
                        .set_message(format!("{:.0} records/s{q}", b.records as f64 / secs));
                }
            }
            Progress::Finished {
                entity,
                state,
                error,
            } => {
                if let Some(b) = bars.get_mut(entity) {
                    let len = b.bar.length().unwrap_or(0).max(b.records);
                    b.bar.set_length(len);
                    b.bar.set_position(b.records);
                    let msg = match error {
                        Some(e) => format!("{state}: {e}"),
                        None => state,
                    };
                    b.bar.finish_with_message(msg);
                }
            }
        }
    }
    for b in bars.values() {
        if !b.bar.is_finished() {
            b.bar.abandon();
        }
    }
    if let Some(spinner) = indexes {
        spinner.abandon();
    }
}
