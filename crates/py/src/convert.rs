//! `serde_json` values into Python objects: what `json.loads` of the CLI's output gives (ints
//! stay ints, floats floats, objects dicts in their order).

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};
use serde_json::{Map, Value as J};

/// Deepest nesting converted: deeper is an error, never a stack overflow (our own values are
/// a few levels deep; a cache row's attrs come from the dump).
const MAX_DEPTH: usize = 256;

pub fn value<'py>(py: Python<'py>, v: &J) -> PyResult<Bound<'py, PyAny>> {
    at(py, v, 0)
}

pub fn map<'py>(py: Python<'py>, m: &Map<String, J>) -> PyResult<Bound<'py, PyAny>> {
    object(py, m, 0)
}

fn object<'py>(py: Python<'py>, m: &Map<String, J>, depth: usize) -> PyResult<Bound<'py, PyAny>> {
    let d = PyDict::new(py);
    for (k, v) in m {
        d.set_item(k, at(py, v, depth + 1)?)?;
    }
    Ok(d.into_any())
}

fn at<'py>(py: Python<'py>, v: &J, depth: usize) -> PyResult<Bound<'py, PyAny>> {
    if depth > MAX_DEPTH {
        return Err(crate::DumpError::new_err(format!(
            "a value nested more than {MAX_DEPTH} levels deep"
        )));
    }
    Ok(match v {
        J::Null => py.None().into_bound(py),
        J::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        J::String(s) => PyString::new(py, s).into_any(),
        J::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(at(py, x, depth + 1)?)?;
            }
            l.into_any()
        }
        J::Object(m) => object(py, m, depth)?,
    })
}
