//! The operations the bindings call (`ops`), with their results as the JSON values the
//! bindings hand to Python. Nothing here touches Python: these run with the GIL released.

use std::path::PathBuf;

use ops::listing::{Entry, Kind, LocalRun};
use ops::table::{read_dump, DumpResult, Train};
use ops::Src;
use serde_json::{Map, Value as J};
use trace::run::{rollout_record, DumpRef, RolloutSummary, RunOptions, Templates};

/// `rollscope stats --json`: the flat object under the given thresholds, and the warnings.
pub fn stats(
    src: &Src,
    name: &str,
    thresholds: &trace::metrics::Thresholds,
) -> Result<(Map<String, J>, Vec<String>), String> {
    let loaded = ops::file::load(src, name)?;
    let warnings = ops::file::warning_lines(&loaded, src, name);
    Ok((ops::file::stats(&loaded, thresholds).flat(), warnings))
}

/// `rollscope cache -o -`: the cache v1 JSON text, and the warnings.
pub fn cache(src: &Src, name: &str) -> Result<(Vec<u8>, Vec<String>), String> {
    let loaded = ops::file::load(src, name)?;
    let warnings = ops::file::warning_lines(&loaded, src, name);
    let mut out = Vec::new();
    ops::file::write_cache(&loaded, &mut out).map_err(|e| format!("{}: {e}", src.shown(name)))?;
    Ok((out, warnings))
}

/// `rollscope export --format chrome|otlp`: the JSON text, streamed from the row store and
/// bounded as the CLI bounds it (by the input's size).
pub fn export(src: &Src, name: &str, format: &str) -> Result<String, String> {
    let format = ops::file::Format::parse(format)?;
    let loaded = ops::file::load(src, name)?;
    let bytes = ops::file::export_bytes(&loaded, format, src.size())
        .map_err(|e| format!("{}: {e}", src.shown(name)))?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// One dump of a run as `rollscope run --json` reads it: its `rollouts` record and its
/// `samples` records (a dump that cannot be read is a record with `error`).
pub fn summarize_dump(
    src: &Src,
    train: Train,
    dump: &DumpRef,
    run_has_train: bool,
    opts: &RunOptions,
) -> (Map<String, J>, Vec<Map<String, J>>) {
    let r = read_dump(src, train, dump, run_has_train, opts);
    (rollout_record(&r.summary), r.samples)
}

/// The record of a dump whose bytes could not be had.
pub fn failed(dump: &DumpRef, error: String) -> Map<String, J> {
    rollout_record(&RolloutSummary::failed(dump, error))
}

/// JSON records (`rollouts` or `samples`).
pub type Records = Vec<Map<String, J>>;

/// `rollscope run --json`'s records and the run's notes: the run in `inputs` (none: the
/// `templates`' folders), `jobs` dumps at a time, under slime's `opts`.
pub fn run_table(
    inputs: &[PathBuf],
    jobs: usize,
    opts: &RunOptions,
    templates: &Templates,
) -> Result<(Records, Records, Vec<String>), String> {
    let mut run = ops::listing::list_local_with(inputs, true, templates)?;
    let results: Vec<DumpResult> = ops::table::read_run(&mut run, jobs, opts);
    let mut rollouts = Vec::with_capacity(results.len());
    let mut samples = Vec::new();
    for r in results {
        rollouts.push(rollout_record(&r.summary));
        samples.extend(r.samples);
    }
    Ok((rollouts, samples, run.listing.layout.notes))
}

/// The local run listing: its root and its files.
pub fn list_local(inputs: &[PathBuf], siblings: bool) -> Result<LocalRun, String> {
    ops::listing::list_local(inputs, siblings)
}

/// An entry kind as Python names it: "file", "dir", anything else.
pub fn kind(name: &str) -> Kind {
    match name {
        "file" => Kind::File,
        "dir" => Kind::Dir,
        _ => Kind::Other,
    }
}

/// A `(name, kind, size)` tuple from Python as an entry.
pub fn entry((name, k, size): (String, String, u64)) -> Entry {
    Entry {
        name,
        kind: kind(&k),
        size,
    }
}
