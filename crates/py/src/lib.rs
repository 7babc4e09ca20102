//! `rollscope._rollscope`: the native half of the Python package `rollscope` (the Python
//! half, `python/rollscope/`, adds path handling, warnings and Ray, whose file systems hand
//! the run listing their directory entries).
//!
//! Each function is a thin call into the same operations as the `rollscope` CLI (`ops`,
//! through `read.rs`), run with the GIL released (`Python::detach`) and with panics caught: a bug in
//! the reader raises `DumpError`, it never unwinds into the interpreter. Results cross as
//! Python objects built from `serde_json` values (`convert.rs`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use trace::run::{DumpKind, DumpRef, RunOptions, Templates};

mod convert;
mod follow;
mod read;

use ops::table::Train;
use ops::Src;

create_exception!(
    rollscope,
    DumpError,
    PyValueError,
    "A dump (or cache, or run) that cannot be read; the message is the CLI's."
);

/// Runs `work` without the GIL, turning a panic into an error message.
fn unlocked<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> Result<T, String> + Send,
) -> PyResult<T> {
    let out = py.detach(|| catch_unwind(AssertUnwindSafe(work)));
    match out {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(DumpError::new_err(e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(DumpError::new_err(format!(
                "internal error in rollscope's reader (please report it): {what}"
            )))
        }
    }
}

/// A dump given as `bytes` (read in place, never copied) or a path (`str` or `os.PathLike`).
fn source<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Src<'a>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Src::Bytes(b.as_bytes()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return path_of(s).map(Src::Path);
    }
    obj.extract::<PathBuf>().map(Src::Path)
}

/// A path given as `str`, as `os.fsencode` makes it bytes (a file name that is not UTF-8
/// comes as surrogates U+DC80–U+DCFF). One it cannot encode (another surrogate) is a
/// `DumpError`: PyO3's own `PathBuf` conversion panics there (`PanicException`, which
/// `except Exception` does not catch).
fn path_of(s: &Bound<'_, PyString>) -> PyResult<PathBuf> {
    if let Ok(text) = s.to_cow() {
        return Ok(PathBuf::from(text.into_owned()));
    }
    let encoded = s.py().import("os")?.call_method1("fsencode", (s,));
    #[cfg(unix)]
    if let Ok(b) = &encoded {
        use std::os::unix::ffi::OsStringExt;
        let bytes = b.cast::<PyBytes>()?.as_bytes().to_vec();
        return Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes)));
    }
    let _ = encoded;
    Err(DumpError::new_err(format!(
        "path {}: not a file name this system can encode",
        shown(s)
    )))
}

/// `repr(s)`: quoted, with surrogates and controls escaped.
fn shown(s: &Bound<'_, PyAny>) -> String {
    s.repr()
        .map(|r| r.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A `str` argument as Rust text. One that has no UTF-8 form (a lone surrogate, as
/// `os.fsdecode` makes of a file name that is not UTF-8) is a `DumpError` naming it by its
/// `repr`, not the `UnicodeEncodeError` of a plain `&str` argument; not a `str` is a
/// `TypeError`.
fn text(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let s = obj.cast::<PyString>()?;
    s.to_cow().map(std::borrow::Cow::into_owned).map_err(|_| {
        DumpError::new_err(format!(
            "{what} {}: not valid Unicode text (it holds a lone surrogate)",
            shown(s)
        ))
    })
}

/// `(flat stats dict, warnings)` as `rollscope stats --json` prints them.
#[pyfunction]
#[pyo3(signature = (src, e2e_p99, queue_p99, failed_share, decode_min, name))]
fn stats<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    e2e_p99: f64,
    queue_p99: f64,
    failed_share: f64,
    decode_min: f64,
    name: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Vec<String>)> {
    let name = text(name, "name")?;
    let src = source(src)?;
    let t = trace::metrics::Thresholds {
        e2e_p99_s: e2e_p99,
        queue_p99_s: queue_p99,
        failed_share,
        decode_tok_s: decode_min,
    };
    let (flat, warnings) = unlocked(py, || read::stats(&src, &name, &t))?;
    Ok((convert::map(py, &flat)?, warnings))
}

/// `(cache v1 JSON bytes, warnings)`, the bytes `rollscope cache -o -` writes.
#[pyfunction]
fn cache<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    name: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyBytes>, Vec<String>)> {
    let name = text(name, "name")?;
    let src = source(src)?;
    let (json, warnings) = unlocked(py, || read::cache(&src, &name))?;
    Ok((PyBytes::new(py, &json), warnings))
}

/// The export as JSON text (`rollscope export --format chrome|otlp`).
#[pyfunction]
fn export<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    format: &str,
    name: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyString>> {
    let name = text(name, "name")?;
    let src = source(src)?;
    let text = unlocked(py, || read::export(&src, &name, format))?;
    Ok(PyString::new(py, &text))
}

/// `trace::run::layout(paths)`: `{"dumps": [{rollout_id, kind, file, train_file}], "tokenizer",
/// "notes"}`.
#[pyfunction]
fn layout<'py>(py: Python<'py>, paths: Vec<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
    let paths = paths
        .iter()
        .map(|p| text(p, "file name"))
        .collect::<PyResult<Vec<String>>>()?;
    let l = unlocked(py, || {
        serde_json::to_value(trace::run::layout(&paths)).map_err(|e| e.to_string())
    })?;
    convert::value(py, &l)
}

