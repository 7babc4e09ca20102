//! `rollscope._rollscope`: the native half of the Python package `rollscope` (the Python
//! half, `python/rollscope/`, adds path handling, the run folder's listing and Ray).
//!
//! Each function is a thin call into the same library code as the `rollscope` CLI
//! (`read.rs`), run with the GIL released (`Python::detach`) and with panics caught: a bug in
//! the reader raises `DumpError`, it never unwinds into the interpreter. Results cross as
//! Python objects built from `serde_json` values (`convert.rs`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use trace::run::{DumpKind, DumpRef};

mod convert;
mod read;

use read::{Src, Train};

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
    obj.extract::<PathBuf>().map(Src::Path)
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
    name: &str,
) -> PyResult<(Bound<'py, PyAny>, Vec<String>)> {
    let src = source(src)?;
    let t = trace::metrics::Thresholds {
        e2e_p99_s: e2e_p99,
        queue_p99_s: queue_p99,
        failed_share,
        decode_tok_s: decode_min,
    };
    let (flat, warnings) = unlocked(py, || read::stats(&src, name, &t))?;
    Ok((convert::map(py, &flat)?, warnings))
}

/// `(cache v1 JSON bytes, warnings)`, the bytes `rollscope cache -o -` writes.
#[pyfunction]
fn cache<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    name: &str,
) -> PyResult<(Bound<'py, PyBytes>, Vec<String>)> {
    let src = source(src)?;
    let (json, warnings) = unlocked(py, || read::cache(&src, name))?;
    Ok((PyBytes::new(py, &json), warnings))
}

/// The export as JSON text (`rollscope export --format chrome|otlp`).
#[pyfunction]
fn export<'py>(
    py: Python<'py>,
    src: &Bound<'py, PyAny>,
    format: &str,
    name: &str,
) -> PyResult<Bound<'py, PyString>> {
    let src = source(src)?;
    let text = unlocked(py, || {
        read::export(&src, name, format)
            .and_then(|v| serde_json::to_string(&v).map_err(|e| e.to_string()))
    })?;
    Ok(PyString::new(py, &text))
}

/// `trace::run::layout(paths)`: `{"dumps": [{rollout_id, kind, file, train_file}], "tokenizer",
/// "notes"}`.
#[pyfunction]
fn layout<'py>(py: Python<'py>, paths: Vec<String>) -> PyResult<Bound<'py, PyAny>> {
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
    let opts: trace::run::RunOptions = match options {
        Some(o) => {
            serde_json::from_str(&o).map_err(|e| PyValueError::new_err(format!("options: {e}")))?
        }
        None => trace::run::RunOptions::default(),
    };
    if let Some(e) = src_error {
        let (record, _) = read::failed(&dump, e);
        return Ok((convert::value(py, &record)?, PyList::empty(py)));
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
    Ok((convert::value(py, &record)?, list))
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
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
