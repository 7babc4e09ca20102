//! Reading one dump the way the CLI does, from a path (streamed in 1 MiB chunks) or from bytes
//! the caller already holds (a Ray task reads through a pyarrow filesystem). Nothing here
//! touches Python: these run with the GIL released.

use std::io::Read;
use std::path::PathBuf;

use serde_json::{Map, Value as J};
use trace::run::{
    run_json, sample_record, summarize_with, DumpRef, RolloutSummary, RunOptions, TrainData,
};

/// Where a dump's bytes come from.
pub enum Src<'a> {
    Path(PathBuf),
    Bytes(&'a [u8]),
}

impl Src<'_> {
    /// How the CLI names the input in its messages: the path as given, or `name` for bytes.
    pub fn shown(&self, name: &str) -> String {
        match self {
            Src::Path(p) => p.display().to_string(),
            Src::Bytes(_) => name.to_string(),
        }
    }

    /// Calls `each` on the input in 1 MiB chunks until it returns `Ok(true)` (done) or the
    /// input ends. The file is never held whole; I/O errors are the error text alone (the
    /// caller adds the name, as the CLI does).
    fn chunks(&self, each: &mut dyn FnMut(&[u8]) -> Result<bool, String>) -> Result<(), String> {
        const CHUNK: usize = 1 << 20;
        match self {
            Src::Bytes(b) => {
                for c in b.chunks(CHUNK) {
                    if each(c)? {
                        break;
                    }
                }
            }
            Src::Path(p) => {
                let mut file = std::fs::File::open(p).map_err(|e| e.to_string())?;
                let mut chunk = vec![0u8; CHUNK];
                loop {
                    let n = match file.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e.to_string()),
                    };
                    if each(&chunk[..n])? {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The whole input (train data is read whole, as the CLI reads it).
    fn with_all<T>(&self, f: impl FnOnce(&[u8]) -> Result<T, String>) -> Result<T, String> {
        match self {
            Src::Bytes(b) => f(b),
            Src::Path(p) => f(&std::fs::read(p).map_err(|e| e.to_string())?),
        }
    }
}

/// `rollscope cache|stats|export`'s build: `trace::StreamLoader` then `build_compact`, with
/// the CLI's messages (`{shown}: {error}`). Also gives the warnings, one line each.
pub fn build(src: &Src, name: &str) -> Result<(trace::Compact, Vec<String>), String> {
    let shown = src.shown(name);
    let mut loader = trace::StreamLoader::new();
    src.chunks(&mut |c| {
        loader.push(c).map_err(|e| e.to_string())?;
        Ok(loader.is_done())
    })
    .map_err(|e| format!("{shown}: {e}"))?;
    let parsed = loader.finish().map_err(|e| format!("{shown}: {e}"))?;
    let pt_path = match src {
        Src::Path(p) => p.to_string_lossy().into_owned(),
        Src::Bytes(_) => name.to_string(),
    };
    let built = parsed
        .build_compact(&pt_path, now(), &mut |_, _| {})
        .map_err(|e| format!("{shown}: {e}"))?;
    let warnings = built
        .warnings
        .iter()
        .map(|w| format!("{shown}: {w}"))
        .collect();
    Ok((built, warnings))
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `rollscope stats --json`: the flat object under the given thresholds.
pub fn stats(
    src: &Src,
    name: &str,
    thresholds: &trace::metrics::Thresholds,
) -> Result<(Map<String, J>, Vec<String>), String> {
    let (built, warnings) = build(src, name)?;
    // As the CLI: the build used the default thresholds; recompute with the caller's.
    let mut analysis = built.analysis;
    analysis.health = trace::metrics::analyze_health(&analysis, thresholds);
    Ok((analysis.flat(), warnings))
}

/// `rollscope cache -o -`: the cache v1 JSON text.
pub fn cache(src: &Src, name: &str) -> Result<(Vec<u8>, Vec<String>), String> {
    let (built, warnings) = build(src, name)?;
    let mut out = Vec::new();
    built
        .write_cache(&mut out)
        .map_err(|e| format!("{}: {e}", src.shown(name)))?;
    Ok((out, warnings))
}

/// `rollscope export --format chrome|otlp`.
pub fn export(src: &Src, name: &str, format: &str) -> Result<J, String> {
    let export = match format {
        "chrome" => trace::interop::export_chrome,
        "otlp" => trace::interop::export_otlp,
        other => {
            return Err(format!(
                "unknown export format {other:?} (expected \"chrome\" or \"otlp\")"
            ))
        }
    };
    let (built, _) = build(src, name)?;
    Ok(export(&built.into_built().cache))
}

/// The train data given for a dump: its bytes or path, or why it could not be read.
pub enum Train<'a> {
    None,
    Src(Src<'a>),
    Error(String),
}

/// One dump of a run as `rollscope run --json` reads it (`host::run::read_dump`): its
/// `rollouts` record and its `samples` records. A dump that cannot be read is a record with
/// `error` (the run goes on), exactly as in the CLI.
pub fn summarize_dump(
    src: &Src,
    train: Train,
    dump: &DumpRef,
    run_has_train: bool,
    opts: &RunOptions,
) -> (J, Vec<Map<String, J>>) {
    let mut scan = trace::run::DumpScan::summary();
    let scanned = src
        .chunks(&mut |c| {
            scan.push(c)?;
            Ok(scan.is_done())
        })
        .and_then(|()| scan.finish());
    let (summary, samples) = match scanned {
        Err(e) => return failed(dump, e),
        Ok(scanned) => {
            let train = match train {
                Train::None => None,
                Train::Error(e) => Some(Err(e)),
                Train::Src(t) => Some(t.with_all(|b| TrainData::read(b, false))),
            };
            let (summary, scanned) = summarize_with(dump, scanned, train, run_has_train, opts);
            let samples = scanned
                .rows
                .iter()
                .map(|r| sample_record(dump, r))
                .collect();
            (summary, samples)
        }
    };
    (record(&summary), samples)
}

/// The record of a dump that could not be read (the run goes on without it).
pub fn failed(dump: &DumpRef, error: String) -> (J, Vec<Map<String, J>>) {
    (record(&RolloutSummary::failed(dump, error)), Vec::new())
}

/// The record exactly as `run_json` writes it (notes and errors beside slime's keys).
fn record(summary: &RolloutSummary) -> J {
    match run_json(std::slice::from_ref(summary), Vec::new()) {
        J::Object(mut doc) => match doc.remove("rollouts") {
            Some(J::Array(mut v)) if v.len() == 1 => v.pop().unwrap_or(J::Null),
            _ => J::Null,
        },
        _ => J::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(rel)
    }

    #[test]
    fn bytes_and_path_give_the_same_stats() {
        let p = fixture("slime/basic_0.pt");
        let bytes = std::fs::read(&p).unwrap();
        let t = trace::metrics::Thresholds::default();
        let (a, _) = stats(&Src::Path(p), "x", &t).unwrap();
        let (b, _) = stats(&Src::Bytes(&bytes), "x", &t).unwrap();
        assert_eq!(a, b);
        assert!(
            a.contains_key("perf/request/e2e_latency/mean"),
            "{:?}",
            a.keys()
        );
    }

    #[test]
    fn errors_name_the_input_as_the_cli_does() {
        let e = stats(
            &Src::Bytes(b"not a dump at all"),
            "<bytes>",
            &Default::default(),
        )
        .unwrap_err();
        assert!(e.starts_with("<bytes>: "), "{e}");
        let e = stats(
            &Src::Path("/nonexistent/x.pt".into()),
            "",
            &Default::default(),
        )
        .unwrap_err();
        assert!(e.starts_with("/nonexistent/x.pt: "), "{e}");
    }

    #[test]
    fn an_unreadable_dump_is_a_record_with_its_error() {
        let d = DumpRef {
            rollout_id: 3,
            kind: trace::run::DumpKind::Train,
            file: "rollout_data/3.pt".into(),
            train_file: None,
        };
        let (rec, samples) = summarize_dump(
            &Src::Bytes(b"\x80\x02garbage"),
            Train::None,
            &d,
            false,
            &RunOptions::default(),
        );
        assert!(samples.is_empty());
        assert_eq!(rec["rollout_id"], 3);
        assert_eq!(rec["file"], "rollout_data/3.pt");
        assert!(
            rec["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{rec}"
        );
    }
}