/// One dump of a run: `(rollouts record, [samples records])` as `rollscope run --json` has
/// them. `src`: the dump (path or bytes); `src_error`: why its bytes could not be had (a
/// pyarrow filesystem's read failed), giving the record with `error` that the CLI gives for an
/// unreadable file. `train`: the train data (path or bytes) or None; `train_error`: why it
/// could not be read (then `train` is ignored).
/// `options`: `trace::run::RunOptions` as JSON (`eval_names`, `reward_key`,
/// `eval_reward_key`, `rollout_max_response_len`), the CLI's slime flags.
#[pyfunction]
#[pyo3(signature = (src, dump, run_has_train, train=None, train_error=None, src_error=None, options=None))]
#[allow(clippy::too_many_arguments)]
fn summarize_dump<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    dump: &Bound<'py, PyDict>,
    run_has_train: bool,
    train: Option<&Bound<'py, PyAny>>,
    train_error: Option<String>,
    src_error: Option<String>,
    options: Option<String>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyList>)> {
    let dump = dump_ref(dump)?;
    let opts: RunOptions = json_arg(options, "options")?;
    if let Some(e) = src_error {
        let record = read::failed(&dump, e);
        return Ok((convert::map(py, &record)?, PyList::empty(py)));
    }
    let src = source(src)?;
    let train = match (train_error, train) {
        (Some(e), _) => Train::Error(e),
        (None, Some(t)) => Train::Src(source(t)?),
        (None, None) => Train::None,
    };
    let (record, samples) = unlocked(py, || {
        Ok(read::summarize_dump(
            &src,
            train,
            &dump,
            run_has_train,
            &opts,
        ))
    })?;
    let list = PyList::empty(py);
    for s in &samples {
        list.append(convert::map(py, s)?)?;
    }
    Ok((convert::map(py, &record)?, list))
}

/// `options` (`trace::run::RunOptions`) or `templates` (`trace::run::Templates`) given as
/// JSON, or their defaults.
fn json_arg<T: Default + for<'de> serde::Deserialize<'de>>(
    given: Option<String>,
    what: &str,
) -> PyResult<T> {
    match given {
        Some(o) => {
            serde_json::from_str(&o).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
        }
        None => Ok(T::default()),
    }
}

/// `rollscope run --json` as a dict: the run in `inputs` (one folder, or dump files; none:
/// the `templates`' folders), `jobs` dumps at a time (0: one per core) under the CLI's memory
/// budget. `options`, `templates`: slime's arguments as JSON (`RunOptions`, `Templates`).
#[pyfunction]
#[pyo3(signature = (inputs, jobs, options=None, templates=None))]
fn run_table<'py>(
    py: Python<'py>,
    inputs: Vec<PathBuf>,
    jobs: usize,
    options: Option<String>,
    templates: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts: RunOptions = json_arg(options, "options")?;
    let templates: Templates = json_arg(templates, "templates")?;
    let (rollouts, samples, notes) = unlocked(py, || {
        read::run_table(&inputs, ops::table::jobs(Some(jobs)), &opts, &templates)
    })?;
    let doc = PyDict::new(py);
    let list = PyList::empty(py);
    for r in &rollouts {
        list.append(convert::map(py, r)?)?;
    }
    doc.set_item("rollouts", list)?;
    let list = PyList::empty(py);
    for s in &samples {
        list.append(convert::map(py, s)?)?;
    }
    doc.set_item("samples", list)?;
    // As `rollscope run --json`: only when there are any.
    if !notes.is_empty() {
        doc.set_item("notes", notes)?;
    }
    Ok(doc)
}

