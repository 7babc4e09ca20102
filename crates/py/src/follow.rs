//! `rollscope.follow`'s native half: a run followed as it is written (`ops::follow::Follower`,
//! as `rollscope run DIR --follow`). Each `look` lists the run again and returns the records
//! of the dumps that became readable (each once), with the GIL released.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyList;
use trace::run::{RunOptions, Templates};

use crate::{convert, json_arg, unlocked};

/// One followed run (`rollscope.follow` drives it).
#[pyclass(module = "rollscope._rollscope")]
pub struct RunFollower {
    inner: Mutex<ops::follow::Follower>,
    opts: RunOptions,
}

#[pymethods]
impl RunFollower {
    #[new]
    #[pyo3(signature = (inputs, options=None, templates=None))]
    fn new(
        inputs: Vec<PathBuf>,
        options: Option<String>,
        templates: Option<String>,
    ) -> PyResult<RunFollower> {
        let opts: RunOptions = json_arg(options, "options")?;
        let templates: Templates = json_arg(templates, "templates")?;
        let follower =
            ops::follow::Follower::new(&inputs, &templates).map_err(crate::DumpError::new_err)?;
        Ok(RunFollower {
            inner: Mutex::new(follower),
            opts,
        })
    }

    /// The rollout records (`rollscope run --json`'s `rollouts` entries) of the dumps that
    /// became readable since the last look, in the run's order.
    fn look<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let records = unlocked(py, || {
            let mut f = self
                .inner
                .lock()
                .map_err(|_| "a previous look failed inside the reader".to_string())?;
            let ready = f.look()?;
            Ok(ready
                .iter()
                .filter_map(|d| f.read(d, &self.opts))
                .map(|r| trace::run::rollout_record(&r.summary))
                .collect::<Vec<_>>())
        })?;
        let list = PyList::empty(py);
        for r in &records {
            list.append(convert::map(py, r)?)?;
        }
        Ok(list)
    }
}