/// `rollscope run A B --json` as a dict: two run folders side by side (`ops::pair`).
/// `align`: "rollout_id" or "samples_seen"; `match_by`: "index" or "prompt".
#[pyfunction]
#[pyo3(signature = (a, b, jobs, align, match_by, options=None, templates=None))]
#[allow(clippy::too_many_arguments)]
fn compare_runs<'py>(
    py: Python<'py>,
    a: PathBuf,
    b: PathBuf,
    jobs: usize,
    align: String,
    match_by: String,
    options: Option<String>,
    templates: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts: RunOptions = json_arg(options, "options")?;
    let templates: Templates = json_arg(templates, "templates")?;
    let by = match align.as_str() {
        "rollout_id" => trace::run::Align::RolloutId,
        "samples_seen" => trace::run::Align::SamplesSeen,
        other => {
            return Err(DumpError::new_err(format!(
                "align={other:?}: expected \"rollout_id\" or \"samples_seen\""
            )))
        }
    };
    let matched = match match_by.as_str() {
        "index" => trace::run::SampleMatch::Index,
        "prompt" => trace::run::SampleMatch::Prompt,
        other => {
            return Err(DumpError::new_err(format!(
                "match={other:?}: expected \"index\" or \"prompt\""
            )))
        }
    };
    let doc = unlocked(py, || {
        ops::pair::compare_dirs(
            [a.as_path(), b.as_path()],
            ops::table::jobs(Some(jobs)),
            &opts,
            &templates,
            (by, matched),
        )
    })?;
    convert::value(py, &doc)
}

/// The CLI's run listing of `inputs` on this machine: `(root, [(path, size)])`.
#[pyfunction]
fn list_run(
    py: Python<'_>,
    inputs: Vec<PathBuf>,
    siblings: bool,
) -> PyResult<(String, Vec<(String, u64)>)> {
    let run = unlocked(py, || read::list_local(&inputs, siblings))?;
    Ok((run.root.to_string_lossy().into_owned(), run.listing.files))
}

/// A run's files: `(relative path, size)`.
type Files = Vec<(String, u64)>;

/// The run listing of a folder on another file system (Ray's): `lister(sub)` gives the entries
/// of the folder `sub` under the run's root as `[(name, "file" | "dir" | other, size)]`, or
/// None when it is not a folder. Gives `(root_is_parent, [(path, size)], layout)`.
#[pyfunction]
#[pyo3(signature = (folder_name, shown, siblings, lister, templates=None))]
fn list_folder<'py>(
    py: Python<'py>,
    folder_name: &str,
    shown: &str,
    siblings: bool,
    lister: &Bound<'py, PyAny>,
    templates: Option<String>,
) -> PyResult<(bool, Files, Bound<'py, PyAny>)> {
    let templates: Templates = json_arg(templates, "templates")?;
    let mut raised = None;
    let listed = ops::listing::list_folder(folder_name, shown, siblings, &templates, &mut |sub| {
        let got = lister
            .call1((sub,))
            .and_then(|v| v.extract::<Option<Vec<(String, String, u64)>>>());
        match got {
            Ok(entries) => Ok(entries.map(|e| e.into_iter().map(read::entry).collect())),
            Err(e) => {
                raised = Some(e);
                Err(String::new())
            }
        }
    });
    if let Some(e) = raised {
        return Err(e);
    }
    let l = listed.map_err(DumpError::new_err)?;
    let layout = serde_json::to_value(&l.layout).map_err(|e| DumpError::new_err(e.to_string()))?;
    Ok((l.root_is_parent, l.files, convert::value(py, &layout)?))
}

/// Whether a run folder named `folder_name` has its root in its parent (a `rollout_data/`
/// whose siblings are used too).
#[pyfunction]
fn root_is_parent(folder_name: &str, siblings: bool) -> bool {
    ops::listing::root_is_parent(folder_name, siblings)
}

/// Dump files given one by one as `[(path, "file" | other, size)]`: `([(path, size)],
/// layout)`, or the CLI's error for one that is not a file.
#[pyfunction]
#[pyo3(signature = (given, templates=None))]
fn list_given<'py>(
    py: Python<'py>,
    given: Vec<(String, String, u64)>,
    templates: Option<String>,
) -> PyResult<(Files, Bound<'py, PyAny>)> {
    let templates: Templates = json_arg(templates, "templates")?;
    let given = given
        .into_iter()
        .map(|(p, k, n)| (p, read::kind(&k), n))
        .collect();
    let l = ops::listing::list_given(given, &templates).map_err(DumpError::new_err)?;
    let layout = serde_json::to_value(&l.layout).map_err(|e| DumpError::new_err(e.to_string()))?;
    Ok((l.files, convert::value(py, &layout)?))
}

/// The `rollout_id` a train file's payload names (path or bytes), or None: what the run
/// table pairs train data by (`ops::table::train_rollout_id`).
#[pyfunction]
fn train_rollout_id(py: Python<'_>, src: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    let src = source(src)?;
    unlocked(py, || Ok(ops::table::train_rollout_id(&src)))
}

/// A layout dict (`list_folder`'s or `list_given`'s) back into a `RunLayout`.
fn layout_in(py: Python<'_>, layout: &Bound<'_, PyAny>) -> PyResult<trace::run::RunLayout> {
    let text: String = py
        .import("json")?
        .call_method1("dumps", (layout,))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| PyValueError::new_err(format!("layout: {e}")))
}

fn layout_out<'py>(py: Python<'py>, l: &trace::run::RunLayout) -> PyResult<Bound<'py, PyAny>> {
    let v = serde_json::to_value(l).map_err(|e| DumpError::new_err(e.to_string()))?;
    convert::value(py, &v)
}

/// A layout (`list_folder`'s or `list_given`'s) with its train data paired by `ids`
/// (`[(train file, rollout id or None)]`, the payloads' ids): `trace::run::pair_train`.
#[pyfunction]
fn pair_train<'py>(
    py: Python<'py>,
    layout: &Bound<'py, PyAny>,
    ids: Vec<(String, Option<i64>)>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut l = layout_in(py, layout)?;
    trace::run::pair_train(&mut l, &ids);
    layout_out(py, &l)
}

/// The layout with the dumps whose read found slime's train payload moved to its train data
/// (`read`: `[(dump file, its record's error or None)]`), or None when there were none:
/// `ops::table::retake_train`, the rule the local run table follows. The caller pairs and
/// reads again.
#[pyfunction]
fn retake_train<'py>(
    py: Python<'py>,
    layout: &Bound<'py, PyAny>,
    read: Vec<(String, Option<String>)>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let mut l = layout_in(py, layout)?;
    if !ops::table::retake_train(&mut l, &read) {
        return Ok(None);
    }
    layout_out(py, &l).map(Some)
}

/// A `layout()` dump dict back into a `DumpRef`.
fn dump_ref(d: &Bound<'_, PyDict>) -> PyResult<DumpRef> {
    let get = |k: &str| {
        d.get_item(k)?
            .ok_or_else(|| PyValueError::new_err(format!("dump dict without {k:?}")))
    };
    let kind = match get("kind")?.extract::<String>()?.as_str() {
        "train" => DumpKind::Train,
        "eval" => DumpKind::Eval,
        other => {
            return Err(PyValueError::new_err(format!(
                "dump kind {other:?} (expected \"train\" or \"eval\")"
            )))
        }
    };
    Ok(DumpRef {
        rollout_id: get("rollout_id")?.extract()?,
        kind,
        file: get("file")?.extract()?,
        train_file: match d.get_item("train_file")? {
            Some(t) if !t.is_none() => Some(t.extract()?),
            _ => None,
        },
    })
}

/// Raises a panic inside the reader's guard (for the test that a panic becomes DumpError).
#[pyfunction]
fn _panic_for_test(py: Python<'_>) -> PyResult<()> {
    unlocked(py, || -> Result<(), String> { panic!("a test panic") })
}

#[pymodule]
fn _rollscope(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DumpError", m.py().get_type::<DumpError>())?;
    m.add_function(wrap_pyfunction!(stats, m)?)?;
    m.add_function(wrap_pyfunction!(cache, m)?)?;
    m.add_function(wrap_pyfunction!(export, m)?)?;
    m.add_function(wrap_pyfunction!(layout, m)?)?;
    m.add_function(wrap_pyfunction!(summarize_dump, m)?)?;
    m.add_function(wrap_pyfunction!(run_table, m)?)?;
    m.add_function(wrap_pyfunction!(compare_runs, m)?)?;
    m.add_function(wrap_pyfunction!(list_run, m)?)?;
    m.add_function(wrap_pyfunction!(list_folder, m)?)?;
    m.add_function(wrap_pyfunction!(list_given, m)?)?;
    m.add_function(wrap_pyfunction!(train_rollout_id, m)?)?;
    m.add_function(wrap_pyfunction!(pair_train, m)?)?;
    m.add_function(wrap_pyfunction!(retake_train, m)?)?;
    m.add_function(wrap_pyfunction!(root_is_parent, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_class::<follow::RunFollower>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The health thresholds' defaults, for `rollscope.stats`'s signature: `Default` is their
    // one home.
    let t = trace::metrics::Thresholds::default();
    let defaults = pyo3::types::PyDict::new(m.py());
    defaults.set_item("e2e_p99", t.e2e_p99_s)?;
    defaults.set_item("queue_p99", t.queue_p99_s)?;
    defaults.set_item("failed_share", t.failed_share)?;
    defaults.set_item("decode_min", t.decode_tok_s)?;
    m.add("DEFAULT_THRESHOLDS", defaults)?;
    // The run options' keywords (`trace::run::RunOptions`'s fields): every Python function
    // that takes them names them all (tests/test_api.py checks it against this list).
    let options = serde_json::to_value(trace::run::RunOptions::default())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let names: Vec<&String> = options
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    m.add("RUN_OPTIONS", names)?;
    Ok(())
}
